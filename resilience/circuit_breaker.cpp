#include "resilience/circuit_breaker.hpp"

#include <stdexcept>

#include "util/name_table.hpp"

namespace orderd::resilience {

std::string_view to_string(breaker_state x) noexcept {
  static constexpr name_table names{
    breaker_state::half_open, {"closed", "open", "half-open"}, "unknown"};
  return names.name(x);
}

circuit_breaker::circuit_breaker(breaker_config config) : config_(config) {
  if (config_.failure_threshold == 0)
    throw std::invalid_argument("circuit breaker: failure_threshold must be at least 1");
  if (config_.success_threshold == 0)
    throw std::invalid_argument("circuit breaker: success_threshold must be at least 1");
  if (config_.cooldown.count() < 0)
    throw std::invalid_argument("circuit breaker: cooldown must not be negative");
}

bool circuit_breaker::allow(time_point now) {
  if (state_ == breaker_state::open) {
    if (now < retry_at())
      return false;
    state_ = breaker_state::half_open;
    successes_ = 0;
  }
  return true;
}

breaker_state circuit_breaker::state_at(time_point now) const noexcept {
  if (state_ == breaker_state::open && now >= retry_at())
    return breaker_state::half_open;
  return state_;
}

void circuit_breaker::record_success(time_point) {
  switch (state_) {
    case breaker_state::closed:
      failures_ = 0;
      break;
    case breaker_state::half_open:
      if (++successes_ >= config_.success_threshold)
        close();
      break;
    case breaker_state::open:
      break;
  }
}

void circuit_breaker::record_failure(time_point now) {
  switch (state_) {
    case breaker_state::closed:
      if (++failures_ >= config_.failure_threshold)
        open(now);
      break;
    case breaker_state::half_open:
      open(now);
      break;
    case breaker_state::open:
      break;
  }
}

void circuit_breaker::open(time_point now) {
  state_ = breaker_state::open;
  opened_at_ = now;
  failures_ = 0;
  successes_ = 0;
  ++times_opened_;
}

void circuit_breaker::close() {
  state_ = breaker_state::closed;
  failures_ = 0;
  successes_ = 0;
}

} // namespace orderd::resilience
