#pragma once

// The SQLite store, declared once for the files that define it: sqlite_store.cpp (the batch and
// its transaction, the factory), migrate.cpp, and one file per aggregate with its reads and
// change-set primitives: products, orders, customers (and carts), notifications, outbox,
// idempotency, inbound. rows.hpp maps their rows to structs, connection.hpp runs the SQL.
// Internal to orderd_persistence.

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "persistence/detail/change_set_apply.hpp"
#include "persistence/detail/keyset.hpp"
#include "persistence/sqlite/connection.hpp"
#include "persistence/sqlite/rows.hpp"
#include "persistence/sqlite/sqlite_store.hpp"
#include "persistence/store.hpp"

namespace orderd::persistence::sqlite {

using detail::cursor_kind;
using detail::keyset_page;
using detail::op_failure;
using detail::refusal;
using detail::stock_outcome;

// -- migrate.cpp

/// The migrations recorded in the database, oldest first.
std::vector<applied_migration> read_applied(connection& c);

/// Applies the embedded migrations not yet recorded, all in one transaction. Throws
/// store_error(storage_failure) if the database's schema is newer than this build.
void migrate(connection& c);

// -- the store

/// The store on one SQLite connection. Guards live in the SQL (WHERE clauses, constraints);
/// when a statement changes nothing, a second look tells why. The change-set logic around the
/// primitives is detail::apply_batch's.
class sqlite_store final : public store, private detail::change_set_primitives {
public:
  explicit sqlite_store(std::unique_ptr<connection> c) : c_(std::move(c)) {}

  // sqlite_store.cpp
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

  // idempotency.cpp
  std::optional<idempotency_record> find_idempotency(const std::string& key) override;
  size_t purge_idempotency(timestamp_ms cutoff) override;

  // inbound.cpp
  std::optional<processed_message> find_processed_message(const std::string& id) override;
  size_t purge_processed_messages(timestamp_ms cutoff) override;
  std::optional<payment_charge> find_charge(const std::string& order_id) override;

private:
  // -- change_set_primitives: the transaction (sqlite_store.cpp)
  void begin() override;
  void commit() override;
  void roll_back() override;
  void savepoint() override;
  void roll_back_to_savepoint() override;
  void release_savepoint() override;
  refusal refusal_of(const std::exception& error) const override;

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

  std::unique_ptr<connection> c_;
};

// -- helpers the aggregate files share

/// The row `sql` selects by its one parameter `:key`, made into an item by `read`; nullopt
/// when there is none.
template <class Read>
auto find_one(connection& c, std::string_view sql, const std::string& key, Read read)
  -> std::optional<std::invoke_result_t<Read, const query&>> {
  auto q = c.prepare(sql);
  q.bind(":key", key);
  if (!q.step())
    return std::nullopt;
  return read(q);
}

/// Runs an INSERT, UPDATE or DELETE with `params` bound; returns how many rows it changed (none
/// for an INSERT ... ON CONFLICT DO NOTHING that met its row).
inline int64_t write(connection& c, std::string_view sql, std::initializer_list<param> params) {
  return c.prepare(sql).bind_all(params).changed_rows();
}

/// Runs a DELETE whose one parameter is `:cutoff`; returns how many rows it deleted.
inline size_t delete_before(connection& c, std::string_view sql, timestamp_ms cutoff) {
  c.prepare(sql).bind(":cutoff", cutoff).run();
  return static_cast<size_t>(c.changes());
}

/// Inserts `lines` with `sql`, numbered from 1 in their order: binds `:owner`, `:line_no` and
/// the line's own columns (bind_line, rows.hpp).
template <class Line>
void insert_lines(connection& c, std::string_view sql, const std::string& owner,
                  const std::vector<Line>& lines) {
  int64_t line_no = 0;
  for (auto& line : lines) {
    auto q = c.prepare(sql);
    q.bind(":owner", owner).bind(":line_no", ++line_no);
    bind_line(q, line);
    q.run();
  }
}

/// Runs a listing's query, which selects rows after `:after` (bound only when the page has a
/// cursor) up to `:limit`, and fills the page with the items `read` makes, keyed by `key_of`.
template <class T, class Key, class Read, class KeyOf>
page<T> read_page(keyset_page<T, Key>& result, query& q, Read read, KeyOf key_of) {
  if (result.after())
    q.bind(":after", *result.after());
  q.bind(":limit", result.fetch_limit());
  while (q.step()) {
    auto item = read(q);
    if (!result.offer(std::invoke(key_of, item), std::move(item)))
      break;
  }
  return std::move(result).take();
}

} // namespace orderd::persistence::sqlite
