#pragma once

// The PostgreSQL store, declared once for the files that define it: store.cpp (the session,
// its transaction and outages, the factory), rows.cpp (columns and row readers), and one file
// per aggregate with its reads and change-set primitives: products, orders, customers (and
// carts), notifications, outbox, keys (idempotency and inbound messages). The change-set logic
// around the primitives is detail::apply_batch's, shared with SQLite.
// Internal to orderd_persistence_postgres.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/ids.hpp"
#include "persistence/detail/change_set_apply.hpp"
#include "persistence/detail/keyset.hpp"
#include "persistence/postgres/connection.hpp"
#include "persistence/postgres/postgres_store.hpp"
#include "persistence/store.hpp"

namespace orderd::persistence::postgres {

using detail::cursor_kind;
using detail::keyset_page;
using detail::op_failure;
using detail::refusal;
using detail::stock_outcome;

/// Statement parameters in text format, `$1` first (nullopt is NULL).
using args = std::vector<std::optional<std::string>>;

inline std::string num(int64_t value) {
  return std::to_string(value);
}

/// An enum's text (the domain's to_string gives a view) as a parameter.
inline std::string text_of(std::string_view value) {
  return std::string{value};
}

/// A PostgreSQL array literal of `items` (for `= ANY($n)` and unnest), quoted and escaped.
std::string array_literal(const std::vector<std::string>& items);
std::string array_literal(const std::vector<int64_t>& items);

/// Keys stored as uuid are looked up only with ids spelled as one (domain/ids.hpp's is_uuid):
/// anything else cannot be stored, so it is simply not found, rather than an error from the
/// server's uuid parser.
inline bool uuid_shaped(std::string_view id) noexcept {
  return is_uuid(id);
}

// -- rows.cpp: what each listing selects, and the structs its rows make

constexpr std::string_view product_columns
  = "sku, name, description, category, price_cents, currency, available, reserved, sold, "
    "low_stock_threshold, version, orderd_ms(created_at), orderd_ms(updated_at)";
product read_product(const result& r, int row);

/// For SELECT and RETURNING clauses: the stock figures and threshold read_snapshot reads.
constexpr std::string_view snapshot_columns
  = "available, reserved, sold, version, low_stock_threshold";
stock_snapshot read_snapshot(const result& r, int row, std::string sku);

/// `o` is the orders table.
constexpr std::string_view order_columns
  = "o.seq, o.id, o.customer_id, o.customer_email, o.status, o.total_cents, o.currency, "
    "orderd_ms(o.created_at), orderd_ms(o.updated_at), o.cancel_reason";
/// An order row (without lines) and its seq.
std::pair<int64_t, order> read_order(const result& r, int row);
order_status read_status(const result& r, int row, int col, const std::string& order_id);

constexpr std::string_view customer_columns
  = "id, name, email, phone, address, version, orderd_ms(created_at), orderd_ms(updated_at)";
customer read_customer(const result& r, int row);

constexpr std::string_view notification_columns
  = "id, channel, recipient, subject, body, status, attempts, last_error, customer_id, "
    "event_id, event_type, orderd_ms(created_at), orderd_ms(updated_at)";
notification read_notification(const result& r, int row);

constexpr std::string_view event_columns
  = "seq, id, type, aggregate, orderd_ms(occurred_at), correlation_id, envelope";
event_record read_event(const result& r, int row);

constexpr std::string_view idempotency_columns
  = "key, request_hash, status_code, response_body, orderd_ms(created_at)";
idempotency_record read_idempotency(const result& r, int row);

constexpr std::string_view processed_message_columns
  = "message_id, kind, orderd_ms(processed_at)";
processed_message read_processed_message(const result& r, int row);

constexpr std::string_view payment_charge_columns
  = "order_id, succeeded, reason, amount_cents, currency, orderd_ms(charged_at)";
payment_charge read_payment_charge(const result& r, int row);

/// A multi-row INSERT's shape: `head` up to VALUES, one `row` of `?` placeholders (with casts:
/// a multi-row VALUES list does not take its types from the columns), and `tail` (conflict
/// clause, RETURNING the key).
struct row_insert {
  std::string_view head;
  std::string_view row;
  std::string_view tail;
};

/// The statement that inserts `rows` rows of `kind` ($1 numbered across the rows), built once
/// per kind and row count.
const std::string& multi_row_sql(const row_insert& kind, size_t rows);

/// `SELECT <columns> FROM <from>`.
std::string select(std::string_view columns, std::string_view from);

/// The row `sql` selects by its one parameter `$1 = key`, made into an item by `read`; nullopt
/// when there is none.
template <class Read>
auto find_one(connection& c, const std::string& sql, const std::string& key, Read read)
  -> std::optional<decltype(read(std::declval<const result&>(), 0))> {
  auto r = c.run(sql, {key});
  if (r.rows() == 0)
    return std::nullopt;
  return read(r, 0);
}

/// Every row of `r` made into an item by `read`.
template <class Read>
auto read_all(const result& r, Read read) {
  std::vector<decltype(read(r, 0))> items;
  items.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i)
    items.push_back(read(r, i));
  return items;
}

