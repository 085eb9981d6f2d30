#pragma once

#include <functional>
#include <string>
#include <unordered_map>

#include <caf/actor_addr.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/protocol.hpp"
#include "actors/services.hpp"

namespace orderd {

/// The root of the supervision tree:
///
///   root
///   ├── store writer         (detached thread; group commit)
///   ├── store reader × N     (detached threads; read-only connections)
///   ├── event bus            (in-process subscribers)
///   ├── event publisher      (RabbitMQ bridge, detached; only with --amqp-url)
///   ├── event relay          (outbox -> publisher, in order, circuit breaker)
///   ├── command consumer     (RabbitMQ commands -> actors, detached; only with --amqp-url)
///   ├── inventory supervisor → stock actor per SKU
///   ├── order supervisor     → order actor per live order
///   ├── cart supervisor      → cart actor per active customer
///   ├── notification supervisor → channel per channel (email, webhook, push) → transport
///   │                          (only when notifications are enabled; see actors/notifier.hpp)
///   ├── processor            (grace period timer)
///   └── HTTP bridge × M      (continuations of HTTP requests)
///
/// It restarts a crashed child after a backoff and publishes the new handle through
/// `services`, so nobody holds a stale one. A child that exhausts its restart budget makes the
/// root fail, which ends the process with a non-zero status (the process supervisor restarts it).
struct root_state {
  struct child {
    std::function<caf::actor()> spawn;
    restart_tracker tracker;
  };
  std::unordered_map<std::string, child> children;
  std::unordered_map<caf::actor_addr, std::string> names;
  supervisor_stats stats{"root", 0, 0, 0, "", "", {}};
  static inline const char* name = "root-supervisor";
};

caf::behavior root_supervisor_impl(caf::stateful_actor<root_state>* self, services_ptr svc);

} // namespace orderd
