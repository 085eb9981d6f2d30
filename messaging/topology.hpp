#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messaging/amqp_table.hpp"

namespace orderd::messaging {

/// A durable exchange to declare.
struct exchange_spec {
  std::string name;
  std::string type = "topic"; ///< topic, direct, fanout or headers
  bool durable = true;
};

/// Quorum queues are replicated and durable (RabbitMQ's choice for data safety); classic
/// queues are for the rare case that needs a feature quorum queues lack.
enum class queue_kind : uint8_t { quorum, classic };

/// A durable queue to declare, with the arguments orderd uses.
struct queue_spec {
  std::string name;
  queue_kind kind = queue_kind::quorum;
  /// `x-dead-letter-exchange`: where rejected/expired messages go (empty: dropped).
  std::string dead_letter_exchange;
  /// `x-dead-letter-routing-key`: replaces the routing key when dead-lettering.
  std::optional<std::string> dead_letter_routing_key;
  /// `x-message-ttl`: messages expire (and are dead-lettered) after this long.
  std::optional<std::chrono::milliseconds> message_ttl;
  /// `x-delivery-limit` (quorum only): dead-letter after this many redeliveries.
  std::optional<uint32_t> delivery_limit;
  /// Any other `x-…` arguments, appended last.
  field_table extra_arguments;
};

/// The `queue.declare` arguments of `q` (x-queue-type, dead-lettering, TTL, …).
field_table queue_arguments(const queue_spec& q);

/// A binding of a queue to an exchange.
struct binding_spec {
  std::string queue;
  std::string exchange;
  std::string routing_key;
};

/// Exchanges, queues and bindings, declared in that order by amqp_connection::declare.
struct topology {
  std::vector<exchange_spec> exchanges;
  std::vector<queue_spec> queues;
  std::vector<binding_spec> bindings;
};

/// A work queue with a dead-letter queue and delayed retries:
///
///   exchange (topic) --binding_keys--> queue --reject / nack(requeue=false)--> dead_letter_exchange
///   dead_letter_exchange (direct) --queue--> queue.dlq
///   retry: publish to "" with key queue.retry.<ms>ms (retry_queue_name); when its TTL expires
///   the message is dead-lettered to `exchange` with routing key = queue name, which `queue`
///   is bound to, so a retry does not fan out to other consumers of the exchange (unless they
///   bind a pattern matching that name, such as "#").
///
/// Consumers that need a reason header publish to `dead_letter_exchange` with routing key =
/// queue name themselves (then ack); plain reject() lands in the same DLQ with an x-death.
struct work_queue_spec {
  std::string exchange;                      ///< e.g. "orderd.commands"
  std::string queue;                         ///< e.g. "orderd.commands"
  std::vector<std::string> binding_keys{"#"}; ///< topic patterns routed to `queue`
  std::string dead_letter_exchange;          ///< default: "<queue>.dlx"
  std::vector<std::chrono::milliseconds> retry_delays; ///< one delay queue each
  queue_kind retry_kind = queue_kind::quorum; ///< kind of the delay queues
};

/// Declarations for `spec` (see work_queue_spec). Throws std::invalid_argument when the
/// exchange or queue name is empty or a retry delay is not positive.
topology make_work_queue_topology(const work_queue_spec& spec);

/// The dead-letter exchange `spec` uses ("<queue>.dlx" unless set).
std::string dead_letter_exchange_name(const work_queue_spec& spec);

/// "<queue>.dlq".
std::string dead_letter_queue_name(std::string_view queue);

/// "<queue>.retry.<ms>ms": publish here through the default exchange ("") to retry later.
std::string retry_queue_name(std::string_view queue, std::chrono::milliseconds delay);

} // namespace orderd::messaging
