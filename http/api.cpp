#include "http/api.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol.hpp"
#include "domain/ids.hpp"
#include "domain/validation.hpp"
#include "http/json_codec.hpp"
#include "http/openapi.hpp"
#include "http/problem.hpp"

namespace orderd::http {

using nlohmann::ordered_json;
using params_t = std::vector<std::string>;

namespace {

// -- small helpers ------------------------------------------------------------------------------

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    auto end = path.find('/', pos);
    if (end == std::string_view::npos)
      end = path.size();
    out.emplace_back(path.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

bool match(const std::vector<std::string>& pattern, const std::vector<std::string>& segs,
           params_t& params) {
  if (pattern.size() != segs.size())
    return false;
  params.clear();
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (!pattern[i].empty() && pattern[i].front() == '{')
      params.push_back(segs[i]);
    else if (pattern[i] != segs[i])
      return false;
  }
  return true;
}

response json_response(int status, std::string body) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

response problem_response(const wire::problem& p) {
  response r;
  r.status = p.status;
  r.content_type = std::string{wire::problem_media_type};
  r.body = wire::encode(p);
  return r;
}

response problem_response(errc code, std::string detail) {
  return problem_response(wire::make_problem(code, std::move(detail)));
}

/// The one place an actor error becomes an HTTP problem.
response error_response(const caf::error& err) {
  auto code = code_of(err);
  if (code == errc::insufficient_stock) {
    auto lines = short_lines_of(err);
    return problem_response(wire::insufficient_stock_problem(lines, detail_of(err)));
  }
  return problem_response(code, detail_of(err));
}

response invalid(field_errors errors) {
  return problem_response(wire::invalid_input_problem(std::move(errors)));
}

response bad_param(std::string field, std::string message) {
  return invalid({{std::move(field), std::move(message)}});
}

/// Parses an optional positive integer query parameter within [1, max].
bool read_limit(const request& req, std::string_view name, size_t fallback, size_t max,
                size_t& out, responder& reply) {
  out = fallback;
  auto text = req.query_param(name);
  if (!text)
    return true;
  size_t value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || ptr != text->data() + text->size() || value < 1 || value > max) {
    reply(bad_param(std::string{name}, "must be an integer between 1 and " + std::to_string(max)));
    return false;
  }
  out = value;
  return true;
}

bool read_status(const request& req, std::optional<order_status>& out, responder& reply) {
  auto text = req.query_param("status");
  if (!text || text->empty())
    return true;
  out = parse_order_status(*text);
  if (!out) {
    reply(bad_param("status", "must be one of PENDING, PROCESSING, CONFIRMED, SHIPPED, "
                              "DELIVERED, CANCELLED"));
    return false;
  }
  return true;
}

std::optional<std::string> cursor_or_null(const std::string& c) {
  if (c.empty())
    return std::nullopt;
  return c;
}

/// A stable fingerprint of a placement (FNV-1a 64 over its canonical fields), so an
/// Idempotency-Key replay is recognised whatever the JSON's whitespace or member order.
std::string fingerprint(std::string_view route, const order_request& r) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff; // field separator
    h *= 1099511628211ULL;
  };
  mix(route);
  mix(r.customer_id);
  mix(r.customer_email);
  for (auto& l : r.lines) {
    mix(l.sku);
    mix(std::to_string(l.quantity));
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

/// The request's correlation id (X-Correlation-Id, else X-Request-Id), carried into the events
/// it causes; a new UUID when it has none usable (1-128 printable ASCII characters).
std::string correlation_of(const request& req) {
  for (auto name : {"x-correlation-id", "x-request-id"}) {
    auto v = req.header(name);
    if (v && !v->empty() && v->size() <= 128
        && std::all_of(v->begin(), v->end(), [](char ch) { return ch > 0x20 && ch < 0x7f; }))
      return std::string{*v};
  }
  return make_uuid();
}

} // namespace

// -- asking actors ------------------------------------------------------------------------------

