#pragma once

// The bridges' interfaces: the HTTP bridge actor (continuations from Beast's I/O threads) and
// the inbound AMQP command bridge. Local to a node.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "actors/protocol/common.hpp"
#include "domain/dead_letter.hpp"

namespace orderd {

/// Work for the HTTP bridge actor: a continuation that runs inside an actor, so it can make
/// non-blocking requests and hand the reply back to the connection that asked.
struct bridge_call {
  std::function<void(caf::event_based_actor*)> run;
};

/// What the inbound command bridge reports about itself (for /ready and the admin API).
struct inbound_status {
  bool connected = false;
  std::string queue;
  uint64_t received = 0;      ///< deliveries since start
  uint64_t acked = 0;         ///< done (applied, or nothing to do)
  uint64_t retried = 0;       ///< sent to a delay queue
  uint64_t dead_lettered = 0; ///< sent to the dead-letter queue
  uint32_t in_flight = 0;     ///< handed to the actors, not yet answered
  std::string last_error;     ///< of the connection (empty while fine)
};

// inbound command bridge (RabbitMQ consumer, only with --amqp-url; messaging/amqp_consumer.hpp):
//   (status_atom)                                 -> inbound_status
//   (crash_atom, uint32 n)                        -> bool  fault injection: the next n commands fail
//   (crash_atom, commit_atom)                     -> bool  fault injection: the process exits
//                                                    once the next command has committed, before
//                                                    its ack (a node killed mid-flight)
//   (list_atom, dlq_atom, size_t limit)           -> std::vector<dead_letter>
//   (replay_atom, dlq_atom, message_id)           -> dead_letter (the one replayed)
//                                                    | not_found | unavailable (no broker)

// HTTP bridge:
//   (call_atom, bridge_call)                      -> runs the continuation

} // namespace orderd

// A continuation holds a function: it never leaves the process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::bridge_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::inbound_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::dead_letter)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<orderd::dead_letter>)
