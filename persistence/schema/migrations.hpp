#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace orderd::persistence::schema {

/// One versioned schema file, embedded at build time from
/// `persistence/schema/<backend>/NNN_description.sql` (see persistence/CMakeLists.txt).
struct migration {
  int64_t version;       ///< NNN from the file name
  std::string_view name; ///< the file name, for logs and errors
  std::string_view sql;  ///< the file's statements, without BEGIN/COMMIT
};

/// The SQLite migrations in ascending version order.
std::span<const migration> sqlite_migrations() noexcept;

/// The PostgreSQL migrations in ascending version order.
std::span<const migration> postgres_migrations() noexcept;

} // namespace orderd::persistence::schema
