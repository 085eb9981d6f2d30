#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/protocol.hpp"
#include "actors/services.hpp"

namespace orderd {

/// A stand-in for a payment provider: each charge succeeds with the configured probability
/// after the configured latency. Every outcome is recorded in the store by order id (like a
/// provider's idempotency key) before it is answered, and the store is asked first: the saga
/// may ask again (after a timeout, a restart, or on the node that took the order's shard over)
/// and an order is still charged at most once. Two nodes charging one order at once: the first
/// record wins and both answer it.
struct payment_state {
  payment_state() = default; // see processor_state: CAF would otherwise pass `self` in

  std::mt19937_64 random;
  /// Outcomes of charges decided already, by order id.
  std::unordered_map<std::string, payment_result> charged;
  /// Charges not decided yet: what to charge.
  struct charge_request {
    int64_t amount_cents = 0;
    std::string currency;
  };
  std::unordered_map<std::string, charge_request> pending;
  /// Charges still "at the provider", and everyone waiting for each.
  std::unordered_map<std::string, std::vector<caf::typed_response_promise<payment_result>>>
    in_flight;
  uint64_t charges = 0; ///< distinct orders charged
  static inline const char* name = "payments";
};

payment_service::behavior_type
payment_impl(payment_service::stateful_pointer<payment_state> self, services_ptr svc);

} // namespace orderd
