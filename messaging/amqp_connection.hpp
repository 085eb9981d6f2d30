#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "messaging/amqp_table.hpp"
#include "messaging/amqp_url.hpp"
#include "messaging/topology.hpp"

namespace orderd::messaging {

/// Every failure of the broker or of rabbitmq-c: socket errors, timeouts of synchronous
/// methods, heartbeat loss, and channel or connection closes by the broker (with its reply
/// code and text, e.g. 406 "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' …").
/// After one, the connection is closed (`is_open()` is false): make a new one.
class amqp_error : public std::runtime_error {
public:
  amqp_error(std::string operation, std::string reply_text, uint16_t reply_code = 0);

  /// What was being done, e.g. "queue.declare orderd.commands" or "connect 127.0.0.1:5672".
  const std::string& operation() const noexcept { return operation_; }

  /// The broker's reply text, or rabbitmq-c's error string for client-side failures.
  const std::string& reply_text() const noexcept { return reply_text_; }

  /// The AMQP reply code (320 CONNECTION_FORCED, 403 ACCESS_REFUSED, 404 NOT_FOUND,
  /// 406 PRECONDITION_FAILED, …), or 0 when the failure was on our side of the socket.
  uint16_t reply_code() const noexcept { return reply_code_; }

private:
  std::string operation_;
  std::string reply_text_;
  uint16_t reply_code_;
};

/// Properties of a message, published or delivered.
struct message_properties {
  std::string content_type = "application/json";
  std::string message_id;
  std::string correlation_id;
  std::string type;
  std::string reply_to;
  std::string app_id;
  /// Seconds since the Unix epoch (AMQP's resolution). Publishing fills in "now" when unset.
  std::optional<int64_t> timestamp;
  /// delivery_mode 2 (written to disk by the broker) when true, 1 otherwise.
  bool persistent = true;
  field_table headers;
};

/// A message to publish.
struct outgoing_message {
  std::string exchange;    ///< "" is the default exchange (routing key = queue name)
  std::string routing_key;
  std::string body;
  message_properties properties;
  /// Ask the broker to return the message when no queue is bound for it: it is then reported
  /// as publish_status::returned instead of confirmed. Matched by message_id, so give
  /// mandatory messages distinct ids within a batch.
  bool mandatory = false;
};

/// A message received from a consumer.
struct delivery {
  uint64_t delivery_tag = 0; ///< for ack / nack / reject on the same connection only
  bool redelivered = false;  ///< the broker delivered it before (nack, lost consumer, …)
  std::string exchange;
  std::string routing_key;
  std::string consumer_tag;
  std::string body;
  message_properties properties; ///< headers include x-death after dead-lettering
};

/// What the broker said about one published message.
enum class publish_status : uint8_t {
  confirmed, ///< basic.ack: the broker has taken responsibility for it
  nacked,    ///< basic.nack: the broker could not take it (rare; publish again)
  returned,  ///< mandatory and unroutable: basic.return then basic.ack
  timed_out, ///< no confirm before the deadline: outcome unknown, publish again
};

/// Stable name: "confirmed", "nacked", "returned", "timed-out".
std::string_view to_string(publish_status x) noexcept;

/// The outcome of one message of a batch.
struct publish_result {
  publish_status status = publish_status::timed_out;
  std::string detail; ///< e.g. "312 NO_ROUTE" for returned messages
  bool ok() const noexcept { return status == publish_status::confirmed; }
};

/// Queue counters from queue.declare-ok.
struct queue_info {
  std::string name;
  uint32_t message_count = 0;  ///< ready messages (not the unacknowledged ones)
  uint32_t consumer_count = 0;
};

/// How to reach the broker.
struct connection_options {
  amqp_url url;
  /// Bounds the TCP connect and, separately, the AMQP handshake (login).
  std::chrono::milliseconds connect_timeout{5000};
  /// Heartbeat interval proposed to the broker; 0 disables heartbeats.
  std::chrono::seconds heartbeat{30};
  /// Bounds each synchronous method (declare, bind, qos, consume, …); on expiry the socket is
  /// closed and amqp_error thrown.
  std::chrono::milliseconds rpc_timeout{10000};
  /// Shown by `rabbitmqctl list_connections client_properties` and the management UI.
  std::string connection_name = "orderd";

  /// Options for `url`, taking its heartbeat and connection_timeout query parameters.
  static connection_options from_url(const amqp_url& url);
};

/// One AMQP connection with one channel (number 1) in publisher-confirm mode, on rabbitmq-c.
///
/// Threading: NOT thread-safe. rabbitmq-c keeps per-connection state without locks, so one
/// thread at a time must own the object (a detached actor or a dedicated thread); it may be
/// handed to another thread, never shared. Every call blocks that thread: connecting up to
/// 2 × connect_timeout, synchronous methods up to rpc_timeout, publish_batch up to its
/// confirm timeout (writes themselves block while the broker applies TCP back-pressure),
/// next_delivery and poll up to their timeouts.
///
/// Heartbeats are only sent from inside calls: an idle owner must call poll() (or
/// next_delivery) at least every heartbeat/2, or the broker drops the connection.
///
/// Failure model: every failure throws amqp_error and leaves the connection closed
/// (is_open() false). There is no automatic reconnection: the owner destroys the object,
/// waits (backoff + circuit_breaker), constructs a new one, declares its topology again and
/// re-publishes whatever was not confirmed. Unacknowledged deliveries of a lost connection are
/// redelivered by the broker to the next consumer (redelivered = true).
class amqp_connection {
public:
  /// Connects, logs in, opens channel 1 and enables publisher confirms (confirm.select).
  /// Throws amqp_error (refused, timeout, 403 ACCESS_REFUSED, 530 vhost not found, …).
  explicit amqp_connection(connection_options options);

