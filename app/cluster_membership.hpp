#pragma once

// This node's membership of the cluster (--cluster-advertise on the PostgreSQL store): a thread
// that creates the cluster's shards if it is the first node, then beats every second in the
// database, reads back who else is live, and runs a lease round: it renews the leases it holds,
// takes the free or expired ones rendezvous hashing gives it, and hands off (releases) the ones
// that now belong to another live member. What it last saw is /ready's "cluster" check; the
// shard table it keeps is what routing and fencing read.

#include <chrono>
#include <functional>
#include <vector>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>

#include "cluster/shard_table.hpp"
#include "http/status_json.hpp"

namespace orderd::app {

class cluster_membership {
public:
  /// A member is live while its heartbeat is younger than this, by the database's clock.
  static constexpr std::chrono::milliseconds live_window{5000};
  static constexpr std::chrono::milliseconds beat_interval{1000};
  /// A lease lasts this long past its last renewal, by the database's clock...
  static constexpr std::chrono::milliseconds lease_ttl{6000};
  /// ...and this node stops serving a shard this long before that (measured from before the
  /// renewing statement was sent, so the database's expiry always comes later).
  static constexpr std::chrono::milliseconds serve_margin{1000};
  /// Changes of hands /ready lists (and the dashboard shows), newest first.
  static constexpr int recent_changes_shown = 20;

  cluster_membership(std::string conninfo, std::string node_id, std::string advertise,
                     int32_t shards);
  ~cluster_membership();
  cluster_membership(const cluster_membership&) = delete;
  cluster_membership& operator=(const cluster_membership&) = delete;

  /// Joins: the first beat (and the cluster's creation) happens before this returns, so a node
  /// that cannot reach the database does not start. Throws store_error then.
  void start();

  /// Leaves: stops serving every shard, releases their leases so the others take them at
  /// their next beat, marks this node gone in the database (best effort), stops the thread.
  void stop();

  /// What the last beat saw.
  http::cluster_report report() const;

  /// Called in the membership thread after each beat that read the live members, with their
  /// (node id, advertised address, incarnation). Must not block.
  using members_listener = std::function<void(
    const std::vector<std::tuple<std::string, std::string, std::string>>& live)>;
  void on_members(members_listener listener) {
    std::lock_guard<std::mutex> lock{mutex_};
    listener_ = std::move(listener);
  }

  /// With --cluster-audit-writes: the beat prunes shard_writes rows older than `keep`, at most
  /// once a minute. Call before start().
  void prune_audited_writes(std::chrono::milliseconds keep) { audit_keep_ = keep; }

  /// Who serves which shard (valid after start()).
  std::shared_ptr<cluster::shard_table> shards() const { return table_; }

private:
  void beat();
  void lease_round(const std::vector<http::cluster_report::member>& live,
                   std::vector<http::cluster_report::member>& counted);
  void run();

  std::string conninfo_;
  std::string node_id_;
  std::string advertise_;
  std::string incarnation_;
  int32_t wanted_shards_;
  std::chrono::milliseconds audit_keep_{0}; ///< 0: this node writes no audit rows
  std::chrono::steady_clock::time_point next_audit_prune_{};

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  http::cluster_report last_;
  std::thread thread_;
  struct session;
  std::unique_ptr<session> session_; ///< used by the thread only (after start)
  std::shared_ptr<cluster::shard_table> table_;
  members_listener listener_;
  std::vector<cluster::owned_shard> held_; ///< leases held after the last round (thread only)
  bool awaiting_shards_ = false; ///< some shard this node should own is still held elsewhere
};

} // namespace orderd::app
