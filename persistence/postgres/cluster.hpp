#pragma once

// The cluster's shared state in PostgreSQL (schema 002_cluster.sql): which nodes are members,
// which node holds each shard's lease until when, and the epoch that fences a former owner.
// Every time is the database's (now()): node clocks decide nothing here.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/time.hpp"
#include "persistence/postgres/connection.hpp"

namespace orderd::persistence::postgres {

/// A node as the database sees it.
struct cluster_member {
  std::string node_id;
  std::string advertise;   ///< where other nodes reach it (--cluster-advertise)
  std::string incarnation; ///< a UUID per start of the node
  timestamp_ms started_at = 0;
  timestamp_ms heartbeat_at = 0;
  int64_t heartbeat_age_ms = 0; ///< now() - heartbeat_at, by the database's clock
};

/// A shard's lease. `owner` is empty while nobody ever held it.
struct shard_lease {
  int32_t shard = 0;
  std::string owner;
  int64_t epoch = 0;
  timestamp_ms expires_at = 0;
  bool valid = false; ///< unexpired by the database's clock when read
  std::string previous_owner; ///< acquire() only: who held the row before (empty: nobody)
};

/// One change of hands from shard_lease_history.
struct lease_change {
  int32_t shard = 0;
  int64_t epoch = 0;
  std::string owner;          ///< who took the shard
  std::string previous_owner; ///< who held the epoch before (empty: nobody, a new cluster)
  int64_t age_ms = 0;         ///< how long ago, by the database's clock
};

/// Membership, leases and fencing on one connection (one per caller; not thread-safe).
class cluster_directory {
public:
  explicit cluster_directory(const std::string& conninfo);

  /// Creates the cluster with `shard_count` shards (and their lease rows) unless it exists, and
  /// returns the stored count: the first node's choice holds for every node after it.
  int32_t ensure_cluster(int32_t shard_count);

  /// Registers this node or refreshes its heartbeat (a new incarnation restarts started_at).
  void heartbeat(const std::string& node_id, const std::string& advertise,
                 const std::string& incarnation);

  /// Marks the node as having left (SIGTERM after its hand-off): not live any more.
  void leave(const std::string& node_id, const std::string& incarnation);

  /// Members whose heartbeat is younger than `ttl` by the database's clock, by node id.
  std::vector<cluster_member> live_members(std::chrono::milliseconds ttl);

  /// Takes or renews the lease of `shard` for `node_id` until now() + `ttl`. Succeeds when the
  /// lease is free, expired, or already this node's and unexpired (a renewal keeps the epoch);
  /// any change of hands, or a re-take after expiry, increments the epoch and is recorded in
  /// shard_lease_history. nullopt when another node holds it.
  std::optional<shard_lease> acquire(int32_t shard, const std::string& node_id,
                                     std::chrono::milliseconds ttl);

  /// Renews every lease `node_id` holds unexpired until now() + `ttl` (one statement; the
  /// epochs stay): the leases it still holds, by shard. A lease that expired is not renewed:
  /// the node must acquire() it again, with a new epoch.
  std::vector<shard_lease> renew_all(const std::string& node_id, std::chrono::milliseconds ttl);

  /// Gives the lease up at once (a hand-off), if `node_id` still holds it at `epoch`.
  bool release(int32_t shard, const std::string& node_id, int64_t epoch);

  /// Every shard's lease, by shard.
  std::vector<shard_lease> leases();

  /// The statement a write transaction runs first for each shard it writes, with
  /// ($1 shard, $2 node, $3 epoch): one row while the writer holds the unexpired lease at that
  /// epoch, and then key-share-locked until the commit, so nobody can take the shard over
  /// (acquire() locks the row FOR UPDATE) until the write is done, while renewals go on.
  /// No row: the writer is fenced and must roll back. With `audit`, the passing fence also
  /// records (shard, epoch, node) in shard_writes, numbered while the row is locked (see
  /// persistence/schema/postgres/004_shard_writes.sql for the proof this makes possible).
  static const char* fence_sql(bool audit = false);

  /// The newest `limit` changes of hands, newest first.
  std::vector<lease_change> recent_changes(int limit);

  /// Deletes shard_writes rows older than `keep` (on the database's clock); returns how many.
  int64_t prune_audited_writes(std::chrono::milliseconds keep);

  connection& session() noexcept { return c_; }

private:
  connection c_;
};

} // namespace orderd::persistence::postgres
