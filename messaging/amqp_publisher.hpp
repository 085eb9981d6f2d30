#pragma once

// The outbound RabbitMQ bridge: the event relay's publisher when --amqp-url is set. A thin
// translation from outbox events to AMQP messages; every decision (what to publish, when to
// retry, the circuit breaker) is the relay's (actors/relay.hpp).

#include <chrono>
#include <optional>
#include <string>

#include <caf/stateful_actor.hpp>

#include "actors/protocol.hpp"
#include "messaging/amqp_connection.hpp"

namespace orderd::messaging {

struct amqp_publisher_options {
  connection_options connection;
  /// The durable topic exchange events go to (declared on every connect).
  std::string exchange = "orderd.events";
  /// How long a batch waits for its publisher confirms.
  std::chrono::milliseconds confirm_timeout{30000};
  /// How often an idle connection is polled (heartbeats are only sent from inside calls).
  std::chrono::milliseconds keepalive{5000};
};

/// The message for one outbox event: to `exchange` with routing key = event type, persistent,
/// message_id = event id, correlation_id, type, timestamp (seconds), content type
/// application/json, app_id "orderd"; the body is the envelope.
outgoing_message to_message(const event_record& e, const std::string& exchange);

/// Owns one amqp_connection, opened on first use and after every failure (the relay paces the
/// attempts). Must run detached: every call blocks its thread. Answers
/// `(publish_atom, std::vector<event_record>)` with a publish_ack: the confirmed prefix of the
/// batch, and why the rest failed. Never throws out of a handler.
struct amqp_publisher_state {
  std::optional<amqp_connection> connection;
  bool was_connected = false; ///< for logging transitions only
  static inline const char* name = "amqp-publisher";
};

caf::behavior amqp_publisher_impl(caf::stateful_actor<amqp_publisher_state>* self,
                                  amqp_publisher_options options);

} // namespace orderd::messaging
