#include "domain/validation.hpp"

#include <algorithm>
#include <cctype>

namespace orderd {

bool is_valid_sku(std::string_view sku) noexcept {
  if (sku.empty() || sku.size() > limits::max_sku_length)
    return false;
  // "." and ".." are path segments that clients and proxies rewrite (RFC 3986 dot segments):
  // /products/.. would never reach the product.
  if (sku == "." || sku == "..")
    return false;
  for (char c : sku)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

bool is_valid_email(std::string_view email) noexcept {
  if (email.size() < 3 || email.size() > limits::max_email_length)
    return false;
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size())
    return false;
  if (email.find('@', at + 1) != std::string_view::npos)
    return false;
  for (char c : email)
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
      return false;
  return email.find('.', at) != std::string_view::npos;
}

bool is_valid_currency(std::string_view code) noexcept {
  if (code.size() != 3)
    return false;
  for (char c : code)
    if (c < 'A' || c > 'Z')
      return false;
  return true;
}

namespace {

bool has_control_chars(std::string_view s) {
  for (char c : s)
    if (std::iscntrl(static_cast<unsigned char>(c)) && c != '\n' && c != '\t' && c != '\r')
      return true;
  return false;
}

void check_text(field_errors& errs, const char* field, std::string_view value, size_t max_len,
                bool required) {
  if (required && value.empty())
    errs.push_back({field, "must not be empty"});
  else if (value.size() > max_len)
    errs.push_back({field, "must be at most " + std::to_string(max_len) + " characters"});
  else if (has_control_chars(value))
    errs.push_back({field, "must not contain control characters"});
}

void check_price_and_threshold(field_errors& errs, int64_t price, std::string_view currency,
                               int64_t threshold) {
  if (price < 0 || price > limits::max_price_cents)
    errs.push_back({"price_cents", "must be between 0 and "
                                     + std::to_string(limits::max_price_cents)});
  if (!is_valid_currency(currency))
    errs.push_back({"currency", "must be a three-letter upper-case ISO 4217 code"});
  if (threshold < 0 || threshold > limits::max_stock)
    errs.push_back({"low_stock_threshold", "must be between 0 and "
                                             + std::to_string(limits::max_stock)});
}

} // namespace

field_errors validate(const order_request& req, bool require_email) {
  field_errors errs;
  if (req.customer_id.empty())
    errs.push_back({"customer_id", "must not be empty"});
  else
    check_text(errs, "customer_id", req.customer_id, limits::max_id_length, true);
  if (require_email || !req.customer_email.empty()) {
    if (!is_valid_email(req.customer_email))
      errs.push_back({"customer_email", "must be a valid e-mail address"});
  }
  if (req.lines.empty())
    errs.push_back({"items", "must contain at least one item"});
  if (req.lines.size() > limits::max_lines_per_order)
    errs.push_back({"items", "must contain at most " + std::to_string(limits::max_lines_per_order)
                               + " items"});
  for (size_t i = 0; i < req.lines.size() && i < limits::max_lines_per_order; ++i) {
    auto& line = req.lines[i];
    auto prefix = "items[" + std::to_string(i) + "].";
    if (!is_valid_sku(line.sku))
      errs.push_back({prefix + "sku", std::string{sku_rule}});
    if (line.quantity < 1 || line.quantity > limits::max_quantity_per_line)
      errs.push_back({prefix + "quantity",
                      "must be between 1 and " + std::to_string(limits::max_quantity_per_line)});
  }
  if (errs.empty()) {
    // Merged duplicates must respect the per-line limit too.
    for (auto& line : merge_lines(req.lines))
      if (line.quantity > limits::max_quantity_per_line)
        errs.push_back({"items", "total quantity for sku " + line.sku + " exceeds "
                                   + std::to_string(limits::max_quantity_per_line)});
  }
  return errs;
}

field_errors validate(const product& p) {
  field_errors errs;
  if (!is_valid_sku(p.sku))
    errs.push_back({"sku", std::string{sku_rule}});
  check_text(errs, "name", p.name, limits::max_name_length, true);
  check_text(errs, "description", p.description, limits::max_description_length, false);
  check_text(errs, "category", p.category, limits::max_category_length, false);
  check_price_and_threshold(errs, p.price_cents, p.currency, p.low_stock_threshold);
  if (p.available < 0 || p.available > limits::max_stock)
    errs.push_back({"available", "must be between 0 and " + std::to_string(limits::max_stock)});
  return errs;
}

field_errors validate(const product_details& d) {
  field_errors errs;
  check_text(errs, "name", d.name, limits::max_name_length, true);
  check_text(errs, "description", d.description, limits::max_description_length, false);
  check_text(errs, "category", d.category, limits::max_category_length, false);
  check_price_and_threshold(errs, d.price_cents, d.currency, d.low_stock_threshold);
  return errs;
}

std::vector<requested_line> merge_lines(const std::vector<requested_line>& lines) {
  std::vector<requested_line> merged;
  for (auto& line : lines) {
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const requested_line& m) { return m.sku == line.sku; });
    if (it == merged.end())
      merged.push_back(line);
    else
      it->quantity += line.quantity;
  }
  return merged;
}

} // namespace orderd
