#include "actors/protocol.hpp"

#include <array>

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

namespace {

/// Adds each of `Ts` to `cfg` under the name at the same position in `names`.
template <class... Ts>
void add_message_types(caf::actor_system_config& cfg,
                       const std::array<const char*, sizeof...(Ts)>& names) {
  size_t i = 0;
  (cfg.add_message_type<Ts>(names[i++]), ...);
}

} // namespace

void add_cluster_message_types(caf::actor_system_config& cfg) {
  add_message_types<order_status, short_line, std::vector<short_line>, supervisor_stats,
                    std::vector<supervisor_stats>, stock_level, product, product_details,
                    reservation, change_origin, order, order_request, placement_request,
                    placement_result, payment_result, cart, priced_cart, customer_details,
                    customer>(
    cfg, {"orderd::order_status", "orderd::short_line", "std::vector<orderd::short_line>",
          "orderd::supervisor_stats", "std::vector<orderd::supervisor_stats>",
          "orderd::stock_level", "orderd::product", "orderd::product_details",
          "orderd::reservation", "orderd::change_origin", "orderd::order",
          "orderd::order_request", "orderd::placement_request", "orderd::placement_result",
          "orderd::payment_result", "orderd::cart", "orderd::priced_cart",
          "orderd::customer_details", "orderd::customer"});
}

} // namespace orderd
