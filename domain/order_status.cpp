#include "domain/order.hpp"

#include "util/name_table.hpp"

namespace orderd {

namespace {

constexpr name_table order_status_names{
  order_status::cancelled,
  {"PENDING", "PROCESSING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"},
  "UNKNOWN"};

} // namespace

std::string_view to_string(order_status s) noexcept {
  return order_status_names.name(s);
}

std::optional<order_status> parse_order_status(std::string_view text) noexcept {
  return order_status_names.parse_any_case(text);
}

bool can_transition(order_status from, order_status to) noexcept {
  using s = order_status;
  switch (from) {
    case s::pending:
      return to == s::processing || to == s::cancelled;
    case s::processing:
      // CANCELLED: the payment failed (the saga's compensation releases the reservation).
      return to == s::confirmed || to == s::cancelled;
    case s::confirmed:
      return to == s::shipped;
    case s::shipped:
      return to == s::delivered;
    case s::delivered:
    case s::cancelled:
      return false;
  }
  return false;
}

bool customer_may_cancel(order_status s) noexcept {
  return s == order_status::pending;
}

bool is_fulfilment_status(order_status s) noexcept {
  return s == order_status::shipped || s == order_status::delivered;
}

order_status status_after_payment(bool succeeded) noexcept {
  return succeeded ? order_status::confirmed : order_status::cancelled;
}

bool is_final(order_status s) noexcept {
  return s == order_status::delivered || s == order_status::cancelled;
}

int64_t compute_total(const std::vector<order_line>& lines) noexcept {
  int64_t total = 0;
  for (auto& l : lines)
    total += l.quantity * l.unit_price_cents;
  return total;
}

std::vector<stock_change> stock_changes_for_placement(const std::vector<order_line>& lines) {
  std::vector<stock_change> out;
  out.reserve(lines.size());
  for (auto& l : lines)
    out.push_back({l.sku, -l.quantity, l.quantity, 0});
  return out;
}

std::vector<stock_change> stock_changes_for_transition(order_status from, order_status to,
                                                       const std::vector<order_line>& lines) {
  std::vector<stock_change> out;
  bool holds_reservation = from == order_status::pending || from == order_status::processing;
  if (to == order_status::cancelled && holds_reservation) {
    for (auto& l : lines)
      out.push_back({l.sku, l.quantity, -l.quantity, 0});
  } else if (to == order_status::confirmed && from == order_status::processing) {
    for (auto& l : lines)
      out.push_back({l.sku, 0, -l.quantity, l.quantity});
  }
  return out;
}

} // namespace orderd
