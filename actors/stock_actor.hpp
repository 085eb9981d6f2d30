#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <caf/actor_addr.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/protocol.hpp"
#include "actors/idle_watch.hpp"
#include "actors/registry_core.hpp"
#include "actors/services.hpp"

namespace orderd {

/// One SKU's product and stock. Serialises every reservation for the SKU, so two orders can
/// never both take the last unit. Durable figures come from the store; holds are in-flight
/// reservations of orders whose write has not committed yet.
struct stock_state {
  struct hold {
    int64_t quantity = 0;
    caf::actor_addr holder;
  };

  std::string sku;
  std::optional<product> item;                   ///< committed figures; nullopt: no such product
  std::unordered_map<std::string, hold> holds;   ///< by order id
  int64_t held = 0;                              ///< sum of holds
  std::unordered_set<caf::actor_addr> watched;   ///< holders we monitor
  /// The registry let us go while holds were still open: we no longer get new work, and quit
  /// once the last hold is settled (holders settle directly with the actor that granted them).
  bool retiring = false;
  idle_watch idle;
  static inline const char* name = "stock";

  /// Units that a new reservation may take.
  int64_t free_units() const { return item ? item->available - held : 0; }
};

/// `start_delay` postpones loading (restart backoff); messages wait in the mailbox meanwhile.
caf::behavior stock_impl(caf::stateful_actor<stock_state>* self, services_ptr svc,
                         std::string sku, caf::timespan start_delay);

/// The inventory supervisor: spawns one stock actor per SKU on demand, forwards SKU-addressed
/// messages to it, and restarts crashed ones (restart budget, backoff, escalation).
struct stock_registry_state {
  registry_core core{{"inventory", 0, 0, 0, "root", "inventory-supervisor", {}},
                     "inventory supervisor", "stock actor"};
  static inline const char* name = "inventory-supervisor";
};

caf::behavior stock_registry_impl(caf::stateful_actor<stock_registry_state>* self,
                                  services_ptr svc);

} // namespace orderd