namespace {

/// Sends a request to `target` from an HTTP bridge actor and hands the typed reply to `on_ok`
/// (on the bridge actor's thread); any error becomes a problem response.
template <class T, class OnOk, class... Ts>
void ask(const services_ptr& svc, std::chrono::milliseconds timeout, responder reply,
         caf::actor target, OnOk on_ok, Ts... xs) {
  if (!target) {
    reply(problem_response(errc::unavailable, "the server is starting or restarting; retry"));
    return;
  }
  // Thread: Beast I/O thread -> bridge actor's mailbox (non-blocking enqueue).
  caf::anon_send(svc->bridges.next(), call_atom_v,
                 bridge_call{[=](caf::event_based_actor* self) {
                   // Thread: bridge actor. The reply handler runs here too.
                   self->request(target, timeout, xs...)
                     .then([=](T& value) { on_ok(value); },
                           [=](caf::error& err) { reply(error_response(err)); });
                 }});
}

// -- handlers -----------------------------------------------------------------------------------

struct context {
  services_ptr svc;
  api_options opts;
};

void get_ready(const context& c, request&&, responder reply) {
  auto backend = c.opts.store_backend;
  auto svc = c.svc;
  ask<bool>(
    c.svc, std::chrono::milliseconds{2000}, reply, c.svc->readers.next(),
    [reply, backend, svc](bool ok) {
      ordered_json j{{"status", ok ? "ready" : "not ready"},
                     {"checks", {{"store", {{"backend", backend}, {"ok", ok}}}}}};
      if (!ok)
        return reply(problem_response(errc::unavailable, "the store does not answer"));
      // The broker never makes us unready (events wait in the outbox): it is reported, and
      // the status says "degraded" while the relay's circuit breaker is not closed.
      auto answer = [reply, j](const relay_status& r) mutable {
        auto& broker = j["checks"]["broker"];
        broker = {{"publisher", r.publisher}, {"state", r.state}, {"backlog", r.backlog},
                  {"ok", r.state == "closed"}};
        if (!r.last_error.empty())
          broker["last_error"] = r.last_error;
        if (r.state != "closed")
          j["status"] = "degraded";
        reply(json_response(200, wire::dump(j)));
      };
      auto unknown = [answer](std::string why) mutable {
        answer(relay_status{"", "unknown", -1, 0, 0, std::move(why)});
      };
      auto relay = svc->relay.get();
      if (!relay)
        return unknown("the event relay is starting or restarting");
      // Thread: a bridge actor (this reply handler); one more bridge call asks the relay.
      caf::anon_send(svc->bridges.next(), call_atom_v,
                     bridge_call{[=](caf::event_based_actor* self) mutable {
                       self->request(relay, std::chrono::milliseconds{2000}, status_atom_v)
                         .then([=](relay_status& r) mutable { answer(r); },
                               [=](caf::error& err) mutable { unknown(detail_of(err)); });
                     }});
    },
    ping_atom_v);
}

void create_product(const context& c, request&& req, responder reply) {
  auto decoded = wire::decode_product_create(req.body);
  if (!decoded)
    return reply(invalid(decoded.errors()));
  auto p = std::move(decoded).value();
  auto sku = p.sku;
  ask<product>(
    c.svc, c.opts.request_timeout, reply, c.svc->stocks.get(),
    [reply](const product& created) {
      auto r = json_response(201, wire::encode(created));
      r.headers.emplace_back("Location", "/api/v1/products/" + created.sku);
      reply(std::move(r));
    },
    create_atom_v, sku, p);
}

void list_products(const context& c, request&& req, responder reply) {
  persistence::product_query q;
  if (!read_limit(req, "limit", 50, 500, q.limit, reply))
    return;
  if (auto cat = req.query_param("category"))
    q.category = std::string{*cat};
  if (auto cur = req.query_param("cursor"))
    q.cursor = std::string{*cur};
  ask<persistence::page<product>>(
    c.svc, c.opts.request_timeout, reply, c.svc->readers.next(),
    [reply](const persistence::page<product>& pg) {
      reply(json_response(200, wire::encode_products(pg.items, cursor_or_null(pg.next_cursor))));
    },
    list_atom_v, q);
}

void low_stock(const context& c, request&& req, responder reply) {
  size_t limit = 0;
  if (!read_limit(req, "limit", 100, 1000, limit, reply))
    return;
  ask<std::vector<product>>(
    c.svc, c.opts.request_timeout, reply, c.svc->readers.next(),
    [reply](const std::vector<product>& items) {
      reply(json_response(200, wire::encode_products(items, std::nullopt)));
    },
    low_atom_v, limit);
}

bool check_sku(const std::string& sku, responder& reply) {
  if (is_valid_sku(sku))
    return true;
  reply(problem_response(errc::not_found, "no product with sku " + sku));
  return false;
}

void get_product(const context& c, request&&, responder reply, const params_t& p) {
  if (!check_sku(p[0], reply))
    return;
  ask<product>(
    c.svc, c.opts.request_timeout, reply, c.svc->stocks.get(),
    [reply](const product& item) { reply(json_response(200, wire::encode(item))); }, get_atom_v,
    p[0]);
}

void update_product(const context& c, request&& req, responder reply, const params_t& p) {
  if (!check_sku(p[0], reply))
    return;
  auto decoded = wire::decode_product_update(req.body);
  if (!decoded)
    return reply(invalid(decoded.errors()));
  ask<product>(
    c.svc, c.opts.request_timeout, reply, c.svc->stocks.get(),
    [reply](const product& item) { reply(json_response(200, wire::encode(item))); },
    update_atom_v, p[0], decoded.value());
}

void delete_product(const context& c, request&&, responder reply, const params_t& p) {
  if (!check_sku(p[0], reply))
    return;
  ask<bool>(
    c.svc, c.opts.request_timeout, reply, c.svc->stocks.get(),
    [reply](bool) {
      response r;
      r.status = 204;
      r.content_type.clear();
      reply(std::move(r));
    },
    delete_atom_v, p[0]);
}

void update_stock(const context& c, request&& req, responder reply, const params_t& p) {
  if (!check_sku(p[0], reply))
    return;
  auto decoded = wire::decode_stock_update(req.body);
  if (!decoded)
    return reply(invalid(decoded.errors()));
  auto on_ok = [reply](const product& item) { reply(json_response(200, wire::encode(item))); };
  auto& u = decoded.value();
  if (u.what == wire::stock_update::kind::set)
    ask<product>(c.svc, c.opts.request_timeout, reply, c.svc->stocks.get(), on_ok, set_atom_v,
                 p[0], u.amount);
  else
    ask<product>(c.svc, c.opts.request_timeout, reply, c.svc->stocks.get(), on_ok,
                 adjust_atom_v, p[0], u.amount);
}

/// Places an order; `legacy` selects the seed service's wire format.
void place_order(const context& c, request&& req, responder reply, bool legacy) {
  auto decoded = legacy ? wire::decode_legacy_order_request(req.body)
                        : wire::decode_order_request(req.body);
  if (!decoded)
    return reply(invalid(decoded.errors()));
  placement_request pr;
  pr.request = std::move(decoded).value();
  pr.correlation_id = correlation_of(req);
  if (auto key = req.header("idempotency-key")) {
    if (key->empty() || key->size() > 255)
      return reply(bad_param("Idempotency-Key", "must be 1-255 characters"));
    pr.idempotency_key = std::string{*key};
    pr.request_hash = fingerprint(legacy ? "POST /order" : "POST /api/v1/orders", pr.request);
    if (legacy)
      pr.render_response = [](const order& o) { return wire::encode_legacy(o); };
    else
      pr.render_response = [](const order& o) { return wire::encode(o); };
  }
  ask<placement_result>(
    c.svc, c.opts.request_timeout * 2, reply, c.svc->orders.get(),
    [reply, legacy](const placement_result& res) {
      if (res.replayed) {
        auto r = json_response(res.replay_status, res.replay_body);
        r.headers.emplace_back("Idempotent-Replayed", "true");
        reply(std::move(r));
        return;
      }
      auto r = json_response(201, legacy ? wire::encode_legacy(res.placed)
                                         : wire::encode(res.placed));
      if (!legacy)
        r.headers.emplace_back("Location", "/api/v1/orders/" + res.placed.id);
      reply(std::move(r));
    },
    place_atom_v, pr);
}

bool check_order_id(const std::string& id, responder& reply) {
  if (is_uuid(id))
    return true;
  reply(problem_response(errc::not_found, "no order with id " + id));
  return false;
}

void get_order(const context& c, const std::string& id, responder reply, bool legacy) {
  if (!check_order_id(id, reply))
    return;
  ask<order>(
    c.svc, c.opts.request_timeout, reply, c.svc->orders.get(),
    [reply, legacy](const order& o) {
      reply(json_response(200, legacy ? wire::encode_legacy(o) : wire::encode(o)));
    },
    get_atom_v, id);
}

void list_orders(const context& c, request&& req, responder reply, bool legacy) {
  persistence::order_query q;
  if (!read_status(req, q.status, reply))
    return;
  if (legacy) {
    if (!read_limit(req, "pageSize", 10, 500, q.limit, reply))
      return;
  } else if (!read_limit(req, "limit", 50, 500, q.limit, reply)) {
    return;
  }
  if (auto cid = req.query_param("customer_id"))
    q.customer_id = std::string{*cid};
  if (auto cur = req.query_param("cursor"))
    q.cursor = std::string{*cur};
  ask<persistence::page<order>>(
    c.svc, c.opts.request_timeout, reply, c.svc->readers.next(),
    [reply, legacy](const persistence::page<order>& pg) {
      auto next = cursor_or_null(pg.next_cursor);
      reply(json_response(200, legacy ? wire::encode_legacy_orders(pg.items, next)
                                      : wire::encode_orders(pg.items, next)));
    },
    list_atom_v, q);
}

void cancel_order(const context& c, const std::string& id, responder reply, bool legacy,
                  std::string correlation_id) {
  if (!check_order_id(id, reply))
    return;
  ask<order>(
    c.svc, c.opts.request_timeout, reply, c.svc->orders.get(),
    [reply, legacy](const order& o) {
      if (legacy) {
        ordered_json j{{"message", "order " + o.id + " cancelled"}, {"id", o.id},
                       {"status", to_string(o.status)}};
        reply(json_response(200, wire::dump(j)));
      } else {
        reply(json_response(200, wire::encode(o)));
      }
    },
    cancel_atom_v, id, std::move(correlation_id));
}

void legacy_get_order(const context& c, request&& req, responder reply) {
  if (auto id = req.query_param("id"))
    return get_order(c, std::string{*id}, reply, true);
  if (req.query_param("status"))
    return list_orders(c, std::move(req), reply, true);
  reply(bad_param("id", "give ?id=<order id> or ?status=<status>"));
}

void legacy_cancel(const context& c, request&& req, responder reply) {
  auto id = req.query_param("id");
  if (!id)
    return reply(bad_param("id", "give ?id=<order id>"));
  cancel_order(c, std::string{*id}, reply, true, correlation_of(req));
}

// -- customers ----------------------------------------------------------------------------------

bool check_customer_id(const std::string& id, responder& reply) {
  if (is_uuid(id))
    return true;
  reply(problem_response(errc::not_found, "no customer with id " + id));
  return false;
}

response customer_created(const customer& c) {
  auto r = json_response(201, wire::encode(c));
  r.headers.emplace_back("Location", "/api/v1/customers/" + c.id);
  return r;
}

void create_customer(const context& c, request&& req, responder reply) {
  auto decoded = wire::decode_customer(req.body);
  if (!decoded)
    return reply(invalid(decoded.errors()));
  ask<customer>(
    c.svc, c.opts.request_timeout, reply, c.svc->carts.get(),
    [reply](const customer& created) { reply(customer_created(created)); }, create_atom_v,
    decoded.value());
}

void list_customers(const context& c, request&& req, responder reply) {
  persistence::customer_query q;
  if (!read_limit(req, "limit", 50, 500, q.limit, reply))
    return;
  if (auto cur = req.query_param("cursor"))
    q.cursor = std::string{*cur};
  ask<persistence::page<customer>>(
    c.svc, c.opts.request_timeout, reply, c.svc->readers.next(),
    [reply](const persistence::page<customer>& pg) {
      reply(json_response(200, wire::encode_customers(pg.items, cursor_or_null(pg.next_cursor))));
    },
    list_atom_v, q);
}

void get_customer(const context& c, request&&, responder reply, const params_t& p) {
  if (!check_customer_id(p[0], reply))
    return;
  ask<customer>(
    c.svc, c.opts.request_timeout, reply, c.svc->readers.next(),
    [reply](const customer& found) { reply(json_response(200, wire::encode(found))); },
    get_atom_v, customer_tag{}, p[0]);
}

void update_customer(const context& c, request&& req, responder reply, const params_t& p) {
  if (!check_customer_id(p[0], reply))
    return;
  auto decoded = wire::decode_customer(req.body);
  if (!decoded)
    return reply(invalid(decoded.errors()));
  ask<customer>(
    c.svc, c.opts.request_timeout, reply, c.svc->carts.get(),
    [reply](const customer& updated) { reply(json_response(200, wire::encode(updated))); },
    update_atom_v, p[0], decoded.value());
}

void delete_customer(const context& c, request&&, responder reply, const params_t& p) {
  if (!check_customer_id(p[0], reply))
    return;
  ask<bool>(
    c.svc, c.opts.request_timeout, reply, c.svc->carts.get(),
    [reply](bool) {
      response r;
      r.status = 204;
      r.content_type.clear();
      reply(std::move(r));
    },
    delete_atom_v, p[0]);
}

/// The orders placed with this customer's id, newest first (404 for an unknown customer).
void list_customer_orders(const context& c, request&& req, responder reply, const params_t& p) {
  if (!check_customer_id(p[0], reply))
    return;
  persistence::order_query q;
  q.customer_id = p[0];
  if (!read_status(req, q.status, reply))
    return;
  if (!read_limit(req, "limit", 50, 500, q.limit, reply))
    return;
  if (auto cur = req.query_param("cursor"))
    q.cursor = std::string{*cur};
  auto svc = c.svc;
  auto timeout = c.opts.request_timeout;
  ask<customer>(
    svc, timeout, reply, svc->readers.next(),
    [svc, timeout, reply, q](const customer&) {
      // Thread: a bridge actor; the second question goes through the bridge as well.
      ask<persistence::page<order>>(
        svc, timeout, reply, svc->readers.next(),
        [reply](const persistence::page<order>& pg) {
          reply(json_response(200, wire::encode_orders(pg.items, cursor_or_null(pg.next_cursor))));
        },
        list_atom_v, q);
    },
    get_atom_v, customer_tag{}, p[0]);
}

// -- the cart of the customer named by X-Customer-Id -------------------------------------------

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
  return std::string{*id};
}

