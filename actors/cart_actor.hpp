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

/// One customer's cart. Loads the customer and the stored cart on start, applies the cart rules
/// (domain/cart.hpp), writes every change through the store writer before it answers, and checks
/// out through the order registry. While a checkout runs the cart is locked: changes and a second
/// checkout are refused (409) until the order registry has answered. Idle cart actors passivate
/// like order actors; the next request rebuilds them from the store.
struct cart_state {
  cart_state() = default; // CAF constructs State(self): keep aggregate init out of the way
  std::string customer_id;
  std::optional<customer> owner; ///< nullopt: no such customer
  std::optional<cart> current;   ///< nullopt: the customer never had a cart
  bool locked = false;           ///< a checkout is in progress
  idle_watch idle;
  static inline const char* name = "cart";
};

caf::behavior cart_impl(caf::stateful_actor<cart_state>* self, services_ptr svc,
                        std::string customer_id, caf::timespan start_delay);

/// The cart supervisor: owns the live cart actors (one per customer, spawned on demand), writes
/// customers (so deleting one also stops its cart actor), restarts crashed cart actors lazily.
struct cart_registry_state {
  registry_core core{{"carts", 0, 0, 0, "root", "cart-supervisor", {}}, "cart supervisor",
                     "cart actor"};
  static inline const char* name = "cart-supervisor";
};

caf::behavior cart_registry_impl(caf::stateful_actor<cart_registry_state>* self,
                                 services_ptr svc);

} // namespace orderd
