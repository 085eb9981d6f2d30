#pragma once

// The whole message protocol of orderd's actors, in one place.
//
// Deadlines: requests between actors carry no timeout (`caf::infinite`). A request to an actor
// that dies is answered with an error by CAF itself, so nothing waits forever on a crash, and
// the clock thread is spared a timer per hop. Only the edge (the HTTP bridge, the processor)
// sets deadlines.
//
// Conventions: every request names its target with an atom verb first, then the key (sku or
// order id) where the target is a registry, then the payload. Replies are the value or a
// `caf::error` built from `orderd::errc` (see fail()). All actors are dynamically typed
// `caf::actor`s; the tables below are the contract each behaviour implements.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include "domain/cart.hpp"
#include "domain/customer.hpp"
#include "domain/errc.hpp"
#include "domain/notification.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/dead_letter.hpp"
#include "persistence/store.hpp"

CAF_ERROR_CODE_ENUM(orderd::errc, "orderd")

// -- atoms (verbs, at most 10 characters) --------------------------------------------------------

CAF_ADD_ATOM(orderd, orderd::atoms, reserve_atom, "reserve")
CAF_ADD_ATOM(orderd, orderd::atoms, release_atom, "release")
CAF_ADD_ATOM(orderd, orderd::atoms, commit_atom, "commit")
CAF_ADD_ATOM(orderd, orderd::atoms, resync_atom, "resync")
CAF_ADD_ATOM(orderd, orderd::atoms, get_atom, "get")
CAF_ADD_ATOM(orderd, orderd::atoms, create_atom, "create")
CAF_ADD_ATOM(orderd, orderd::atoms, update_atom, "update")
CAF_ADD_ATOM(orderd, orderd::atoms, delete_atom, "delete")
CAF_ADD_ATOM(orderd, orderd::atoms, set_atom, "set")
CAF_ADD_ATOM(orderd, orderd::atoms, adjust_atom, "adjust")
CAF_ADD_ATOM(orderd, orderd::atoms, place_atom, "place")
CAF_ADD_ATOM(orderd, orderd::atoms, cancel_atom, "cancel")
CAF_ADD_ATOM(orderd, orderd::atoms, move_atom, "move")
CAF_ADD_ATOM(orderd, orderd::atoms, crash_atom, "crash")
CAF_ADD_ATOM(orderd, orderd::atoms, write_atom, "write")
CAF_ADD_ATOM(orderd, orderd::atoms, flush_atom, "flush")
CAF_ADD_ATOM(orderd, orderd::atoms, list_atom, "list")
CAF_ADD_ATOM(orderd, orderd::atoms, low_atom, "low")
CAF_ADD_ATOM(orderd, orderd::atoms, due_atom, "due")
CAF_ADD_ATOM(orderd, orderd::atoms, idem_atom, "idem")
CAF_ADD_ATOM(orderd, orderd::atoms, ping_atom, "ping")
CAF_ADD_ATOM(orderd, orderd::atoms, tick_atom, "tick")
CAF_ADD_ATOM(orderd, orderd::atoms, load_atom, "load")
CAF_ADD_ATOM(orderd, orderd::atoms, respawn_atom, "respawn")
CAF_ADD_ATOM(orderd, orderd::atoms, stats_atom, "stats")
CAF_ADD_ATOM(orderd, orderd::atoms, call_atom, "call")
CAF_ADD_ATOM(orderd, orderd::atoms, purge_atom, "purge")
CAF_ADD_ATOM(orderd, orderd::atoms, idle_atom, "idle")
CAF_ADD_ATOM(orderd, orderd::atoms, stay_atom, "stay")
CAF_ADD_ATOM(orderd, orderd::atoms, outbox_atom, "outbox")
CAF_ADD_ATOM(orderd, orderd::atoms, backlog_atom, "backlog")
CAF_ADD_ATOM(orderd, orderd::atoms, nudge_atom, "nudge")
CAF_ADD_ATOM(orderd, orderd::atoms, publish_atom, "publish")
CAF_ADD_ATOM(orderd, orderd::atoms, subscribe_atom, "subscribe")
CAF_ADD_ATOM(orderd, orderd::atoms, unsub_atom, "unsub")
CAF_ADD_ATOM(orderd, orderd::atoms, event_atom, "event")
CAF_ADD_ATOM(orderd, orderd::atoms, status_atom, "status")
CAF_ADD_ATOM(orderd, orderd::atoms, retry_atom, "retry")
CAF_ADD_ATOM(orderd, orderd::atoms, processed_atom, "processed")
CAF_ADD_ATOM(orderd, orderd::atoms, dlq_atom, "dlq")
CAF_ADD_ATOM(orderd, orderd::atoms, replay_atom, "replay")
CAF_ADD_ATOM(orderd, orderd::atoms, count_atom, "count")
CAF_ADD_ATOM(orderd, orderd::atoms, add_atom, "add")
CAF_ADD_ATOM(orderd, orderd::atoms, remove_atom, "remove")
CAF_ADD_ATOM(orderd, orderd::atoms, checkout_atom, "checkout")
CAF_ADD_ATOM(orderd, orderd::atoms, notify_atom, "notify")
CAF_ADD_ATOM(orderd, orderd::atoms, deliver_atom, "deliver")
CAF_ADD_ATOM(orderd, orderd::atoms, charge_atom, "charge")
CAF_ADD_ATOM(orderd, orderd::atoms, settle_atom, "settle")
CAF_ADD_ATOM(orderd, orderd::atoms, ship_atom, "ship")

