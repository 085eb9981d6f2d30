#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/protocol.hpp"

namespace orderd {

/// The in-process event bus: local subscribers (tests today; notification and processor actors
/// later) subscribe by AMQP-style topic pattern (`order.*`, `inventory.#`, `#`) and receive
/// `(event_atom, event_record)` for every published event whose type matches, in publication
/// order. Without --amqp-url it is the relay's publisher (publishing = delivering); with it, the
/// relay hands it every batch the broker confirmed, so local subscribers see the same events
/// either way.
///
/// Delivery is in memory and at most once: a subscriber that is down misses what is published
/// meanwhile, and a restarted bus starts without subscriptions (subscribers monitor it and
/// subscribe again). Subscribers that terminate are dropped.
struct event_bus_state {
  struct subscription {
    std::string pattern;
    caf::actor subscriber;
  };
  std::vector<subscription> subscriptions;
  uint64_t delivered = 0;
  static inline const char* name = "event-bus";
};

caf::behavior event_bus_impl(caf::stateful_actor<event_bus_state>* self);

} // namespace orderd
