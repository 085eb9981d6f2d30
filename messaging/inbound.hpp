#pragma once

// The inbound RabbitMQ bridge's translation layer: from a delivery to a command for the
// actors, and from the actors' answer to what happens to the delivery (ack, retry later, or
// dead-letter). Plain C++ (no CAF, no rabbitmq-c), so every rule here is unit-tested directly.
// What a command does is decided by the actors; this file only decodes and routes.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/errc.hpp"
#include "domain/order.hpp"
#include "domain/time.hpp"
#include "messaging/amqp_connection.hpp"
#include "domain/dead_letter.hpp"

namespace orderd::messaging {

/// The commands other services send (routing key on the commands exchange, or the AMQP `type`).
namespace commands {
inline constexpr std::string_view inventory_adjust = "inventory.adjust";
inline constexpr std::string_view order_place = "order.place";
inline constexpr std::string_view order_cancel = "order.cancel";
inline constexpr std::string_view payment_result = "payment.result";
inline constexpr std::string_view all[] = {inventory_adjust, order_place, order_cancel,
                                           payment_result};
} // namespace commands

/// Headers orderd adds to the copies it sends to the retry and dead-letter queues.
namespace inbound_headers {
inline constexpr std::string_view attempts = "x-orderd-attempts";     ///< failed attempts so far
inline constexpr std::string_view last_error = "x-orderd-last-error"; ///< why the last one failed
inline constexpr std::string_view reason = "x-orderd-reason";         ///< why it was dead-lettered
inline constexpr std::string_view dead_lettered_at = "x-orderd-dead-lettered-at"; ///< RFC 3339
inline constexpr std::string_view routing_key = "x-orderd-routing-key"; ///< as first received
inline constexpr std::string_view replayed = "x-orderd-replayed";     ///< replays so far
} // namespace inbound_headers

/// A delivery identified as one of the commands.
struct inbound_command {
  std::string message_id;     ///< the AMQP message_id: the command is processed once per id
  std::string command;        ///< one of commands::all
  std::string correlation_id; ///< AMQP correlation_id; carried into the events it causes
  uint32_t attempts = 0;      ///< failed attempts before this delivery (x-orderd-attempts)
};

/// The command a delivery carries, or why it cannot be one (a poison message): no message_id,
/// or neither its `type` property nor its routing key names a known command.
std::variant<inbound_command, std::string> identify(const delivery& d);

/// `inventory.adjust`: `{"sku", "delta"}` adds (may be negative), `{"sku", "available"}` sets.
struct stock_command {
  std::string sku;
  bool set = false;
  int64_t amount = 0;
};

/// `order.cancel`: `{"order_id"}`.
struct cancel_command {
  std::string order_id;
};

/// `payment.result`: `{"order_id", "status": "succeeded"|"failed", "reason"?}`.
struct payment_command {
  std::string order_id;
  bool succeeded = false;
  std::string reason;
};

/// Body decoders: the value, or every problem in one line (the dead-letter reason).
std::variant<stock_command, std::string> decode_inventory_adjust(std::string_view body);
/// Same body as `POST /api/v1/orders`.
std::variant<order_request, std::string> decode_order_place(std::string_view body);
std::variant<cancel_command, std::string> decode_order_cancel(std::string_view body);
std::variant<payment_command, std::string> decode_payment_result(std::string_view body);

/// What becomes of a delivery once the actors answered.
enum class disposition : uint8_t {
  ack,         ///< done (or nothing to do): acknowledge
  retry,       ///< a transient failure: try again after a delay, up to the attempt limit
  dead_letter, ///< the command can never succeed as sent: to the dead-letter queue
};

std::string_view to_string(disposition x) noexcept;

/// The disposition of `command` answered with `code` (errc::ok for success). Only failures of
/// the server itself (unavailable, storage, internal, a race that refused the write) are
/// retried; a refused command (unknown sku, not found, invalid) is dead-lettered; cancelling
/// an order that is no longer PENDING is done (there is nothing left to cancel), and so is a
/// payment result for an order that is no longer PROCESSING (its payment was settled already).
disposition dispose(std::string_view command, errc code) noexcept;

/// "1000,5000,30000" -> delays. Throws std::invalid_argument on anything else (the settings
/// check the format first).
std::vector<std::chrono::milliseconds> parse_delays(std::string_view text);

/// The delay before retry number `attempt` (1-based): the matching entry, the last one after.
std::chrono::milliseconds retry_delay(uint32_t attempt,
                                      const std::vector<std::chrono::milliseconds>& delays);

/// The copy of `d` that waits in the delay queue `retry_queue` (published through the default
/// exchange) and comes back to the work queue when its TTL expires: same body and properties,
/// `type` = the command, x-orderd-attempts = attempts, x-orderd-last-error = error.
outgoing_message retry_copy(const delivery& d, const inbound_command& c, uint32_t attempts,
                            const std::string& retry_queue, std::string_view error);

/// The copy of `d` for the dead-letter queue: published to `dead_letter_exchange` with routing
/// key `work_queue` (how the DLQ is bound), with the reason, attempts, last error (if any), the
/// original routing key and the time. `command` may be empty (unidentified poison).
outgoing_message dead_letter_copy(const delivery& d, std::string_view command, uint32_t attempts,
                                  std::string_view reason, std::string_view last_error,
                                  const std::string& dead_letter_exchange,
                                  const std::string& work_queue, timestamp_ms now);

/// Reads a dead-lettered delivery (orderd's headers; a message dead-lettered by the broker
/// itself, e.g. by a reject, has only x-death: its reason is taken from there).
dead_letter describe(const delivery& d);

/// The copy that replays a dead letter: to `exchange` with routing key = its command (or its
/// original routing key), same message_id and body, the x-orderd-* bookkeeping reset but for
/// x-orderd-replayed, which counts replays.
outgoing_message replay_copy(const delivery& d, const std::string& exchange);

} // namespace orderd::messaging
