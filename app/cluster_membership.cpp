#include "app/cluster_membership.hpp"

#include <spdlog/spdlog.h>

#include "domain/ids.hpp"
#include "observability/catalogue.hpp"
#include "persistence/postgres/cluster.hpp"

namespace orderd::app {

struct cluster_membership::session {
  explicit session(const std::string& conninfo) : directory(conninfo) {}
  persistence::postgres::cluster_directory directory;
};

cluster_membership::cluster_membership(std::string conninfo, std::string node_id,
                                       std::string advertise, int32_t shards)
  : conninfo_(std::move(conninfo)),
    node_id_(std::move(node_id)),
    advertise_(std::move(advertise)),
    incarnation_(make_uuid()),
    wanted_shards_(shards) {
  last_.node_id = node_id_;
}

cluster_membership::~cluster_membership() {
  stop();
}

void cluster_membership::start() {
  session_ = std::make_unique<session>(conninfo_);
  auto shards = session_->directory.ensure_cluster(wanted_shards_);
  if (shards != wanted_shards_)
    spdlog::info("cluster: the cluster has {} shards (set when it was created; "
                 "--cluster-shards {} applies only to a new cluster)",
                 shards, wanted_shards_);
  {
    std::lock_guard<std::mutex> lock{mutex_};
    last_.shard_count = shards;
  }
  beat();
  spdlog::info("cluster: node {} joined as {} ({} shards); members: {}", node_id_, advertise_,
               shards, report().members.size());
  thread_ = std::thread{[this] { run(); }};
}

void cluster_membership::stop() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (stopping_ || !thread_.joinable())
      return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  try {
    if (session_ && session_->directory.session().healthy()) {
      session_->directory.leave(node_id_, incarnation_);
      spdlog::info("cluster: node {} left", node_id_);
    }
  } catch (const std::exception& e) {
    spdlog::warn("cluster: node {} could not record its leaving: {}", node_id_, e.what());
  }
}

http::cluster_report cluster_membership::report() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return last_;
}

void cluster_membership::beat() {
  // One beat: refresh this node's heartbeat, then read who is live (the database's clock).
  static auto& live = observability::catalogue::cluster_members();
  static auto& beats_ok = observability::catalogue::cluster_heartbeats().with({"ok"});
  static auto& beats_failed = observability::catalogue::cluster_heartbeats().with({"failed"});
  static auto& duration = observability::catalogue::cluster_heartbeat_duration();
  auto started = std::chrono::steady_clock::now();
  std::vector<http::cluster_report::member> members;
  std::string error;
  try {
    if (!session_ || !session_->directory.session().healthy())
      session_ = std::make_unique<session>(conninfo_);
    session_->directory.heartbeat(node_id_, advertise_, incarnation_);
    for (auto& m : session_->directory.live_members(live_window))
      members.push_back({m.node_id, m.advertise, m.heartbeat_age_ms});
  } catch (const std::exception& e) {
    error = e.what();
    session_.reset();
  }
  duration.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (error.empty()) {
    beats_ok.inc();
    live.set(static_cast<double>(members.size()));
  } else {
    beats_failed.inc();
  }
  std::lock_guard<std::mutex> lock{mutex_};
  bool was_ok = last_.ok;
  last_.ok = error.empty();
  last_.last_error = error;
  if (last_.ok)
    last_.members = std::move(members);
  if (was_ok && !last_.ok)
    spdlog::warn("cluster: heartbeat of node {} failed: {}", node_id_, error);
  else if (!was_ok && last_.ok && !last_.members.empty())
    spdlog::info("cluster: heartbeat of node {} reaches the database", node_id_);
}

void cluster_membership::run() {
  std::unique_lock<std::mutex> lock{mutex_};
  while (!stopping_) {
    wake_.wait_for(lock, beat_interval, [this] { return stopping_; });
    if (stopping_)
      break;
    lock.unlock();
    beat();
    lock.lock();
  }
}

} // namespace orderd::app
