#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace orderd::resilience {

/// The three states of a circuit breaker.
enum class breaker_state : uint8_t {
  closed,    ///< calls flow; consecutive failures are counted
  open,      ///< calls are refused until the cooldown has passed
  half_open, ///< trial calls flow; successes close the breaker, one failure reopens it
};

/// Stable name for /ready and metrics: "closed", "open" or "half-open".
std::string_view to_string(breaker_state x) noexcept;

/// Thresholds of a circuit breaker.
struct breaker_config {
  /// Consecutive failures in `closed` that open the breaker (>= 1).
  uint32_t failure_threshold = 5;
  /// Time spent `open` before trial calls are allowed (`half_open`).
  std::chrono::milliseconds cooldown{10000};
  /// Consecutive successes in `half_open` that close the breaker (>= 1).
  uint32_t success_threshold = 1;
};

/// A closed → open → half-open → closed circuit breaker with injected time, so tests are
/// deterministic and the owner decides which clock to use (steady_clock in production).
/// Not thread-safe: it belongs to the one actor or thread that makes the guarded calls.
///
/// Usage: `if (cb.allow(now)) { try call; cb.record_success(now) / cb.record_failure(now); }`
/// and, while open, schedule the next attempt at `cb.retry_at()`.
class circuit_breaker {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// Throws std::invalid_argument when a threshold is 0 or the cooldown is negative.
  explicit circuit_breaker(breaker_config config = {});

  /// Whether a call may be made at `now`. Moves `open` to `half_open` once the cooldown has
  /// passed (the only time-driven transition). Half-open allows every call: the owner makes
  /// one trial call at a time.
  bool allow(time_point now);

  /// A guarded call succeeded. Closed: resets the failure count. Half-open: counts towards
  /// success_threshold, then closes. Open: ignored (a call that started before opening).
  void record_success(time_point now);

  /// A guarded call failed. Closed: counts towards failure_threshold, then opens. Half-open:
  /// reopens at once with a fresh cooldown. Open: ignored (the cooldown is not extended).
  void record_failure(time_point now);

  /// The state as of the last call; allow(now) applies the cooldown first.
  breaker_state state() const noexcept { return state_; }

  /// The state at `now` without changing anything (for /ready and metrics).
  breaker_state state_at(time_point now) const noexcept;

  /// When an open breaker lets trial calls through; meaningful only while open.
  time_point retry_at() const noexcept { return opened_at_ + config_.cooldown; }

  /// Consecutive failures counted in `closed`.
  uint32_t consecutive_failures() const noexcept { return failures_; }

  /// Consecutive successes counted in `half_open`.
  uint32_t consecutive_successes() const noexcept { return successes_; }

  /// How often the breaker has opened (a metrics counter).
  uint64_t times_opened() const noexcept { return times_opened_; }

  const breaker_config& config() const noexcept { return config_; }

private:
  void open(time_point now);
  void close();

  breaker_config config_;
  breaker_state state_ = breaker_state::closed;
  uint32_t failures_ = 0;
  uint32_t successes_ = 0;
  uint64_t times_opened_ = 0;
  time_point opened_at_{};
};

} // namespace orderd::resilience
