// resilience/: backoff and circuit breaker (suite `resilience`, deterministic: time is a
// parameter).

#define CAF_SUITE resilience
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "resilience/backoff.hpp"
#include "resilience/circuit_breaker.hpp"

#include "test_util.hpp"

using namespace orderd::resilience;
using orderd::test::error_of;
using namespace std::chrono_literals;

namespace {

using time_point = circuit_breaker::time_point;
const time_point t0 = time_point{} + std::chrono::hours{1};

} // namespace

// -- backoff ------------------------------------------------------------------------------------

CAF_TEST(backoff ceilings grow exponentially up to the cap) {
  backoff b{{100ms, 5000ms, 2.0, jitter_policy::none}, 1};
  std::vector<int64_t> expected{100, 200, 400, 800, 1600, 3200, 5000, 5000};
  for (uint32_t i = 0; i < expected.size(); ++i) {
    CAF_CHECK_EQUAL(b.ceiling(i).count(), expected[i]);
    CAF_CHECK_EQUAL(b.next_delay(i).count(), expected[i]);
  }
  // Huge attempt numbers saturate instead of overflowing.
  CAF_CHECK_EQUAL(b.ceiling(1000).count(), 5000);
  CAF_CHECK_EQUAL(b.ceiling(UINT32_MAX).count(), 5000);
}

CAF_TEST(backoff with a fractional multiplier) {
  backoff b{{1000ms, 60000ms, 1.5, jitter_policy::none}, 1};
  CAF_CHECK_EQUAL(b.ceiling(0).count(), 1000);
  CAF_CHECK_EQUAL(b.ceiling(1).count(), 1500);
  CAF_CHECK_EQUAL(b.ceiling(2).count(), 2250);
  CAF_CHECK_EQUAL(b.ceiling(20).count(), 60000);
}

