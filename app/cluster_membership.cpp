#include "app/cluster_membership.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "domain/ids.hpp"
#include "domain/shard.hpp"
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
  table_ = std::make_shared<cluster::shard_table>(node_id_, static_cast<uint32_t>(shards));
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
  // Stop serving first, then release: the others take the shards at their next beat instead
  // of waiting for the leases to expire.
  if (table_)
    table_->drop_all();
  try {
    if (session_ && session_->directory.session().healthy()) {
      static auto& handed_off
        = observability::catalogue::cluster_shard_changes().with({"handed_off"});
      for (auto& held : held_)
        if (session_->directory.release(static_cast<int32_t>(held.shard), node_id_, held.epoch))
          handed_off.inc();
      if (!held_.empty())
        spdlog::info("cluster: node {} released its {} shard(s)", node_id_, held_.size());
      held_.clear();
      session_->directory.leave(node_id_, incarnation_);
      spdlog::info("cluster: node {} left", node_id_);
    }
  } catch (const std::exception& e) {
    spdlog::warn("cluster: node {} could not record its leaving: {}", node_id_, e.what());
  }
}

http::cluster_report cluster_membership::report() const {
  http::cluster_report r;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    r = last_;
  }
  // What this node serves *now* (its deadlines may have passed since the last beat, e.g. while
  // the process was paused), not what it served then.
  if (table_) {
    r.shards_served.clear();
    for (auto& o : table_->serving())
      r.shards_served.push_back({static_cast<int32_t>(o.shard), o.epoch});
  }
  return r;
}

