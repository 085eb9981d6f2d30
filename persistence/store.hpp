#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "domain/cart.hpp"
#include "domain/customer.hpp"
#include "domain/event_record.hpp"
#include "domain/notification.hpp"
#include "domain/errc.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/time.hpp"

namespace orderd::persistence {

// -- write side: change sets ------------------------------------------------------------------
//
// Every durable change is a `change_set`: a list of operations that commit together or not at
// all. The single store writer groups many change sets into one transaction (group commit);
// a refused change set is undone alone (rolled back to its savepoint), so it never spoils its
// neighbours. How, once for every backend: persistence/detail/change_set_apply.hpp.

/// Insert a new product. Fails with `conflict` if the sku exists.
struct insert_product {
  product item;
};

/// Replace the descriptive fields of a product. Fails with `not_found`.
struct update_product {
  std::string sku;
  product_details details;
  timestamp_ms updated_at = 0;
};

/// Delete a product. Fails with `not_found`, or `conflict` while units are reserved.
struct delete_product {
  std::string sku;
};

/// Set `available` to an absolute value. Fails with `not_found`.
struct set_available {
  std::string sku;
  int64_t available = 0;
  timestamp_ms updated_at = 0;
};

/// Add the deltas to a product's stock figures. Guarded: fails with `insufficient_stock` if any
/// figure would drop below zero, `not_found` (or `unknown_sku`) if the sku does not exist.
/// This guard is the last line of defence against overselling.
struct adjust_stock {
  std::string sku;
  int64_t available_delta = 0;
  int64_t reserved_delta = 0;
  int64_t sold_delta = 0;
  timestamp_ms updated_at = 0;
};

/// Insert a new order with its lines. Fails with `conflict` if the id exists.
struct insert_order {
  order item;
};

/// Move an order from `from` to `to`. Guarded: fails with `illegal_transition` if the stored
/// status is not `from` (someone else moved it first), `not_found` if there is no such order.
struct transition_order {
  std::string order_id;
  order_status from = order_status::pending;
  order_status to = order_status::pending;
  timestamp_ms updated_at = 0;
  /// Stored as the order's cancel_reason when `to` is CANCELLED (ignored otherwise).
  std::string cancel_reason;
};

/// The stored outcome of a request made with an `Idempotency-Key`.
struct idempotency_record {
  std::string key;
  std::string request_hash;  ///< fingerprint of method + path + body
  int status_code = 0;       ///< HTTP status of the original response
  std::string response_body; ///< original response body (JSON)
  timestamp_ms created_at = 0;

  friend bool operator==(const idempotency_record&, const idempotency_record&) = default;
};

/// Save an idempotency record. Fails with `conflict` if the key exists.
struct save_idempotency {
  idempotency_record record;
};

/// Append an event to the outbox. Fails with `conflict` if an event with that id exists,
/// `invalid_input` if id or type is empty.
struct append_event {
  event_record event;
};

/// Renders the events that describe a change set's stock moves (see append_stock_events).
using stock_event_renderer
  = std::function<std::vector<event_record>(const std::vector<stock_move>& moves)>;

/// Append the events `render` makes from the stock moves of the operations before this one in
/// the same change set (every SKU they touched and did not delete, in first-touched order).
/// The figures are read inside the transaction, so they are exact even when several change sets
/// of one batch move the same SKU: events that carry stock figures can only be rendered here.
/// The store decides nothing; `render` (supplied by the actor) does. Fails with `internal`
/// if `render` throws.
struct append_stock_events {
  stock_event_renderer render;
};

/// Mark every outbox event up to and including seq `through` published at `at` (the relay, once
/// its publisher confirmed them: it publishes in seq order, so what is published is always a
/// prefix). The store keeps one cursor, not a flag per row: marking never moves it back, nor
/// past the newest event, and never fails. As an op it joins the writer's group commit, so
/// marking costs no transaction (and no fsync) of its own.
struct mark_events_published {
  int64_t through = 0;
  timestamp_ms at = 0;
};

/// An inbound message (RabbitMQ) whose effect is durable: recorded in the same change set as that
/// effect, so a redelivered copy is recognised and changes nothing twice.
struct processed_message {
  std::string message_id;
  std::string kind;          ///< the command, e.g. "order.place"
  timestamp_ms processed_at = 0;

  friend bool operator==(const processed_message&, const processed_message&) = default;
};

/// Record a processed inbound message. Fails with `conflict` if its id is recorded already (a
/// redelivered copy raced the first one): the whole change set is then refused.
struct record_message {
  processed_message message;
};

/// The decided outcome of charging one order (the mock payment service's record; a real
/// provider keeps the same by idempotency key). One per order, shared by every node.
struct payment_charge {
  std::string order_id;
  bool succeeded = false;
  std::string reason;        ///< why it was declined; empty when it succeeded
  int64_t amount_cents = 0;
  std::string currency;
  timestamp_ms charged_at = 0;