  /// Closes the channel and the connection politely (bounded by rpc_timeout); never throws.
  ~amqp_connection();

  amqp_connection(amqp_connection&&) noexcept;
  amqp_connection& operator=(amqp_connection&&) noexcept;
  amqp_connection(const amqp_connection&) = delete;
  amqp_connection& operator=(const amqp_connection&) = delete;

  /// False once a call failed or close() ran. A silently dead peer is only noticed by the
  /// next call (or by poll() through the heartbeat).
  bool is_open() const noexcept;

  /// Whether the broker has blocked publishing (connection.blocked, e.g. a memory or disk
  /// alarm); publish_batch then fails fast with timed_out instead of blocking in write().
  bool is_blocked() const noexcept;

  /// The broker's reason for is_blocked(), e.g. "low on disk".
  const std::string& blocked_reason() const noexcept;

  /// The broker's product and version, e.g. "RabbitMQ 3.10.8".
  std::string server_version() const;

  /// Closes politely; a no-op when closed. Never throws.
  void close() noexcept;

  // -- topology -------------------------------------------------------------------------------

  /// exchange.declare (idempotent with the same arguments; 406 otherwise).
  void declare_exchange(const exchange_spec& x);

  /// queue.declare with queue_arguments(q) (idempotent with the same arguments; 406 otherwise).
  queue_info declare_queue(const queue_spec& q);

  /// queue.bind.
  void bind_queue(const binding_spec& b);

  /// Declares exchanges, then queues, then bindings.
  void declare(const topology& t);

  /// queue.declare passive: the counters of an existing queue; 404 (and a closed connection)
  /// when it does not exist.
  queue_info inspect_queue(const std::string& name);

  /// queue.purge; returns how many ready messages were removed.
  uint32_t purge_queue(const std::string& name);

  /// queue.delete (unconditionally).
  void delete_queue(const std::string& name);

  /// exchange.delete (unconditionally).
  void delete_exchange(const std::string& name);

  // -- publishing -----------------------------------------------------------------------------

  /// Publishes every message (all before waiting), then waits until the broker confirmed each
  /// one or `confirm_timeout` passed, honouring `multiple` acks. Returns one result per
  /// message, in order. A connection failure throws amqp_error: then no result is known and
  /// the whole batch must be published again (consumers deduplicate by message_id).
  std::vector<publish_result> publish_batch(
    const std::vector<outgoing_message>& messages,
    std::chrono::milliseconds confirm_timeout = std::chrono::seconds{30});

  /// publish_batch of one message: to any exchange with any routing key and headers (used for
  /// dead-lettering with a reason and for delayed retries).
  publish_result publish(const outgoing_message& message,
                         std::chrono::milliseconds confirm_timeout = std::chrono::seconds{30});

  // -- consuming ------------------------------------------------------------------------------

  /// basic.qos: at most `prefetch` unacknowledged deliveries on this channel (0 = unlimited).
  void qos(uint16_t prefetch);

  /// basic.consume with manual acks; returns the consumer tag (server-generated when empty).
  std::string consume(const std::string& queue, const std::string& consumer_tag = {});

  /// basic.cancel. Deliveries already received stay available from next_delivery.
  void cancel(const std::string& consumer_tag);

  /// The next delivery for any consumer of this connection, or nullopt after `timeout`.
  /// Deliveries that arrived while waiting for confirms or a synchronous reply come first.
  std::optional<delivery> next_delivery(std::chrono::milliseconds timeout);

  /// basic.get with manual ack: the next ready message of `queue`, or nullopt when it is empty.
  /// The message stays unacknowledged until ack/nack/reject, or until the connection closes
  /// (then the broker puts it back). Use a connection without consumers: deliveries for a
  /// consumer on the same channel are kept for next_delivery, but mixing both is confusing.
  std::optional<delivery> get(const std::string& queue);

  /// basic.ack.
  void ack(uint64_t delivery_tag, bool multiple = false);

  /// basic.nack: back to the queue (redelivered) when `requeue`, else dead-lettered.
  void nack(uint64_t delivery_tag, bool requeue, bool multiple = false);

  /// basic.reject: dead-lettered (x-death reason "rejected") unless `requeue`.
  void reject(uint64_t delivery_tag, bool requeue = false);

  /// Reads what the broker sent within `timeout` (late confirms, blocked/unblocked, deliveries,
  /// which are kept for next_delivery) and sends a heartbeat when one is due.
  void poll(std::chrono::milliseconds timeout = std::chrono::milliseconds{0});

private:
  /// Throws amqp_error naming `op` unless open.
  void require(const std::string& op) const;

  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace orderd::messaging
