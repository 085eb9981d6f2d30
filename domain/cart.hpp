#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/errc.hpp"
#include "domain/order.hpp"
#include "domain/time.hpp"

namespace orderd {

/// What a stored cart says about its last checkout. A cart that is being checked out is
/// "locked"; that lock lives in the cart actor only (a crash must not leave a cart locked).
enum class cart_status : uint8_t {
  open,              ///< editable; nothing to report
  stock_unavailable, ///< the last checkout was refused for stock: see `short_lines`
};

/// Lower-case wire name: "open", "stock_unavailable".
std::string_view to_string(cart_status s) noexcept;
std::optional<cart_status> parse_cart_status(std::string_view text) noexcept;

/// A customer's cart: one per customer, keyed by the customer's id. Lines keep the order in
/// which their SKUs were first added; a SKU appears once.
struct cart {
  std::string customer_id;
  std::vector<requested_line> lines;
  cart_status status = cart_status::open;
  std::vector<short_line> short_lines; ///< only while status == stock_unavailable
  int64_t version = 0;                 ///< 1 when first saved, +1 per change
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;

  friend bool operator==(const cart&, const cart&) = default;
};

/// The outcome of a cart rule: ok, or a refusal with its code and a human-readable reason.
struct cart_refusal {
  errc code = errc::ok;
  std::string detail;
  explicit operator bool() const noexcept { return code != errc::ok; }
};

/// Adds `quantity` units of `sku`: an existing line grows by that much (adding twice means
/// wanting both), a new one is appended. Refused (invalid_input) when the line would exceed
/// limits::max_quantity_per_line or the cart limits::max_lines_per_order lines. Any change
/// clears a stock_unavailable mark: the customer has adjusted.
cart_refusal add_to_cart(cart& c, const std::string& sku, int64_t quantity);

/// Removes the line of `sku`; not_found when the cart has none.
cart_refusal remove_from_cart(cart& c, const std::string& sku);

/// One priced line of a cart view. The price is the product's current one (nullopt when the
/// product no longer exists).
struct priced_line {
  std::string sku;
  int64_t quantity = 0;
  std::optional<int64_t> unit_price_cents;
  std::optional<std::string> currency;
  std::optional<int64_t> line_total_cents;

  friend bool operator==(const priced_line&, const priced_line&) = default;
};

/// A cart with its current prices. `total_cents` and `currency` are set only when every line
/// has a price and all share one currency (otherwise checkout would be refused anyway).
struct priced_cart {
  cart content;
  bool locked = false; ///< a checkout is in progress
  std::vector<priced_line> lines;
  std::optional<int64_t> total_cents;
  std::optional<std::string> currency;
};

/// The current price of one SKU, as the catalogue says (nullopt: no such product).
struct sku_price {
  std::string sku;
  std::optional<int64_t> price_cents;
  std::string currency;
};

/// Prices a cart with the catalogue's current prices (looked up by sku in `prices`).
priced_cart price_cart(const cart& c, bool locked, const std::vector<sku_price>& prices);

} // namespace orderd
