#include "persistence/sqlite/connection.hpp"

namespace orderd::persistence::sqlite {

void fail(sqlite3* db, int rc, std::string_view doing) {
  throw sqlite_failure(rc, std::string{doing} + ": " + sqlite3_errmsg(db));
}

connection::connection(const std::string& path, const sqlite_options& options) {
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

connection::~connection() {
  statements_.clear(); // finalize before closing
  sqlite3_close_v2(db_);
}

void connection::exec_script(const char* sql) {
  char* message = nullptr;
  auto rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string reason = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw sqlite_failure(rc, reason);
  }
}

void connection::configure(const sqlite_options& options) {
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

int64_t count_rows(connection& c, std::string_view table) {
  auto q = c.prepare("SELECT count(*) FROM " + std::string{table});
  q.step();
  return q.int64(0);
}

} // namespace orderd::persistence::sqlite
