// The catalogue and its stock: /api/v1/products. Writes go to the stock actor of the SKU
// (through the inventory supervisor), listings to a store reader.

#include "http/ask.hpp"
#include "http/router.hpp"
#include "wire/json_codec.hpp"

namespace orderd::http {

namespace {

/// No product can have a malformed SKU: 404 without asking.
bool check_sku(const std::string& sku, responder& reply) {
  if (is_valid_sku(sku))
    return true;
  reply(problem_response(errc::not_found, "no product with sku " + sku));
  return false;
}

void create_product(const context& c, request&& req, responder reply, const params_t&) {
  auto p = read_body(wire::decode_product_create(req.body), reply);
  if (!p)
    return;
  auto sku = p->sku;
  ask<product>(
    c, reply, c.svc->stocks.get(),
    [reply](const product& created) {
      reply(created_response(201, wire::encode(created), "/api/v1/products/" + created.sku));
    },
    create_atom_v, sku, *p, change_origin{correlation_of(req), {}});
}

void list_products(const context& c, request&& req, responder reply, const params_t&) {
  persistence::product_query q;
  if (!read_limit(req, "limit", 50, 500, q.limit, reply))
    return;
  q.category = query_or_empty(req, "category");
  q.cursor = query_or_empty(req, "cursor");
  ask_page<product>(c, reply, std::move(q), wire::encode_products);
}

void low_stock(const context& c, request&& req, responder reply, const params_t&) {
  size_t limit = 0;
  if (!read_limit(req, "limit", 100, 1000, limit, reply))
    return;
  ask<std::vector<product>>(
    c, reply, c.svc->readers.next(),
    [reply](const std::vector<product>& items) {
      reply(json_response(200, wire::encode_products(items, std::nullopt)));
    },
    low_atom_v, limit);
}

void get_product(const context& c, request&&, responder reply, const params_t& p) {
  if (!check_sku(p[0], reply))
    return;
  ask_json<product>(c, reply, c.svc->stocks.get(), get_atom_v, p[0]);
}

void update_product(const context& c, request&& req, responder reply, const params_t& p) {
  auto details = read_body(check_sku(p[0], reply), wire::decode_product_update(req.body), reply);
  if (!details)
    return;
  ask_json<product>(c, reply, c.svc->stocks.get(), update_atom_v, p[0], *details,
                    change_origin{correlation_of(req), {}});
}

void delete_product(const context& c, request&& req, responder reply, const params_t& p) {
  if (!check_sku(p[0], reply))
    return;
  ask<bool>(
    c, reply, c.svc->stocks.get(), [reply](bool) { reply(no_content_response()); },
    delete_atom_v, p[0], change_origin{correlation_of(req), {}});
}

void update_stock(const context& c, request&& req, responder reply, const params_t& p) {
  auto u = read_body(check_sku(p[0], reply), wire::decode_stock_update(req.body), reply);
  if (!u)
    return;
  change_origin from{correlation_of(req), {}};
  if (u->what == wire::stock_update::kind::set)
    ask_json<product>(c, reply, c.svc->stocks.get(), set_atom_v, p[0], u->amount, from);
  else
    ask_json<product>(c, reply, c.svc->stocks.get(), adjust_atom_v, p[0], u->amount, from);
}

} // namespace

void add_product_routes(router& r) {
  using namespace route_needs;
  r.on("/api/v1/products").post(create_product, json_body).get(list_products);
  r.on("/api/v1/products/low-stock").get(low_stock); // before {sku}: the static segment wins
  r.on("/api/v1/products/{sku}")
    .get(get_product)
    .put(update_product, json_body)
    .del(delete_product);
  r.on("/api/v1/products/{sku}/stock").put(update_stock, json_body);
}

} // namespace orderd::http
