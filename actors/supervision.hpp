#pragma once

// The restart policy every supervisor applies to a crashed child: a budget of restarts within a
// window, an exponential wait before each restart, and escalation when the budget is spent.

#include <chrono>
#include <cstdint>
#include <deque>

namespace orderd {

/// How many restarts a supervisor allows a child within a window before it gives up and
/// escalates (fails itself), and how long it waits before each restart.
struct restart_limits {
  uint32_t max_restarts = 5;
  std::chrono::milliseconds window{10000};
  std::chrono::milliseconds first_backoff{50};
  std::chrono::milliseconds max_backoff{5000};
};

/// The crash history of one child. Plain C++ so its arithmetic is unit-tested directly.
class restart_tracker {
public:
  using time_point = std::chrono::steady_clock::time_point;

  struct decision {
    bool escalate = false;
    std::chrono::milliseconds backoff{0};
    /// The child stopped because a dependency (the store) was unreachable, not by a fault of
    /// its own: not counted against the budget.
    bool dependency_down = false;
  };

  /// Records a crash at `now`: restart after `backoff` (doubling per recent crash), or escalate
  /// once more than `max_restarts` crashes fall within the window.
  decision on_crash(time_point now, const restart_limits& limits);

  /// Crashes within the window ending at `now`.
  size_t recent(time_point now, const restart_limits& limits);

private:
  void prune(time_point now, const restart_limits& limits);
  std::deque<time_point> crashes_;
};

} // namespace orderd