void reply_cart(responder reply, const priced_cart& c) {
  reply(json_response(200, wire::encode(c)));
}

void get_cart(const context& c, request&& req, responder reply) {
  auto owner = cart_owner(req, reply);
  if (!owner)
    return;
  ask<priced_cart>(c.svc, c.opts.request_timeout, reply, c.svc->carts.get(),
                   [reply](const priced_cart& pc) { reply_cart(reply, pc); }, get_atom_v,
                   *owner);
}

void add_cart_item(const context& c, request&& req, responder reply) {
  auto owner = cart_owner(req, reply);
  if (!owner)
    return;
  auto decoded = wire::decode_cart_item(req.body);
  if (!decoded)
    return reply(invalid(decoded.errors()));
  auto& line = decoded.value();
  ask<priced_cart>(c.svc, c.opts.request_timeout, reply, c.svc->carts.get(),
                   [reply](const priced_cart& pc) { reply_cart(reply, pc); }, add_atom_v,
                   *owner, line.sku, line.quantity);
}

void remove_cart_item(const context& c, request&& req, responder reply, const params_t& p) {
  auto owner = cart_owner(req, reply);
  if (!owner)
    return;
  if (!is_valid_sku(p[0]))
    return reply(problem_response(errc::not_found, "the cart has no line for sku " + p[0]));
  ask<priced_cart>(c.svc, c.opts.request_timeout, reply, c.svc->carts.get(),
                   [reply](const priced_cart& pc) { reply_cart(reply, pc); }, remove_atom_v,
                   *owner, p[0]);
}

