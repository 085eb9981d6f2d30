#pragma once

// The event catalogue and its wire format: one JSON envelope for every event orderd publishes.
// Plain C++ (no CAF, no rabbitmq-c): the actors render events with it when they build a change
// set, so the outbox row holds exactly the bytes the relay later publishes.
//
//   {"id": "<uuid>", "type": "order.created", "occurred_at": "2026-11-21T23:49:07.123Z",
//    "source": "<node id>", "correlation_id": "<request id>", "data": {...}}
//
// These functions only render: which events a change causes is decided by the actors (with the
// rules in domain/), never here.

#include <string>
#include <string_view>
#include <vector>

#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/event_record.hpp"

namespace orderd::events {

/// The event types (also the AMQP routing keys).
namespace types {
inline constexpr std::string_view order_created = "order.created";
inline constexpr std::string_view order_cancelled = "order.cancelled";
inline constexpr std::string_view order_status_changed = "order.status_changed";
inline constexpr std::string_view order_processing = "order.processing";
inline constexpr std::string_view order_confirmed = "order.confirmed";
inline constexpr std::string_view order_shipped = "order.shipped";
inline constexpr std::string_view order_delivered = "order.delivered";
inline constexpr std::string_view stock_rejected = "stock.rejected";
inline constexpr std::string_view order_rejected = "order.rejected";
inline constexpr std::string_view inventory_updated = "inventory.updated";
inline constexpr std::string_view inventory_low = "inventory.low";
} // namespace types

// Every event gets a new time-ordered UUID (version 7, from the event's time) as its id.

/// Where and why events happen: the node that writes them and the request that caused them.
struct origin {
  std::string source;         ///< node id (--node-id)
  std::string correlation_id; ///< from X-Correlation-Id / X-Request-Id, or generated
};

/// `order.created`: data is the whole order, as the HTTP API shows it. Aggregate: the order id.
event_record order_created(const origin& from, const order& o);

/// `order.cancelled`: data is the whole order after the cancel (status CANCELLED), with its
/// `cancel_reason` ("customer_request" or "payment_failed").
event_record order_cancelled(const origin& from, const order& o);

/// `order.status_changed`: data `{"id", "from", "to"}`; written for every transition.
event_record order_status_changed(const origin& from, const std::string& order_id,
                                               order_status before, order_status after,
                                               timestamp_ms at);

/// `order.processing`: data `{"id", "from", "to"}`; written for PENDING -> PROCESSING.
event_record order_processing(const origin& from, const std::string& order_id,
                                           order_status before, order_status after,
                                           timestamp_ms at);

/// The event named after the state an order reached: `order.processing`, `order.confirmed`,
/// `order.shipped` or `order.delivered`; data `{"id", "from", "to"}`.
event_record order_milestone(const origin& from, const std::string& order_id,
                                          order_status before, order_status after,
                                          timestamp_ms at);

/// `stock.rejected`: a placement refused for insufficient stock; data `{"customer_id",
/// "correlation_id", "items": [{"sku", "requested", "available"}]}`. Aggregate: the id the
/// order would have had (it never exists).
event_record stock_rejected(const origin& from, const std::string& attempt_id,
                                         const std::string& customer_id,
                                         const std::vector<short_line>& lines, timestamp_ms at);

/// `order.rejected`: an inbound `order.place` command refused (unknown sku, insufficient stock,
/// mixed currencies); data `{"customer_id", "correlation_id", "reason" (e.g. insufficient-stock, unknown-sku), "detail", "items":
/// [{"sku", "requested", "available"}]}` (items: the short lines, empty unless the reason is
/// insufficient_stock). The HTTP API answers such requests directly and writes no
/// order.rejected. Aggregate: the id the order would have had.
event_record order_rejected(const origin& from, const std::string& attempt_id,
                                         const std::string& customer_id, std::string_view reason,
                                         const std::string& detail,
                                         const std::vector<short_line>& lines, timestamp_ms at);

/// `inventory.updated`: data `{"sku", "available", "reserved", "sold", "version"}`.
/// Aggregate: the sku.
event_record inventory_updated(const origin& from, const stock_snapshot& s,
                                            timestamp_ms at);

/// `inventory.low`: data `{"sku", "available", "reserved", "low_stock_threshold", "version"}`.
event_record inventory_low(const origin& from, const stock_snapshot& s,
                                        timestamp_ms at);

/// True when the AMQP topic pattern matches the routing key: words are separated by dots, `*`
/// matches exactly one word, `#` zero or more words (`order.*`, `inventory.#`, `#`).
bool topic_matches(std::string_view pattern, std::string_view routing_key) noexcept;

} // namespace orderd::events
