#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string_view>

namespace orderd::resilience {

/// How a delay is randomised below its exponential ceiling.
enum class jitter_policy : uint8_t {
  none,  ///< exactly the ceiling (tests, or a single client)
  full,  ///< uniform in [0, ceiling]: spreads a herd of clients best (the default)
  equal, ///< ceiling/2 + uniform in [0, ceiling/2]: never retries immediately
};

/// Stable name of a jitter policy ("none", "full", "equal").
std::string_view to_string(jitter_policy x) noexcept;

/// Parameters of an exponential backoff schedule: the ceiling of attempt n (from 0) is
/// min(cap, base * multiplier^n).
struct backoff_policy {
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds cap{30000};
  double multiplier = 2.0;
  jitter_policy jitter = jitter_policy::full;
};

/// Exponential backoff with jitter. Deterministic for a given seed: the same seed and the same
/// sequence of calls give the same delays on every platform (mt19937_64 plus our own
/// uniform mapping; std::uniform_int_distribution differs between standard libraries).
/// Not thread-safe; one instance per reconnecting party.
class backoff {
public:
  /// Throws std::invalid_argument when base <= 0, cap < base or multiplier < 1.
  explicit backoff(backoff_policy policy, uint64_t seed = std::random_device{}());

  /// The delay to wait before retry number `attempt` (0 = the first retry), jittered.
  std::chrono::milliseconds next_delay(uint32_t attempt);

  /// The un-jittered upper bound of next_delay(attempt).
  std::chrono::milliseconds ceiling(uint32_t attempt) const noexcept;

  const backoff_policy& policy() const noexcept { return policy_; }

private:
  /// Uniform in [0, bound], bias below 2^-64 per draw.
  int64_t uniform(int64_t bound);

  backoff_policy policy_;
  std::mt19937_64 rng_;
};

} // namespace orderd::resilience