/// Places the cart's lines as an order, like POST /api/v1/orders (same placement, same 201
/// body); an Idempotency-Key replays the first checkout made with it by the same customer.
void checkout_cart(const context& c, request&& req, responder reply) {
  auto owner = cart_owner(req, reply);
  if (!owner)
    return;
  placement_request pr;
  pr.correlation_id = correlation_of(req);
  if (auto key = req.header("idempotency-key")) {
    if (key->empty() || key->size() > 255)
      return reply(bad_param("Idempotency-Key", "must be 1-255 characters"));
    pr.idempotency_key = std::string{*key};
    // The lines come from the cart, which the first checkout emptied: the key is bound to the
    // route and the customer only.
    order_request who;
    who.customer_id = *owner;
    pr.request_hash = fingerprint("POST /api/v1/cart/checkout", who);
    pr.render_response = [](const order& o) { return wire::encode(o); };
  }
  ask<placement_result>(
    c.svc, c.opts.request_timeout * 2, reply, c.svc->carts.get(),
    [reply](const placement_result& res) {
      if (res.replayed) {
        auto r = json_response(res.replay_status, res.replay_body);
        r.headers.emplace_back("Idempotent-Replayed", "true");
        reply(std::move(r));
        return;
      }
      auto r = json_response(201, wire::encode(res.placed));
      r.headers.emplace_back("Location", "/api/v1/orders/" + res.placed.id);
      reply(std::move(r));
    },
    checkout_atom_v, *owner, pr);
}

