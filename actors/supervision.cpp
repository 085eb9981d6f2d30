#include "actors/supervision.hpp"

#include <algorithm>

namespace orderd {

void restart_tracker::prune(time_point now, const restart_limits& limits) {
  while (!crashes_.empty() && now - crashes_.front() > limits.window)
    crashes_.pop_front();
}

size_t restart_tracker::recent(time_point now, const restart_limits& limits) {
  prune(now, limits);
  return crashes_.size();
}

restart_tracker::decision restart_tracker::on_crash(time_point now,
                                                    const restart_limits& limits) {
  prune(now, limits);
  crashes_.push_back(now);
  decision result;
  if (crashes_.size() > limits.max_restarts) {
    result.escalate = true;
    return result;
  }
  // First crash in the window restarts at once; each further one doubles the wait.
  if (crashes_.size() > 1) {
    auto factor = int64_t{1} << std::min<size_t>(crashes_.size() - 2, 20);
    result.backoff = std::min(limits.max_backoff, limits.first_backoff * factor);
  }
  return result;
}

} // namespace orderd
