// The seed service's API (000), served unchanged for its existing clients: the same order
// operations as the v1 routes (orders.hpp), in the seed's wire format and query parameters.

#include "http/routes/orders.hpp"
#include "domain/canonical_id.hpp"
#include "http/router.hpp"

namespace orderd::http {

namespace {

constexpr auto legacy = order_format::legacy;

void place_legacy_order(const context& c, request&& req, responder reply, const params_t&) {
  place_order(c, std::move(req), reply, legacy);
}

/// GET /order?id= reads one order; GET /order?status= lists them.
void get_legacy_order(const context& c, request&& req, responder reply, const params_t&) {
  if (auto id = req.query_param("id"))
    return answer_order(c, canonical_id(*id), reply, legacy);
  if (req.query_param("status"))
    return answer_order_list(c, std::move(req), reply, legacy);
  reply(bad_param("id", "give ?id=<order id> or ?status=<status>"));
}

void list_legacy_orders(const context& c, request&& req, responder reply, const params_t&) {
  answer_order_list(c, std::move(req), reply, legacy);
}

void cancel_legacy_order(const context& c, request&& req, responder reply, const params_t&) {
  auto id = req.query_param("id");
  if (!id)
    return reply(bad_param("id", "give ?id=<order id>"));
  cancel_order(c, canonical_id(*id), correlation_of(req), reply, legacy);
}

} // namespace

void add_legacy_routes(router& r) {
  r.on("/order")
    .post(place_legacy_order, route_needs::json_body)
    .get(get_legacy_order)
    .del(cancel_legacy_order);
  r.on("/orders").get(list_legacy_orders);
  r.on("/order/cancel").del(cancel_legacy_order);
}

} // namespace orderd::http
