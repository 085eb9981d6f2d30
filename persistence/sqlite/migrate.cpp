#include "persistence/sqlite/internal.hpp"

#include <algorithm>

#include "persistence/schema/migrations.hpp"

namespace orderd::persistence::sqlite {

namespace {

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

} // namespace

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

} // namespace orderd::persistence::sqlite
