#pragma once

// JSON of what actors report about themselves (the relay, the command consumer, the
// supervisors) for /ready and the admin API. It lives in http/ because these report types are
// the actors' (wire/ may not include actors/); the parts built from domain types alone are in
// wire/admin_json.hpp.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "actors/protocol.hpp"

namespace orderd::http {

/// What GET /ready found, once the store answered that it is fine.
/// This node's view of the cluster (with --cluster-advertise): itself and the live members,
/// as the membership thread last read them from the database.
struct cluster_report {
  struct member {
    std::string node_id;
    std::string advertise;
    int64_t heartbeat_age_ms = 0; ///< by the database's clock
    int32_t shards_owned = 0;     ///< valid leases it held when read
  };
  struct owned {
    int32_t shard = 0;
    int64_t epoch = 0;
  };
  /// A change of hands: who took which shard over from whom, and how long ago.
  struct change {
    int32_t shard = 0;
    int64_t epoch = 0;
    std::string owner;
    std::string previous_owner; ///< empty: nobody held it before
    int64_t age_ms = 0;         ///< by the database's clock, as of the last beat
  };
  std::string node_id;
  int32_t shard_count = 0;
  std::vector<owned> shards_served; ///< the shards this node serves, with their epochs
  bool ok = false;        ///< the last heartbeat reached the database
  std::string last_error; ///< why not, when !ok
  std::vector<member> members;
  std::vector<change> recent_changes; ///< newest first (the last beat's reading)
};

struct ready_report {
  std::string backend; ///< the store backend, e.g. "sqlite"
  relay_status relay;  ///< as the relay said, or state "unknown" and why in last_error
  bool commands_asked = false;            ///< only with --amqp-url and a running consumer
  std::optional<inbound_status> commands; ///< empty: asked, but no answer
  std::optional<cluster_report> cluster;  ///< only with --cluster-advertise
};

/// `{"status":"ready"|"degraded","checks":{"store":{"backend","ok"},"broker":{"publisher",
/// "state","backlog","ok"[,"last_error"]}[,"commands":{"ok","queue","received","acked",
/// "retried","dead_lettered","in_flight"[,"last_error"]}][,"cluster":{"ok","node_id","shards",
/// "members":[{"node_id","advertise","heartbeat_age_ms","shards_owned"}],"served":[{"shard","epoch"}],"recent_changes":[{"shard","epoch","owner","previous_owner","age_ms"}]
/// [,"last_error"]}]}}`. Degraded while the
/// relay's breaker is not closed, the command consumer has no broker (events and commands wait),
/// or this node's last cluster heartbeat failed.
std::string encode_ready(const ready_report& r);

/// `{"supervisors":[{"name","parent" (null for the root),"slot","live_children","restarts",
/// "escalations","children"}...]}`.
std::string encode_supervisors(std::span<const supervisor_stats> xs);

/// What GET /api/v1/admin/overview collects before it answers (empty: no answer).
struct overview {
  std::optional<order_status_counts> counts;
  std::optional<std::vector<product>> low;
  std::optional<relay_status> relay;
};

/// `{"orders_by_status":{every status},"orders_total","low_stock":[...],"outbox":{"backlog",
/// "published","publisher"},"breakers":[{"name","state","failures"[,"last_error"]}],
/// "dlq":{"messages"}}`. `publisher` names the publisher when the relay did not answer.
std::string encode_overview(const overview& o, const std::string& publisher);

} // namespace orderd::http
