// Customers: /api/v1/customers. A customer's id is the customer_id its orders carry. Writes go
// to the cart supervisor (which owns customers and carts), reads to a store reader.

#include "http/ask.hpp"
#include "http/router.hpp"
#include "wire/json_codec.hpp"

namespace orderd::http {

namespace {

void create_customer(const context& c, request&& req, responder reply, const params_t&) {
  auto details = read_body(wire::decode_customer(req.body), reply);
  if (!details)
    return;
  ask<customer>(
    c, reply, c.svc->carts.get(),
    [reply](const customer& created) {
      reply(created_response(201, wire::encode(created), "/api/v1/customers/" + created.id));
    },
    create_atom_v, *details);
}

void list_customers(const context& c, request&& req, responder reply, const params_t&) {
  persistence::customer_query q;
  if (!read_limit(req, "limit", 50, 500, q.limit, reply))
    return;
  q.cursor = query_or_empty(req, "cursor");
  ask_page<customer>(c, reply, std::move(q), wire::encode_customers);
}

void get_customer(const context& c, request&&, responder reply, const params_t& p) {
  if (!require_uuid("customer", p[0], reply))
    return;
  ask_json<customer>(c, reply, c.svc->readers.next(), get_atom_v, customer_tag{}, p[0]);
}

void update_customer(const context& c, request&& req, responder reply, const params_t& p) {
  auto details =
    read_body(require_uuid("customer", p[0], reply), wire::decode_customer(req.body), reply);
  if (!details)
    return;
  ask_json<customer>(c, reply, c.svc->carts.get(), update_atom_v, p[0], *details);
}

void delete_customer(const context& c, request&&, responder reply, const params_t& p) {
  if (!require_uuid("customer", p[0], reply))
    return;
  ask<bool>(
    c, reply, c.svc->carts.get(), [reply](bool) { reply(no_content_response()); },
    delete_atom_v, p[0]);
}

/// The orders placed with this customer's id, newest first (404 for an unknown customer).
void list_customer_orders(const context& c, request&& req, responder reply, const params_t& p) {
  if (!require_uuid("customer", p[0], reply))
    return;
  persistence::order_query q;
  q.customer_id = p[0];
  if (!read_status(req, q.status, reply))
    return;
  if (!read_limit(req, "limit", 50, 500, q.limit, reply))
    return;
  q.cursor = query_or_empty(req, "cursor");
  // Thread: a bridge actor runs the second question; it goes through a bridge as well.
  after_customer_found(c, reply, p[0], [ctx = c, reply, q] {
    ask_page<order>(ctx, reply, q, wire::encode_orders);
  });
}

} // namespace

void add_customer_routes(router& r) {
  using namespace route_needs;
  r.on("/api/v1/customers").post(create_customer, json_body).get(list_customers);
  r.on("/api/v1/customers/{id}")
    .get(get_customer)
    .put(update_customer, json_body)
    .del(delete_customer);
  r.on("/api/v1/customers/{id}/orders").get(list_customer_orders);
}

} // namespace orderd::http
