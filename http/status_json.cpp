#include "http/status_json.hpp"

#include <nlohmann/json.hpp>

#include "observability/metrics.hpp"
#include "wire/admin_json.hpp"
#include "wire/json_codec.hpp"

namespace orderd::http {

using nlohmann::ordered_json;

std::string encode_ready(const ready_report& r) {
  bool degraded = r.relay.state != "closed";
  ordered_json broker{{"publisher", r.relay.publisher},
                      {"state", r.relay.state},
                      {"backlog", r.relay.backlog},
                      {"ok", r.relay.state == "closed"}};
  if (!r.relay.last_error.empty())
    broker["last_error"] = r.relay.last_error;
  ordered_json checks{{"store", {{"backend", r.backend}, {"ok", true}}},
                      {"broker", std::move(broker)}};
  if (r.commands_asked) {
    auto& cmds = checks["commands"];
    if (!r.commands) {
      cmds = {{"ok", false}};
    } else {
      auto& s = *r.commands;
      cmds = {{"ok", s.connected},         {"queue", s.queue},
              {"received", s.received},    {"acked", s.acked},
              {"retried", s.retried},      {"dead_lettered", s.dead_lettered},
              {"in_flight", s.in_flight}};
      if (!s.last_error.empty())
        cmds["last_error"] = s.last_error;
    }
    if (!r.commands || !r.commands->connected)
      degraded = true;
  }
  if (r.cluster) {
    auto& c = *r.cluster;
    ordered_json members = ordered_json::array();
    for (auto& m : c.members)
      members.push_back({{"node_id", m.node_id},
                         {"advertise", m.advertise},
                         {"heartbeat_age_ms", m.heartbeat_age_ms},
                         {"shards_owned", m.shards_owned}});
    ordered_json served = ordered_json::array();
    for (auto& o : c.shards_served)
      served.push_back({{"shard", o.shard}, {"epoch", o.epoch}});
    ordered_json changes = ordered_json::array();
    for (auto& h : c.recent_changes)
      changes.push_back({{"shard", h.shard},
                         {"epoch", h.epoch},
                         {"owner", h.owner},
                         {"previous_owner", h.previous_owner.empty()
                                              ? ordered_json(nullptr)
                                              : ordered_json(h.previous_owner)},
                         {"age_ms", h.age_ms}});
    auto& cluster = checks["cluster"];
    cluster = {{"ok", c.ok},
               {"node_id", c.node_id},
               {"shards", c.shard_count},
               {"members", std::move(members)},
               {"served", std::move(served)},
               {"recent_changes", std::move(changes)}};
    if (!c.last_error.empty())
      cluster["last_error"] = c.last_error;
    if (!c.ok)
      degraded = true;
  }
  return wire::dump(ordered_json{{"status", degraded ? "degraded" : "ready"},
                                 {"checks", std::move(checks)}});
}

std::string encode_supervisors(std::span<const supervisor_stats> xs) {
  ordered_json list = ordered_json::array();
  for (auto& x : xs)
    list.push_back(
      {{"name", x.name},
       {"parent", x.parent.empty() ? ordered_json(nullptr) : ordered_json(x.parent)},
       {"slot", x.slot},
       {"live_children", x.live_children},
       {"restarts", x.restarts},
       {"escalations", x.escalations},
       {"children", x.children}});
  return wire::dump(ordered_json{{"supervisors", std::move(list)}});
}

std::string encode_overview(const overview& o, const std::string& publisher) {
  ordered_json by_status = ordered_json::object();
  int64_t total = 0;
  for (auto& [status, n] : wire::every_status(o.counts.value_or(order_status_counts{}))) {
    by_status[std::string{to_string(status)}] = n;
    total += n;
  }
  ordered_json low = ordered_json::array();
  if (o.low)
    for (auto& p : *o.low)
      low.push_back(wire::to_low_stock_json(p));
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

} // namespace orderd::http
