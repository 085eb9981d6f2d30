#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "persistence/store.hpp"

namespace orderd::persistence {

/// How a postgres_store_factory reaches its database and rides out outages.
struct postgres_options {
  /// A libpq connection URI or keyword/value string; every libpq parameter passes through
  /// (sslmode, sslrootcert, sslcert/sslkey, application_name, connect_timeout, ...).
  std::string conninfo;
  /// Between two attempts to reconnect a broken connection: doubling up to this.
  std::chrono::milliseconds reconnect_ceiling{2000};
  /// How long a writer whose connection broke during COMMIT keeps trying to read back whether
  /// the transaction committed, before it reports the outcome unknown.
  std::chrono::milliseconds commit_resolve_timeout{30000};
  /// Cluster drills (--cluster-audit-writes): every fenced write also records its shard, epoch
  /// and node in shard_writes, so a checker can prove no two owners' writes interleaved.
  bool audit_fenced_writes = false;
};

/// Opens connections to one PostgreSQL database. The first open() connects and brings the
/// schema up to date (persistence/schema/postgres/, under an advisory lock) and throws if it
/// cannot: a node does not start against a database it cannot reach or does not understand.
/// Later opens never throw for an outage: a store whose database is down answers every call
/// with store_error(unavailable) and reconnects by itself, with backoff. Thread-safe.
class postgres_store_factory final : public store_factory {
public:
  /// Throws store_error(invalid_input) when `options.conninfo` is empty. Connects to nothing yet.
  explicit postgres_store_factory(postgres_options options);

  std::unique_ptr<store> open() override;

  std::string backend() const override { return "postgres"; }

  /// The connection string without its password: what logs and /ready may show.
  const std::string& label() const noexcept { return label_; }

private:
  postgres_options options_;
  std::string label_;
  std::mutex migrate_mutex_;
  bool migrated_ = false;
};

} // namespace orderd::persistence