void inject_fault(const context& c, request&& req, responder reply) {
  auto body = ordered_json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("target")
      || !body["target"].is_string())
    return reply(bad_param("target", "must be one of stock, order, cart, writer, supervisor"));
  auto target = body["target"].get<std::string>();
  std::string key;
  if (body.contains("key")) {
    if (!body["key"].is_string())
      return reply(bad_param("key", "must be a string"));
    key = body["key"].get<std::string>();
  }
  auto& svc = c.svc;
  if (target == "stock") {
    if (!is_valid_sku(key))
      return reply(bad_param("key", "must name a sku"));
    caf::anon_send(svc->stocks.get(), crash_atom_v, key);
  } else if (target == "order") {
    if (!is_uuid(key))
      return reply(bad_param("key", "must be an order id"));
    caf::anon_send(svc->orders.get(), crash_atom_v, key);
  } else if (target == "cart") {
    if (!is_uuid(key))
      return reply(bad_param("key", "must be a customer id"));
    caf::anon_send(svc->carts.get(), crash_atom_v, key);
  } else if (target == "writer") {
    caf::anon_send(svc->writer.get(), crash_atom_v);
  } else if (target == "supervisor") {
    if (key.empty() || key == "inventory")
      caf::anon_send(svc->stocks.get(), crash_atom_v);
    else if (key == "orders")
      caf::anon_send(svc->orders.get(), crash_atom_v);
    else if (key == "carts")
      caf::anon_send(svc->carts.get(), crash_atom_v);
    else
      return reply(bad_param("key", "must be inventory, orders or carts"));
  } else {
    return reply(bad_param("target", "must be one of stock, order, cart, writer, supervisor"));
  }
  spdlog::warn("fault injected: target={} key={}", target, key);
  ordered_json j{{"status", "injected"}, {"target", target}, {"key", key}};
  reply(json_response(202, wire::dump(j)));
}

} // namespace

