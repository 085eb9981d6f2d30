#include "persistence/postgres/cluster.hpp"

#include <algorithm>

namespace orderd::persistence::postgres {

namespace {

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count());
}

shard_lease read_lease(const result& r, int row) {
  shard_lease l;
  l.shard = static_cast<int32_t>(r.int64(row, 0));
  l.owner = r.is_null(row, 1) ? std::string{} : r.text(row, 1);
  l.epoch = r.int64(row, 2);
  l.expires_at = r.int64(row, 3);
  l.valid = r.text(row, 4) == "t";
  return l;
}

constexpr const char* lease_columns
  = "shard, owner, epoch, orderd_ms(expires_at), expires_at > now() AND owner IS NOT NULL";

} // namespace

cluster_directory::cluster_directory(const std::string& conninfo) : c_(conninfo) {
}

int32_t cluster_directory::ensure_cluster(int32_t shard_count) {
  c_.exec("BEGIN");
  try {
    // The first node's INSERT wins; the others find its row (the primary key serialises them).
    c_.run("INSERT INTO cluster_settings (id, shard_count) VALUES (1, $1) "
           "ON CONFLICT (id) DO NOTHING",
           {std::to_string(shard_count)});
    auto stored = static_cast<int32_t>(
      c_.run("SELECT shard_count FROM cluster_settings WHERE id = 1", {}).int64(0, 0));
    c_.run("INSERT INTO shard_leases (shard) SELECT generate_series(0, $1 - 1) "
           "ON CONFLICT (shard) DO NOTHING",
           {std::to_string(stored)});
    c_.exec("COMMIT");
    return stored;
  } catch (...) {
    if (c_.healthy())
      c_.exec("ROLLBACK");
    throw;
  }
}

void cluster_directory::heartbeat(const std::string& node_id, const std::string& advertise,
                                  const std::string& incarnation) {
  c_.run("INSERT INTO cluster_members (node_id, advertise, incarnation) VALUES ($1, $2, $3) "
         "ON CONFLICT (node_id) DO UPDATE SET advertise = excluded.advertise, "
         "heartbeat_at = now(), left_at = NULL, incarnation = excluded.incarnation, "
         "started_at = CASE WHEN cluster_members.incarnation = excluded.incarnation "
         "THEN cluster_members.started_at ELSE now() END",
         {node_id, advertise, incarnation});
}

void cluster_directory::leave(const std::string& node_id, const std::string& incarnation) {
  c_.run("UPDATE cluster_members SET left_at = now() WHERE node_id = $1 AND incarnation = $2",
         {node_id, incarnation});
}

std::vector<cluster_member> cluster_directory::live_members(std::chrono::milliseconds ttl) {
  auto r = c_.run("SELECT node_id, advertise, incarnation, orderd_ms(started_at), "
                  "orderd_ms(heartbeat_at), orderd_ms(now()) - orderd_ms(heartbeat_at) "
                  "FROM cluster_members "
                  "WHERE left_at IS NULL AND heartbeat_at > now() - $1 * interval '1 millisecond' "
                  "ORDER BY node_id",
                  {ms(ttl)});
  std::vector<cluster_member> out;
  for (int row = 0; row < r.rows(); ++row)
    out.push_back({r.text(row, 0), r.text(row, 1), r.text(row, 2), r.int64(row, 3),
                   r.int64(row, 4), r.int64(row, 5)});
  return out;
}

std::optional<shard_lease> cluster_directory::acquire(int32_t shard, const std::string& node_id,
                                                      std::chrono::milliseconds ttl) {
  // One statement, on the database's clock: the row lock makes two racing nodes take turns,
  // and the second one finds the first one's unexpired lease. The history row of a change of
  // hands commits with it.
  // FOR UPDATE first: the one row lock that conflicts with a fence's FOR KEY SHARE, so a
  // takeover waits until every write fenced under the old lease has committed (a renewal, a
  // plain UPDATE of expires_at, does not conflict, so renewing never waits for writers).
  auto r = c_.run(
    "WITH locked AS (SELECT shard FROM shard_leases WHERE shard = $1 FOR UPDATE), "
    "taken AS ("
    "  UPDATE shard_leases SET owner = $2, expires_at = now() + $3 * interval '1 millisecond', "
    "  epoch = CASE WHEN owner = $2 AND expires_at > now() THEN epoch ELSE epoch + 1 END "
    "  WHERE shard = (SELECT shard FROM locked) "
    "  AND (owner IS NULL OR owner = $2 OR expires_at <= now()) "
    "  RETURNING shard, owner, epoch, expires_at, "
    "  (SELECT epoch FROM shard_leases WHERE shard = $1) AS old_epoch, "
    "  (SELECT owner FROM shard_leases WHERE shard = $1) AS old_owner), "
    "history AS ("
    "  INSERT INTO shard_lease_history (shard, epoch, owner) "
    "  SELECT shard, epoch, owner FROM taken WHERE epoch <> old_epoch) "
    "SELECT shard, owner, epoch, orderd_ms(expires_at), expires_at > now(), old_owner "
    "FROM taken",
    {std::to_string(shard), node_id, ms(ttl)});
  if (r.rows() == 0)
    return std::nullopt;
  auto lease = read_lease(r, 0);
  lease.previous_owner = r.is_null(0, 5) ? std::string{} : r.text(0, 5);
  return lease;
}

