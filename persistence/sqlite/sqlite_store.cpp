#include "persistence/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <unordered_map>

#include <sqlite3.h>

#include "persistence/detail/change_set_apply.hpp"
#include "persistence/detail/keyset.hpp"
#include "persistence/detail/store_common.hpp"
#include "persistence/schema/migrations.hpp"

namespace orderd::persistence {

namespace {

using detail::cursor_kind;
using detail::keyset_page;
using detail::op_failure;
using detail::refusal;
using detail::stock_outcome;

// -- errors -------------------------------------------------------------------------------------

/// An error reported by SQLite. Internal: translated into store_error (or, for constraint
/// violations inside a change set, into a refused change_result) before leaving this file.
class sqlite_failure : public std::runtime_error {
public:
  sqlite_failure(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }
  int primary_code() const noexcept { return code_ & 0xFF; }

private:
  int code_; // extended result code
};

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view doing) {
  throw sqlite_failure(rc, std::string{doing} + ": " + sqlite3_errmsg(db));
}

errc store_code_for(const sqlite_failure& e) noexcept {
  // A lock held past the busy timeout is transient: the caller may retry.
  auto primary = e.primary_code();
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? errc::unavailable
                                                            : errc::storage_failure;
}

/// Runs `f`, turning anything it throws into store_error.
template <class F>
auto translate_errors(std::string_view doing, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const store_error&) {
    throw;
  } catch (const sqlite_failure& e) {
    throw store_error(store_code_for(e), "sqlite " + std::string{doing} + ": " + e.what());
  } catch (const std::exception& e) {
    throw store_error(errc::storage_failure, "sqlite " + std::string{doing} + ": " + e.what());
  }
}

// -- statements ---------------------------------------------------------------------------------

struct statement_deleter {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};

using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_deleter>;

/// One use of a cached prepared statement. Resets it on scope exit: a statement left mid-way
/// would keep its read transaction open and stall WAL checkpoints.
class query {
public:
  query(sqlite3* db, sqlite3_stmt* stmt) noexcept : db_(db), stmt_(stmt) {}
  query(const query&) = delete;
  query& operator=(const query&) = delete;
  ~query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  query& bind(const char* name, int64_t value) {
    check(sqlite3_bind_int64(stmt_, index_of(name), value));
    return *this;
  }

