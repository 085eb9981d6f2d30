#pragma once

// Handles that survive restarts: the services hold slots, never actors, so a message always
// reaches the current incarnation of a singleton or of a pooled actor.

#include <atomic>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include <caf/actor.hpp>

namespace orderd {

/// A handle to a singleton actor that its supervisor may replace after a restart. Everyone
/// holds the slot, never the actor, so messages always reach the current incarnation.
/// `Handle` is caf::actor, or a caf::typed_actor for an interface that is typed.
template <class Handle>
class basic_actor_slot {
public:
  Handle get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return handle_;
  }
  void set(Handle handle) {
    std::lock_guard<std::mutex> guard{mtx_};
    handle_ = std::move(handle);
  }

private:
  mutable std::mutex mtx_;
  Handle handle_;
};

using actor_slot = basic_actor_slot<caf::actor>;

/// A fixed-size group of interchangeable actors (store readers, HTTP bridges), picked round robin.
class actor_group {
public:
  explicit actor_group(size_t size) : slots_(size == 0 ? 1 : size) {}
  caf::actor next() {
    auto i = counter_.fetch_add(1, std::memory_order_relaxed) % slots_.size();
    return slots_[i].get();
  }
  size_t size() const noexcept { return slots_.size(); }
  actor_slot& operator[](size_t i) { return slots_[i]; }

private:
  std::vector<actor_slot> slots_;
  std::atomic<size_t> counter_{0};
};

} // namespace orderd