std::vector<shard_lease> cluster_directory::renew_all(const std::string& node_id,
                                                      std::chrono::milliseconds ttl) {
  // One statement (one commit, one WAL flush: under write load a flush can take long, and a
  // statement per lease made renewals miss the serving margin). It cannot deadlock with the
  // writers: their fences take FOR KEY SHARE, which an UPDATE of expires_at does not wait for
  // (see fence_sql); a takeover locks one row at a time.
  auto r = c_.run("UPDATE shard_leases SET expires_at = now() + $2 * interval '1 millisecond' "
                  "WHERE owner = $1 AND expires_at > now() "
                  "RETURNING shard, owner, epoch, orderd_ms(expires_at), true",
                  {node_id, ms(ttl)});
  std::vector<shard_lease> out;
  for (int row = 0; row < r.rows(); ++row)
    out.push_back(read_lease(r, row));
  std::sort(out.begin(), out.end(),
            [](const shard_lease& a, const shard_lease& b) { return a.shard < b.shard; });
  return out;
}

bool cluster_directory::release(int32_t shard, const std::string& node_id, int64_t epoch) {
  return c_.run("UPDATE shard_leases SET expires_at = now() "
                "WHERE shard = $1 AND owner = $2 AND epoch = $3 AND expires_at > now()",
                {std::to_string(shard), node_id, std::to_string(epoch)})
           .affected()
         == 1;
}

std::vector<shard_lease> cluster_directory::leases() {
  auto r = c_.run(std::string{"SELECT "} + lease_columns + " FROM shard_leases ORDER BY shard",
                  {});
  std::vector<shard_lease> out;
  for (int row = 0; row < r.rows(); ++row)
    out.push_back(read_lease(r, row));
  return out;
}

const char* cluster_directory::fence_sql(bool audit) {
  // FOR KEY SHARE: conflicts only with FOR UPDATE, which acquire() takes, not with the
  // renewals' UPDATE of expires_at (a stronger lock made every renewal queue behind the
  // writers, which queue behind the outbox lock: under load leases then ran out).
  if (!audit)
    return "SELECT epoch FROM shard_leases WHERE shard = $1 AND owner = $2 AND epoch = $3 "
           "AND expires_at > now() FOR KEY SHARE";
  // The audit row draws its number (the column default) from the locked row's output, so
  // after the lock is held.
  return "WITH fence AS (SELECT shard, epoch FROM shard_leases WHERE shard = $1 AND owner = $2 "
         "AND epoch = $3 AND expires_at > now() FOR KEY SHARE) "
         "INSERT INTO shard_writes (shard, epoch, node) SELECT shard, epoch, $2 FROM fence "
         "RETURNING epoch";
}

std::vector<lease_change> cluster_directory::recent_changes(int limit) {
  auto r = c_.run(
    "SELECT h.shard, h.epoch, h.owner, "
    "  coalesce((SELECT p.owner FROM shard_lease_history p WHERE p.shard = h.shard "
    "            AND p.epoch < h.epoch ORDER BY p.epoch DESC LIMIT 1), ''), "
    "  (extract(epoch FROM now() - h.acquired_at) * 1000)::bigint "
    "FROM (SELECT * FROM shard_lease_history ORDER BY write_seq DESC LIMIT $1) h "
    "ORDER BY h.write_seq DESC",
    {std::to_string(limit)});
  std::vector<lease_change> out;
  for (int row = 0; row < r.rows(); ++row)
    out.push_back({static_cast<int32_t>(r.int64(row, 0)), r.int64(row, 1), r.text(row, 2),
                   r.text(row, 3), r.int64(row, 4)});
  return out;
}

int64_t cluster_directory::prune_audited_writes(std::chrono::milliseconds keep) {
  return c_.run("DELETE FROM shard_writes WHERE committed_at < now() - $1 * interval "
                "'1 millisecond'",
                {ms(keep)})
    .affected();
}

} // namespace orderd::persistence::postgres