  friend bool operator==(const payment_charge&, const payment_charge&) = default;
};

/// Record a charge. Fails with `conflict` if the order was charged already (another node or an
/// earlier attempt decided first): the caller then reads and keeps that outcome.
struct record_charge {
  payment_charge charge;
};

/// Insert a new customer. Fails with `conflict` if the id exists or another customer has the
/// same e-mail (compared by email_key, case-insensitively).
struct insert_customer {
  customer item;
};

/// Replace a customer's details, version and updated_at with those of `item`. Guarded: fails
/// with `not_found` if there is no such customer, `conflict` if its stored version is not
/// `expected_version` (someone changed it meanwhile) or another customer has the e-mail.
struct update_customer {
  customer item;
  int64_t expected_version = 0;
};

/// Delete a customer and its cart (orders keep their customer_id). Fails with `not_found`.
struct delete_customer {
  std::string id;
};

/// Store a customer's cart (insert or replace, lines and short lines included). Guarded by
/// version: the stored cart must have version `item.version - 1` (none stored for version 1),
/// else `conflict`; the customer must exist, else `not_found`.
struct save_cart {
  cart item;
};

/// Insert a new notification (PENDING, before its first delivery attempt). Fails with
/// `conflict` if the id exists.
struct insert_notification {
  notification item;
};

/// Record a delivery attempt's outcome: status, attempts, last error, updated_at. Fails with
/// `not_found` if there is no such notification.
struct update_notification {
  std::string id;
  notification_status status = notification_status::pending;
  int64_t attempts = 0;
  std::string last_error;
  timestamp_ms updated_at = 0;
};

using store_op = std::variant<insert_product, update_product, delete_product, set_available,
                              adjust_stock, insert_order, transition_order, save_idempotency,
                              append_event, append_stock_events, mark_events_published,
                              record_message, insert_customer, update_customer,
                              delete_customer, save_cart, insert_notification,
                              update_notification, record_charge>;

/// A cluster's fencing token for one shard a change set writes: the change set commits only
/// while `node` holds the shard's lease at `epoch`, unexpired by the database's clock, and
/// nobody can take the lease over until it has committed (see persistence/postgres/cluster.hpp).
/// Only the PostgreSQL store can check fences; the others refuse a change set that has any.
struct shard_fence {
  int32_t shard = 0;
  std::string node;
  int64_t epoch = 0;

  friend bool operator==(const shard_fence&, const shard_fence&) = default;
};

/// Operations that commit together. `tag` is free for the caller (the writer uses it to route
/// replies); stores ignore it. `fences` are checked before the first operation: a change set
/// whose fence fails is refused as `unavailable` (detail starts with "fenced:").
struct change_set {
  std::vector<store_op> ops;
  uint64_t tag = 0;
  std::vector<shard_fence> fences;
};

/// The outcome of one change set.
struct change_result {
  errc code = errc::ok;
  std::string detail; ///< human-readable reason when code != ok, naming the sku/order
  /// Stock figures after the change set, for every sku it touched (insert/update/set/adjust;
  /// empty for a deleted product). Read inside the same transaction, so they are exact.
  std::vector<stock_level> stock_after;

  bool ok() const noexcept { return code == errc::ok; }
};

// -- read side ----------------------------------------------------------------------------------

/// A page of a keyset-paginated listing. `next_cursor` is empty on the last page.
template <class T>
struct page {
  std::vector<T> items;
  std::string next_cursor;
};

struct product_query {
  std::string category; ///< empty: any
  size_t limit = 50;
  std::string cursor;   ///< from a previous page; empty: first page
};

struct order_query {
  std::optional<order_status> status;
  std::string customer_id; ///< empty: any
  size_t limit = 50;
  std::string cursor;
};

struct customer_query {
  size_t limit = 50;
  std::string cursor; ///< from a previous page; empty: first page
};

struct notification_query {
  std::optional<notification_status> status;
  std::optional<notification_channel> channel;
  std::string customer_id; ///< empty: any
  size_t limit = 50;
  std::string cursor;      ///< from a previous page; empty: first page
};

/// The durable store. One instance is one connection: it is used by one thread at a time.
/// Implementations: sqlite_store (embedded default), memory_store (tests).
class store {
public:
  virtual ~store() = default;

  /// Applies the change sets in one transaction, a refused one undone alone, and returns one
  /// result per change set (same order). When this returns, every ok change set is durable.
  /// Throws store_error only if the transaction as a whole failed (nothing was committed).
  virtual std::vector<change_result> apply(const std::vector<change_set>& batch) = 0;

  virtual std::optional<product> find_product(const std::string& sku) = 0;

  /// Products ordered by sku. Throws store_error(invalid_input) on a malformed cursor.
  virtual page<product> list_products(const product_query& q) = 0;

