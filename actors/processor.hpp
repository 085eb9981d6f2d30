#pragma once

#include <caf/stateful_actor.hpp>

#include "actors/protocol.hpp"
#include "actors/supervision.hpp"

namespace orderd {

/// Moves PENDING orders whose grace period has ended to PROCESSING, in batches, on a timer.
/// Each move goes through the order's own actor, so it races safely with a cancel.
struct processor_state {
  // CAF 0.17 constructs a state as `State(self)` whenever that compiles, and C++20 lets an
  // aggregate take parenthesised arguments: without this constructor `busy` became `self != 0`.
  processor_state() = default;

  bool busy = false;
  uint64_t moved = 0;
  timestamp_ms last_purge = 0;
  static inline const char* name = "processor";
};

caf::behavior processor_impl(caf::stateful_actor<processor_state>* self, services_ptr svc);

/// Runs continuations for the HTTP bridge (see bridge_call).
caf::behavior bridge_impl(caf::event_based_actor* self);

} // namespace orderd
