#pragma once

// The inbound RabbitMQ bridge: commands from other services become actor messages. A thin
// translation (messaging/inbound.hpp decodes and disposes); what a command does is decided by
// the stock and order actors.

#include <chrono>
#include <cstdint>
#include <optional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/stateful_actor.hpp>

#include "actors/protocol.hpp"
#include "actors/services.hpp"
#include "messaging/amqp_connection.hpp"
#include "resilience/backoff.hpp"

namespace orderd::messaging {

struct amqp_consumer_options {
  connection_options connection;
  std::string exchange = "orderd.commands"; ///< topic exchange commands are sent to
  std::string queue = "orderd.commands";    ///< quorum work queue (+ .dlq, .retry.<ms>ms)
  uint16_t prefetch = 64;                   ///< unacknowledged deliveries at once
  uint32_t max_attempts = 5;                ///< failed attempts before dead-lettering
  std::vector<std::chrono::milliseconds> retry_delays{std::chrono::milliseconds{1000}};
  /// How long one command may take in the actors before it counts as a failed attempt.
  std::chrono::milliseconds command_timeout{20000};
  /// Most dead letters a replay looks through for the requested id.
  size_t replay_scan_limit = 10000;
};

/// Topology: the commands exchange (topic) routes inventory.adjust, order.place and
/// order.cancel to the work queue (quorum, dead-lettering to <queue>.dlx -> <queue>.dlq); one
/// delay queue per retry delay sends expired copies back to the work queue.
///
/// One delivery: identify (no message_id or an unknown command: dead-letter at once), decode
/// (invalid: dead-letter at once), send to the actor with the message id, then, on its answer:
/// ack (the change and its processed-message record are durable), retry later (copy to the
/// delay queue with x-orderd-attempts + 1, then ack) or dead-letter (copy to the DLX with
/// x-orderd-reason, then ack). A copy is acknowledged only after the broker confirmed the new
/// one, so nothing is lost between queues; a crash in between can duplicate, which the message
/// id makes harmless. A redelivered or retried command is first looked up in the processed
/// records: done already means ack, nothing else.
///
/// Runs detached (rabbitmq-c blocks). Loses the broker: waits a backoff, reconnects, and the
/// broker redelivers whatever was not acknowledged.
struct amqp_consumer_state {
  amqp_consumer_state() = default; // see processor_state

  std::optional<amqp_connection> connection;
  uint64_t generation = 0; ///< bumped per connection: a late answer must not ack on a new one
  std::optional<resilience::backoff> reconnect;
  uint32_t connect_failures = 0; ///< in a row, for the reconnect backoff
  uint32_t failures_to_inject = 0; ///< fault injection: fail this many next commands
  bool exit_after_commit = false;  ///< fault injection: die between a commit and its ack
  std::chrono::steady_clock::time_point next_dlq_depth{}; ///< when to read the DLQ depth again
  /// Message ids being handled, with copies of the same id that arrived meanwhile (and their
  /// connection generation). A copy waits for the first to finish, then finds it processed:
  /// run side by side, its stock holds could refuse other orders for a moment.
  std::unordered_map<std::string, std::vector<std::pair<uint64_t, std::shared_ptr<const delivery>>>>
    busy;
  inbound_status status;
  static inline const char* name = "command-consumer";
};

caf::behavior amqp_consumer_impl(caf::stateful_actor<amqp_consumer_state>* self,
                                 services_ptr svc, amqp_consumer_options options);

} // namespace orderd::messaging
