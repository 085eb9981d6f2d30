#pragma once

// The last committed state of each live order actor, readable from any thread.
//
// A read by id is the API's most frequent request. Through the actors it crosses four mailboxes
// and three threads (HTTP I/O thread -> bridge -> order supervisor -> order actor -> bridge -> I/O
// thread), and the wake-ups between those threads cost more than the read. Each order actor
// therefore publishes its state here after every change it has committed (and after loading it),
// and withdraws it when it stops for any reason; the HTTP bridge answers GET /api/v1/orders/{id}
// from here and asks the actor only on a miss. The actor stays the only writer of its order:
// this is a copy of what it committed, published before it answers the request that changed it,
// so a client reads its own writes. A crashed actor's view is withdrawn at once (its state is
// in doubt); a passivated actor's view is kept (nothing can change that order without a new
// actor, which publishes again), up to `retained` of them, the oldest dropped first.

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/order.hpp"

namespace orderd {

class order_views {
public:
  /// Keeps the views of at most `retained` passivated actors (0: none).
  explicit order_views(size_t retained) : retained_per_shard_((retained + shard_count - 1) / shard_count) {}

  /// What a reader gets: the order, and its rendering once someone made it (see remember_body).
  struct view {
    std::shared_ptr<const order> item;
    std::shared_ptr<const std::string> body;
    explicit operator bool() const noexcept { return item != nullptr; }
  };

  /// Publishes `o` as the state of its order, owned by the actor incarnation `owner`.
  void publish(uint64_t owner, const order& o);

  /// Withdraws the order `id` if incarnation `owner` published it (a newer incarnation's entry
  /// stays).
  void withdraw(uint64_t owner, const std::string& id);

  /// Incarnation `owner` passivates: its view stays, without an owner, among the retained ones.
  void retire(uint64_t owner, const std::string& id);

  /// The published state of order `id`, if its actor is live.
  view find(std::string_view id) const;

  /// Keeps `body`, the rendering of `item`, next to it, unless the entry changed meanwhile.
  void remember_body(const std::shared_ptr<const order>& item,
                     std::shared_ptr<const std::string> body);

  size_t size() const;

private:
  struct entry {
    uint64_t owner = 0;
    std::shared_ptr<const order> item;
    std::shared_ptr<const std::string> body;
  };
  struct hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  struct shard {
    mutable std::mutex mtx;
    std::unordered_map<std::string, entry, hash, std::equal_to<>> entries;
    std::deque<std::string> retired; ///< oldest first; an id may have been republished since
  };
  static constexpr size_t shard_count = 16; // readers and actors rarely meet on one lock

  shard& shard_of(std::string_view id) { return shards_[hash{}(id) % shard_count]; }
  const shard& shard_of(std::string_view id) const { return shards_[hash{}(id) % shard_count]; }

  size_t retained_per_shard_;
  std::array<shard, shard_count> shards_;
};

} // namespace orderd
