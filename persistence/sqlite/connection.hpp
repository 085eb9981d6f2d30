#pragma once

// One SQLite connection with its prepared-statement cache, the statement wrapper every query of
// the store goes through, and the translation of SQLite's errors into store_error. Internal to
// orderd_persistence.

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include <sqlite3.h>

#include "persistence/sqlite/sqlite_store.hpp"
#include "persistence/store.hpp"

namespace orderd::persistence::sqlite {

// -- errors -------------------------------------------------------------------------------------

/// An error reported by SQLite. Internal: translated into store_error (or, for constraint
/// violations inside a change set, into a refused change_result) before leaving the store.
class sqlite_failure : public std::runtime_error {
public:
  sqlite_failure(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }
  int primary_code() const noexcept { return code_ & 0xFF; }

private:
  int code_; // extended result code
};

/// Throws the sqlite_failure for `rc`, with the connection's message.
[[noreturn]] void fail(sqlite3* db, int rc, std::string_view doing);

inline errc store_code_for(const sqlite_failure& e) noexcept {
  // A lock held past the busy timeout is transient: the caller may retry.
  auto primary = e.primary_code();
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? errc::unavailable
                                                            : errc::storage_failure;
}

inline bool is_constraint_violation(const sqlite_failure& e) noexcept {
  return e.primary_code() == SQLITE_CONSTRAINT;
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

/// A named parameter and its value, for query::bind_all.
struct param {
  param(const char* n, int64_t v) noexcept : name(n), value(v) {}
  param(const char* n, std::string_view v) noexcept : name(n), value(v) {}
  param(const char* n, const std::string& v) noexcept : name(n), value(std::string_view{v}) {}
  param(const char* n, const char* v) noexcept : name(n), value(std::string_view{v}) {}

  const char* name;
  std::variant<int64_t, std::string_view> value; // viewed: bound before the call ends
};

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

  /// Binds each of `params` by its name.
  query& bind_all(std::initializer_list<param> params) {
    for (auto& p : params)
      std::visit([&](auto value) { bind(p.name, value); }, p.value);
    return *this;
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
  /// Opens the database file and configures the connection (WAL, synchronous, foreign keys).
  connection(const std::string& path, const sqlite_options& options);

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  ~connection();

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
  void exec_script(const char* sql);

  bool in_transaction() const noexcept { return sqlite3_get_autocommit(db_) == 0; }

  /// Ends a failed transaction. Never throws: it runs while another error is on its way out.
  void roll_back_quietly() noexcept {
    if (in_transaction())
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  int64_t changes() const noexcept { return sqlite3_changes64(db_); }

private:
  void configure(const sqlite_options& options);

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

/// The number of rows in `table`.
int64_t count_rows(connection& c, std::string_view table);

} // namespace orderd::persistence::sqlite
