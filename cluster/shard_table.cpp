#include "cluster/shard_table.hpp"

#include <algorithm>

#include "domain/shard.hpp"

namespace orderd::cluster {

shard_table::shard_table(std::string self, uint32_t shard_count)
  : self_(std::move(self)),
    shard_count_(shard_count),
    current_(std::make_shared<shard_assignment>()) {}

uint32_t shard_table::shard_of(std::string_view key) const noexcept {
  return orderd::shard_of(key, shard_count_);
}

shard_table::picture shard_table::snapshot() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return current_;
}

namespace {

const owned_shard* find_mine(const shard_assignment& a, uint32_t shard) {
  auto it = std::lower_bound(a.mine.begin(), a.mine.end(), shard,
                             [](const owned_shard& o, uint32_t s) { return o.shard < s; });
  return it != a.mine.end() && it->shard == shard ? &*it : nullptr;
}

} // namespace

std::optional<int64_t> shard_table::serving_epoch(uint32_t shard, steady_time now) const {
  auto a = snapshot();
  auto* o = find_mine(*a, shard);
  if (!o || now >= o->serve_until)
    return std::nullopt;
  return o->epoch;
}

std::optional<shard_owner> shard_table::owner(uint32_t shard, steady_time now) const {
  auto a = snapshot();
  if (shard >= a->owners.size() || a->owners[shard].node_id.empty())
    return std::nullopt;
  const auto& o = a->owners[shard];
  if (o.node_id == self_) {
    auto* m = find_mine(*a, shard);
    if (!m || now >= m->serve_until)
      return std::nullopt;
  }
  return o;
}

std::vector<owned_shard> shard_table::serving(steady_time now) const {
  auto a = snapshot();
  std::vector<owned_shard> out;
  for (auto& o : a->mine)
    if (now < o.serve_until)
      out.push_back(o);
  return out;
}

void shard_table::assign(shard_assignment next) {
  std::sort(next.mine.begin(), next.mine.end(),
            [](const owned_shard& a, const owned_shard& b) { return a.shard < b.shard; });
  next.owners.resize(shard_count_);
  auto fresh = std::make_shared<const shard_assignment>(std::move(next));
  std::lock_guard<std::mutex> lock{mutex_};
  current_ = std::move(fresh);
}

void shard_table::drop(uint32_t shard) {
  std::lock_guard<std::mutex> lock{mutex_};
  auto next = std::make_shared<shard_assignment>(*current_);
  std::erase_if(next->mine, [shard](const owned_shard& o) { return o.shard == shard; });
  if (shard < next->owners.size() && next->owners[shard].node_id == self_)
    next->owners[shard] = {};
  current_ = std::move(next);
}

void shard_table::drop_all() {
  std::lock_guard<std::mutex> lock{mutex_};
  auto next = std::make_shared<shard_assignment>(*current_);
  next->mine.clear();
  for (auto& o : next->owners)
    if (o.node_id == self_)
      o = {};
  current_ = std::move(next);
}

} // namespace orderd::cluster
