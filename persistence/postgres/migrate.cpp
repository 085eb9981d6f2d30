#include "persistence/postgres/migrate.hpp"

#include <algorithm>
#include <string>

#include "persistence/schema/migrations.hpp"

namespace orderd::persistence::postgres {

namespace {

constexpr const char* create_migrations_table = R"sql(
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    bigint      NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  ))sql";

/// Holds the migration lock for its lifetime (released on every way out, errors included; a
/// connection that dies releases it in the server anyway).
class migration_lock {
public:
  explicit migration_lock(connection& c) : c_(c) {
    c_.exec("SELECT pg_advisory_lock($1)", {std::to_string(migration_lock_key)});
  }
  ~migration_lock() {
    try {
      c_.exec("SELECT pg_advisory_unlock($1)", {std::to_string(migration_lock_key)});
    } catch (...) {
      // The connection is gone: the server released the lock with the session.
    }
  }
  migration_lock(const migration_lock&) = delete;
  migration_lock& operator=(const migration_lock&) = delete;

private:
  connection& c_;
};

bool has_migrations_table(connection& c) {
  return c.exec("SELECT to_regclass('schema_migrations') IS NOT NULL").text(0, 0) == "t";
}

} // namespace

std::vector<int64_t> applied_versions(connection& c) {
  std::vector<int64_t> versions;
  if (!has_migrations_table(c))
    return versions;
  auto rows = c.exec("SELECT version FROM schema_migrations ORDER BY version");
  for (int i = 0; i < rows.rows(); ++i)
    versions.push_back(rows.int64(i, 0));
  return versions;
}

void migrate(connection& c) {
  auto migrations = schema::postgres_migrations();
  auto latest = migrations.back().version;
  migration_lock lock{c};
  c.exec(create_migrations_table);
  auto applied = applied_versions(c);
  if (!applied.empty() && applied.back() > latest)
    throw store_error(errc::storage_failure,
                      "the PostgreSQL schema at " + c.label() + " is version " +
                        std::to_string(applied.back()) + ", newer than this build knows (" +
                        std::to_string(latest) + "); run a newer orderd");
  for (auto& m : migrations) {
    if (std::binary_search(applied.begin(), applied.end(), m.version))
      continue;
    c.exec("BEGIN");
    try {
      c.exec(std::string{m.sql});
      c.exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
             {std::to_string(m.version), std::string{m.name}});
      c.exec("COMMIT");
    } catch (const store_error& e) {
      try {
        c.exec("ROLLBACK");
      } catch (...) {
      }
      throw store_error(e.code(), "PostgreSQL migration " + std::string{m.name} + " failed: " +
                                    e.what());
    }
  }
}

} // namespace orderd::persistence::postgres