void cluster_membership::beat() {
  // One beat: refresh this node's heartbeat, then read who is live (the database's clock).
  static auto& live = observability::catalogue::cluster_members();
  static auto& beats_ok = observability::catalogue::cluster_heartbeats().with({"ok"});
  static auto& beats_failed = observability::catalogue::cluster_heartbeats().with({"failed"});
  static auto& duration = observability::catalogue::cluster_heartbeat_duration();
  auto started = std::chrono::steady_clock::now();
  std::vector<http::cluster_report::member> members;
  std::vector<http::cluster_report::change> changes;
  std::string error;
  try {
    if (!session_ || !session_->directory.session().healthy())
      session_ = std::make_unique<session>(conninfo_);
    session_->directory.heartbeat(node_id_, advertise_, incarnation_);
    std::vector<http::cluster_report::member> live;
    std::vector<std::tuple<std::string, std::string, std::string>> addresses;
    for (auto& m : session_->directory.live_members(live_window)) {
      live.push_back({m.node_id, m.advertise, m.heartbeat_age_ms, 0});
      addresses.emplace_back(m.node_id, m.advertise, m.incarnation);
    }
    members_listener listener;
    {
      std::lock_guard<std::mutex> lock{mutex_};
      listener = listener_;
    }
    if (listener)
      listener(addresses);
    lease_round(live, members);
    for (auto& h : session_->directory.recent_changes(recent_changes_shown))
      changes.push_back({h.shard, h.epoch, h.owner, h.previous_owner, h.age_ms});
    if (audit_keep_.count() > 0 && started >= next_audit_prune_) {
      next_audit_prune_ = started + std::chrono::minutes{1};
      if (auto pruned = session_->directory.prune_audited_writes(audit_keep_); pruned > 0)
        spdlog::debug("cluster: pruned {} audited writes", pruned);
    }
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
  std::vector<http::cluster_report::owned> served;
  if (table_)
    for (auto& o : table_->serving())
      served.push_back({static_cast<int32_t>(o.shard), o.epoch});
  static auto& owned = observability::catalogue::cluster_shards_owned();
  owned.set(static_cast<double>(served.size()));
  std::lock_guard<std::mutex> lock{mutex_};
  bool was_ok = last_.ok;
  last_.ok = error.empty();
  last_.last_error = error;
  last_.shards_served = std::move(served);
  if (last_.ok) {
    last_.members = std::move(members);
    last_.recent_changes = std::move(changes);
  }
  if (was_ok && !last_.ok)
    spdlog::warn("cluster: heartbeat of node {} failed: {}", node_id_, error);
  else if (!was_ok && last_.ok && !last_.members.empty())
    spdlog::info("cluster: heartbeat of node {} reaches the database", node_id_);
}

void cluster_membership::lease_round(const std::vector<http::cluster_report::member>& live,
                                     std::vector<http::cluster_report::member>& counted) {
  // Renew what this node holds, take what rendezvous hashing gives it and nobody holds, hand
  // off what now belongs to another live member; then publish the picture to the shard table.
  static auto& renewal = observability::catalogue::cluster_lease_renewal_duration();
  static auto& changes = observability::catalogue::cluster_shard_changes();
  static auto& acquired = changes.with({"acquired"});
  static auto& taken_over = changes.with({"taken_over"});
  static auto& handed_off = changes.with({"handed_off"});
  static auto& lost = changes.with({"lost"});
  using clock = std::chrono::steady_clock;
  auto& dir = session_->directory;
  auto serve_for = lease_ttl - serve_margin;

  auto renew_started = clock::now();
  auto renewed = dir.renew_all(node_id_, lease_ttl);
  renewal.observe(std::chrono::duration<double>(clock::now() - renew_started).count());
  std::map<uint32_t, cluster::owned_shard> mine;
  for (auto& l : renewed)
    mine[static_cast<uint32_t>(l.shard)] = {static_cast<uint32_t>(l.shard), l.epoch,
                                            renew_started + serve_for};
  for (auto& held : held_)
    if (!mine.count(held.shard)) {
      lost.inc();
      spdlog::warn("cluster: node {} lost shard {} (epoch {}): its lease was not renewed in time",
                   node_id_, held.shard, held.epoch);
    }

  std::vector<std::string> ids;
  std::set<std::string> live_ids;
  std::map<std::string, std::string> address;
  for (auto& m : live) {
    ids.push_back(m.node_id);
    live_ids.insert(m.node_id);
    address[m.node_id] = m.advertise;
  }
  auto leases = dir.leases();
  bool awaiting = false;
  cluster::shard_assignment next;
  next.owners.resize(table_->shard_count());
  for (auto& l : leases) {
    auto shard = static_cast<uint32_t>(l.shard);
    if (shard >= next.owners.size())
      continue;
    auto preferred = rendezvous_owner(shard, ids);
    bool held = mine.count(shard) > 0;
    if (held && preferred != node_id_ && !preferred.empty()) {
      // Hand-off: stop serving, then release, so the preferred owner takes it at its next beat.
      table_->drop(shard);
      if (dir.release(l.shard, node_id_, mine[shard].epoch)) {
        handed_off.inc();
        spdlog::info("cluster: node {} handed shard {} (epoch {}) off to {}", node_id_, shard,
                     mine[shard].epoch, preferred);
      }
      mine.erase(shard);
      continue;
    }
    if (!held && preferred == node_id_ && l.valid)
      awaiting = true; // its holder hands it over at its next beat: look again soon
    if (!held && preferred == node_id_ && !l.valid) {
      auto started = clock::now();
      if (auto got = dir.acquire(l.shard, node_id_, lease_ttl)) {
        mine[shard] = {shard, got->epoch, started + serve_for};
        bool takeover = !got->previous_owner.empty() && got->previous_owner != node_id_
                        && !live_ids.count(got->previous_owner);
        (takeover ? taken_over : acquired).inc();
        if (takeover)
          spdlog::warn("cluster: node {} took shard {} over from {} (epoch {})", node_id_, shard,
                       got->previous_owner, got->epoch);
        else
          spdlog::debug("cluster: node {} acquired shard {} (epoch {})", node_id_, shard,
                        got->epoch);
        continue;
      }
    }
    if (!held && l.valid && l.owner != node_id_)
      next.owners[shard] = {l.owner, address.count(l.owner) ? address[l.owner] : std::string{},
                            l.epoch};
  }
  held_.clear();
  for (auto& [shard, o] : mine) {
    next.owners[shard] = {node_id_, advertise_, o.epoch};
    next.mine.push_back(o);
    held_.push_back(o);
  }
  std::map<std::string, int32_t> per_node;
  for (auto& o : next.owners)
    if (!o.node_id.empty())
      ++per_node[o.node_id];
  counted = live;
  for (auto& m : counted)
    m.shards_owned = per_node[m.node_id];
  table_->assign(std::move(next));
  awaiting_shards_ = awaiting;
}

void cluster_membership::run() {
  std::unique_lock<std::mutex> lock{mutex_};
  while (!stopping_) {
    // While shards this node should own are still held elsewhere (a hand-off on its way), look
    // again sooner: a released shard is taken within a fifth of a beat, not a whole one.
    auto wait = awaiting_shards_ ? beat_interval / 5 : beat_interval;
    wake_.wait_for(lock, wait, [this] { return stopping_; });
    if (stopping_)
      break;
    lock.unlock();
    beat();
    lock.lock();
  }
}

} // namespace orderd::app