CAF_TEST(full jitter stays between zero and the ceiling and spreads) {
  backoff b{{100ms, 10000ms, 2.0, jitter_policy::full}, 7};
  for (uint32_t attempt = 0; attempt < 10; ++attempt) {
    auto top = b.ceiling(attempt).count();
    int64_t lo = top;
    int64_t hi = 0;
    for (int i = 0; i < 2000; ++i) {
      auto d = b.next_delay(attempt).count();
      CAF_REQUIRE(d >= 0 && d <= top);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // 2000 uniform draws cover both ends of the range.
    CAF_CHECK_LESS(lo, top / 10 + 1);
    CAF_CHECK_GREATER(hi, top - top / 10 - 1);
  }
}

CAF_TEST(equal jitter stays between half the ceiling and the ceiling) {
  backoff b{{100ms, 10000ms, 2.0, jitter_policy::equal}, 7};
  for (uint32_t attempt = 0; attempt < 10; ++attempt) {
    auto top = b.ceiling(attempt).count();
    for (int i = 0; i < 1000; ++i) {
      auto d = b.next_delay(attempt).count();
      CAF_REQUIRE(d >= top / 2 && d <= top);
    }
  }
}

CAF_TEST(backoff is deterministic for a seed) {
  auto run = [](uint64_t seed) {
    backoff b{{100ms, 30000ms, 2.0, jitter_policy::full}, seed};
    std::vector<int64_t> out;
    for (uint32_t i = 0; i < 12; ++i)
      out.push_back(b.next_delay(i).count());
    return out;
  };
  CAF_CHECK(run(42) == run(42));
  CAF_CHECK(run(42) != run(43));
  // Pinned: mt19937_64 is specified by the standard and the mapping to a range is ours, so
  // this sequence is the same with every compiler and standard library.
  CAF_CHECK((run(42) == std::vector<int64_t>{76, 128, 301, 109, 1446, 301, 3677, 4773, 7011, 11708, 371, 15711}));
}

CAF_TEST(invalid backoff policies are refused) {
  using ia = std::invalid_argument;
  CAF_CHECK(error_of<ia>([] { backoff{{0ms, 100ms, 2.0, jitter_policy::full}}; }));
  CAF_CHECK(error_of<ia>([] { backoff{{200ms, 100ms, 2.0, jitter_policy::full}}; }));
  CAF_CHECK(error_of<ia>([] { backoff{{100ms, 200ms, 0.5, jitter_policy::full}}; }));
  CAF_CHECK(!error_of<ia>([] { backoff{{100ms, 100ms, 1.0, jitter_policy::none}}; }));
  CAF_CHECK_EQUAL(to_string(jitter_policy::full), "full");
}

// -- circuit breaker ------------------------------------------------------------------------------

CAF_TEST(a new breaker is closed and allows calls) {
  circuit_breaker cb{{3, 10s, 2}};
  CAF_CHECK(cb.state() == breaker_state::closed);
  CAF_CHECK(cb.allow(t0));
  CAF_CHECK_EQUAL(to_string(cb.state()), "closed");
  CAF_CHECK_EQUAL(cb.times_opened(), 0u);
}

CAF_TEST(the breaker opens after n consecutive failures) {
  circuit_breaker cb{{3, 10s, 2}};
  cb.record_failure(t0);
  cb.record_failure(t0);
  CAF_CHECK(cb.state() == breaker_state::closed);
  CAF_CHECK_EQUAL(cb.consecutive_failures(), 2u);
  cb.record_failure(t0 + 1s);
  CAF_CHECK(cb.state() == breaker_state::open);
  CAF_CHECK_EQUAL(to_string(cb.state()), "open");
  CAF_CHECK_EQUAL(cb.times_opened(), 1u);
  CAF_CHECK(cb.retry_at() == t0 + 11s);
}

CAF_TEST(a success resets the failure count of a closed breaker) {
  circuit_breaker cb{{3, 10s, 2}};
  cb.record_failure(t0);
  cb.record_failure(t0);
  cb.record_success(t0);
  CAF_CHECK_EQUAL(cb.consecutive_failures(), 0u);
  cb.record_failure(t0);
  cb.record_failure(t0);
  CAF_CHECK(cb.state() == breaker_state::closed);
}

CAF_TEST(an open breaker refuses calls until the cooldown has passed) {
  circuit_breaker cb{{1, 10s, 1}};
  cb.record_failure(t0);
  CAF_CHECK(!cb.allow(t0));
  CAF_CHECK(!cb.allow(t0 + 9999ms));
  CAF_CHECK(cb.state() == breaker_state::open);
  // state_at reports the half-open state the next allow() would enter, without entering it.
  CAF_CHECK(cb.state_at(t0 + 9999ms) == breaker_state::open);
  CAF_CHECK(cb.state_at(t0 + 10s) == breaker_state::half_open);
  CAF_CHECK(cb.state() == breaker_state::open);
  CAF_CHECK(cb.allow(t0 + 10s));
  CAF_CHECK(cb.state() == breaker_state::half_open);
  CAF_CHECK_EQUAL(to_string(cb.state()), "half-open");
}

CAF_TEST(a half open breaker closes after m successes) {
  circuit_breaker cb{{1, 10s, 3}};
  cb.record_failure(t0);
  CAF_REQUIRE(cb.allow(t0 + 10s));
  cb.record_success(t0 + 10s);
  cb.record_success(t0 + 10s);
  CAF_CHECK(cb.state() == breaker_state::half_open);
  CAF_CHECK_EQUAL(cb.consecutive_successes(), 2u);
  cb.record_success(t0 + 11s);
  CAF_CHECK(cb.state() == breaker_state::closed);
  CAF_CHECK(cb.allow(t0 + 11s));
  CAF_CHECK_EQUAL(cb.consecutive_failures(), 0u);
}

CAF_TEST(a failure in half open reopens with a fresh cooldown) {
  circuit_breaker cb{{2, 10s, 3}};
  cb.record_failure(t0);
  cb.record_failure(t0);
  CAF_REQUIRE(cb.allow(t0 + 10s));
  cb.record_success(t0 + 10s);
  cb.record_failure(t0 + 12s); // one failure is enough in half-open
  CAF_CHECK(cb.state() == breaker_state::open);
  CAF_CHECK_EQUAL(cb.times_opened(), 2u);
  CAF_CHECK(cb.retry_at() == t0 + 22s);
  CAF_CHECK(!cb.allow(t0 + 21s));
  CAF_CHECK(cb.allow(t0 + 22s));
  // The success count starts over in the new half-open period.
  CAF_CHECK_EQUAL(cb.consecutive_successes(), 0u);
}

CAF_TEST(an open breaker ignores late results) {
  circuit_breaker cb{{1, 10s, 1}};
  cb.record_failure(t0);
  cb.record_success(t0 + 1s); // a call that started before the breaker opened
  CAF_CHECK(cb.state() == breaker_state::open);
  cb.record_failure(t0 + 5s); // does not extend the cooldown
  CAF_CHECK(cb.retry_at() == t0 + 10s);
  CAF_CHECK_EQUAL(cb.times_opened(), 1u);
}

CAF_TEST(a full breaker cycle) {
  circuit_breaker cb{{2, 1s, 2}};
  std::vector<std::string> seen;
  auto note = [&] { seen.emplace_back(to_string(cb.state())); };
  note();
  cb.record_failure(t0);
  cb.record_failure(t0);
  note();
  cb.allow(t0 + 1s);
  note();
  cb.record_failure(t0 + 1s);
  note();
  cb.allow(t0 + 2s);
  cb.record_success(t0 + 2s);
  cb.record_success(t0 + 2s);
  note();
  CAF_CHECK((seen == std::vector<std::string>{"closed", "open", "half-open", "open", "closed"}));
}

CAF_TEST(invalid breaker configurations are refused) {
  using ia = std::invalid_argument;
  CAF_CHECK(error_of<ia>([] { circuit_breaker{{0, 1s, 1}}; }));
  CAF_CHECK(error_of<ia>([] { circuit_breaker{{1, 1s, 0}}; }));
  CAF_CHECK(error_of<ia>([] { circuit_breaker{{1, -1s, 1}}; }));
  CAF_CHECK(!error_of<ia>([] { circuit_breaker{{1, 0s, 1}}; }));
}

// -- AMQP URL ----------------------------------------------------------------------------------
