#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <caf/actor_clock.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/protocol.hpp"
#include "actors/services.hpp"
#include "resilience/backoff.hpp"
#include "resilience/circuit_breaker.hpp"

namespace orderd {

/// The event relay: publishes the transactional outbox, in seq order, through the publisher in
/// `services::publisher` (the in-process bus, or the RabbitMQ bridge).
///
/// One cycle: read up to --relay-batch unpublished events (a store reader), hand them to the
/// publisher, mark the prefix it confirmed published (the store writer), and go on at once
/// while full batches keep coming. Cycles start on the writer's nudge after a commit that
/// appended events (after a short linger, so one cycle takes the events of several commits), and
/// every --relay-interval-ms as a fallback (e.g. right after a restart).
/// One cycle at a time, so events leave in the order they committed; an event that fails
/// blocks every event after it until it is confirmed (no reordering, no skipping).
///
/// Failures (publisher errors, refusals, timeouts) feed a circuit breaker: after
/// --breaker-failures in a row it opens, and no attempt is made for --breaker-cooldown-ms; then
/// one trial batch (half-open) closes it again or reopens it. Between attempts the relay waits
/// an exponential backoff with jitter (from 100 ms up to twice the cooldown). Meanwhile events
/// accumulate in the outbox, and orders are unaffected. Delivery is at least once: a batch
/// confirmed but not marked (crash, writer restart) is published again.
struct relay_state {
  // See processor_state: keeps CAF from constructing the state from `self`.
  relay_state() = default;

  std::optional<resilience::circuit_breaker> breaker;
  std::optional<resilience::backoff> delays;
  bool busy = false;   ///< a cycle is under way
  bool again = false;  ///< nudged during the cycle: run another one right after
  bool lingering = false; ///< nudged; the cycle starts after --relay-linger
  /// No attempt before this point (backoff after a failure); a retry message is scheduled.
  caf::actor_clock::time_point not_before{};
  /// The last seq the broker confirmed. The next batch starts after it without waiting for
  /// the store to record the mark (0: from the store's published cursor, as after a start).
  int64_t sent_through = 0;
  uint32_t failures = 0;   ///< consecutive failed attempts
  uint64_t published = 0;  ///< events confirmed since start
  uint64_t batches = 0;
  std::string last_error;
  static inline const char* name = "event-relay";
};

caf::behavior relay_impl(caf::stateful_actor<relay_state>* self, services_ptr svc);

} // namespace orderd
