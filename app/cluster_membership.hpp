#pragma once

// This node's membership of the cluster (--cluster-advertise on the PostgreSQL store): a thread
// that creates the cluster's shards if it is the first node, then beats every second in the
// database and reads back who else is live. What it last saw is /ready's "cluster" check.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http/status_json.hpp"

namespace orderd::app {

class cluster_membership {
public:
  /// A member is live while its heartbeat is younger than this, by the database's clock.
  static constexpr std::chrono::milliseconds live_window{5000};
  static constexpr std::chrono::milliseconds beat_interval{1000};

  cluster_membership(std::string conninfo, std::string node_id, std::string advertise,
                     int32_t shards);
  ~cluster_membership();
  cluster_membership(const cluster_membership&) = delete;
  cluster_membership& operator=(const cluster_membership&) = delete;

  /// Joins: the first beat (and the cluster's creation) happens before this returns, so a node
  /// that cannot reach the database does not start. Throws store_error then.
  void start();

  /// Leaves: marks this node gone in the database (best effort) and stops the thread.
  void stop();

  /// What the last beat saw.
  http::cluster_report report() const;

private:
  void beat();
  void run();

  std::string conninfo_;
  std::string node_id_;
  std::string advertise_;
  std::string incarnation_;
  int32_t wanted_shards_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  http::cluster_report last_;
  std::thread thread_;
  struct session;
  std::unique_ptr<session> session_; ///< used by the thread only (after start)
};

} // namespace orderd::app
