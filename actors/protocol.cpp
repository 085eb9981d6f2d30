#include "actors/protocol.hpp"

#include <caf/all.hpp>

namespace orderd {

caf::error fail(errc code, std::string detail) {
  return caf::make_error(code, std::move(detail));
}

caf::error fail_short(std::vector<short_line> lines) {
  std::string detail = "insufficient stock for";
  for (auto& l : lines)
    detail += " " + l.sku + " (requested " + std::to_string(l.requested) + ", available "
              + std::to_string(l.available) + ")";
  return caf::make_error(errc::insufficient_stock, std::move(detail), std::move(lines));
}

errc code_of(const caf::error& err) noexcept {
  if (!err)
    return errc::ok;
  if (err.category() == caf::atom("orderd"))
    return static_cast<errc>(err.code());
  return errc::unavailable;
}

std::string detail_of(const caf::error& err) {
  if (err.category() == caf::atom("orderd")) {
    auto& ctx = err.context();
    if (ctx.size() >= 1 && ctx.match_element<std::string>(0))
      return ctx.get_as<std::string>(0);
    return std::string{to_string(code_of(err))};
  }
  if (err == caf::sec::request_timeout)
    return "the request timed out inside the server; it is safe to retry";
  if (err == caf::sec::request_receiver_down)
    return "the actor handling the request stopped (it is being restarted); it is safe to retry";
  return "internal actor error: " + caf::to_string(err);
}

std::vector<short_line> short_lines_of(const caf::error& err) {
  if (code_of(err) != errc::insufficient_stock)
    return {};
  auto& ctx = err.context();
  if (ctx.size() >= 2 && ctx.match_element<std::vector<short_line>>(1))
    return ctx.get_as<std::vector<short_line>>(1);
  return {};
}

void add_cluster_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<order_status>("orderd::order_status")
    .add_message_type<short_line>("orderd::short_line")
    .add_message_type<std::vector<short_line>>("std::vector<orderd::short_line>")
    .add_message_type<supervisor_stats>("orderd::supervisor_stats")
    .add_message_type<std::vector<supervisor_stats>>("std::vector<orderd::supervisor_stats>")
    .add_message_type<stock_level>("orderd::stock_level")
    .add_message_type<product>("orderd::product")
    .add_message_type<product_details>("orderd::product_details")
    .add_message_type<reservation>("orderd::reservation")
    .add_message_type<change_origin>("orderd::change_origin")
    .add_message_type<order>("orderd::order")
    .add_message_type<order_request>("orderd::order_request")
    .add_message_type<placement_request>("orderd::placement_request")
    .add_message_type<placement_result>("orderd::placement_result")
    .add_message_type<payment_result>("orderd::payment_result")
    .add_message_type<cart>("orderd::cart")
    .add_message_type<priced_cart>("orderd::priced_cart")
    .add_message_type<customer_details>("orderd::customer_details")
    .add_message_type<customer>("orderd::customer");
}

} // namespace orderd
