#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "persistence/store.hpp"

namespace orderd::persistence {

/// How every connection of a sqlite_store_factory is configured.
struct sqlite_options {
  /// `PRAGMA synchronous`: "FULL" survives power loss; "NORMAL" (in WAL mode) survives a
  /// process crash but may lose the last commits on power loss, and is several times faster.
  std::string synchronous = "FULL";
  /// How long a connection waits for another one's lock before giving up with `unavailable`.
  std::chrono::milliseconds busy_timeout{5000};
};

/// A schema migration recorded in the database.
struct applied_migration {
  int64_t version = 0;
  timestamp_ms applied_at = 0;

  friend bool operator==(const applied_migration&, const applied_migration&) = default;
};

/// Opens connections to one SQLite database file in WAL mode. Every `open()` opens a new
/// connection with its own prepared-statement cache; the first one applies the embedded schema
/// migrations (persistence/schema/sqlite/) and the others find them done. Thread-safe.
class sqlite_store_factory final : public store_factory {
public:
  /// Throws store_error(invalid_input) on an unknown `synchronous` mode. Opens nothing yet.
  explicit sqlite_store_factory(std::string db_path, sqlite_options options = {});

  /// Throws store_error(storage_failure) if the file cannot be opened or migrated, or if its
  /// schema is newer than this build.
  std::unique_ptr<store> open() override;

  std::string backend() const override { return "sqlite"; }

  const std::string& db_path() const noexcept { return db_path_; }

  /// The migrations recorded in the database, oldest first (opens and migrates it if needed).
  std::vector<applied_migration> applied_migrations();

private:
  std::string db_path_;
  sqlite_options options_;
};

} // namespace orderd::persistence
