#include "http/api.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdio>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol.hpp"
#include "domain/ids.hpp"
#include "domain/validation.hpp"
#include "http/dashboard.hpp"
#include "wire/json_codec.hpp"
#include "http/openapi.hpp"
#include "wire/problem.hpp"
#include "observability/catalogue.hpp"
#include "observability/trace.hpp"

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

/// The correlation id the client gave (X-Correlation-Id, else X-Request-Id), if usable (1-128
/// printable ASCII characters).
std::optional<std::string_view> given_correlation(const request& req) {
  for (auto name : {"x-correlation-id", "x-request-id"}) {
    auto v = req.header(name);
    if (v && !v->empty() && v->size() <= 128
        && std::all_of(v->begin(), v->end(), [](char ch) { return ch > 0x20 && ch < 0x7f; }))
      return v;
  }
  return std::nullopt;
}

/// The request's correlation id, carried into the events it causes: the one the client gave,
/// else the request's trace id (api::handle adds it as X-Correlation-Id when none was given),
/// else a new UUID.
std::string correlation_of(const request& req) {
  if (auto given = given_correlation(req))
    return std::string{*given};
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
  // The deadline is the connection's (503 when it passes), not a CAF request timeout.
  reply.answer_within(timeout);
  // Thread: Beast I/O thread -> bridge actor's mailbox (non-blocking enqueue).
  caf::anon_send(svc->bridges.next(), call_atom_v,
                 bridge_call{[=](caf::event_based_actor* self) {
                   // Thread: bridge actor. The reply handler runs here too.
                   self->request(target, caf::infinite, xs...)
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
      auto answer = [reply, j, svc](const relay_status& r) mutable {
        auto& broker = j["checks"]["broker"];
        broker = {{"publisher", r.publisher}, {"state", r.state}, {"backlog", r.backlog},
                  {"ok", r.state == "closed"}};
        if (!r.last_error.empty())
          broker["last_error"] = r.last_error;
        if (r.state != "closed")
          j["status"] = "degraded";
        auto consumer = svc->consumer.get();
        if (!svc->spawn_consumer || !consumer)
          return reply(json_response(200, wire::dump(j)));
        // With --amqp-url: the command consumer too (degraded while it has no broker).
        caf::anon_send(svc->bridges.next(), call_atom_v,
                       bridge_call{[=](caf::event_based_actor* self) mutable {
                         auto report = [=](const inbound_status* s) mutable {
                           auto& cmds = j["checks"]["commands"];
                           if (s == nullptr) {
                             cmds = {{"ok", false}};
                           } else {
                             cmds = {{"ok", s->connected}, {"queue", s->queue},
                                     {"received", s->received}, {"acked", s->acked},
                                     {"retried", s->retried},
                                     {"dead_lettered", s->dead_lettered},
                                     {"in_flight", s->in_flight}};
                             if (!s->last_error.empty())
                               cmds["last_error"] = s->last_error;
                           }
                           if (s == nullptr || !s->connected)
                             j["status"] = "degraded";
                           reply(json_response(200, wire::dump(j)));
                         };
                         self->request(consumer, std::chrono::milliseconds{2000}, status_atom_v)
                           .then([=](inbound_status& s) mutable { report(&s); },
                                 [=](caf::error&) mutable { report(nullptr); });
                       }});
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
    create_atom_v, sku, p, change_origin{correlation_of(req), {}});
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
    update_atom_v, p[0], decoded.value(), change_origin{correlation_of(req), {}});
}

void delete_product(const context& c, request&& req, responder reply, const params_t& p) {
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
    delete_atom_v, p[0], change_origin{correlation_of(req), {}});
}

void update_stock(const context& c, request&& req, responder reply, const params_t& p) {
  if (!check_sku(p[0], reply))
    return;
  auto decoded = wire::decode_stock_update(req.body);
  if (!decoded)
    return reply(invalid(decoded.errors()));
  auto on_ok = [reply](const product& item) { reply(json_response(200, wire::encode(item))); };
  auto& u = decoded.value();
  change_origin from{correlation_of(req), {}};
  if (u.what == wire::stock_update::kind::set)
    ask<product>(c.svc, c.opts.request_timeout, reply, c.svc->stocks.get(), on_ok, set_atom_v,
                 p[0], u.amount, from);
  else
    ask<product>(c.svc, c.opts.request_timeout, reply, c.svc->stocks.get(), on_ok,
                 adjust_atom_v, p[0], u.amount, from);
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
  if (!legacy) {
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

/// Shipping updates from other services: the order actor accepts only SHIPPED and DELIVERED,
/// along the state machine.
void update_order_status(const context& c, request&& req, responder reply, const params_t& p) {
  if (!check_order_id(p[0], reply))
    return;
  auto decoded = wire::decode_status_update(req.body);
  if (!decoded)
    return reply(invalid(decoded.errors()));
  ask<order>(
    c.svc, c.opts.request_timeout, reply, c.svc->orders.get(),
    [reply](const order& o) { reply(json_response(200, wire::encode(o))); }, ship_atom_v, p[0],
    decoded.value(), correlation_of(req));
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

// -- the dead-letter queue of inbound commands ------------------------------------------------

ordered_json dead_letter_json(const dead_letter& d) {
  ordered_json j{{"id", d.id},
                 {"command", d.command},
                 {"routing_key", d.routing_key},
                 {"reason", d.reason},
                 {"attempts", d.attempts},
                 {"last_error", d.last_error},
                 {"dead_lettered_at", d.dead_lettered_at},
                 {"correlation_id", d.correlation_id}};
  // The body as sent: JSON when it is JSON, else the text.
  auto body = ordered_json::parse(d.body, nullptr, false);
  if (body.is_discarded())
    j["body"] = d.body;
  else
    j["body"] = std::move(body);
  return j;
}

/// The command consumer, or an answer saying there is none (no --amqp-url).
caf::actor consumer_or_refuse(const context& c, responder& reply) {
  if (!c.svc->spawn_consumer) {
    reply(problem_response(errc::not_found,
                           "there is no dead-letter queue: orderd consumes commands from RabbitMQ "
                           "only when started with --amqp-url"));
    return {};
  }
  auto consumer = c.svc->consumer.get();
  if (!consumer)
    reply(problem_response(errc::unavailable, "the command consumer is restarting; retry"));
  return consumer;
}

void list_dead_letters(const context& c, request&& req, responder reply) {
  size_t limit = 100;
  if (!read_limit(req, "limit", 100, 1000, limit, reply))
    return;
  auto consumer = consumer_or_refuse(c, reply);
  if (!consumer)
    return;
  ask<std::vector<dead_letter>>(
    c.svc, c.opts.request_timeout, reply, consumer,
    [reply, limit](const std::vector<dead_letter>& letters) {
      ordered_json items = ordered_json::array();
      for (auto& d : letters)
        items.push_back(dead_letter_json(d));
      ordered_json j{{"items", std::move(items)},
                     {"count", letters.size()},
                     {"truncated", letters.size() >= limit}};
      reply(json_response(200, wire::dump(j)));
    },
    list_atom_v, dlq_atom_v, limit);
}

void replay_dead_letter(const context& c, const std::string& id, responder reply) {
  if (id.empty() || id.size() > 255)
    return reply(bad_param("id", "must be the message id of a dead letter (1-255 characters)"));
  auto consumer = consumer_or_refuse(c, reply);
  if (!consumer)
    return;
  ask<dead_letter>(
    c.svc, c.opts.request_timeout, reply, consumer,
    [reply](const dead_letter& d) {
      ordered_json j{{"status", "replayed"}, {"message", dead_letter_json(d)}};
      reply(json_response(202, wire::dump(j)));
    },
    replay_atom_v, dlq_atom_v, id);
}

// -- observability and admin --------------------------------------------------------------------

namespace cat = observability::catalogue;

/// Replies collected by one bridge actor from several actors at once; `done` runs once every
/// request has been answered or failed (all on that actor's thread, so no locking).
struct gathering {
  int pending = 1; // the starter's own share, released by finish_one() after sending
  std::function<void()> done;
  void finish_one() {
    if (--pending == 0 && done)
      done();
  }
};

template <class T, class OnOk, class... Ts>
void gather(caf::event_based_actor* self, const std::shared_ptr<gathering>& g,
            const caf::actor& target, OnOk on_ok, Ts... xs) {
  if (!target)
    return;
  ++g->pending;
  self->request(target, std::chrono::milliseconds{2000}, xs...)
    .then([g, on_ok](T& value) mutable {
            on_ok(value);
            g->finish_one();
          },
          [g](caf::error&) { g->finish_one(); });
}

/// Runs `fn` on an HTTP bridge actor, or `fallback` at once when none is running.
template <class Fn, class Fallback>
void on_bridge(const services_ptr& svc, Fn fn, Fallback fallback) {
  auto bridge = svc->bridges.next();
  if (!bridge)
    return fallback();
  // Thread: Beast I/O thread -> the bridge actor's mailbox.
  caf::anon_send(bridge, call_atom_v, bridge_call{std::move(fn)});
}

void mirror_order_counts(const order_status_counts& counts) {
  static auto& family = cat::orders_by_status();
  for (auto s : {order_status::pending, order_status::processing, order_status::confirmed,
                 order_status::shipped, order_status::delivered, order_status::cancelled}) {
    int64_t n = 0;
    for (auto& [status, count] : counts)
      if (status == s)
        n = count;
    family.with({std::string{to_string(s)}}).set(static_cast<double>(n));
  }
}

void mirror_supervisors(const std::vector<supervisor_stats>& xs) {
  for (auto& x : xs) {
    cat::supervisor_live_children().with({x.name}).set(static_cast<double>(x.live_children));
    cat::supervisor_restarts().with({x.name}).set(static_cast<double>(x.restarts));
    cat::supervisor_escalations().with({x.name}).set(static_cast<double>(x.escalations));
  }
}

void mirror_relay(const relay_status& r) {
  if (r.backlog >= 0)
    cat::outbox_backlog().set(static_cast<double>(r.backlog));
  auto state = cat::breaker_state_value(r.state);
  if (state >= 0)
    cat::circuit_breaker_state().with({"event-relay"}).set(state);
}

/// GET /metrics: the values only actors know are read first (order counts from a store reader,
/// supervisor stats, the relay's backlog and breaker), each with a short deadline; whatever
/// answered is mirrored into the registry, which is then rendered. Never 503: a scrape during a
/// restart shows the last values.
void get_metrics(const context& c, request&&, responder reply) {
  auto render = [reply] {
    response r;
    r.content_type = std::string{observability::text_format_content_type};
    r.body = observability::registry::global().render();
    reply(std::move(r));
  };
  auto svc = c.svc;
  on_bridge(
    svc,
    [svc, render](caf::event_based_actor* self) {
      // Thread: a bridge actor; the reply handlers below run here too.
      auto g = std::make_shared<gathering>();
      g->done = render;
      gather<order_status_counts>(self, g, svc->readers.next(), mirror_order_counts, count_atom_v,
                                  order_tag{});
      gather<std::vector<supervisor_stats>>(self, g, svc->root.get(), mirror_supervisors,
                                            stats_atom_v);
      gather<relay_status>(self, g, svc->relay.get(), mirror_relay, status_atom_v);
      g->finish_one();
    },
    render);
}

ordered_json supervisor_json(const supervisor_stats& x) {
  return ordered_json{{"name", x.name},
                      {"parent", x.parent.empty() ? ordered_json(nullptr) : ordered_json(x.parent)},
                      {"slot", x.slot},
                      {"live_children", x.live_children},
                      {"restarts", x.restarts},
                      {"escalations", x.escalations},
                      {"children", x.children}};
}

/// GET /api/v1/admin/actors: the supervision tree as the supervisors report it (stats_atom to
/// the root, which asks the registries).
void get_actors(const context& c, request&&, responder reply) {
  ask<std::vector<supervisor_stats>>(
    c.svc, c.opts.request_timeout, reply, c.svc->root.get(),
    [reply](const std::vector<supervisor_stats>& xs) {
      mirror_supervisors(xs);
      ordered_json list = ordered_json::array();
      for (auto& x : xs)
        list.push_back(supervisor_json(x));
      reply(json_response(200, wire::dump(ordered_json{{"supervisors", std::move(list)}})));
    },
    stats_atom_v);
}

/// What GET /api/v1/admin/overview collects before it answers.
struct overview {
  bool store_ok = false;
  order_status_counts counts;
  std::vector<product> low;
  std::optional<relay_status> relay;
};

std::string encode_overview(const overview& o, const std::string& publisher) {
  ordered_json by_status = ordered_json::object();
  int64_t total = 0;
  for (auto s : {order_status::pending, order_status::processing, order_status::confirmed,
                 order_status::shipped, order_status::delivered, order_status::cancelled}) {
    int64_t n = 0;
    for (auto& [status, count] : o.counts)
      if (status == s)
        n = count;
    by_status[std::string{to_string(s)}] = n;
    total += n;
  }
  ordered_json low = ordered_json::array();
  for (auto& p : o.low)
    low.push_back({{"sku", p.sku}, {"name", p.name}, {"available", p.available},
                   {"reserved", p.reserved}, {"low_stock_threshold", p.low_stock_threshold}});
  relay_status r = o.relay.value_or(relay_status{publisher, "unknown", -1, 0, 0,
                                                 "the event relay did not answer"});
  ordered_json breaker{{"name", "event-relay"}, {"state", r.state}, {"failures", r.failures}};
  if (!r.last_error.empty())
    breaker["last_error"] = r.last_error;
  ordered_json j{
    {"orders_by_status", std::move(by_status)},
    {"orders_total", total},
    {"low_stock", std::move(low)},
    {"outbox", {{"backlog", r.backlog}, {"published", r.published}, {"publisher", r.publisher}}},
    {"breakers", ordered_json::array({std::move(breaker)})},
    {"dlq", {{"messages", static_cast<int64_t>(observability::dlq_messages().value())}}}};
  return wire::dump(j);
}

/// GET /api/v1/admin/overview: orders by status, low-stock products, outbox and relay, DLQ.
void get_overview(const context& c, request&&, responder reply) {
  auto svc = c.svc;
  if (!svc->readers.next())
    return reply(problem_response(errc::unavailable, "the server is starting or restarting; retry"));
  on_bridge(
    svc,
    [svc, reply](caf::event_based_actor* self) {
      // Thread: a bridge actor; the reply handlers below run here too.
      auto o = std::make_shared<overview>();
      auto g = std::make_shared<gathering>();
      g->done = [o, reply, svc] {
        if (!o->store_ok)
          return reply(problem_response(errc::unavailable, "the store does not answer"));
        reply(json_response(200, encode_overview(*o, svc->publisher_name)));
      };
      gather<order_status_counts>(
        self, g, svc->readers.next(),
        [o](order_status_counts& xs) {
          mirror_order_counts(xs);
          o->store_ok = true;
          o->counts = std::move(xs);
        },
        count_atom_v, order_tag{});
      gather<std::vector<product>>(
        self, g, svc->readers.next(), [o](std::vector<product>& xs) { o->low = std::move(xs); },
        low_atom_v, size_t{20});
      gather<relay_status>(
        self, g, svc->relay.get(),
        [o](relay_status& r) {
          mirror_relay(r);
          o->relay = std::move(r);
        },
        status_atom_v);
      g->finish_one();
    },
    [reply] {
      reply(problem_response(errc::unavailable, "the server is starting or restarting; retry"));
    });
}

void get_dashboard(const context&, request&&, responder reply) {
  response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::string{dashboard_page()};
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply(std::move(r));
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

// -- notifications ------------------------------------------------------------------------------

/// ?status= and ?channel= of the notification listings (400 for unknown values).
bool read_notification_filters(const request& req, persistence::notification_query& q,
                               responder& reply) {
  if (auto text = req.query_param("status"); text && !text->empty()) {
    q.status = parse_notification_status(*text);
    if (!q.status) {
      reply(bad_param("status", "must be one of PENDING, SENT, FAILED"));
      return false;
    }
  }
  if (auto text = req.query_param("channel"); text && !text->empty()) {
    q.channel = parse_notification_channel(*text);
    if (!q.channel) {
      reply(bad_param("channel", "must be one of email, webhook, push"));
      return false;
    }
  }
  if (!read_limit(req, "limit", 50, 500, q.limit, reply))
    return false;
  if (auto cur = req.query_param("cursor"))
    q.cursor = std::string{*cur};
  return true;
}

void reply_notifications(const context& c, const persistence::notification_query& q,
                         responder reply) {
  ask<persistence::page<notification>>(
    c.svc, c.opts.request_timeout, reply, c.svc->readers.next(),
    [reply](const persistence::page<notification>& pg) {
      reply(json_response(200, wire::encode_notifications(pg.items,
                                                          cursor_or_null(pg.next_cursor))));
    },
    list_atom_v, q);
}

/// GET /api/v1/notifications: every notification by id; ?status=FAILED is the dead-letter list.
void list_notifications(const context& c, request&& req, responder reply) {
  persistence::notification_query q;
  if (!read_notification_filters(req, q, reply))
    return;
  reply_notifications(c, q, reply);
}

void get_notification(const context& c, request&&, responder reply, const params_t& p) {
  if (!is_uuid(p[0]))
    return reply(problem_response(errc::not_found, "no notification with id " + p[0]));
  ask<notification>(
    c.svc, c.opts.request_timeout, reply, c.svc->readers.next(),
    [reply](const notification& n) { reply(json_response(200, wire::encode(n))); }, get_atom_v,
    notification_tag{}, p[0]);
}

/// POST /api/v1/notifications: an ad-hoc notification. 202 once the PENDING record is durable;
/// delivery happens afterwards (poll GET /api/v1/notifications/{id}).
void create_notification(const context& c, request&& req, responder reply) {
  auto decoded = wire::decode_notification_request(req.body);
  if (!decoded)
    return reply(invalid(decoded.errors()));
  auto& r = decoded.value();
  notification n;
  n.channel = *parse_notification_channel(r.channel);
  n.recipient = r.recipient;
  n.subject = r.subject;
  n.body = r.body;
  auto svc = c.svc;
  auto timeout = c.opts.request_timeout;
  auto accepted = [reply](const notification& created) {
    auto res = json_response(202, wire::encode(created));
    res.headers.emplace_back("Location", "/api/v1/notifications/" + created.id);
    reply(std::move(res));
  };
  if (!svc->notifier.get())
    return reply(problem_response(errc::unavailable, "notifications are not running; retry"));
  if (n.channel != notification_channel::push) {
    ask<notification>(svc, timeout, reply, svc->notifier.get(), accepted, notify_atom_v, n);
    return;
  }
  // Push goes to a customer: it must exist, or nobody could ever list it (400, not 404: the
  // route exists, the recipient in the body is what is wrong).
  n.customer_id = n.recipient;
  auto reader = svc->readers.next();
  if (!reader)
    return reply(problem_response(errc::unavailable, "the server is starting or restarting; retry"));
  // Thread: Beast I/O thread -> bridge actor's mailbox (non-blocking enqueue).
  caf::anon_send(svc->bridges.next(), call_atom_v,
                 bridge_call{[=](caf::event_based_actor* self) {
                   // Thread: bridge actor.
                   self->request(reader, timeout, get_atom_v, customer_tag{}, n.recipient)
                     .then(
                       [=](const customer&) {
                         ask<notification>(svc, timeout, reply, svc->notifier.get(), accepted,
                                           notify_atom_v, n);
                       },
                       [=](caf::error& err) {
                         if (code_of(err) == errc::not_found)
                           reply(bad_param("recipient", "no customer with this id"));
                         else
                           reply(error_response(err));
                       });
                 }});
}

/// GET /api/v1/customers/{id}/push: the push notifications of a customer (404 if unknown).
void list_customer_push(const context& c, request&& req, responder reply, const params_t& p) {
  if (!check_customer_id(p[0], reply))
    return;
  persistence::notification_query q;
  if (!read_notification_filters(req, q, reply))
    return;
  q.channel = notification_channel::push;
  q.customer_id = p[0];
  auto ctx = c;
  ask<customer>(
    c.svc, c.opts.request_timeout, reply, c.svc->readers.next(),
    [ctx, reply, q](const customer&) { reply_notifications(ctx, q, reply); }, get_atom_v,
    customer_tag{}, p[0]);
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
    return reply(bad_param("target",
                           "must be one of stock, order, cart, writer, supervisor, commands"));
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
  } else if (target == "commands") {
    // The next N inbound commands fail as if the server could not handle them (retry drills).
    uint32_t n = 0;
    auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), n);
    if (ec != std::errc{} || end != key.data() + key.size() || n == 0 || n > 1000)
      return reply(bad_param("key", "must be how many commands fail next (1-1000)"));
    auto consumer = consumer_or_refuse(c, reply);
    if (!consumer)
      return;
    // Answered once the consumer took it, so commands sent after the answer fail.
    ask<bool>(
      c.svc, c.opts.request_timeout, reply, consumer,
      [reply, key](bool) {
        ordered_json j{{"status", "injected"}, {"target", "commands"}, {"key", key}};
        reply(json_response(202, wire::dump(j)));
      },
      crash_atom_v, n);
    return;
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
    return reply(bad_param("target",
                           "must be one of stock, order, cart, writer, supervisor, commands"));
  }
  spdlog::warn("fault injected: target={} key={}", target, key);
  ordered_json j{{"status", "injected"}, {"target", target}, {"key", key}};
  reply(json_response(202, wire::dump(j)));
}

} // namespace

// -- metrics and trace context of each request --------------------------------------------------

namespace {

/// The methods a request-count label may name; anything else is "other" (bounded cardinality).
constexpr std::array<std::string_view, 8> method_labels{"GET",   "POST", "PUT",     "DELETE",
                                                        "PATCH", "HEAD", "OPTIONS", "other"};

size_t method_index(std::string_view method) {
  for (size_t i = 0; i + 1 < method_labels.size(); ++i)
    if (method == method_labels[i])
      return i;
  return method_labels.size() - 1;
}

} // namespace

struct api::route_metrics {
  /// `methods`: how many method slots to keep (1 for a route, every method for unmatched).
  route_metrics(std::string route, size_t first_method, size_t methods)
    : route_label(std::move(route)),
      first_method(first_method),
      duration(&cat::http_request_duration().with({route_label})),
      slots(methods * 500) {}

  std::string route_label;
  size_t first_method;
  observability::histogram* duration;
  /// orderd_http_requests_total{route, method, status}: a slot per method and status 100..599,
  /// filled on first use, so counting a request takes no lock.
  std::vector<std::atomic<observability::counter*>> slots;

  observability::counter& requests(int status, std::string_view method) {
    if (status < 100 || status > 599)
      status = 500; // what the server sends for an invalid status
    auto m = method_index(method);
    auto slot_method = m - first_method;
    if (m < first_method || (slot_method + 1) * 500 > slots.size())
      slot_method = 0; // a route only ever sees its own method
    auto& slot = slots[slot_method * 500 + static_cast<size_t>(status - 100)];
    auto* c = slot.load(std::memory_order_acquire);
    if (!c) {
      // Two threads may both look it up: the family returns the same child to both.
      c = &cat::http_requests().with(
        {route_label, std::string{method_labels[first_method + slot_method]},
         std::to_string(status)});
      slot.store(c, std::memory_order_release);
    }
    return *c;
  }
};

namespace {

/// The server side of the responder a route gets: adds the trace headers, records the request's
/// metrics and log line, then hands the response to the connection's responder. Thread: whichever
/// calls the responder (an I/O thread or a bridge actor).
class observed_reply final : public detail::reply_slot {
public:
  /// `request_id` empty: the trace id is the request id. `target` is kept for the debug log
  /// line only (empty when debug logging is off: one copy less per request).
  observed_reply(responder inner, std::shared_ptr<api::route_metrics> metrics,
                 std::string_view method, std::string target, observability::trace_context trace,
                 std::string request_id)
    : inner_(std::move(inner)),
      metrics_(std::move(metrics)),
      method_(method),
      target_(std::move(target)),
      trace_(std::move(trace)),
      request_id_(std::move(request_id)) {}

  ~observed_reply() override {
    // Dropped unanswered: the server answers 500 when the last responder copy goes; count it.
    if (!completed())
      metrics_->requests(500, method_).inc();
  }

private:
  void send(response&& r) override {
    auto elapsed = std::chrono::steady_clock::now() - started_;
    auto seconds = std::chrono::duration<double>(elapsed).count();
    metrics_->duration->observe(seconds);
    metrics_->requests(r.status, method_).inc();
    const auto& request_id = request_id_.empty() ? trace_.trace_id : request_id_;
    r.headers.emplace_back("X-Request-Id", request_id);
    r.headers.emplace_back("traceparent", observability::format_traceparent(trace_));
    if (spdlog::should_log(spdlog::level::debug)) {
      observability::log_trace_scope scope{trace_.trace_id};
      spdlog::debug("http {} {} -> {} in {:.2f} ms (request id {})", method_, target_, r.status,
                    seconds * 1000.0, request_id);
    }
    inner_(std::move(r));
  }

  responder inner_;
  std::shared_ptr<api::route_metrics> metrics_;
  std::string method_;
  std::string target_;
  observability::trace_context trace_;
  std::string request_id_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

} // namespace

responder api::observe(request& req, const route* matched, responder reply) {
  // A valid incoming traceparent is echoed (we join the caller's trace); an absent or invalid
  // one is replaced by a new trace (never a 4xx: tracing must not break requests).
  auto incoming = observability::parse_traceparent(req.header("traceparent").value_or(""));
  auto trace = incoming ? std::move(*incoming) : observability::make_trace_context();
  std::string request_id;
  if (auto given = given_correlation(req)) {
    request_id = std::string{*given};
  } else {
    // The trace id stands in for the correlation id the client did not give, so the events
    // this request causes carry it (correlation_of() finds it here).
    req.headers.emplace_back("x-correlation-id", trace.trace_id);
  }
  auto target = spdlog::should_log(spdlog::level::debug) ? req.target : std::string{};
  auto metrics = matched ? matched->metrics : unmatched_metrics_;
  return responder{std::make_shared<observed_reply>(std::move(reply), std::move(metrics),
                                                    req.method, std::move(target),
                                                    std::move(trace), std::move(request_id))};
}

// -- the routing table --------------------------------------------------------------------------

api::api(services_ptr svc, api_options opts) : svc_(std::move(svc)), opts_(std::move(opts)) {
  unmatched_metrics_ = std::make_shared<route_metrics>("unmatched", 0, method_labels.size());
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
    r.metrics = std::make_shared<route_metrics>(r.pattern, method_index(r.method), 1);
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
  // Observability: Prometheus scrapes without a token (standard); the dashboard page is static
  // and reads the admin routes with the token the operator gives it.
  add("GET", "/metrics", false, [](const context& c, R req, responder reply, P) {
    get_metrics(c, std::move(req), reply);
  });
  add("GET", "/dashboard", false, [](const context& c, R req, responder reply, P) {
    get_dashboard(c, std::move(req), reply);
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
  add("PUT", "/api/v1/orders/{id}/status", true, update_order_status);
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
  add("GET", "/api/v1/customers/{id}/push", false, list_customer_push);
  // Notifications (email, webhook, push); ?status=FAILED lists the dead letters.
  add("GET", "/api/v1/notifications", false, [](const context& c, R req, responder reply, P) {
    list_notifications(c, std::move(req), reply);
  });
  add("POST", "/api/v1/notifications", true, [](const context& c, R req, responder reply, P) {
    create_notification(c, std::move(req), reply);
  });
  add("GET", "/api/v1/notifications/{id}", false, get_notification);
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
  // Operations (admin routes: bearer token, see admin_refusal).
  add("GET", "/api/v1/admin/dlq", false, [](const context& c, R req, responder reply, P) {
    list_dead_letters(c, std::move(req), reply);
  });
  add("POST", "/api/v1/admin/dlq/{id}/replay", false,
      [](const context& c, R, responder reply, P p) { replay_dead_letter(c, p[0], reply); });
  add("GET", "/api/v1/admin/actors", false, [](const context& c, R req, responder reply, P) {
    get_actors(c, std::move(req), reply);
  });
  add("GET", "/api/v1/admin/overview", false, [](const context& c, R req, responder reply, P) {
    get_overview(c, std::move(req), reply);
  });
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

void api::handle(request&& req, responder raw_reply) {
  // Thread: Beast I/O thread. Everything here is quick; actor work is asynchronous.
  auto segs = split_path(req.path);
  params_t params;
  std::vector<std::string_view> allowed;
  const route* found = nullptr;
  for (auto& r : routes_) {
    if (!match(r.segments, segs, params))
      continue;
    if (r.method != req.method) {
      if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end())
        allowed.push_back(r.method);
      continue;
    }
    found = &r;
    break;
  }
  auto reply = observe(req, found, std::move(raw_reply));
  if (found) {
    auto& r = *found;
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
