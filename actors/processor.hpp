#pragma once

#include <set>
#include <string>
#include <unordered_set>

#include <caf/stateful_actor.hpp>

#include "actors/protocol.hpp"
#include "actors/services.hpp"

namespace orderd {

/// Moves PENDING orders whose grace period has ended to PROCESSING, in batches: on a periodic
/// scan of the store (the source of truth, which survives restarts) and on a wake-up timer per
/// order.created seen on the in-process bus (so an order moves when its grace period ends, not up
/// to one interval later). Each move goes through the order's own actor, so it races safely
/// with a cancel, and the guarded transition makes every order move once.
///
/// It also runs the payment saga (with --payments mock): every PROCESSING order is charged
/// through the payment service, then settled through its order actor (CONFIRMED, or CANCELLED
/// with reason payment_failed and the reservation released). The saga's state is the order's
/// stored status: each tick also lists PROCESSING orders and charges those without a charge in
/// flight, so a saga cut short by a crash or a lost reply resumes; the payment service records
/// charges by order id, so asking again never charges twice.
struct processor_state {
  // CAF 0.17 constructs a state as `State(self)` whenever that compiles, and C++20 lets an
  // aggregate take parenthesised arguments: without this constructor `busy` became `self != 0`.
  processor_state() = default;

  bool busy = false;
  bool rescan = false; ///< a wake-up arrived during the scan under way
  /// Wall-clock times (ms) of the armed grace-period wake-ups.
  std::set<timestamp_ms> wake_ups;
  uint64_t moved = 0;
  /// Orders whose charge or settlement is under way (not charged again meanwhile).
  std::unordered_set<std::string> charging;
  uint64_t confirmed = 0;
  uint64_t payment_failures = 0;
  timestamp_ms last_purge = 0;
  static inline const char* name = "processor";
};

caf::behavior processor_impl(caf::stateful_actor<processor_state>* self, services_ptr svc);

} // namespace orderd
