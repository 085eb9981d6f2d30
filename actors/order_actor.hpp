#pragma once

#include <optional>
#include <string>
#include <unordered_map>

#include <caf/actor_addr.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/protocol.hpp"
#include "actors/idle_watch.hpp"
#include "actors/registry_core.hpp"
#include "actors/services.hpp"

namespace orderd {

/// One order. A new order actor places its order (reserve every line or none, then one durable
/// write); an existing one is rebuilt from the store on demand and applies status changes.
/// Idle order actors passivate, so memory stays bounded however many orders exist.
struct order_state {
  std::string id;
  std::optional<order> current; ///< nullopt: not placed yet, or no such order
  idle_watch idle;
  static inline const char* name = "order";
};

/// `is_new`: the actor waits for (place_atom, ...) instead of loading from the store.
caf::behavior order_impl(caf::stateful_actor<order_state>* self, services_ptr svc,
                         std::string id, bool is_new, caf::timespan start_delay);

/// The order supervisor: owns the live order actors, handles idempotency keys, restarts
/// crashed order actors lazily (the next request rebuilds them from the store).
struct order_registry_state {
  registry_core core{{"orders", 0, 0, 0, "root", "order-supervisor", {}}, "order supervisor",
                     "order actor"};
  /// Idempotency keys whose first request is still running, with their request fingerprint.
  std::unordered_map<std::string, std::string> in_flight;
  static inline const char* name = "order-supervisor";
};

caf::behavior order_registry_impl(caf::stateful_actor<order_registry_state>* self,
                                  services_ptr svc);

} // namespace orderd