namespace orderd {

using namespace orderd::atoms;

// -- payloads ------------------------------------------------------------------------------------

/// A hold a stock actor granted to one order line.
struct reservation {
  std::string sku;
  int64_t quantity = 0;
  int64_t unit_price_cents = 0;
  std::string currency;
};

/// Who asked for a product or stock change: the request's correlation (trace) id, carried into
/// the change's events and log lines, and the AMQP message_id of an inbound command (empty over
/// HTTP), recorded with the change so a redelivered copy changes nothing.
struct change_origin {
  std::string correlation_id;
  std::string message_id;
};

/// What the HTTP or AMQP bridge asks the order registry to place.
struct placement_request {
  order_request request;
  /// Optional Idempotency-Key with the fingerprint of the request it came with.
  std::string idempotency_key;
  std::string request_hash;
  /// Encodes the success response stored with the idempotency key (status, body), so a replay
  /// returns the original bytes. Supplied by the bridge: the actors stay free of wire formats.
  std::function<std::string(const order&)> render_response;
  /// The caller's correlation (trace) id, carried into the events this placement writes;
  /// empty: the order actor makes one up.
  std::string correlation_id;
  /// The AMQP message_id of an inbound `order.place` command (empty over HTTP). The outcome,
  /// order.created or order.rejected, commits with a processed-message record of this id.
  std::string message_id;
  /// Store ops that commit in the same change set as the order, or not at all (a cart
  /// checkout empties the cart with them, so an order never leaves a full cart behind).
  std::vector<persistence::store_op> commit_with_order;
};

/// The reply to a placement: the new order, or the stored response of an earlier request made
/// with the same idempotency key.
struct placement_result {
  bool replayed = false;
  order placed;             ///< valid when !replayed
  int replay_status = 0;    ///< valid when replayed
  std::string replay_body;  ///< valid when replayed
};

/// The outcome of charging one order: from the payment service (mock) to the processor, or
/// from another service through the inbound `payment.result` command to the order registry.
struct payment_result {
  std::string order_id;
  bool succeeded = false;
  std::string reason;         ///< why it failed (informational; stored only in logs)
  std::string correlation_id; ///< carried into the events of the settlement; empty: new one
  std::string message_id;     ///< inbound payment.result: commits its processed record
};

/// Work for the HTTP bridge actor: a continuation that runs inside an actor, so it can make
/// non-blocking requests and hand the reply back to the connection that asked.
struct bridge_call {
  std::function<void(caf::event_based_actor*)> run;
};

/// A publisher's answer to a batch of outbox events: the first `confirmed` events of the batch
/// are safe (confirmed by the broker, or delivered by the in-process bus); the others were not,
/// for `error`. The relay marks exactly the confirmed prefix published.
struct publish_ack {
  uint64_t confirmed = 0;
  std::string error;
};

/// What the event relay reports about itself (for /ready).
struct relay_status {
  std::string publisher;        ///< "in-process" or "rabbitmq"
  std::string state;            ///< its circuit breaker: "closed", "open" or "half-open"
  int64_t backlog = -1;         ///< unpublished events; -1 when the store did not answer
  uint64_t published = 0;       ///< events published since the relay started
  uint32_t failures = 0;        ///< consecutive failed attempts
  std::string last_error;       ///< why the last attempt failed (empty after a success)
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

/// Counters one supervisor reports about itself.
struct supervisor_stats {
  std::string name;
  int64_t live_children = 0;
  int64_t restarts = 0;
  int64_t escalations = 0;
  /// The supervisor above it ("" for the root) and the child name it has there, for drawing
  /// the tree.
  std::string parent;
  std::string slot;
  /// Names of its live children when they are few and named (the root's); registries, with
  /// one child per order or SKU, report only live_children.
  std::vector<std::string> children;
};

/// Orders per status, as the store counts them (statuses without orders are left out).
using order_status_counts = std::vector<std::pair<order_status, int64_t>>;

// -- the protocol, actor by actor -----------------------------------------------------------------
//
// store writer (one per node; owns the write connection; group commit):
//   (write_atom, change_set)                      -> change_result   (after the batch committed)
//   (purge_atom, timestamp_ms cutoff)             -> size_t      expired idempotency keys
//   (purge_atom, outbox_atom, timestamp_ms cutoff) -> size_t     published events before cutoff
//   (purge_atom, processed_atom, timestamp_ms cutoff) -> size_t  processed-message records
//   After a batch that appended outbox events, it sends (nudge_atom) to the event relay.
//   (crash_atom)                                  -> fault injection
//
// store reader (pool; each owns a read connection):
//   (get_atom, product_tag, sku)                  -> product | not_found
//   (list_atom, product_query)                    -> page<product>
//   (low_atom, size_t limit)                      -> std::vector<product>
//   (get_atom, order_tag, id)                     -> order | not_found
//   (list_atom, order_query)                      -> page<order>
//   (due_atom, timestamp_ms before, size_t limit) -> std::vector<order>
//   (idem_atom, key)                              -> idempotency_record | not_found
//   (get_atom, customer_tag, id)                  -> customer | not_found
//   (list_atom, customer_query)                   -> page<customer>
//   (get_atom, cart_tag, customer_id)             -> cart | not_found
//   (ping_atom)                                   -> bool
//   (outbox_atom, size_t limit, int64_t after)    -> std::vector<event_record>  unpublished, by seq,
//                                                    seq > after (what the relay has not sent yet)
//   (backlog_atom)                                -> int64_t     unpublished events
//   (processed_atom, message_id)                  -> bool        inbound message done already
//   (count_atom, order_tag)                       -> order_status_counts
//   (get_atom, notification_tag, id)              -> notification | not_found
//   (list_atom, notification_query)               -> page<notification>
//   (due_atom, notification_tag, notification_channel, size_t limit)
//                                                 -> std::vector<notification>  PENDING, oldest first
//
// stock actor (one per sku; lives under the stock registry, which forwards by sku):
//   (reserve_atom, sku, order_id, qty)            -> reservation | unknown_sku | insufficient_stock
//   (release_atom, sku, order_id)                 -> void        drop a hold (order failed)
//   (commit_atom, sku, order_id, stock_level)     -> void        the hold is durable now
//   (resync_atom, sku)                            -> void        reload committed figures
//   (get_atom, sku)                               -> product | not_found
//   (create_atom, sku, product)                   -> product | conflict
//   (update_atom, sku, product_details)           -> product | not_found
//   (delete_atom, sku)                            -> bool | not_found | conflict
//   (set_atom, sku, int64 available)              -> product | not_found
//   (adjust_atom, sku, int64 delta)               -> product | not_found | insufficient_stock
//   (create_atom | update_atom | delete_atom | set_atom | adjust_atom, ..., change_origin)
//                                                 the same, with the request's correlation id
//                                                 in the events and logs; with a message_id
//                                                 (inbound inventory.adjust) the change commits
//                                                 with the message's processed record
//                                                 (conflict if it exists)
//   (crash_atom, sku)                             -> fault injection
//
// order registry (spawns one order actor per order on demand, passivates idle ones):
//   (place_atom, placement_request)               -> placement_result | errc
//   (get_atom, order_id)                          -> order | not_found
//   (cancel_atom, order_id, correlation_id)       -> order | not_found | illegal_transition
//   (move_atom, order_id, order_status to, correlation_id)
//                                                 -> order | not_found | illegal_transition
//   (cancel_atom, order_id, correlation_id, message_id)  the same for an inbound order.cancel
//   (correlation_id: carried into the events of the change; empty: a new one is made up)
//   Placements and cancels with a message_id commit a processed-message record with their
//   change (conflict: processed already). A placement with a message_id that is refused for a
//   business reason (unknown_sku, insufficient_stock, currency_mismatch) commits an
//   order.rejected event and the record before the refusal is answered.
//   (settle_atom, payment_result)                 -> order | not_found | illegal_transition
//     the payment saga's last step: succeeded -> CONFIRMED (reserved stock becomes sold),
//     failed -> CANCELLED with reason payment_failed (reserved stock is released); the order
//     must be PROCESSING. With a message_id the processed record commits with the change.
//   (ship_atom, order_id, order_status to, correlation_id)
//                                                 -> order | not_found | invalid_input (not
//                                                    SHIPPED/DELIVERED) | illegal_transition
//   (crash_atom, order_id)                        -> fault injection
//
// payment service (the mock; one per node, see actors/payment_actor.hpp):
//   (charge_atom, order_id, int64 amount_cents, currency) -> payment_result  after the latency;
//     charges are recorded by order id: charging an order again answers the recorded outcome
//
// cart registry (customers and carts; one cart actor per customer on demand, passivates idle
// ones; see actors/cart_actor.hpp). Customer writes go through it so that deleting a customer
// also stops the customer's cart actor. Reads of customers go to the store readers.
//   (create_atom, customer_details)               -> customer | conflict (e-mail taken)
//   (update_atom, customer_id, customer_details)  -> customer | not_found | conflict
//   (delete_atom, customer_id)                    -> bool | not_found
//   (get_atom, customer_id)                       -> priced_cart | not_found (no customer/cart)
//   (add_atom, customer_id, sku, int64 qty)       -> priced_cart | not_found | unknown_sku |
//                                                    invalid_input | conflict (locked)
//   (remove_atom, customer_id, sku)               -> priced_cart | not_found | conflict (locked)
//   (checkout_atom, customer_id, placement_request)
//                                                 -> placement_result | conflict (locked, empty)
//                                                    | insufficient_stock (cart marked) | errc
//     (the request's key, hash, renderer and correlation id come from the caller; the cart
//      actor fills in the customer and the lines)
//   (crash_atom, customer_id)                     -> fault injection (the cart actor)
//   (crash_atom)                                  -> fault injection (the registry)
//
// event relay (one per node; publishes the outbox in seq order, see actors/relay.hpp):
//   (nudge_atom)                                  -> void        new events committed
//   (status_atom)                                 -> relay_status
//
// event publisher (the in-process bus, or the RabbitMQ bridge when --amqp-url is set):
//   (publish_atom, std::vector<event_record>)     -> publish_ack
//
// event bus (in-process subscribers, see actors/event_bus.hpp):
//   (subscribe_atom, std::string pattern)         -> bool        the sender gets matching events
//   (subscribe_atom, std::string pattern, actor)  -> bool        `actor` gets them
//   (unsub_atom, std::string pattern)             -> bool
//   delivers (event_atom, event_record) to each subscriber whose topic pattern matches the type
//
// inbound command bridge (RabbitMQ consumer, only with --amqp-url; messaging/amqp_consumer.hpp):
//   (status_atom)                                 -> inbound_status
//   (crash_atom, uint32 n)                        -> bool  fault injection: the next n commands fail
//   (list_atom, dlq_atom, size_t limit)           -> std::vector<dead_letter>
//   (replay_atom, dlq_atom, message_id)           -> dead_letter (the one replayed)
//                                                    | not_found | unavailable (no broker)
//
// notification supervisor (actors/notifier.hpp; subscribes to the bus, owns the channels):
//   (event_atom, event_record)                    -> void        from the bus: write records, deliver
//   (notify_atom, notification)                   -> notification | errc   ad-hoc: the id, times
//                                                    and status are filled in; replied once durable
//
// notification channel (one per channel, under the notification supervisor):
//   (notify_atom, notification)                   -> void        deliver a durable PENDING record;
//                                                    past channel_queue_limit records in memory it
//                                                    is left PENDING in the store and read back
//                                                    when the queue runs empty
//   (retry_atom, notification)                    -> void        (to itself) a retry is due
//   (tick_atom)                                   -> void        (to itself) the breaker may allow
//
// notification transport (email, webhook, push; blocking ones run detached):
//   (deliver_atom, notification)                  -> bool | unavailable (why it failed)
//
// every supervisor:
//   (stats_atom)                                  -> std::vector<supervisor_stats>
//
// HTTP bridge:
//   (call_atom, bridge_call)                      -> runs the continuation

/// Tags to tell product, order, customer and cart reads apart on the reader.
struct product_tag {};
struct order_tag {};
struct customer_tag {};
struct cart_tag {};
struct notification_tag {};

// -- errors --------------------------------------------------------------------------------------

/// Builds a business error with a human-readable detail.
caf::error fail(errc code, std::string detail);

/// Builds an insufficient-stock error carrying every short line.
caf::error fail_short(std::vector<short_line> lines);

/// The orderd code of an error; CAF's own errors (timeouts, dead actors) map to `unavailable`.
errc code_of(const caf::error& err) noexcept;

/// The detail text given to fail(), or a description of a CAF error.
std::string detail_of(const caf::error& err);

/// The short lines of an insufficient-stock error (empty for any other error).
std::vector<short_line> short_lines_of(const caf::error& err);

// -- inspect() for the domain types that travel in messages --------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_level& x) {
  return f(caf::meta::type_name("stock_level"), x.sku, x.available, x.reserved, x.sold,
           x.version);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, product& x) {
  return f(caf::meta::type_name("product"), x.sku, x.name, x.description, x.category,
           x.price_cents, x.currency, x.available, x.reserved, x.sold, x.low_stock_threshold,
           x.version, x.created_at, x.updated_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, product_details& x) {
  return f(caf::meta::type_name("product_details"), x.name, x.description, x.category,
           x.price_cents, x.currency, x.low_stock_threshold);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_line& x) {
  return f(caf::meta::type_name("order_line"), x.sku, x.quantity, x.unit_price_cents);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order& x) {
  return f(caf::meta::type_name("order"), x.id, x.customer_id, x.customer_email, x.status,
           x.lines, x.total_cents, x.currency, x.created_at, x.updated_at, x.cancel_reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, short_line& x) {
  return f(caf::meta::type_name("short_line"), x.sku, x.requested, x.available);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_result& x) {
  return f(caf::meta::type_name("payment_result"), x.order_id, x.succeeded, x.reason,
           x.correlation_id, x.message_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_ack& x) {
  return f(caf::meta::type_name("publish_ack"), x.confirmed, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, relay_status& x) {
  return f(caf::meta::type_name("relay_status"), x.publisher, x.state, x.backlog, x.published,
           x.failures, x.last_error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reservation& x) {
  return f(caf::meta::type_name("reservation"), x.sku, x.quantity, x.unit_price_cents,
           x.currency);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, customer_details& x) {
  return f(caf::meta::type_name("customer_details"), x.name, x.email, x.phone, x.address);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, customer& x) {
  return f(caf::meta::type_name("customer"), x.id, x.details, x.version, x.created_at,
           x.updated_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_record& x) {
  return f(caf::meta::type_name("event_record"), x.id, x.type, x.aggregate, x.occurred_at,
           x.correlation_id, x.payload, x.seq);
}

} // namespace orderd

// Local-only payloads: they hold functions, variants or templates and never leave the process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::placement_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::placement_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::bridge_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::supervisor_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::inbound_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::change_origin)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::dead_letter)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<orderd::dead_letter>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<orderd::supervisor_stats>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::product_tag)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::order_tag)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::change_set)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::change_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::product_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::order_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::page<orderd::product>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::page<orderd::order>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::idempotency_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::order_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::order_status_counts)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::customer_tag)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::cart_tag)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::cart)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::priced_cart)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::customer_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::notification_tag)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::notification_channel)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::notification)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<orderd::notification>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::notification_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::page<orderd::notification>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::page<orderd::customer>)
