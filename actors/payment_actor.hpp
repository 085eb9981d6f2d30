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
/// after the configured latency. Charges are recorded by order id, like a provider's
/// idempotency key, so the saga may ask again (after a timeout or a restart of the processor)
/// without charging twice. The record lives in memory: the mock "provider" forgets on restart.
struct payment_state {
  payment_state() = default; // see processor_state: CAF would otherwise pass `self` in

  std::mt19937_64 random;
  /// Outcomes of charges decided already, by order id.
  std::unordered_map<std::string, payment_result> charged;
  /// Charges still "at the provider", and everyone waiting for each.
  std::unordered_map<std::string, std::vector<caf::typed_response_promise<payment_result>>>
    in_flight;
  uint64_t charges = 0; ///< distinct orders charged
  static inline const char* name = "payments";
};

payment_service::behavior_type
payment_impl(payment_service::stateful_pointer<payment_state> self, services_ptr svc);

} // namespace orderd
