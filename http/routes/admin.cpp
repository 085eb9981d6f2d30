// Operations: /metrics and the dashboard page (no token: Prometheus scrapes without one, and
// the page reads the admin routes with the token the operator gives it), and the admin routes
// under /api/v1/admin/ (bearer token): the dead-letter queue of inbound commands, the
// supervision tree, the overview and the fault hook.

#include <charconv>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "domain/ids.hpp"
#include "http/ask.hpp"
#include "http/dashboard.hpp"
#include "http/router.hpp"
#include "http/status_json.hpp"
#include "observability/catalogue.hpp"
#include "observability/metrics.hpp"
#include "wire/admin_json.hpp"

namespace orderd::http {

namespace {

namespace cat = observability::catalogue;

// -- what the actors know, mirrored into the metrics registry -----------------------------------

void mirror_order_counts(const order_status_counts& counts) {
  static auto& family = cat::orders_by_status();
  for (auto& [status, n] : wire::every_status(counts))
    family.with({std::string{to_string(status)}}).set(static_cast<double>(n));
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

/// Asks for the order counts and the relay's status, which /metrics and the overview both show
/// (and mirror into the registry).
template <class Figures>
void ask_counts_and_relay(fan_out& fan, const services_ptr& svc,
                          const std::shared_ptr<Figures>& into) {
  fan.ask_into(svc->readers.next(), status_wait, into, &Figures::counts, count_atom_v,
               order_tag{});
  fan.ask_into(svc->relay.get(), status_wait, into, &Figures::relay, status_atom_v);
}

template <class Figures>
void mirror_counts_and_relay(const Figures& found) {
  if (found.counts)
    mirror_order_counts(*found.counts);
  if (found.relay)
    mirror_relay(*found.relay);
}

/// The figures only actors know, as far as they answered.
struct actor_figures {
  std::optional<order_status_counts> counts;
  std::optional<std::vector<supervisor_stats>> supervisors;
  std::optional<relay_status> relay;
};

/// GET /metrics: the values only actors know are read first (order counts from a store reader,
/// supervisor stats, the relay's backlog and breaker), each with a short deadline; whatever
/// answered is mirrored into the registry, which is then rendered. Never 503: a scrape during a
/// restart shows the last values.
void get_metrics(const context& c, request&&, responder reply, const params_t&) {
  auto render = [reply] {
    response r;
    r.content_type = std::string{observability::text_format_content_type};
    r.body = observability::registry::global().render();
    reply(std::move(r));
  };
  auto svc = c.svc;
  auto found = std::make_shared<actor_figures>();
  gather(
    svc,
    [svc, found](fan_out& fan) {
      ask_counts_and_relay(fan, svc, found);
      fan.ask_into(svc->root.get(), status_wait, found, &actor_figures::supervisors,
                   stats_atom_v);
    },
    [found, render] {
      mirror_counts_and_relay(*found);
      if (found->supervisors)
        mirror_supervisors(*found->supervisors);
      render();
    },
    render);
}

void get_dashboard(const context&, request&&, responder reply, const params_t&) {
  response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::string{dashboard_page()};
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply(std::move(r));
}

// -- the dead-letter queue of inbound commands ----------------------------------------------------

/// Asks the command consumer; without one, answers why (404 without --amqp-url, 503 while it
/// restarts).
template <class T, class OnOk, class... Ts>
void ask_consumer(const context& c, responder reply, OnOk on_ok, Ts... xs) {
  if (!c.svc->spawn_consumer)
    return reply(problem_response(errc::not_found,
                                  "there is no dead-letter queue: orderd consumes commands from "
                                  "RabbitMQ only when started with --amqp-url"));
  auto consumer = c.svc->consumer.get();
  if (!consumer)
    return reply(problem_response(errc::unavailable, "the command consumer is restarting; retry"));
  ask<T>(c, reply, consumer, std::move(on_ok), std::move(xs)...);
}

void list_dead_letters(const context& c, request&& req, responder reply, const params_t&) {
  size_t limit = 100;
  if (!read_limit(req, "limit", 100, 1000, limit, reply))
    return;
  ask_consumer<std::vector<dead_letter>>(
    c, reply,
    [reply, limit](const std::vector<dead_letter>& letters) {
      reply(json_response(200, wire::encode_dead_letters(letters, letters.size() >= limit)));
    },
    list_atom_v, dlq_atom_v, limit);
}

void replay_dead_letter(const context& c, request&&, responder reply, const params_t& p) {
  auto& id = p[0];
  if (id.empty() || id.size() > 255)
    return reply(bad_param("id", "must be the message id of a dead letter (1-255 characters)"));
  ask_consumer<dead_letter>(
    c, reply,
    [reply](const dead_letter& d) { reply(json_response(202, wire::encode_replayed(d))); },
    replay_atom_v, dlq_atom_v, id);
}

// -- the supervision tree and the overview ------------------------------------------------------

/// GET /api/v1/admin/actors: the supervision tree as the supervisors report it (stats_atom to
/// the root, which asks the registries).
void get_actors(const context& c, request&&, responder reply, const params_t&) {
  ask<std::vector<supervisor_stats>>(
    c, reply, c.svc->root.get(),
    [reply](const std::vector<supervisor_stats>& xs) {
      mirror_supervisors(xs);
      reply(json_response(200, encode_supervisors(xs)));
    },
    stats_atom_v);
}

/// GET /api/v1/admin/overview: orders by status, low-stock products, outbox and relay, DLQ.
void get_overview(const context& c, request&&, responder reply, const params_t&) {
  auto svc = c.svc;
  if (!svc->readers.next())
    return reply(unavailable_response());
  auto found = std::make_shared<overview>();
  gather(
    svc,
    [svc, found](fan_out& fan) {
      ask_counts_and_relay(fan, svc, found);
      fan.ask_into(svc->readers.next(), status_wait, found, &overview::low, low_atom_v,
                   size_t{20});
    },
    [found, reply, publisher = svc->publisher_name] {
      mirror_counts_and_relay(*found);
      if (!found->counts)
        return reply(problem_response(errc::unavailable, "the store does not answer"));
      reply(json_response(200, encode_overview(*found, publisher)));
    },
    [reply] { reply(unavailable_response()); });
}

// -- the fault hook (crash-recovery drills) -----------------------------------------------------

void inject_fault(const context& c, request&& req, responder reply, const params_t&) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
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
    // Answered once the consumer took it, so commands sent after the answer see the fault.
    auto injected = [reply, key](bool) {
      reply(json_response(202, wire::encode_fault_injected("commands", key)));
    };
    // "exit-after-commit": the process exits once the next command has committed, before its
    // ack (the broker then redelivers it elsewhere: exactly-once drills).
    if (key == "exit-after-commit")
      return ask_consumer<bool>(c, reply, injected, crash_atom_v, commit_atom_v);
    // The next N inbound commands fail as if the server could not handle them (retry drills).
    uint32_t n = 0;
    auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), n);
    if (ec != std::errc{} || end != key.data() + key.size() || n == 0 || n > 1000)
      return reply(bad_param("key", "must be how many commands fail next (1-1000) or "
                                          "exit-after-commit"));
    return ask_consumer<bool>(c, reply, injected, crash_atom_v, n);
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
  reply(json_response(202, wire::encode_fault_injected(target, key)));
}

} // namespace

void add_admin_routes(router& r) {
  using namespace route_needs;
  r.on("/metrics").get(get_metrics);
  r.on("/dashboard").get(get_dashboard);
  r.on("/api/v1/admin/dlq").get(list_dead_letters, admin_token);
  r.on("/api/v1/admin/dlq/{message_id}/replay").post(replay_dead_letter, admin_token);
  r.on("/api/v1/admin/actors").get(get_actors, admin_token);
  r.on("/api/v1/admin/overview").get(get_overview, admin_token);
  // The fault hook has its own switch (--enable-fault-injection) and always needs the token
  // (the settings refuse the switch without one).
  if (r.ctx().opts.enable_fault_injection)
    r.on("/api/v1/admin/faults").post(inject_fault, json_body | admin_token);
}

} // namespace orderd::http
