#include "domain/order.hpp"

#include <algorithm>
#include <cctype>

namespace orderd {

std::string_view to_string(order_status s) noexcept {
  switch (s) {
    case order_status::pending:
      return "PENDING";
    case order_status::processing:
      return "PROCESSING";
    case order_status::confirmed:
      return "CONFIRMED";
    case order_status::shipped:
      return "SHIPPED";
    case order_status::delivered:
      return "DELIVERED";
    case order_status::cancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

std::optional<order_status> parse_order_status(std::string_view text) noexcept {
  for (auto s : {order_status::pending, order_status::processing, order_status::confirmed,
                 order_status::shipped, order_status::delivered, order_status::cancelled}) {
    auto name = to_string(s);
    if (name.size() == text.size()
        && std::equal(name.begin(), name.end(), text.begin(), [](char a, char b) {
             return a == std::toupper(static_cast<unsigned char>(b));
           }))
      return s;
  }
  return std::nullopt;
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
