#include "domain/cart.hpp"

#include <algorithm>

#include "util/name_table.hpp"
#include "domain/validation.hpp"

namespace orderd {

namespace {

constexpr name_table cart_status_names{
  cart_status::stock_unavailable, {"open", "stock_unavailable"}, "open"};

} // namespace

std::string_view to_string(cart_status s) noexcept {
  return cart_status_names.name(s);
}

std::optional<cart_status> parse_cart_status(std::string_view text) noexcept {
  return cart_status_names.parse(text);
}

namespace {

void clear_mark(cart& c) {
  c.status = cart_status::open;
  c.short_lines.clear();
}

} // namespace

cart_refusal add_to_cart(cart& c, const std::string& sku, int64_t quantity) {
  if (quantity < 1 || quantity > limits::max_quantity_per_line)
    return {errc::invalid_input,
            "quantity must be between 1 and " + std::to_string(limits::max_quantity_per_line)};
  auto line = std::find_if(c.lines.begin(), c.lines.end(),
                           [&](const requested_line& l) { return l.sku == sku; });
  if (line == c.lines.end()) {
    if (c.lines.size() >= limits::max_lines_per_order)
      return {errc::invalid_input, "a cart holds at most "
                                     + std::to_string(limits::max_lines_per_order) + " lines"};
    c.lines.push_back({sku, quantity});
  } else {
    if (line->quantity + quantity > limits::max_quantity_per_line)
      return {errc::invalid_input,
              "the cart would hold " + std::to_string(line->quantity + quantity) + " of " + sku
                + "; a line holds at most " + std::to_string(limits::max_quantity_per_line)};
    line->quantity += quantity;
  }
  clear_mark(c);
  return {};
}

cart_refusal remove_from_cart(cart& c, const std::string& sku) {
  auto removed = std::erase_if(c.lines, [&](const requested_line& l) { return l.sku == sku; });
  if (removed == 0)
    return {errc::not_found, "the cart has no line for sku " + sku};
  clear_mark(c);
  return {};
}

priced_cart price_cart(const cart& c, bool locked, const std::vector<sku_price>& prices) {
  priced_cart out;
  out.content = c;
  out.locked = locked;
  int64_t total = 0;
  bool complete = true;
  std::optional<std::string> currency;
  for (auto& line : c.lines) {
    priced_line pl;
    pl.sku = line.sku;
    pl.quantity = line.quantity;
    auto price = std::find_if(prices.begin(), prices.end(),
                              [&](const sku_price& p) { return p.sku == line.sku; });
    if (price != prices.end() && price->price_cents) {
      pl.unit_price_cents = *price->price_cents;
      pl.currency = price->currency;
      // Prices and quantities are capped (see limits), so this stays far inside int64.
      pl.line_total_cents = *price->price_cents * line.quantity;
      total += *pl.line_total_cents;
      if (!currency)
        currency = price->currency;
      else if (*currency != price->currency)
        complete = false;
    } else {
      complete = false;
    }
    out.lines.push_back(std::move(pl));
  }
  if (complete) {
    out.total_cents = total;
    // An empty cart totals zero in no particular currency.
    out.currency = currency;
  }
  return out;
}

} // namespace orderd
