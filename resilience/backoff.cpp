#include "resilience/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "util/name_table.hpp"

namespace orderd::resilience {

std::string_view to_string(jitter_policy x) noexcept {
  static constexpr name_table names{
    jitter_policy::equal, {"none", "full", "equal"}, "unknown"};
  return names.name(x);
}

backoff::backoff(backoff_policy policy, uint64_t seed) : policy_(policy), rng_(seed) {
  if (policy_.base.count() <= 0)
    throw std::invalid_argument("backoff: base must be positive");
  if (policy_.cap < policy_.base)
    throw std::invalid_argument("backoff: cap must not be below base");
  if (!(policy_.multiplier >= 1.0) || !std::isfinite(policy_.multiplier))
    throw std::invalid_argument("backoff: multiplier must be a finite number >= 1");
}

std::chrono::milliseconds backoff::ceiling(uint32_t attempt) const noexcept {
  // Computed in double: base * multiplier^attempt overflows any integer quickly, while the
  // double saturates to infinity, which the cap then clamps.
  auto cap = static_cast<double>(policy_.cap.count());
  auto x = static_cast<double>(policy_.base.count()) * std::pow(policy_.multiplier, attempt);
  if (!(x < cap))
    return policy_.cap;
  return std::chrono::milliseconds{static_cast<int64_t>(x)};
}

std::chrono::milliseconds backoff::next_delay(uint32_t attempt) {
  auto top = ceiling(attempt).count();
  switch (policy_.jitter) {
    case jitter_policy::none:
      return std::chrono::milliseconds{top};
    case jitter_policy::full:
      return std::chrono::milliseconds{uniform(top)};
    case jitter_policy::equal: {
      auto half = top / 2;
      return std::chrono::milliseconds{half + uniform(top - half)};
    }
  }
  return std::chrono::milliseconds{top};
}

int64_t backoff::uniform(int64_t bound) {
  // Lemire's multiply-shift: the high 64 bits of draw * (bound + 1).
  auto range = static_cast<unsigned __int128>(bound) + 1;
  auto draw = static_cast<unsigned __int128>(rng_());
  return static_cast<int64_t>((draw * range) >> 64);
}

} // namespace orderd::resilience
