// Orders: /api/v1/orders. Placements, reads by id and transitions go to the order supervisor
// (which routes to the order's own actor); listings to a store reader.

#include "http/routes/orders.hpp"

#include "http/ask.hpp"
#include "http/router.hpp"
#include "wire/json_codec.hpp"

namespace orderd::http {

void place_order(const context& c, request&& req, responder reply, order_format format) {
  auto legacy = format == order_format::legacy;
  auto wanted = read_body(legacy ? wire::decode_legacy_order_request(req.body)
                                 : wire::decode_order_request(req.body),
                          reply);
  if (!wanted)
    return;
  placement_request pr;
  pr.request = std::move(*wanted);
  pr.correlation_id = correlation_of(req);
  auto route = legacy ? "POST /order" : "POST /api/v1/orders";
  if (!read_idempotency_key(req, route, pr.request, format, pr, reply))
    return;
  ask_placement(c, reply, c.svc->orders.get(), format, place_atom_v, pr);
}

void answer_order(const context& c, const std::string& id, responder reply, order_format format) {
  if (!require_uuid("order", id, reply))
    return;
  if (format == order_format::v1) {
    // A live order actor published what it committed: answer here, on the I/O thread.
    if (auto view = c.svc->orders_read.find(id)) {
      if (!view.body) {
        view.body = std::make_shared<const std::string>(wire::encode(*view.item));
        c.svc->orders_read.remember_body(view.item, view.body);
      }
      return reply(json_response(200, *view.body));
    }
  }
  ask<order>(
    c, reply, c.svc->orders.get(),
    [reply, format](const order& o) { reply(json_response(200, encode_order(o, format))); },
    get_atom_v, id);
}

void answer_order_list(const context& c, request&& req, responder reply, order_format format) {
  auto legacy = format == order_format::legacy;
  persistence::order_query q;
  if (!read_status(req, q.status, reply))
    return;
  if (legacy ? !read_limit(req, "pageSize", 10, 500, q.limit, reply)
             : !read_limit(req, "limit", 50, 500, q.limit, reply))
    return;
  q.customer_id = query_or_empty(req, "customer_id");
  q.cursor = query_or_empty(req, "cursor");
  ask_page<order>(c, reply, std::move(q),
                  legacy ? wire::encode_legacy_orders : wire::encode_orders);
}

void cancel_order(const context& c, const std::string& id, std::string correlation_id,
                  responder reply, order_format format) {
  if (!require_uuid("order", id, reply))
    return;
  ask<order>(
    c, reply, c.svc->orders.get(),
    [reply, format](const order& o) {
      reply(json_response(200, format == order_format::legacy ? wire::encode_legacy_cancelled(o)
                                                              : wire::encode(o)));
    },
    cancel_atom_v, id, std::move(correlation_id));
}

namespace {

void post_order(const context& c, request&& req, responder reply, const params_t&) {
  place_order(c, std::move(req), reply, order_format::v1);
}

void list_orders(const context& c, request&& req, responder reply, const params_t&) {
  answer_order_list(c, std::move(req), reply, order_format::v1);
}

void get_order(const context& c, request&&, responder reply, const params_t& p) {
  answer_order(c, p[0], reply, order_format::v1);
}

void post_cancel(const context& c, request&& req, responder reply, const params_t& p) {
  cancel_order(c, p[0], correlation_of(req), reply, order_format::v1);
}

/// Shipping updates from other services: the order actor accepts only SHIPPED and DELIVERED,
/// along the state machine.
void update_order_status(const context& c, request&& req, responder reply, const params_t& p) {
  auto status =
    read_body(require_uuid("order", p[0], reply), wire::decode_status_update(req.body), reply);
  if (!status)
    return;
  ask_json<order>(c, reply, c.svc->orders.get(), ship_atom_v, p[0], *status,
                  correlation_of(req));
}

} // namespace

void add_order_routes(router& r) {
  using namespace route_needs;
  r.on("/api/v1/orders").post(post_order, json_body).get(list_orders);
  r.on("/api/v1/orders/{id}").get(get_order);
  r.on("/api/v1/orders/{id}/cancel").post(post_cancel);
  r.on("/api/v1/orders/{id}/status").put(update_order_status, json_body);
}

} // namespace orderd::http
