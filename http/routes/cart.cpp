// The cart of the customer named by the X-Customer-Id header: /api/v1/cart. Every request goes
// to the cart supervisor, which routes it to that customer's cart actor.

#include "domain/ids.hpp"
#include "domain/canonical_id.hpp"
#include "http/ask.hpp"
#include "http/router.hpp"
#include "wire/json_codec.hpp"

namespace orderd::http {

namespace {

/// The customer id from the X-Customer-Id header, or a 400 problem (missing or not a UUID).
std::optional<std::string> cart_owner(const request& req, responder& reply) {
  auto id = req.header("x-customer-id");
  if (!id || id->empty()) {
    reply(bad_param("X-Customer-Id", "is required: the id of the customer whose cart this is"));
    return std::nullopt;
  }
  if (!is_uuid(*id)) {
    reply(bad_param("X-Customer-Id", "must be a customer id (a UUID)"));
    return std::nullopt;
  }
  return canonical_id(*id);
}

void get_cart(const context& c, request&& req, responder reply, const params_t&) {
  auto owner = cart_owner(req, reply);
  if (!owner)
    return;
  ask_json<priced_cart>(c, reply, c.svc->carts.get(), get_atom_v, *owner);
}

void add_cart_item(const context& c, request&& req, responder reply, const params_t&) {
  auto owner = cart_owner(req, reply);
  if (!owner)
    return;
  auto line = read_body(wire::decode_cart_item(req.body), reply);
  if (!line)
    return;
  ask_json<priced_cart>(c, reply, c.svc->carts.get(), add_atom_v, *owner, line->sku,
                        line->quantity);
}

void remove_cart_item(const context& c, request&& req, responder reply, const params_t& p) {
  auto owner = cart_owner(req, reply);
  if (!owner)
    return;
  if (!is_valid_sku(p[0]))
    return reply(problem_response(errc::not_found, "the cart has no line for sku " + p[0]));
  ask_json<priced_cart>(c, reply, c.svc->carts.get(), remove_atom_v, *owner, p[0]);
}

/// Places the cart's lines as an order, like POST /api/v1/orders (same placement, same 201
/// body); an Idempotency-Key replays the first checkout made with it by the same customer.
void checkout_cart(const context& c, request&& req, responder reply, const params_t&) {
  auto owner = cart_owner(req, reply);
  if (!owner)
    return;
  placement_request pr;
  pr.correlation_id = correlation_of(req);
  // The lines come from the cart, which the first checkout emptied: the key is bound to the
  // route and the customer only.
  order_request who;
  who.customer_id = *owner;
  if (!read_idempotency_key(req, "POST /api/v1/cart/checkout", who, order_format::v1, pr, reply))
    return;
  ask_placement(c, reply, c.svc->carts.get(), order_format::v1, checkout_atom_v, *owner, pr);
}

} // namespace

void add_cart_routes(router& r) {
  r.on("/api/v1/cart").get(get_cart);
  r.on("/api/v1/cart/items").post(add_cart_item, route_needs::json_body);
  r.on("/api/v1/cart/items/{sku}").del(remove_cart_item);
  r.on("/api/v1/cart/checkout").post(checkout_cart);
}

} // namespace orderd::http