/// Fills a keyset page from the rows of `r` (fetched with page.fetch_limit()), keyed by `key_of`.
template <class T, class Key, class Read, class KeyOf>
page<T> fill_page(keyset_page<T, Key>& page, const result& r, Read read, KeyOf key_of) {
  for (int i = 0; i < r.rows(); ++i) {
    auto item = read(r, i);
    auto key = key_of(item);
    if (!page.offer(std::move(key), std::move(item)))
      break;
  }
  return std::move(page).take();
}

// -- the store

/// The store on one PostgreSQL session. Guards live in the SQL (WHERE clauses, constraints,
/// the order-status trigger); when a statement changes nothing, a second look tells why.
/// A broken session is dropped and reopened on a later call, no sooner than the backoff
/// allows; meanwhile every call throws store_error(unavailable).
class postgres_store final : public store, private detail::change_set_primitives {
public:
  postgres_store(const postgres_options& options, std::string label);

  // store.cpp
  std::vector<change_result> apply(const std::vector<change_set>& batch) override;
  bool ping() override;

  // products.cpp
  std::optional<product> find_product(const std::string& sku) override;
  page<product> list_products(const product_query& pq) override;
  std::vector<product> low_stock_products(size_t limit) override;
  int64_t count_products() override;

  // orders.cpp
  std::optional<order> find_order(const std::string& id) override;
  page<order> list_orders(const order_query& oq) override;
  std::vector<order> due_pending_orders(timestamp_ms created_before, size_t limit) override;
  int64_t count_orders() override;
  std::vector<std::pair<order_status, int64_t>> count_orders_by_status() override;

  // customers.cpp
  std::optional<customer> find_customer(const std::string& id) override;
  page<customer> list_customers(const customer_query& cq) override;
  std::optional<cart> find_cart(const std::string& customer_id) override;

  // notifications.cpp
  std::optional<notification> find_notification(const std::string& id) override;
  page<notification> list_notifications(const notification_query& nq) override;
  std::vector<notification> pending_notifications(notification_channel channel,
                                                  size_t limit) override;

  // outbox.cpp
  std::vector<event_record> unpublished_events_after(int64_t after, size_t limit) override;
  size_t mark_published(int64_t through, timestamp_ms at) override;
  int64_t count_unpublished() override;
  size_t purge_published(timestamp_ms cutoff) override;

  // keys.cpp
  std::optional<idempotency_record> find_idempotency(const std::string& key) override;
  size_t purge_idempotency(timestamp_ms cutoff) override;
  std::optional<processed_message> find_processed_message(const std::string& id) override;
  size_t purge_processed_messages(timestamp_ms cutoff) override;
  std::optional<payment_charge> find_charge(const std::string& order_id) override;

private:
  /// Runs `f` with the session, (re)connecting first if needed. A store_error passes through
  /// (the session is dropped if it says unavailable); anything else becomes storage_failure.
  template <class F>
  auto guarded(std::string_view doing, F&& f) -> decltype(f(std::declval<connection&>()));