  query& bind(const char* name, std::string_view value) {
    // SQLITE_TRANSIENT copies, so callers may bind temporaries. A null data pointer would
    // bind NULL rather than an empty string.
    check(sqlite3_bind_text64(stmt_, index_of(name), value.data() ? value.data() : "",
                              value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
  }

  query& bind(const char* name, const std::string& value) {
    return bind(name, std::string_view{value});
  }

  query& bind(const char* name, const char* value) {
    return bind(name, std::string_view{value});
  }

  /// Advances to the next row; false when there is none.
  bool step() {
    auto rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
      return true;
    if (rc == SQLITE_DONE)
      return false;
    fail(db_, rc, sqlite3_sql(stmt_));
  }

  /// Runs a statement whose rows (if any) are not needed.
  void run() {
    while (step()) {
      // RETURNING rows of a statement run for its effect only.
    }
  }

  /// Runs an INSERT, UPDATE or DELETE; returns how many rows it changed. The hot writes use
  /// this instead of RETURNING: SQLite collects RETURNING rows in an ephemeral table that it
  /// creates and drops in every execution, which cost more than the insert itself (callgrind on
  /// orderd_store_bench: about a third of the writer's instructions went to those tables).
  int64_t changed_rows() {
    run();
    return sqlite3_changes64(db_);
  }

  int64_t int64(int column) const noexcept { return sqlite3_column_int64(stmt_, column); }

  std::string text(int column) const {
    auto data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    auto size = static_cast<size_t>(sqlite3_column_bytes(stmt_, column));
    return data ? std::string{data, size} : std::string{};
  }

private:
  int index_of(const char* name) const {
    auto index = sqlite3_bind_parameter_index(stmt_, name);
    if (index == 0) // a typo in this file, not bad data
      throw sqlite_failure(SQLITE_RANGE, std::string{"no parameter "} + name + " in "
                                           + sqlite3_sql(stmt_));
    return index;
  }

  void check(int rc) const {
    if (rc != SQLITE_OK)
      fail(db_, rc, "bind");
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// -- connection ---------------------------------------------------------------------------------

struct string_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// One SQLite connection and its prepared statements. Used by one thread at a time.
class connection {
public:
  connection(const std::string& path, const sqlite_options& options) {
    // NOMUTEX: a store is one connection used by one thread at a time (see store.hpp).
    auto flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    auto rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string reason = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close_v2(db_);
      throw store_error(errc::storage_failure,
                        "cannot open SQLite database " + path + ": " + reason);
    }
    try {
      configure(options);
    } catch (...) {
      sqlite3_close_v2(db_);
      throw;
    }
  }

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  ~connection() {
    statements_.clear(); // finalize before closing
    sqlite3_close_v2(db_);
  }

  /// A use of the statement for `sql`, prepared on first use and cached for the connection.
  query prepare(std::string_view sql) {
    auto i = statements_.find(sql);
    if (i == statements_.end()) {
      sqlite3_stmt* raw = nullptr;
      auto rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                   SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      if (rc != SQLITE_OK)
        fail(db_, rc, "prepare");
      i = statements_.emplace(std::string{sql}, statement_ptr{raw}).first;
    }
    return query{db_, i->second.get()};
  }

  /// Runs SQL text with no parameters, possibly several statements (migrations).
  void exec_script(const char* sql) {
    char* message = nullptr;
    auto rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
      std::string reason = message ? message : sqlite3_errstr(rc);
      sqlite3_free(message);
      throw sqlite_failure(rc, reason);
    }
  }

  bool in_transaction() const noexcept { return sqlite3_get_autocommit(db_) == 0; }

  /// Ends a failed transaction. Never throws: it runs while another error is on its way out.
  void roll_back_quietly() noexcept {
    if (in_transaction())
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  int64_t changes() const noexcept { return sqlite3_changes64(db_); }

private:
  void configure(const sqlite_options& options) {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(options.busy_timeout.count()));
    // Switching a fresh file to WAL takes an exclusive lock; when several connections open a
    // new database at once, SQLite may report BUSY without calling the busy handler.
    auto deadline = std::chrono::steady_clock::now() + options.busy_timeout;
    for (;;) {
      try {
        auto q = prepare("PRAGMA journal_mode = WAL");
        if (!q.step() || q.text(0) != "wal")
          throw store_error(errc::storage_failure, "SQLite database cannot use WAL mode");
        break;
      } catch (const sqlite_failure& e) {
        if (e.primary_code() != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline)
          throw;
        sqlite3_sleep(5);
      }
    }
    exec_script(("PRAGMA synchronous = " + options.synchronous).c_str());
    exec_script("PRAGMA foreign_keys = ON");
    // Statement and savepoint journals in memory. Every change set is a savepoint and most of
    // its statements may abort, so SQLite keeps the original of each page a statement changes;
    // past 64 KiB per transaction those journals spill into a temporary file that is created,
    // written and deleted in every group commit (with the outbox rows, more bytes than the WAL
    // itself). They only ever serve a rollback, never durability.
    exec_script("PRAGMA temp_store = MEMORY");
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, statement_ptr, string_hash, std::equal_to<>> statements_;
};

/// A read-only snapshot across several queries (e.g. orders, then their lines).
class read_transaction {
public:
  explicit read_transaction(connection& c) : c_(c) { c_.prepare("BEGIN").run(); }
  read_transaction(const read_transaction&) = delete;
  read_transaction& operator=(const read_transaction&) = delete;
  ~read_transaction() { c_.roll_back_quietly(); } // a read has nothing to keep
private:
  connection& c_;
};

// -- migrations ---------------------------------------------------------------------------------

constexpr const char* create_migrations_table = R"sql(
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT NOT NULL PRIMARY KEY,
    applied_at BIGINT NOT NULL
  ))sql";

bool has_migrations_table(connection& c) {
  auto q = c.prepare(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  return q.step();
}

std::vector<applied_migration> read_applied(connection& c) {
  std::vector<applied_migration> result;
  if (!has_migrations_table(c))
    return result;
  auto q = c.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  while (q.step())
    result.push_back({q.int64(0), q.int64(1)});
  return result;
}

/// Applies the embedded migrations not yet recorded, all in one transaction. The write lock
/// (BEGIN IMMEDIATE) makes concurrent openers queue up: the first applies, the others re-read
/// and find nothing left to do.
void migrate(connection& c) {
  auto migrations = schema::sqlite_migrations();
  auto latest = migrations.back().version;
  // Checked without the write lock first, so reader connections never wait on the writer.
  // Every embedded version must be recorded, not just the newest: migrations may be merged out
  // of order (a lower number landing after a higher one), and the gap must still be applied.
  {
    auto applied = read_applied(c);
    auto newest = applied.empty() ? int64_t{0} : applied.back().version;
    if (newest > latest)
      throw store_error(errc::storage_failure,
                        "SQLite schema version " + std::to_string(newest)
                          + " is newer than this build knows (" + std::to_string(latest) + ")");
    auto recorded = [&](const schema::migration& m) {
      return std::any_of(applied.begin(), applied.end(),
                         [&](const applied_migration& a) { return a.version == m.version; });
    };
    if (std::all_of(migrations.begin(), migrations.end(), recorded))
      return;
  }
  c.prepare("BEGIN IMMEDIATE").run();
  try {
    c.exec_script(create_migrations_table);
    auto applied = read_applied(c);
    for (auto& m : migrations) {
      auto done = std::any_of(applied.begin(), applied.end(),
                              [&](const applied_migration& a) { return a.version == m.version; });
      if (done)
        continue;
      try {
        c.exec_script(std::string{m.sql}.c_str());
      } catch (const sqlite_failure& e) {
        throw sqlite_failure(e.code(), "migration " + std::string{m.name} + ": " + e.what());
      }
      c.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (:version, :now)")
        .bind(":version", m.version)
        .bind(":now", system_now_ms())
        .run();
    }
    c.prepare("COMMIT").run();
  } catch (...) {
    c.roll_back_quietly();
    throw;
  }
}

// -- row mapping --------------------------------------------------------------------------------

constexpr std::string_view product_columns
  = "sku, name, description, category, price_cents, currency, available, reserved, sold, "
    "low_stock_threshold, version, created_at, updated_at";

product read_product(const query& q) {
  product p;
  p.sku = q.text(0);
  p.name = q.text(1);
  p.description = q.text(2);
  p.category = q.text(3);
  p.price_cents = q.int64(4);
  p.currency = q.text(5);
  p.available = q.int64(6);
  p.reserved = q.int64(7);
  p.sold = q.int64(8);
  p.low_stock_threshold = q.int64(9);
  p.version = q.int64(10);
  p.created_at = q.int64(11);
  p.updated_at = q.int64(12);
  return p;
}

/// Reads `available, reserved, sold, version` starting at `column`.
stock_level read_stock(const query& q, std::string sku, int column = 0) {
  return {std::move(sku), q.int64(column), q.int64(column + 1), q.int64(column + 2),
          q.int64(column + 3)};
}

/// The columns read_snapshot expects, for RETURNING clauses.
#define ORDERD_SNAPSHOT_COLUMNS "available, reserved, sold, version, low_stock_threshold"

/// Reads `available, reserved, sold, version, low_stock_threshold` starting at `column`.
stock_snapshot read_snapshot(const query& q, std::string sku, int column = 0) {
  return {read_stock(q, std::move(sku), column), q.int64(column + 4)};
}

constexpr std::string_view customer_columns
  = "id, name, email, phone, address, version, created_at, updated_at";

constexpr std::string_view notification_columns
  = "id, channel, recipient, subject, body, status, attempts, last_error, customer_id, "
    "event_id, event_type, created_at, updated_at";

notification read_notification(const query& q) {
  notification n;
  n.id = q.text(0);
  n.channel = parse_notification_channel(q.text(1)).value_or(notification_channel::email);
  n.recipient = q.text(2);
  n.subject = q.text(3);
  n.body = q.text(4);
  n.status = parse_notification_status(q.text(5)).value_or(notification_status::pending);
  n.attempts = q.int64(6);
  n.last_error = q.text(7);
  n.customer_id = q.text(8);
  n.event_id = q.text(9);
  n.event_type = q.text(10);
  n.created_at = q.int64(11);
  n.updated_at = q.int64(12);
  return n;
}

customer read_customer(const query& q) {
  customer c;
  c.id = q.text(0);
  c.details.name = q.text(1);
  c.details.email = q.text(2);
  c.details.phone = q.text(3);
  c.details.address = q.text(4);
  c.version = q.int64(5);
  c.created_at = q.int64(6);
  c.updated_at = q.int64(7);
  return c;
}

constexpr std::string_view order_columns
  = "o.seq, o.id, o.customer_id, o.customer_email, o.status, o.total_cents, o.currency, "
    "o.created_at, o.updated_at, o.cancel_reason";

order_status read_status(const query& q, int column, const std::string& order_id) {
  auto text = q.text(column);
  if (auto status = parse_order_status(text))
    return *status;
  throw store_error(errc::storage_failure,
                    "order " + order_id + " has an unknown status '" + text + "'");
}

/// Reads an order row (without lines); returns its seq too.
std::pair<int64_t, order> read_order(const query& q) {
  order o;
  o.id = q.text(1);
  o.customer_id = q.text(2);
  o.customer_email = q.text(3);
  o.status = read_status(q, 4, o.id);
  o.total_cents = q.int64(5);
  o.currency = q.text(6);
  o.created_at = q.int64(7);
  o.updated_at = q.int64(8);
  o.cancel_reason = q.text(9);
  return {q.int64(0), std::move(o)};
}

/// Attaches lines read as `seq, sku, quantity, unit_price_cents` rows to their orders.
void attach_lines(query& lines, std::vector<order>& orders, const std::vector<int64_t>& seqs) {
  std::unordered_map<int64_t, size_t> index;
  for (size_t i = 0; i < seqs.size(); ++i)
    index.emplace(seqs[i], i);
  while (lines.step()) {
    auto i = index.find(lines.int64(0));
    if (i != index.end())
      orders[i->second].lines.push_back({lines.text(1), lines.int64(2), lines.int64(3)});
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

bool is_constraint_violation(const sqlite_failure& e) noexcept {
  return e.primary_code() == SQLITE_CONSTRAINT;
}

// -- the store ----------------------------------------------------------------------------------

class sqlite_store final : public store, private detail::change_set_primitives {
public:
  explicit sqlite_store(std::unique_ptr<connection> c) : c_(std::move(c)) {}

  std::vector<change_result> apply(const std::vector<change_set>& batch) override {
    // Optimistic first: a savepoint per change set makes SQLite copy each page the change set
    // touches into the statement journal first (the same right-edge pages of orders,
    // order_lines and outbox, in every change set): measured, it cost more than the inserts.
    return translate_errors("apply", [&] {
      return detail::apply_batch(batch, *this, detail::savepoint_policy::after_refusal);
    });
  }

  std::optional<product> find_product(const std::string& sku) override {
    return translate_errors("find_product", [&]() -> std::optional<product> {
      auto q = c_->prepare(select_products("WHERE sku = :sku"));
      q.bind(":sku", sku);
      if (q.step())
        return read_product(q);
      return std::nullopt;
    });
  }

  page<product> list_products(const product_query& pq) override {
    keyset_page<product, std::string> result{cursor_kind::product, pq.cursor, pq.limit};
    return translate_errors("list_products", [&] {
      // Only fixed fragments vary, so there are at most four statements to cache.
      std::string where = "WHERE 1 = 1";
      if (!pq.category.empty())
        where += " AND category = :category";
      if (result.after())
        where += " AND sku > :after";
      auto q = c_->prepare(select_products(where + " ORDER BY sku LIMIT :limit"));
      if (!pq.category.empty())
        q.bind(":category", pq.category);
      return read_page(result, q, read_product, &product::sku);
    });
  }

  std::vector<product> low_stock_products(size_t limit) override {
    return translate_errors("low_stock_products", [&] {
      auto q = c_->prepare(
        select_products("WHERE available <= low_stock_threshold ORDER BY sku LIMIT :limit"));
      q.bind(":limit", detail::row_limit(limit));
      std::vector<product> result;
      while (q.step())
        result.push_back(read_product(q));
      return result;
    });
  }

  std::optional<order> find_order(const std::string& id) override {
    return translate_errors("find_order", [&]() -> std::optional<order> {
      read_transaction snapshot{*c_};
      std::optional<order> result;
      {
        auto q = c_->prepare(select_orders("WHERE o.id = :id"));
        q.bind(":id", id);
        if (!q.step())
          return std::nullopt;
        result = read_order(q).second;
      }
      auto lines = c_->prepare("SELECT sku, quantity, unit_price_cents FROM order_lines "
                               "WHERE order_id = :id ORDER BY line_no");
      lines.bind(":id", id);
      while (lines.step())
        result->lines.push_back({lines.text(0), lines.int64(1), lines.int64(2)});
      return result;
    });
  }

  page<order> list_orders(const order_query& oq) override {
    keyset_page<order, int64_t> listed{cursor_kind::order, oq.cursor, oq.limit};
    return translate_errors("list_orders", [&] {
      std::string filter;
      if (oq.status)
        filter += " AND o.status = :status";
      if (!oq.customer_id.empty())
        filter += " AND o.customer_id = :customer";
      auto bind_filter = [&](query& q) {
        if (oq.status)
          q.bind(":status", to_string(*oq.status));
        if (!oq.customer_id.empty())
          q.bind(":customer", oq.customer_id);
      };
      read_transaction snapshot{*c_};
      std::vector<int64_t> seqs; // of the page's orders, for their lines
      {
        // Newest first: the page starts just below the cursor's seq.
        auto q = c_->prepare(select_orders("WHERE 1 = 1" + filter
                                           + (listed.after() ? " AND o.seq < :before" : "")
                                           + " ORDER BY o.seq DESC LIMIT :limit"));
        bind_filter(q);
        if (listed.after())
          q.bind(":before", *listed.after());
        q.bind(":limit", listed.fetch_limit());
        while (q.step()) {
          auto [seq, o] = read_order(q);
          if (!listed.offer(seq, std::move(o)))
            break;
          seqs.push_back(seq);
        }
      }
      auto result = std::move(listed).take();
      if (result.items.empty())
        return result;
      // One query for the lines of the whole page: the same filter over the page's seq range
      // selects exactly the page's orders (within this snapshot).
      auto lines = c_->prepare("SELECT o.seq, l.sku, l.quantity, l.unit_price_cents "
                               "FROM orders o JOIN order_lines l ON l.order_id = o.id "
                               "WHERE o.seq BETWEEN :lowest AND :highest"
                               + filter + " ORDER BY o.seq DESC, l.line_no");
      bind_filter(lines);
      lines.bind(":lowest", seqs.back()).bind(":highest", seqs.front());
      attach_lines(lines, result.items, seqs);
      return result;
    });
  }

  std::vector<order> due_pending_orders(timestamp_ms created_before, size_t limit) override {
    return translate_errors("due_pending_orders", [&] {
      auto pending = to_string(order_status::pending);
      read_transaction snapshot{*c_};
      std::vector<order> result;
      std::vector<int64_t> seqs;
      {
        auto q = c_->prepare(select_orders("WHERE o.status = :pending AND o.created_at <= :cutoff "
                                           "ORDER BY o.created_at, o.seq LIMIT :limit"));
        q.bind(":pending", pending).bind(":cutoff", created_before);
        q.bind(":limit", detail::row_limit(limit));
        while (q.step()) {
          auto [seq, o] = read_order(q);
          seqs.push_back(seq);
          result.push_back(std::move(o));
        }
      }
      if (result.empty())
        return result;
      // The batch is a prefix of (created_at, seq) order: bound the lines query by its last row.
      auto lines = c_->prepare(
        "SELECT o.seq, l.sku, l.quantity, l.unit_price_cents "
        "FROM orders o JOIN order_lines l ON l.order_id = o.id "
        "WHERE o.status = :pending AND o.created_at <= :cutoff "
        "AND (o.created_at, o.seq) <= (:last_created, :last_seq) "
        "ORDER BY o.created_at, o.seq, l.line_no");
      lines.bind(":pending", pending).bind(":cutoff", created_before);
      lines.bind(":last_created", result.back().created_at).bind(":last_seq", seqs.back());
      attach_lines(lines, result, seqs);
      return result;
    });
  }

  std::optional<idempotency_record> find_idempotency(const std::string& key) override {
    return translate_errors("find_idempotency", [&]() -> std::optional<idempotency_record> {
      auto q = c_->prepare("SELECT key, request_hash, status_code, response_body, created_at "
                           "FROM idempotency_keys WHERE key = :key");
      q.bind(":key", key);
      if (!q.step())
        return std::nullopt;
      return idempotency_record{q.text(0), q.text(1), static_cast<int>(q.int64(2)), q.text(3),
                                q.int64(4)};
    });
  }

  std::optional<processed_message> find_processed_message(const std::string& id) override {
    return translate_errors("find_processed_message", [&]() -> std::optional<processed_message> {
      auto q = c_->prepare("SELECT message_id, kind, processed_at FROM processed_messages "
                           "WHERE message_id = :id");
      q.bind(":id", id);
      if (!q.step())
        return std::nullopt;
      return processed_message{q.text(0), q.text(1), q.int64(2)};
    });
  }

  size_t purge_processed_messages(timestamp_ms cutoff) override {
    return translate_errors("purge_processed_messages", [&] {
      c_->prepare("DELETE FROM processed_messages WHERE processed_at < :cutoff")
        .bind(":cutoff", cutoff)
        .run();
      return static_cast<size_t>(c_->changes());
    });
  }

  size_t purge_idempotency(timestamp_ms cutoff) override {
    return translate_errors("purge_idempotency", [&] {
      c_->prepare("DELETE FROM idempotency_keys WHERE created_at < :cutoff")
        .bind(":cutoff", cutoff)
        .run();
      return static_cast<size_t>(c_->changes());
    });
  }

  std::optional<customer> find_customer(const std::string& id) override {
    return translate_errors("find_customer", [&]() -> std::optional<customer> {
      auto q = c_->prepare("SELECT " + std::string{customer_columns}
                           + " FROM customers WHERE id = :id");
      q.bind(":id", id);
      if (q.step())
        return read_customer(q);
      return std::nullopt;
    });
  }

  page<customer> list_customers(const customer_query& cq) override {
    keyset_page<customer, std::string> result{cursor_kind::customer, cq.cursor, cq.limit};
    return translate_errors("list_customers", [&] {
      auto q = c_->prepare("SELECT " + std::string{customer_columns} + " FROM customers "
                           + (result.after() ? "WHERE id > :after " : "")
                           + "ORDER BY id LIMIT :limit");
      return read_page(result, q, read_customer, &customer::id);
    });
  }

  std::optional<notification> find_notification(const std::string& id) override {
    return translate_errors("find_notification", [&]() -> std::optional<notification> {
      auto q = c_->prepare("SELECT " + std::string{notification_columns}
                           + " FROM notifications WHERE id = :id");
      q.bind(":id", id);
      if (q.step())
        return read_notification(q);
      return std::nullopt;
    });
  }

  page<notification> list_notifications(const notification_query& nq) override {
    keyset_page<notification, std::string> result{cursor_kind::notification, nq.cursor,
                                                  nq.limit};
    return translate_errors("list_notifications", [&] {
      std::string filter = "WHERE 1 = 1";
      if (result.after())
        filter += " AND id > :after";
      if (nq.status)
        filter += " AND status = :status";
      if (nq.channel)
        filter += " AND channel = :channel";
      if (!nq.customer_id.empty())
        filter += " AND customer_id = :customer";
      auto q = c_->prepare("SELECT " + std::string{notification_columns} + " FROM notifications "
                           + filter + " ORDER BY id LIMIT :limit");
      if (nq.status)
        q.bind(":status", to_string(*nq.status));
      if (nq.channel)
        q.bind(":channel", to_string(*nq.channel));
      if (!nq.customer_id.empty())
        q.bind(":customer", nq.customer_id);
      return read_page(result, q, read_notification, &notification::id);
    });
  }

  std::vector<notification> pending_notifications(notification_channel channel,
                                                  size_t limit) override {
    return translate_errors("pending_notifications", [&] {
      // The partial index of PENDING rows by (channel, created_at, id): starts at this channel's.
      auto q = c_->prepare("SELECT " + std::string{notification_columns}
                           + " FROM notifications WHERE status = 'PENDING' "
                             "AND channel = :channel ORDER BY created_at, id LIMIT :limit");
      q.bind(":channel", to_string(channel));
      q.bind(":limit", detail::row_limit(limit));
      std::vector<notification> result;
      while (q.step())
        result.push_back(read_notification(q));
      return result;
    });
  }

  std::optional<cart> find_cart(const std::string& customer_id) override {
    return translate_errors("find_cart", [&]() -> std::optional<cart> {
      read_transaction snapshot{*c_};
      cart result;
      {
        auto q = c_->prepare("SELECT status, version, created_at, updated_at FROM carts "
                             "WHERE customer_id = :id");
        q.bind(":id", customer_id);
        if (!q.step())
          return std::nullopt;
        result.customer_id = customer_id;
        result.status = parse_cart_status(q.text(0)).value_or(cart_status::open);
        result.version = q.int64(1);
        result.created_at = q.int64(2);
        result.updated_at = q.int64(3);
      }
      {
        auto q = c_->prepare("SELECT sku, quantity FROM cart_lines WHERE customer_id = :id "
                             "ORDER BY line_no");
        q.bind(":id", customer_id);
        while (q.step())
          result.lines.push_back({q.text(0), q.int64(1)});
      }
      auto q = c_->prepare("SELECT sku, requested, available FROM cart_short_lines "
                           "WHERE customer_id = :id ORDER BY line_no");
      q.bind(":id", customer_id);
      while (q.step())
        result.short_lines.push_back({q.text(0), q.int64(1), q.int64(2)});
      return result;
    });
  }

  int64_t count_products() override {
    return translate_errors("count_products", [&] { return count("products"); });
  }

  int64_t count_orders() override {
    return translate_errors("count_orders", [&] { return count("orders"); });
  }

  std::vector<std::pair<order_status, int64_t>> count_orders_by_status() override {
    return translate_errors("count_orders_by_status", [&] {
      // Walks the orders_status_seq index only.
      std::vector<std::pair<order_status, int64_t>> out;
      auto q = c_->prepare("SELECT status, count(*) FROM orders GROUP BY status");
      while (q.step())
        if (auto s = parse_order_status(q.text(0)))
          out.emplace_back(*s, q.int64(1));
      return out;
    });
  }

  std::vector<event_record> unpublished_events_after(int64_t after, size_t limit) override {
    return translate_errors("unpublished_events", [&] {
      std::vector<event_record> result;
      auto q = c_->prepare("SELECT seq, id, type, aggregate, occurred_at, correlation_id, envelope "
                           "FROM outbox WHERE seq > max(:after, "
                           "(SELECT published_through FROM outbox_cursor)) "
                           "ORDER BY seq LIMIT :limit");
      q.bind(":after", after);
      q.bind(":limit", detail::row_limit(limit));
      while (q.step()) {
        event_record e;
        e.seq = q.int64(0);
        e.id = q.text(1);
        e.type = q.text(2);
        e.aggregate = q.text(3);
        e.occurred_at = q.int64(4);
        e.correlation_id = q.text(5);
        e.payload = q.text(6);
        result.push_back(std::move(e));
      }
      return result;
    });
  }

  size_t mark_published(int64_t through, timestamp_ms at) override {
    return translate_errors("mark_published", [&] {
      size_t marked = 0;
      c_->prepare("BEGIN IMMEDIATE").run();
      try {
        // Counted here only: the relay's mark op (the hot path) needs no count.
        auto [from, to] = mark(through, at);
        {
          auto q = c_->prepare("SELECT count(*) FROM outbox WHERE seq > :from AND seq <= :to");
          q.bind(":from", from).bind(":to", to);
          q.step();
          marked = static_cast<size_t>(q.int64(0));
        }
        c_->prepare("COMMIT").run();
      } catch (...) {
        c_->roll_back_quietly();
        throw;
      }
      return marked;
    });
  }

  int64_t count_unpublished() override {
    return translate_errors("count_unpublished", [&] {
      auto q = c_->prepare("SELECT count(*) FROM outbox "
                           "WHERE seq > (SELECT published_through FROM outbox_cursor)");
      q.step();
      return q.int64(0);
    });
  }

  size_t purge_published(timestamp_ms cutoff) override {
    return translate_errors("purge_published", [&] {
      // The first row to keep is found by walking the primary key from its start: the cost is
      // the rows to delete, however large the table.
      c_->prepare("DELETE FROM outbox WHERE seq < (SELECT seq FROM outbox "
                  "WHERE seq > (SELECT published_through FROM outbox_cursor) "
                  "OR occurred_at >= :cutoff OR seq = (SELECT max(seq) FROM outbox) "
                  "ORDER BY seq LIMIT 1)")
        .bind(":cutoff", cutoff)
        .run();
      return static_cast<size_t>(c_->changes());
    });
  }

  bool ping() override {
    try {
      auto q = c_->prepare("SELECT 1");
      return q.step() && q.int64(0) == 1;
    } catch (const std::exception&) {
      return false;
    }
  }

private:
  static std::string select_products(const std::string& rest) {
    return "SELECT " + std::string{product_columns} + " FROM products " + rest;
  }

  static std::string select_orders(const std::string& rest) {
    return "SELECT " + std::string{order_columns} + " FROM orders o " + rest;
  }

  int64_t count(std::string_view table) {
    auto q = c_->prepare("SELECT count(*) FROM " + std::string{table});
    q.step();
    return q.int64(0);
  }

  // -- the transaction (change_set_primitives)

  void begin() override {
    // IMMEDIATE takes the write lock up front, so no statement can fail half-way on BUSY.
    c_->prepare("BEGIN IMMEDIATE").run();
  }

  void commit() override { c_->prepare("COMMIT").run(); }

  void roll_back() override { c_->roll_back_quietly(); }

  void savepoint() override { c_->prepare("SAVEPOINT change_set").run(); }

  void roll_back_to_savepoint() override {
    // ROLLBACK TO keeps the savepoint open; RELEASE then drops it.
    c_->prepare("ROLLBACK TO change_set").run();
    release_savepoint();
  }

  void release_savepoint() override { c_->prepare("RELEASE change_set").run(); }

  refusal refusal_of(const std::exception& error) const override {
    // A violated constraint refuses its change set only; anything else (I/O, corrupt file)
    // puts the whole transaction in doubt.
    auto failure = dynamic_cast<const sqlite_failure*>(&error);
    if (!failure || !is_constraint_violation(*failure))
      return std::nullopt;
    return op_failure{errc::invalid_input,
                      std::string{"refused by the database: "} + failure->what()};
  }

  /// The stock figures of `sku`, or nullopt if there is no such product.
  std::optional<stock_level> current_stock(const std::string& sku) {
    if (auto s = current_snapshot(sku))
      return std::move(s->level);
    return std::nullopt;
  }

  /// The stock figures and threshold of `sku`, or nullopt if there is no such product.
  std::optional<stock_snapshot> current_snapshot(const std::string& sku) {
    auto q = c_->prepare("SELECT " ORDERD_SNAPSHOT_COLUMNS " FROM products WHERE sku = :sku");
    q.bind(":sku", sku);
    if (!q.step())
      return std::nullopt;
    return read_snapshot(q, sku);
  }

  // -- the operations (change_set_primitives). Guards live in the WHERE clauses; when a
  // statement changes nothing, a second look tells why.

  stock_outcome run(const insert_product& op) override {
    auto& p = op.item;
    auto q = c_->prepare(
      "INSERT INTO products (sku, name, description, category, price_cents, currency, "
      "available, reserved, sold, low_stock_threshold, version, created_at, updated_at) "
      "VALUES (:sku, :name, :description, :category, :price, :currency, :available, "
      ":reserved, :sold, :threshold, :version, :created_at, :updated_at) "
      "ON CONFLICT (sku) DO NOTHING "
      "RETURNING " ORDERD_SNAPSHOT_COLUMNS);
    q.bind(":sku", p.sku).bind(":name", p.name).bind(":description", p.description);
    q.bind(":category", p.category).bind(":price", p.price_cents).bind(":currency", p.currency);
    q.bind(":available", p.available).bind(":reserved", p.reserved).bind(":sold", p.sold);
    q.bind(":threshold", p.low_stock_threshold).bind(":version", p.version);
    q.bind(":created_at", p.created_at).bind(":updated_at", p.updated_at);
    if (!q.step())
      return detail::product_exists(p.sku);
    return stock_move{std::nullopt, read_snapshot(q, p.sku)};
  }

  stock_outcome run(const update_product& op) override {
    auto& d = op.details;
    // The threshold may change: stock events need the one before (a rare, admin-paced write).
    auto before = current_snapshot(op.sku);
    if (!before)
      return detail::product_not_found(op.sku);
    auto q = c_->prepare(
      "UPDATE products SET name = :name, description = :description, category = :category, "
      "price_cents = :price, currency = :currency, low_stock_threshold = :threshold, "
      "updated_at = :updated_at WHERE sku = :sku "
      "RETURNING " ORDERD_SNAPSHOT_COLUMNS);
    q.bind(":name", d.name).bind(":description", d.description).bind(":category", d.category);
    q.bind(":price", d.price_cents).bind(":currency", d.currency);
    q.bind(":threshold", d.low_stock_threshold).bind(":updated_at", op.updated_at);
    q.bind(":sku", op.sku);
    if (!q.step())
      return detail::product_not_found(op.sku);
    return stock_move{std::move(before), read_snapshot(q, op.sku)};
  }

  refusal run(const delete_product& op) override {
    {
      auto q = c_->prepare("DELETE FROM products WHERE sku = :sku AND reserved = 0 RETURNING 1");
      q.bind(":sku", op.sku);
      if (q.step())
        return std::nullopt;
    }
    if (auto have = current_stock(op.sku))
      return detail::product_reserved(op.sku, have->reserved);
    return detail::product_not_found(op.sku);
  }

  stock_outcome run(const set_available& op) override {
    // An absolute value hides the old one: read it first (a rare, admin-paced write).
    auto before = current_snapshot(op.sku);
    if (!before)
      return detail::product_not_found(op.sku);
    auto q = c_->prepare("UPDATE products SET available = :available, version = version + 1, "
                         "updated_at = :updated_at WHERE sku = :sku "
                         "RETURNING " ORDERD_SNAPSHOT_COLUMNS);
    q.bind(":available", op.available).bind(":updated_at", op.updated_at).bind(":sku", op.sku);
    if (!q.step())
      return detail::product_not_found(op.sku);
    return stock_move{std::move(before), read_snapshot(q, op.sku)};
  }

  stock_outcome run(const adjust_stock& op) override {
    // The hot path (every placement): read the figures, apply the deltas here, write them back.
    // The writer holds the database's write lock for the whole transaction, so nothing changes
    // between the read and the write; the version in the WHERE clause checks that anyway.
    auto before = current_snapshot(op.sku);
    if (!before)
      return detail::product_not_found(op.sku);
    auto after = *before;
    after.level.available += op.available_delta;
    after.level.reserved += op.reserved_delta;
    after.level.sold += op.sold_delta;
    after.level.version += 1;
    // The guard against overselling: no figure may drop below zero.
    if (after.level.available < 0 || after.level.reserved < 0 || after.level.sold < 0)
      return detail::insufficient_stock(before->level, op);
    auto q = c_->prepare("UPDATE products SET available = :available, reserved = :reserved, "
                         "sold = :sold, version = :version, updated_at = :updated_at "
                         "WHERE sku = :sku AND version = :seen_version");
    q.bind(":available", after.level.available).bind(":reserved", after.level.reserved);
    q.bind(":sold", after.level.sold).bind(":version", after.level.version);
    q.bind(":updated_at", op.updated_at).bind(":sku", op.sku);
    q.bind(":seen_version", before->level.version);
    if (q.changed_rows() != 1)
      throw sqlite_failure(SQLITE_INTERNAL, "products row " + op.sku
                                              + " changed under the writer's lock");
    return stock_move{std::move(*before), std::move(after)};
  }

  refusal run(const insert_order& op) override {
    auto& o = op.item;
    {
      auto q = c_->prepare(
        "INSERT INTO orders (id, customer_id, customer_email, status, total_cents, currency, "
        "created_at, updated_at) VALUES (:id, :customer, :email, :status, :total, :currency, "
        ":created_at, :updated_at) ON CONFLICT (id) DO NOTHING");
      q.bind(":id", o.id).bind(":customer", o.customer_id).bind(":email", o.customer_email);
      q.bind(":status", to_string(o.status)).bind(":total", o.total_cents);
      q.bind(":currency", o.currency).bind(":created_at", o.created_at);
      q.bind(":updated_at", o.updated_at);
      if (q.changed_rows() == 0)
        return detail::order_exists(o.id);
    }
    int64_t line_no = 0;
    for (auto& line : o.lines) {
      c_->prepare("INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents) "
                  "VALUES (:order_id, :line_no, :sku, :quantity, :unit_price)")
        .bind(":order_id", o.id)
        .bind(":line_no", ++line_no)
        .bind(":sku", line.sku)
        .bind(":quantity", line.quantity)
        .bind(":unit_price", line.unit_price_cents)
        .run();
    }
    return std::nullopt;
  }

  refusal run(const transition_order& op) override {
    {
      auto q = c_->prepare("UPDATE orders SET status = :to, updated_at = :updated_at, "
                           "cancel_reason = :reason WHERE id = :id AND status = :from");
      q.bind(":to", to_string(op.to)).bind(":updated_at", op.updated_at);
      q.bind(":reason", op.to == order_status::cancelled ? op.cancel_reason : std::string{});
      q.bind(":id", op.order_id).bind(":from", to_string(op.from));
      if (q.changed_rows() == 1)
        return std::nullopt;
    }
    auto q = c_->prepare("SELECT status FROM orders WHERE id = :id");
    q.bind(":id", op.order_id);
    if (!q.step())
      return detail::order_not_found(op.order_id);
    return detail::wrong_order_status(op.order_id, read_status(q, 0, op.order_id), op.from);
  }

  refusal run(const save_idempotency& op) override {
    auto& r = op.record;
    auto q = c_->prepare(
      "INSERT INTO idempotency_keys (key, request_hash, status_code, response_body, created_at) "
      "VALUES (:key, :hash, :status_code, :body, :created_at) "
      "ON CONFLICT (key) DO NOTHING");
    q.bind(":key", r.key).bind(":hash", r.request_hash);
    q.bind(":status_code", int64_t{r.status_code}).bind(":body", r.response_body);
    q.bind(":created_at", r.created_at);
    if (q.changed_rows() == 0)
      return detail::idempotency_key_exists(r.key);
    return std::nullopt;
  }

  refusal run(const record_message& op) override {
    auto& m = op.message;
    auto q = c_->prepare("INSERT INTO processed_messages (message_id, kind, processed_at) "
                         "VALUES (:id, :kind, :at) ON CONFLICT (message_id) DO NOTHING");
    q.bind(":id", m.message_id).bind(":kind", m.kind).bind(":at", m.processed_at);
    if (q.changed_rows() == 0)
      return detail::message_processed_already(m.message_id);
    return std::nullopt;
  }

  refusal run(const append_event& op) override {
    auto& e = op.event;
    auto q = c_->prepare(
      "INSERT INTO outbox (id, type, aggregate, occurred_at, correlation_id, envelope) "
      "VALUES (:id, :type, :aggregate, :occurred_at, :correlation_id, :envelope) "
      "ON CONFLICT (id) DO NOTHING");
    q.bind(":id", e.id).bind(":type", e.type).bind(":aggregate", e.aggregate);
    q.bind(":occurred_at", e.occurred_at).bind(":correlation_id", e.correlation_id);
    q.bind(":envelope", e.payload);
    if (q.changed_rows() == 0)
      return detail::event_exists(e.id);
    return std::nullopt;
  }

  void run(const mark_events_published& op) override { mark(op.through, op.at); }

  // -- customers and carts: rare, human-paced writes, so a look before each write is fine.

  /// The id of the customer whose email_key is `key`, if any.
  std::optional<std::string> customer_with_email_key(const std::string& key) {
    auto q = c_->prepare("SELECT id FROM customers WHERE email_key = :key");
    q.bind(":key", key);
    if (q.step())
      return q.text(0);
    return std::nullopt;
  }

  refusal run(const insert_customer& op) override {
    auto& c = op.item;
    {
      auto q = c_->prepare("SELECT 1 FROM customers WHERE id = :id");
      q.bind(":id", c.id);
      if (q.step())
        return detail::customer_exists(c.id);
    }
    auto key = email_key(c.details.email);
    if (customer_with_email_key(key))
      return detail::email_taken(c.details.email);
    c_->prepare("INSERT INTO customers (id, name, email, email_key, phone, address, version, "
                "created_at, updated_at) VALUES (:id, :name, :email, :key, :phone, :address, "
                ":version, :created_at, :updated_at)")
      .bind(":id", c.id)
      .bind(":name", c.details.name)
      .bind(":email", c.details.email)
      .bind(":key", key)
      .bind(":phone", c.details.phone)
      .bind(":address", c.details.address)
      .bind(":version", c.version)
      .bind(":created_at", c.created_at)
      .bind(":updated_at", c.updated_at)
      .run();
    return std::nullopt;
  }

  refusal run(const update_customer& op) override {
    auto& c = op.item;
    {
      auto q = c_->prepare("SELECT version FROM customers WHERE id = :id");
      q.bind(":id", c.id);
      if (!q.step())
        return detail::customer_not_found(c.id);
      if (q.int64(0) != op.expected_version)
        return detail::customer_changed(c.id, op.expected_version, q.int64(0));
    }
    auto key = email_key(c.details.email);
    if (auto owner = customer_with_email_key(key); owner && *owner != c.id)
      return detail::email_taken(c.details.email);
    c_->prepare("UPDATE customers SET name = :name, email = :email, email_key = :key, "
                "phone = :phone, address = :address, version = :version, "
                "updated_at = :updated_at WHERE id = :id")
      .bind(":name", c.details.name)
      .bind(":email", c.details.email)
      .bind(":key", key)
      .bind(":phone", c.details.phone)
      .bind(":address", c.details.address)
      .bind(":version", c.version)
      .bind(":updated_at", c.updated_at)
      .bind(":id", c.id)
      .run();
    return std::nullopt;
  }

  refusal run(const insert_notification& op) override {
    auto& n = op.item;
    auto q = c_->prepare(
      "INSERT INTO notifications (id, channel, recipient, subject, body, status, attempts, "
      "last_error, customer_id, event_id, event_type, created_at, updated_at) VALUES (:id, "
      ":channel, :recipient, :subject, :body, :status, :attempts, :error, :customer, :event, "
      ":type, :created, :updated) ON CONFLICT (id) DO NOTHING");
    q.bind(":id", n.id).bind(":channel", to_string(n.channel)).bind(":recipient", n.recipient);
    q.bind(":subject", n.subject).bind(":body", n.body).bind(":status", to_string(n.status));
    q.bind(":attempts", n.attempts).bind(":error", n.last_error).bind(":customer", n.customer_id);
    q.bind(":event", n.event_id).bind(":type", n.event_type);
    q.bind(":created", n.created_at).bind(":updated", n.updated_at);
    if (q.changed_rows() == 0)
      return detail::notification_exists(n.id);
    return std::nullopt;
  }

  refusal run(const update_notification& op) override {
    auto q = c_->prepare("UPDATE notifications SET status = :status, attempts = :attempts, "
                         "last_error = :error, updated_at = :updated WHERE id = :id");
    q.bind(":status", to_string(op.status)).bind(":attempts", op.attempts);
    q.bind(":error", op.last_error).bind(":updated", op.updated_at).bind(":id", op.id);
    if (q.changed_rows() == 0)
      return detail::notification_not_found(op.id);
    return std::nullopt;
  }

  refusal run(const delete_customer& op) override {
    // The cart and its lines go with it (ON DELETE CASCADE).
    auto q = c_->prepare("DELETE FROM customers WHERE id = :id RETURNING 1");
    q.bind(":id", op.id);
    if (!q.step())
      return detail::customer_not_found(op.id);
    q.run();
    return std::nullopt;
  }

  refusal run(const save_cart& op) override {
    auto& c = op.item;
    {
      auto q = c_->prepare("SELECT 1 FROM customers WHERE id = :id");
      q.bind(":id", c.customer_id);
      if (!q.step())
        return detail::customer_not_found(c.customer_id);
    }
    {
      auto q = c_->prepare("SELECT version FROM carts WHERE customer_id = :id");
      q.bind(":id", c.customer_id);
      int64_t stored = q.step() ? q.int64(0) : 0;
      if (stored != c.version - 1)
        return detail::cart_changed(c.customer_id, c.version - 1, stored);
    }
    c_->prepare("INSERT INTO carts (customer_id, status, version, created_at, updated_at) "
                "VALUES (:id, :status, :version, :created_at, :updated_at) "
                "ON CONFLICT (customer_id) DO UPDATE SET status = excluded.status, "
                "version = excluded.version, updated_at = excluded.updated_at")
      .bind(":id", c.customer_id)
      .bind(":status", to_string(c.status))
      .bind(":version", c.version)
      .bind(":created_at", c.created_at)
      .bind(":updated_at", c.updated_at)
      .run();
    c_->prepare("DELETE FROM cart_lines WHERE customer_id = :id").bind(":id", c.customer_id).run();
    c_->prepare("DELETE FROM cart_short_lines WHERE customer_id = :id")
      .bind(":id", c.customer_id)
      .run();
    int64_t line_no = 0;
    for (auto& line : c.lines)
      c_->prepare("INSERT INTO cart_lines (customer_id, line_no, sku, quantity) "
                  "VALUES (:id, :line_no, :sku, :quantity)")
        .bind(":id", c.customer_id)
        .bind(":line_no", ++line_no)
        .bind(":sku", line.sku)
        .bind(":quantity", line.quantity)
        .run();
    line_no = 0;
    for (auto& line : c.short_lines)
      c_->prepare("INSERT INTO cart_short_lines (customer_id, line_no, sku, requested, "
                  "available) VALUES (:id, :line_no, :sku, :requested, :available)")
        .bind(":id", c.customer_id)
        .bind(":line_no", ++line_no)
        .bind(":sku", line.sku)
        .bind(":requested", line.requested)
        .bind(":available", line.available)
        .run();
    return std::nullopt;
  }

  /// Marks the unpublished rows among `seqs`; returns how many. The relay marks runs of
  /// consecutive seqs (a prefix of the backlog), so one range update per run does it.
  /// Moves the published cursor to `through` (never back, never past the newest event); returns
  /// the cursor before and after (equal when it did not move).
  std::pair<int64_t, int64_t> mark(int64_t through, timestamp_ms at) {
    int64_t from = 0;
    {
      auto q = c_->prepare("SELECT published_through, (SELECT coalesce(max(seq), 0) FROM outbox) "
                           "FROM outbox_cursor");
      if (!q.step())
        throw sqlite_failure(SQLITE_CORRUPT, "the outbox cursor row is missing");
      from = q.int64(0);
      through = std::min(through, q.int64(1));
    }
    if (through <= from)
      return {from, from};
    c_->prepare("UPDATE outbox_cursor SET published_through = :through, published_at = :at")
      .bind(":through", through)
      .bind(":at", at)
      .run();
    return {from, through};
  }

  std::unique_ptr<connection> c_;
};

std::string normalized_synchronous(std::string mode) {
  std::transform(mode.begin(), mode.end(), mode.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (mode != "FULL" && mode != "NORMAL")
    throw store_error(errc::invalid_input,
                      "sqlite synchronous must be FULL or NORMAL, not '" + mode + "'");
  return mode;
}

} // namespace

sqlite_store_factory::sqlite_store_factory(std::string db_path, sqlite_options options)
  : db_path_(std::move(db_path)), options_(std::move(options)) {
  // Validated here because the value is spliced into a PRAGMA, which takes no parameters.
  options_.synchronous = normalized_synchronous(std::move(options_.synchronous));
  if (options_.busy_timeout.count() < 0)
    throw store_error(errc::invalid_input, "sqlite busy timeout must not be negative");
}

std::unique_ptr<store> sqlite_store_factory::open() {
  return translate_errors("open " + db_path_, [&]() -> std::unique_ptr<store> {
    auto c = std::make_unique<connection>(db_path_, options_);
    migrate(*c);
    return std::make_unique<sqlite_store>(std::move(c));
  });
}

std::vector<applied_migration> sqlite_store_factory::applied_migrations() {
  return translate_errors("applied_migrations " + db_path_, [&] {
    connection c{db_path_, options_};
    migrate(c);
    return read_applied(c);
  });
}

} // namespace orderd::persistence
