#pragma once

#include <cstdint>
#include <vector>

#include "persistence/postgres/connection.hpp"

namespace orderd::persistence::postgres {

/// The key of the session advisory lock migrations run under (any two nodes agree on it).
inline constexpr int64_t migration_lock_key = 0x6f72646572640001; // "orderd" + 1

/// The schema versions recorded in the database, ascending (empty before the first start).
std::vector<int64_t> applied_versions(connection& c);

/// Brings the database to the schema this build embeds (persistence/schema/postgres/*.sql).
/// Runs under a session advisory lock, so that nodes starting together queue up: the first
/// applies each missing migration in its own transaction, the others then find nothing to do.
/// A database whose newest version is newer than this build knows is refused (store_error,
/// storage_failure): an old binary must not write to a schema it does not understand.
void migrate(connection& c);

} // namespace orderd::persistence::postgres
