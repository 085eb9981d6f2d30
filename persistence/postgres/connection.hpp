#pragma once

// A thin libpq wrapper for the PostgreSQL store: one connection, statements with text
// parameters, results read by row and column, and errors that carry the SQLSTATE but never the
// password of the connection string.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "persistence/store.hpp"

struct pg_conn;
struct pg_result;

namespace orderd::persistence::postgres {

/// `conninfo` (a libpq URI such as postgresql://user:secret@host/db?sslmode=require, or a
/// keyword/value string) with every password replaced by `***`: what logs, /ready and error
/// messages may show.
std::string redact(std::string_view conninfo);

/// A statement that failed in the server, or a connection that failed: the store errc (a lost
/// or refused connection is `unavailable`, anything else `storage_failure`) and the SQLSTATE
/// ("" when the server sent none, e.g. the connection broke).
class pg_error : public store_error {
public:
  pg_error(errc code, std::string sqlstate, const std::string& what)
    : store_error(code, what), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
  std::string sqlstate_;
};

/// The rows of one statement's result.
class result {
public:
  explicit result(pg_result* res) noexcept : res_(res) {}
  int rows() const noexcept;
  bool is_null(int row, int col) const noexcept;
  std::string text(int row, int col) const;
  int64_t int64(int row, int col) const;
  /// How many rows an INSERT, UPDATE or DELETE changed.
  int64_t affected() const;

private:
  struct deleter {
    void operator()(pg_result* r) const noexcept;
  };
  std::unique_ptr<pg_result, deleter> res_;
};

/// One libpq connection. Not thread-safe: each connection belongs to one actor.
class connection {
public:
  /// Connects; a server that cannot be reached or refuses is a pg_error(unavailable) whose
  /// message names the redacted connection string.
  explicit connection(const std::string& conninfo);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Runs `sql` (several statements allowed) and returns the last statement's rows.
  result exec(const std::string& sql);

  /// Runs one statement with `$1, $2, …` bound to `params` (text format; nullopt is NULL).
  result exec(const std::string& sql, const std::vector<std::optional<std::string>>& params);

  /// Like exec with params, through a server-side prepared statement: prepared on first use of
  /// `sql` on this session and run by name afterwards (the hot path parses nothing). In
  /// pipeline mode: send() and take() at once.
  result run(const std::string& sql, const std::vector<std::optional<std::string>>& params);

  /// Whether the session is still usable (libpq has not seen it break).
  bool healthy() const noexcept;

  // -- pipeline mode: statements sent without waiting for each answer, read back in order, so
  // that many of them cost one round trip. Outside pipeline mode send() runs the statement at
  // once (and throws its error at once); take() then hands over the stored result.

  using ticket = uint64_t;

  /// Starts sending statements without waiting (the session must be idle: no statement open).
  void enter_pipeline();
  /// Reads every answer still due, then returns to one statement at a time. Errors of
  /// statements nobody took are dropped (their transaction is in error anyway).
  void leave_pipeline() noexcept;
  bool pipelined() const noexcept { return pipeline_; }

  /// Sends `sql` (a prepared statement, as run()) and returns the ticket for its answer.
  ticket send(const std::string& sql, const std::vector<std::optional<std::string>>& params);
  /// The answer to `t`, reading as far as needed (one round trip for everything sent so far).
  /// Throws the statement's pg_error; a statement the server skipped because an earlier one in
  /// the pipeline failed throws that earlier error.
  result take(ticket t);

  /// The redacted connection string, for messages.
  const std::string& label() const noexcept { return label_; }

private:
  result check(pg_result* res, const std::string& sql);

  /// Reads the next answer due in the pipeline into answers_.
  void read_next_answer();
  /// Waits (at most 15 s) until the next answer can be read without blocking.
  void await_answer(const std::string& sql);
  pg_error error_of(pg_result* res, const std::string& sql);

  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_; ///< sql → statement name

  /// What the pipeline still owes an answer for, in order: a statement's ticket, or 0 for a
  /// PREPARE sent ahead of its first use (with the sql, for messages).
  struct due {
    ticket id;
    std::string sql;
  };
  bool pipeline_ = false;
  std::deque<due> due_;
  std::map<ticket, std::variant<result, pg_error>> answers_; ///< read, not yet taken
  std::optional<pg_error> first_failure_; ///< of this pipeline: what later statements skipped for
  bool flushed_ = true;                   ///< nothing sent since the last flush request
  ticket next_ticket_ = 1;
  std::string label_;
  std::string password_; ///< scrubbed from every message, whatever libpq puts there
};

} // namespace orderd::persistence::postgres
