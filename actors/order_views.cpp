#include "actors/order_views.hpp"

namespace orderd {

void order_views::publish(uint64_t owner, const order& o) {
  auto item = std::make_shared<const order>(o); // built outside the lock
  auto& s = shard_of(o.id);
  std::lock_guard guard{s.mtx};
  auto& e = s.entries[o.id];
  e.owner = owner;
  e.item = std::move(item);
  e.body.reset();
}

void order_views::withdraw(uint64_t owner, const std::string& id) {
  std::shared_ptr<const order> dropped; // destroyed outside the lock
  auto& s = shard_of(id);
  std::lock_guard guard{s.mtx};
  auto i = s.entries.find(id);
  if (i == s.entries.end() || i->second.owner != owner)
    return;
  dropped = std::move(i->second.item);
  s.entries.erase(i);
}

void order_views::retire(uint64_t owner, const std::string& id) {
  if (retained_per_shard_ == 0)
    return withdraw(owner, id);
  auto& s = shard_of(id);
  std::lock_guard guard{s.mtx};
  auto i = s.entries.find(id);
  if (i == s.entries.end() || i->second.owner != owner)
    return;
  i->second.owner = 0;
  s.retired.push_back(id);
  while (s.retired.size() > retained_per_shard_) {
    auto j = s.entries.find(s.retired.front());
    if (j != s.entries.end() && j->second.owner == 0) // not republished by a live actor since
      s.entries.erase(j);
    s.retired.pop_front();
  }
}

order_views::view order_views::find(std::string_view id) const {
  auto& s = shard_of(id);
  std::lock_guard guard{s.mtx};
  auto i = s.entries.find(id);
  if (i == s.entries.end())
    return {};
  return {i->second.item, i->second.body};
}

void order_views::remember_body(const std::shared_ptr<const order>& item,
                                std::shared_ptr<const std::string> body) {
  auto& s = shard_of(item->id);
  std::lock_guard guard{s.mtx};
  auto i = s.entries.find(item->id);
  if (i != s.entries.end() && i->second.item == item)
    i->second.body = std::move(body);
}

size_t order_views::size() const {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard guard{s.mtx};
    n += s.entries.size();
  }
  return n;
}

} // namespace orderd