// -- the routing table --------------------------------------------------------------------------

api::api(services_ptr svc, api_options opts) : svc_(std::move(svc)), opts_(std::move(opts)) {
  auto ctx = std::make_shared<context>(context{svc_, opts_});
  auto add = [&](std::string method, std::string pattern, bool json_body,
                 std::function<void(const context&, request&&, responder, const params_t&)> fn) {
    route r;
    r.method = std::move(method);
    r.segments = split_path(pattern);
    r.pattern = std::move(pattern);
    r.json_body = json_body;
    // Every admin route needs the bearer token. The fault hook predates the token and has its own
    // switch (--enable-fault-injection); it also needs the token once one is configured.
    r.admin = r.pattern.starts_with("/api/v1/admin/")
              && (r.pattern != "/api/v1/admin/faults" || !opts_.admin_token.empty());
    r.run = [ctx, fn = std::move(fn)](request&& req, responder reply, const params_t& p) {
      fn(*ctx, std::move(req), std::move(reply), p);
    };
    routes_.push_back(std::move(r));
  };
  using R = request&&;
  using P = const params_t&;
  // Probes.
  add("GET", "/health", false, [](const context&, R, responder reply, P) {
    reply(json_response(200, R"({"status":"ok"})"));
  });
  add("GET", "/ready", false, [](const context& c, R req, responder reply, P) {
    get_ready(c, std::move(req), reply);
  });
  add("GET", "/openapi.json", false, [](const context&, R, responder reply, P) {
    reply(json_response(200, std::string{openapi_document()}));
  });
  // Products. Static segments ("low-stock") are listed before {sku} so they win.
  add("POST", "/api/v1/products", true, [](const context& c, R req, responder reply, P) {
    create_product(c, std::move(req), reply);
  });
  add("GET", "/api/v1/products", false, [](const context& c, R req, responder reply, P) {
    list_products(c, std::move(req), reply);
  });
  add("GET", "/api/v1/products/low-stock", false,
      [](const context& c, R req, responder reply, P) { low_stock(c, std::move(req), reply); });
  add("GET", "/api/v1/products/{sku}", false, get_product);
  add("PUT", "/api/v1/products/{sku}", true, update_product);
  add("DELETE", "/api/v1/products/{sku}", false, delete_product);
  add("PUT", "/api/v1/products/{sku}/stock", true, update_stock);
  // Orders.
  add("POST", "/api/v1/orders", true, [](const context& c, R req, responder reply, P) {
    place_order(c, std::move(req), reply, false);
  });
  add("GET", "/api/v1/orders", false, [](const context& c, R req, responder reply, P) {
    list_orders(c, std::move(req), reply, false);
  });
  add("GET", "/api/v1/orders/{id}", false, [](const context& c, R, responder reply, P p) {
    get_order(c, p[0], reply, false);
  });
  add("POST", "/api/v1/orders/{id}/cancel", false,
      [](const context& c, R req, responder reply, P p) {
        cancel_order(c, p[0], reply, false, correlation_of(req));
      });
  // Customers. A customer's id is the customer_id its orders carry.
  add("POST", "/api/v1/customers", true, [](const context& c, R req, responder reply, P) {
    create_customer(c, std::move(req), reply);
  });
  add("GET", "/api/v1/customers", false, [](const context& c, R req, responder reply, P) {
    list_customers(c, std::move(req), reply);
  });
  add("GET", "/api/v1/customers/{id}", false, get_customer);
  add("PUT", "/api/v1/customers/{id}", true, update_customer);
  add("DELETE", "/api/v1/customers/{id}", false, delete_customer);
  add("GET", "/api/v1/customers/{id}/orders", false, list_customer_orders);
  // The cart of the customer named by the X-Customer-Id header.
  add("GET", "/api/v1/cart", false, [](const context& c, R req, responder reply, P) {
    get_cart(c, std::move(req), reply);
  });
  add("POST", "/api/v1/cart/items", true, [](const context& c, R req, responder reply, P) {
    add_cart_item(c, std::move(req), reply);
  });
  add("DELETE", "/api/v1/cart/items/{sku}", false, remove_cart_item);
  add("POST", "/api/v1/cart/checkout", false, [](const context& c, R req, responder reply, P) {
    checkout_cart(c, std::move(req), reply);
  });
  // The seed service's API (000), served unchanged for its existing clients.
  add("POST", "/order", true, [](const context& c, R req, responder reply, P) {
    place_order(c, std::move(req), reply, true);
  });
  add("GET", "/order", false, [](const context& c, R req, responder reply, P) {
    legacy_get_order(c, std::move(req), reply);
  });
  add("DELETE", "/order", false, [](const context& c, R req, responder reply, P) {
    legacy_cancel(c, std::move(req), reply);
  });
  add("GET", "/orders", false, [](const context& c, R req, responder reply, P) {
    list_orders(c, std::move(req), reply, true);
  });
  add("DELETE", "/order/cancel", false, [](const context& c, R req, responder reply, P) {
    legacy_cancel(c, std::move(req), reply);
  });
  // Operations.
  if (opts_.enable_fault_injection)
    add("POST", "/api/v1/admin/faults", true, [](const context& c, R req, responder reply, P) {
      inject_fault(c, std::move(req), reply);
    });
}

