#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/order.hpp"
#include "domain/product.hpp"

namespace orderd {

/// Business limits. Generous for real shops, tight enough that arithmetic never overflows.
namespace limits {
inline constexpr int64_t max_quantity_per_line = 1'000'000;
inline constexpr size_t max_lines_per_order = 100;
inline constexpr int64_t max_stock = 1'000'000'000'000;     // 10^12 units
// 10^8 currency units: with max_quantity_per_line and max_lines_per_order an order total stays
// below 10^18, inside int64 with room to spare.
inline constexpr int64_t max_price_cents = 10'000'000'000;
inline constexpr size_t max_sku_length = 64;
inline constexpr size_t max_id_length = 128;
inline constexpr size_t max_email_length = 254;
inline constexpr size_t max_name_length = 200;
inline constexpr size_t max_description_length = 4000;
inline constexpr size_t max_category_length = 100;
} // namespace limits

/// One reason a request was refused, naming the offending field (JSON-pointer-ish path).
struct field_error {
  std::string field;
  std::string message;

  friend bool operator==(const field_error&, const field_error&) = default;
};

using field_errors = std::vector<field_error>;

/// What a valid SKU is, as field errors say it.
inline constexpr std::string_view sku_rule =
  "must be 1-64 characters of letters, digits, '-', '_' or '.', and not '.' or '..'";

bool is_valid_sku(std::string_view sku) noexcept;
bool is_valid_email(std::string_view email) noexcept;
bool is_valid_currency(std::string_view code) noexcept;

/// Checks an order request. `require_email` is false for the legacy (seed) API.
field_errors validate(const order_request& req, bool require_email = true);

/// Checks a new product (including its initial stock).
field_errors validate(const product& p);

/// Checks the descriptive fields of a product update.
field_errors validate(const product_details& d);

/// Merges lines naming the same SKU (quantities add up), keeping first-seen order.
std::vector<requested_line> merge_lines(const std::vector<requested_line>& lines);

} // namespace orderd
