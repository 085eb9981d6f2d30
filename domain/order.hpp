#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"

namespace orderd {

/// The order state machine:
///   PENDING -> PROCESSING -> CONFIRMED -> SHIPPED -> DELIVERED
///   PENDING -> CANCELLED             (the customer cancels)
///   PROCESSING -> CANCELLED          (the payment failed: reason "payment_failed")
enum class order_status : uint8_t {
  pending,
  processing,
  confirmed,
  shipped,
  delivered,
  cancelled,
};

/// Upper-case wire name, e.g. "PENDING".
std::string_view to_string(order_status s) noexcept;

/// Parses the wire name (case-insensitive).
std::optional<order_status> parse_order_status(std::string_view text) noexcept;

/// True if the state machine allows moving from `from` to `to`.
bool can_transition(order_status from, order_status to) noexcept;

/// True if a customer may still cancel an order in state `s` (only PENDING: once PROCESSING,
/// only the payment's outcome decides).
bool customer_may_cancel(order_status s) noexcept;

/// True for the statuses other services may set from outside (shipping updates): SHIPPED and
/// DELIVERED. Every other status is reached through the order's own lifecycle.
bool is_fulfilment_status(order_status s) noexcept;

/// Where the payment saga takes a PROCESSING order: CONFIRMED when the charge succeeded,
/// CANCELLED (reason payment_failed, reservation released) when it failed or timed out.
order_status status_after_payment(bool succeeded) noexcept;

/// True for states an order never leaves.
bool is_final(order_status s) noexcept;

/// One line of an order; the unit price is captured when the order is placed.
struct order_line {
  std::string sku;
  int64_t quantity = 0;
  int64_t unit_price_cents = 0;

  friend bool operator==(const order_line&, const order_line&) = default;
};

struct order {
  std::string id;
  std::string customer_id;
  std::string customer_email;
  order_status status = order_status::pending;
  std::vector<order_line> lines;
  int64_t total_cents = 0;
  std::string currency;
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;
  /// Why a CANCELLED order was cancelled, e.g. "payment_failed"; empty otherwise.
  std::string cancel_reason;

  friend bool operator==(const order&, const order&) = default;
};

/// What a customer asks for: a SKU and how many.
struct requested_line {
  std::string sku;
  int64_t quantity = 0;

  friend bool operator==(const requested_line&, const requested_line&) = default;
};

/// A validated request to place an order.
struct order_request {
  std::string customer_id;
  std::string customer_email;
  std::vector<requested_line> lines;

  friend bool operator==(const order_request&, const order_request&) = default;
};

/// A line that could not be reserved: how much was asked and how much was there.
struct short_line {
  std::string sku;
  int64_t requested = 0;
  int64_t available = 0;

  friend bool operator==(const short_line&, const short_line&) = default;
};

/// How one order moves one SKU's stock figures.
struct stock_change {
  std::string sku;
  int64_t available_delta = 0;
  int64_t reserved_delta = 0;
  int64_t sold_delta = 0;

  friend bool operator==(const stock_change&, const stock_change&) = default;
};

/// Placing an order moves its quantities from available to reserved.
std::vector<stock_change> stock_changes_for_placement(const std::vector<order_line>& lines);

/// The stock effect of a status change: cancelling gives reserved units back to available,
/// confirming turns reserved units into sold ones, other moves leave stock alone.
std::vector<stock_change> stock_changes_for_transition(order_status from, order_status to,
                                                       const std::vector<order_line>& lines);

/// Cancellation reasons stored with an order.
namespace cancel_reasons {
inline constexpr std::string_view customer = "customer_request";
inline constexpr std::string_view payment_failed = "payment_failed";
} // namespace cancel_reasons

/// Sums of the lines' quantity times unit price.
int64_t compute_total(const std::vector<order_line>& lines) noexcept;

} // namespace orderd
