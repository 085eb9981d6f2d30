// The probes and the API description: /health, /ready, /openapi.json.

#include "http/ask.hpp"
#include "http/openapi.hpp"
#include "http/router.hpp"
#include "http/status_json.hpp"

namespace orderd::http {

namespace {

void get_health(const context&, request&&, responder reply, const params_t&) {
  reply(json_response(200, R"({"status":"ok"})"));
}

/// What /ready has heard so far (on one bridge actor: no locking).
struct readiness {
  bool store_ok = false;
  caf::error store_error;
  ready_report report;
};

relay_status unknown_relay(std::string why) {
  return relay_status{"", "unknown", -1, 0, 0, std::move(why)};
}

/// GET /ready: 200 once the store answers; the event relay and (with --amqp-url) the command
/// consumer are reported beside it. The broker never makes us unready (events wait in the
/// outbox): the status says "degraded" while it is away.
void get_ready(const context& c, request&&, responder reply, const params_t&) {
  auto svc = c.svc;
  auto reader = svc->readers.next();
  if (!reader)
    return reply(unavailable_response());
  // The store is asked without a CAF timeout: the probe's own deadline bounds the wait.
  reply.answer_within(status_wait);
  auto found = std::make_shared<readiness>();
  found->report.backend = c.opts.store_backend;
  if (c.opts.cluster)
    found->report.cluster = c.opts.cluster();
  gather(
    svc,
    [svc, reader, found](fan_out& fan) {
      fan.ask<bool>(
        reader, caf::infinite,
        [found](caf::expected<bool>& ok) {
          if (ok)
            found->store_ok = *ok;
          else
            found->store_error = std::move(ok.error());
        },
        ping_atom_v);
      if (auto relay = svc->relay.get())
        fan.ask<relay_status>(
          relay, status_wait,
          [found](caf::expected<relay_status>& r) {
            found->report.relay = r ? std::move(*r) : unknown_relay(detail_of(r.error()));
          },
          status_atom_v);
      else
        found->report.relay = unknown_relay("the event relay is starting or restarting");
      auto consumer = svc->consumer.get();
      if (svc->spawn_consumer && consumer) {
        found->report.commands_asked = true;
        fan.ask<inbound_status>(
          consumer, status_wait,
          [found](caf::expected<inbound_status>& s) {
            if (s)
              found->report.commands = std::move(*s);
          },
          status_atom_v);
      }
    },
    [found, reply] {
      if (found->store_error)
        return reply(error_response(found->store_error));
      if (!found->store_ok)
        return reply(problem_response(errc::unavailable, "the store (" + found->report.backend
                                                           + ") does not answer"));
      reply(json_response(200, encode_ready(found->report)));
    },
    [reply] { reply(unavailable_response()); });
}

void get_openapi(const context&, request&&, responder reply, const params_t&) {
  reply(json_response(200, std::string{openapi_document()}));
}

} // namespace

void add_probe_routes(router& r) {
  r.on("/health").get(get_health);
  r.on("/ready").get(get_ready);
  r.on("/openapi.json").get(get_openapi);
}

} // namespace orderd::http
