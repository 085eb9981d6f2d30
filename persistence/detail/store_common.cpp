#include "persistence/detail/store_common.hpp"

#include <algorithm>
#include <limits>
#include <type_traits>

#include "domain/validation.hpp"

namespace orderd::persistence::detail {

namespace {

std::string signed_number(int64_t n) {
  return (n >= 0 ? "+" : "") + std::to_string(n);
}

bool within_stock_limit(int64_t n) noexcept {
  return n >= -limits::max_stock && n <= limits::max_stock;
}

} // namespace

int64_t row_limit(size_t limit) noexcept {
  // Leaves room for the extra row a page fetches to learn whether another page follows.
  constexpr auto max = static_cast<size_t>(std::numeric_limits<int64_t>::max() - 1);
  return static_cast<int64_t>(std::min(limit, max));
}

std::optional<op_failure> check_arguments(const store_op& op) {
  auto invalid = [](std::string detail) {
    return std::optional<op_failure>{op_failure{errc::invalid_input, std::move(detail)}};
  };
  return std::visit(
    [&](const auto& x) -> std::optional<op_failure> {
      using op_type = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<op_type, insert_product>) {
        auto& p = x.item;
        if (p.available < 0 || p.reserved < 0 || p.sold < 0)
          return invalid("product " + p.sku + ": stock figures must not be negative");
        if (p.available > limits::max_stock || p.reserved > limits::max_stock
            || p.sold > limits::max_stock)
          return invalid("product " + p.sku + ": stock figures exceed the limit");
      } else if constexpr (std::is_same_v<op_type, set_available>) {
        if (x.available < 0 || x.available > limits::max_stock)
          return invalid("product " + x.sku + ": available must be between 0 and "
                         + std::to_string(limits::max_stock));
      } else if constexpr (std::is_same_v<op_type, append_event>) {
        if (x.event.id.empty() || x.event.type.empty())
          return invalid("an outbox event needs an id and a type");
      } else if constexpr (std::is_same_v<op_type, append_stock_events>) {
        if (!x.render)
          return invalid("append_stock_events needs a renderer");
      } else if constexpr (std::is_same_v<op_type, insert_customer>
                           || std::is_same_v<op_type, update_customer>) {
        if (x.item.id.empty())
          return invalid("a customer needs an id");
      } else if constexpr (std::is_same_v<op_type, insert_notification>) {
        if (x.item.id.empty() || x.item.recipient.empty())
          return invalid("a notification needs an id and a recipient");
      } else if constexpr (std::is_same_v<op_type, save_cart>) {
        if (x.item.customer_id.empty() || x.item.version < 1)
          return invalid("a cart needs a customer id and a version of at least 1");
      } else if constexpr (std::is_same_v<op_type, adjust_stock>) {
        // Bounded deltas keep the guarded sums far from integer overflow.
        if (!within_stock_limit(x.available_delta) || !within_stock_limit(x.reserved_delta)
            || !within_stock_limit(x.sold_delta))
          return invalid("product " + x.sku + ": stock delta exceeds the limit");
      }
      return std::nullopt;
    },
    op);
}

op_failure product_exists(std::string_view sku) {
  return {errc::conflict, "product " + std::string{sku} + " exists already"};
}

op_failure product_not_found(std::string_view sku) {
  return {errc::not_found, "product " + std::string{sku} + " not found"};
}

op_failure product_reserved(std::string_view sku, int64_t reserved) {
  return {errc::conflict, "product " + std::string{sku} + " has " + std::to_string(reserved)
                            + " units reserved by open orders"};
}

op_failure insufficient_stock(const stock_level& have, const adjust_stock& op) {
  return {errc::insufficient_stock,
          "insufficient stock for " + have.sku + ": available " + std::to_string(have.available)
            + ", reserved " + std::to_string(have.reserved) + ", sold "
            + std::to_string(have.sold) + "; cannot apply available "
            + signed_number(op.available_delta) + ", reserved " + signed_number(op.reserved_delta)
            + ", sold " + signed_number(op.sold_delta)};
}

op_failure order_exists(std::string_view id) {
  return {errc::conflict, "order " + std::string{id} + " exists already"};
}

op_failure order_not_found(std::string_view id) {
  return {errc::not_found, "order " + std::string{id} + " not found"};
}

op_failure wrong_order_status(std::string_view id, order_status actual, order_status expected) {
  return {errc::illegal_transition, "order " + std::string{id} + " is "
                                      + std::string{to_string(actual)} + ", not "
                                      + std::string{to_string(expected)}};
}

op_failure message_processed_already(std::string_view id) {
  return {errc::conflict, "message " + std::string{id} + " was processed already"};
}

op_failure charged_already(std::string_view order_id) {
  return {errc::conflict, "order " + std::string{order_id} + " was charged already"};
}

op_failure idempotency_key_exists(std::string_view key) {
  return {errc::conflict, "idempotency key " + std::string{key} + " exists already"};
}

op_failure event_exists(std::string_view id) {
  return {errc::conflict, "event " + std::string{id} + " exists already"};
}

op_failure render_failed(std::string_view why) {
  return {errc::internal, "rendering stock events failed: " + std::string{why}};
}

op_failure customer_exists(std::string_view id) {
  return {errc::conflict, "customer " + std::string{id} + " exists already"};
}

op_failure email_taken(std::string_view email) {
  return {errc::conflict, "another customer has the e-mail address " + std::string{email}};
}

op_failure customer_not_found(std::string_view id) {
  return {errc::not_found, "no customer with id " + std::string{id}};
}

op_failure notification_exists(std::string_view id) {
  return {errc::conflict, "notification " + std::string{id} + " exists already"};
}

op_failure notification_not_found(std::string_view id) {
  return {errc::not_found, "no notification with id " + std::string{id}};
}

op_failure customer_changed(std::string_view id, int64_t expected, int64_t actual) {
  return {errc::conflict, "customer " + std::string{id} + " is at version "
                            + std::to_string(actual) + ", not " + std::to_string(expected)
                            + " (changed concurrently); retry"};
}

op_failure cart_changed(std::string_view customer_id, int64_t expected, int64_t actual) {
  return {errc::conflict, "the cart of customer " + std::string{customer_id} + " is at version "
                            + std::to_string(actual) + ", not " + std::to_string(expected)};
}

change_result refused(op_failure failure) {
  change_result result;
  result.code = failure.code;
  result.detail = std::move(failure.detail);
  return result;
}

} // namespace orderd::persistence::detail