std::vector<std::string> api::route_list() const {
  std::vector<std::string> out;
  for (auto& r : routes_)
    out.push_back(r.method + " " + r.pattern);
  return out;
}

std::optional<response> api::admin_refusal(const request& req) const {
  if (opts_.admin_token.empty())
    return problem_response(wire::admin_disabled_problem());
  auto given = req.header("authorization").value_or("");
  constexpr std::string_view scheme = "Bearer ";
  bool ok = given.size() > scheme.size() && detail::iequals(given.substr(0, scheme.size()), scheme);
  if (ok) {
    auto token = given.substr(scheme.size());
    // Compare every byte whatever the first mismatch, so timing reveals nothing of the token.
    unsigned char diff = token.size() == opts_.admin_token.size() ? 0 : 1;
    for (size_t i = 0; i < token.size(); ++i)
      diff |= static_cast<unsigned char>(token[i])
              ^ static_cast<unsigned char>(opts_.admin_token[i % opts_.admin_token.size()]);
    ok = diff == 0;
  }
  if (ok)
    return std::nullopt;
  auto r = problem_response(wire::unauthorized_problem());
  r.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="orderd-admin")");
  return r;
}

void api::handle(request&& req, responder reply) {
  // Thread: Beast I/O thread. Everything here is quick; actor work is asynchronous.
  spdlog::debug("{} {} from {}", req.method, req.target, req.remote);
  auto segs = split_path(req.path);
  params_t params;
  std::vector<std::string_view> allowed;
  for (auto& r : routes_) {
    if (!match(r.segments, segs, params))
      continue;
    if (r.method != req.method) {
      if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end())
        allowed.push_back(r.method);
      continue;
    }
    if (r.json_body) {
      auto ct = req.header("content-type").value_or("");
      auto media = ct.substr(0, ct.find(';'));
      while (!media.empty() && media.back() == ' ')
        media.remove_suffix(1);
      if (!detail::iequals(media, "application/json"))
        return reply(problem_response(wire::unsupported_media_type_problem(ct)));
    }
    if (r.admin) {
      if (auto refusal = admin_refusal(req))
        return reply(std::move(*refusal));
    }
    try {
      r.run(std::move(req), reply, params);
    } catch (const std::exception& ex) {
      spdlog::error("handler for {} {} failed: {}", r.method, r.pattern, ex.what());
      reply(problem_response(errc::internal, "internal error"));
    }
    return;
  }
  if (!allowed.empty()) {
    auto r = problem_response(wire::method_not_allowed_problem(req.method, allowed));
    std::string allow;
    for (auto m : allowed)
      allow += (allow.empty() ? "" : ", ") + std::string{m};
    r.headers.emplace_back("Allow", allow);
    return reply(std::move(r));
  }
  reply(problem_response(wire::no_route_problem(req.method, req.target)));
}

} // namespace orderd::http