  /// The session, connected. Throws store_error(unavailable) while the database is down.
  connection& session();
  void drop_session() noexcept;

  /// After COMMIT broke with the connection: reads back, on a new session, whether the
  /// transaction committed. Returns if it did; throws store_error(unavailable) if it did not
  /// or the database stayed out of reach for options_.commit_resolve_timeout.
  void resolve_commit_outcome(const store_error& lost);

  // -- change_set_primitives: the transaction (store.cpp)
  void begin() override;
  void commit() override;
  void roll_back() override;
  void savepoint() override;
  void roll_back_to_savepoint() override;
  void release_savepoint() override;
  refusal refusal_of(const std::exception& error) const override;
  refusal finish_change_set() override;
  refusal fence(const shard_fence& f) override;
  stock_outcome resolve_stock(detail::stock_pending pending) override;

  /// Sends the stock moves queued since the last ones were resolved, as few UPDATEs as their
  /// SKUs allow (one per run of distinct SKUs), and records each one's outcome.
  void send_stock_moves();

  /// Sends a write whose answer only says whether it refused, and reads that answer at the
  /// end of the change set (`check` turns it into the refusal, or nullopt): within a change set
  /// such writes share one round trip, in the pipeline of the batch's first pass.
  refusal deferred(const std::string& sql, const args& params,
                   std::function<refusal(const result&)> check);

  // -- change_set_primitives: the operations, in the file of their aggregate
  stock_outcome run(const insert_product& op) override;
  stock_outcome run(const update_product& op) override;
  refusal run(const delete_product& op) override;
  stock_outcome run(const set_available& op) override;
  stock_outcome run(const adjust_stock& op) override;
  refusal run(const insert_order& op) override;
  refusal run(const transition_order& op) override;
  refusal run(const insert_customer& op) override;
  refusal run(const update_customer& op) override;
  refusal run(const delete_customer& op) override;
  refusal run(const save_cart& op) override;
  refusal run(const insert_notification& op) override;
  refusal run(const update_notification& op) override;
  refusal run(const append_event& op) override;
  void run(const mark_events_published& op) override;
  refusal run(const save_idempotency& op) override;
  refusal run(const record_message& op) override;
  refusal run(const record_charge& op) override;

  /// The session inside the batch's transaction (begin() connected it), with every queued row
  /// sent first: statements reach the server in the order the operations ran.
  connection& tx() {
    if (!queued_rows_.empty())
      send_queued_rows();
    return *c_;
  }

  /// One row of a multi-row INSERT (`rows.hpp`'s row_insert names the table and shape):
  /// consecutive rows of one kind go to the server as one statement. `check` learns whether
  /// the row was inserted (false: its key existed).
  struct queued_row {
    const struct row_insert* kind;
    std::string key; ///< the row's unique id, as RETURNING gives it back
    args values;
    std::function<refusal(bool inserted)> check;
  };
  refusal queue_row(const row_insert& kind, std::string key, args values,
                    std::function<refusal(bool inserted)> check);
  void send_queued_rows();

  postgres_options options_;
  std::string label_;
  std::unique_ptr<connection> c_;
  std::string txid_; ///< of the open write transaction, to read its outcome back
  struct pending_check {
    connection::ticket ticket;
    std::function<refusal(const result&)> check;
  };
  std::vector<pending_check> pending_; ///< deferred writes of the current change set
  std::vector<queued_row> queued_rows_; ///< rows not sent yet (see tx())
  struct queued_move {
    adjust_stock op;
    std::optional<stock_outcome> outcome; ///< once sent and answered
  };
  std::vector<queued_move> stock_moves_; ///< of the current change set; handle = index
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
};

template <class F>
auto postgres_store::guarded(std::string_view doing, F&& f)
  -> decltype(f(std::declval<connection&>())) {
  try {
    return f(session());
  } catch (const store_error& e) {
    if (e.code() == errc::unavailable)
      drop_session();
    throw;
  } catch (const std::exception& e) {
    throw store_error(errc::storage_failure,
                      "postgres " + std::string{doing} + ": " + e.what());
  }
}

} // namespace orderd::persistence::postgres
