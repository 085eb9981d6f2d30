#pragma once

#include <chrono>
#include <utility>

namespace orderd {

/// Passivation without a timer per message: an actor notes when it was last busy and checks
/// once per idle period (`after(...)` would re-arm a clock entry on every message it handles).
class idle_watch {
public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  /// Call on every handled request.
  void touch(time_point now) noexcept { last_active_ = now; }

  /// True if a check must be scheduled now (none is pending).
  bool arm() noexcept { return !std::exchange(pending_, true); }

  /// A scheduled check fired at `now`: zero if idle for `limit` already, otherwise how much
  /// longer to wait (the caller schedules the next check after that).
  duration remaining(time_point now, duration limit) noexcept {
    pending_ = false;
    auto idle_for = now - last_active_;
    return idle_for >= limit ? duration::zero() : limit - idle_for;
  }

private:
  time_point last_active_{};
  bool pending_ = false;
};

} // namespace orderd