  /// Products with available <= low_stock_threshold, ordered by sku, at most `limit`.
  virtual std::vector<product> low_stock_products(size_t limit) = 0;

  virtual std::optional<order> find_order(const std::string& id) = 0;

  /// Orders newest first (by insertion). Throws store_error(invalid_input) on a bad cursor.
  virtual page<order> list_orders(const order_query& q) = 0;

  /// PENDING orders created at or before `created_before`, oldest first, at most `limit`.
  virtual std::vector<order> due_pending_orders(timestamp_ms created_before, size_t limit) = 0;

  virtual std::optional<idempotency_record> find_idempotency(const std::string& key) = 0;

  /// Deletes idempotency records created before `cutoff`; returns how many.
  virtual size_t purge_idempotency(timestamp_ms cutoff) = 0;

  /// The record of an inbound message processed earlier, if any.
  virtual std::optional<processed_message> find_processed_message(const std::string& id) = 0;

  /// Deletes processed-message records older than `cutoff`; returns how many.
  virtual size_t purge_processed_messages(timestamp_ms cutoff) = 0;
  /// The recorded charge of an order, if it was charged.
  virtual std::optional<payment_charge> find_charge(const std::string& order_id) = 0;

  virtual std::optional<customer> find_customer(const std::string& id) = 0;

  /// Customers ordered by id. Throws store_error(invalid_input) on a malformed cursor.
  virtual page<customer> list_customers(const customer_query& q) = 0;

  /// The customer's cart, if one was ever saved.
  virtual std::optional<cart> find_cart(const std::string& customer_id) = 0;

  virtual std::optional<notification> find_notification(const std::string& id) = 0;

  /// Notifications ordered by id. Throws store_error(invalid_input) on a malformed cursor.
  virtual page<notification> list_notifications(const notification_query& q) = 0;

  /// PENDING notifications of `channel`, oldest first (by created_at, then id), at most `limit`:
  /// the ones a channel resumes after a restart, or after it turned records away.
  virtual std::vector<notification> pending_notifications(notification_channel channel,
                                                          size_t limit) = 0;

  /// Number of products and orders (for logs and the demo loader).
  virtual int64_t count_products() = 0;
  virtual int64_t count_orders() = 0;

  /// Orders per status (statuses without orders are left out), for metrics and the admin
  /// overview. The default pages through list_orders(); backends override it with one query.
  virtual std::vector<std::pair<order_status, int64_t>> count_orders_by_status() {
    std::vector<std::pair<order_status, int64_t>> out;
    for (auto s : {order_status::pending, order_status::processing, order_status::confirmed,
                   order_status::shipped, order_status::delivered, order_status::cancelled}) {
      order_query q;
      q.status = s;
      q.limit = 500;
      int64_t n = 0;
      for (;;) {
        auto pg = list_orders(q);
        n += static_cast<int64_t>(pg.items.size());
        if (pg.next_cursor.empty())
          break;
        q.cursor = pg.next_cursor;
      }
      if (n > 0)
        out.emplace_back(s, n);
    }
    return out;
  }

  // -- the transactional outbox

  /// Up to `limit` events not yet marked published, by seq (publication order).
  std::vector<event_record> unpublished_events(size_t limit) {
    return unpublished_events_after(0, limit);
  }

  /// Up to `limit` events not yet marked published and with a seq above `after`, by seq: what
  /// the relay publishes next while the mark of what it published last is still on its way.
  virtual std::vector<event_record> unpublished_events_after(int64_t after, size_t limit) = 0;

  /// Marks every event up to and including seq `through` published at `at`, in a transaction of
  /// its own (the relay uses the mark_events_published op instead). Returns how many events
  /// this newly marked: 0 when they were marked already.
  virtual size_t mark_published(int64_t through, timestamp_ms at) = 0;

  /// Number of events not yet marked published (the relay's backlog).
  virtual int64_t count_unpublished() = 0;

  /// Deletes the oldest events, in seq order, up to the first one that is unpublished or
  /// occurred at or after `cutoff`, and never the newest row (so no seq is handed out twice).
  /// Returns how many rows it deleted.
  virtual size_t purge_published(timestamp_ms cutoff) = 0;

  /// Cheap round trip to the database, for readiness probes.
  virtual bool ping() = 0;
};

/// A failure of the store as a whole (I/O error, corrupt file, bad cursor).
class store_error : public std::runtime_error {
public:
  store_error(errc code, const std::string& what) : std::runtime_error(what), code_(code) {}
  errc code() const noexcept { return code_; }

private:
  errc code_;
};

/// Opens connections to one database. Every actor that touches the store owns its own.
class store_factory {
public:
  virtual ~store_factory() = default;
  /// Opens a new connection (applying schema migrations on first use).
  virtual std::unique_ptr<store> open() = 0;
  /// Backend name for logs and /ready, e.g. "sqlite".
  virtual std::string backend() const = 0;
};

} // namespace orderd::persistence
