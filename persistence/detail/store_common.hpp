#pragma once

// Pieces every store backend shares, so that they behave (and word their refusals) the same
// way: argument checks and failure details.
// Internal to orderd_persistence.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "persistence/store.hpp"

namespace orderd::persistence::detail {

// -- limits -------------------------------------------------------------------------------------

/// A `limit` for plain (unpaged) queries, clamped to what a database can take.
int64_t row_limit(size_t limit) noexcept;

// -- refusals -----------------------------------------------------------------------------------

/// Why one operation (and therefore its change set) was refused.
struct op_failure {
  errc code = errc::internal;
  std::string detail;
};

/// Checks an operation's arguments before it touches any data (negative stock, deltas out of
/// range). Both backends run it first, so bad input is refused identically.
std::optional<op_failure> check_arguments(const store_op& op);

op_failure product_exists(std::string_view sku);
op_failure product_not_found(std::string_view sku);
op_failure product_reserved(std::string_view sku, int64_t reserved);
op_failure insufficient_stock(const stock_level& have, const adjust_stock& op);
op_failure order_exists(std::string_view id);
op_failure order_not_found(std::string_view id);
op_failure wrong_order_status(std::string_view id, order_status actual, order_status expected);
op_failure idempotency_key_exists(std::string_view key);
op_failure event_exists(std::string_view id);
op_failure message_processed_already(std::string_view id);
op_failure charged_already(std::string_view order_id);
op_failure render_failed(std::string_view why);
op_failure customer_exists(std::string_view id);
op_failure email_taken(std::string_view email);
op_failure customer_not_found(std::string_view id);
op_failure notification_exists(std::string_view id);
op_failure notification_not_found(std::string_view id);
op_failure customer_changed(std::string_view id, int64_t expected, int64_t actual);
op_failure cart_changed(std::string_view customer_id, int64_t expected, int64_t actual);

/// The whole-result form of a refusal.
change_result refused(op_failure failure);

// -- stock figures ------------------------------------------------------------------------------

/// A product's stock figures with its threshold.
inline stock_snapshot snapshot_of(const product& p) {
  return {p.stock(), p.low_stock_threshold};
}

} // namespace orderd::persistence::detail
