// The transactional outbox: events appended with the change that caused them, and the
// published cursor the relay moves.

#include "persistence/postgres/internal.hpp"

namespace orderd::persistence::postgres {

namespace {

/// Moves the published cursor to `through` (never back, never past the newest event); returns
/// the cursor before and after (equal when it did not move). The cursor row stays locked.
std::pair<int64_t, int64_t> mark(connection& c, int64_t through, timestamp_ms at) {
  auto r = c.run("SELECT published_through, (SELECT coalesce(max(seq), 0) FROM outbox) "
                 "FROM outbox_cursor FOR UPDATE",
                 {});
  if (r.rows() == 0)
    throw store_error(errc::storage_failure, "the outbox cursor row is missing");
  auto from = r.int64(0, 0);
  through = std::min(through, r.int64(0, 1));
  if (through <= from)
    return {from, from};
  c.run("UPDATE outbox_cursor SET published_through = $1, published_at = orderd_ts($2)",
        {num(through), num(at)});
  return {from, through};
}

} // namespace

std::vector<event_record> postgres_store::unpublished_events_after(int64_t after, size_t limit) {
  return guarded("unpublished_events", [&](connection& c) {
    static const auto sql = select(event_columns,
                                   "outbox WHERE seq > greatest($1, "
                                   "(SELECT published_through FROM outbox_cursor)) "
                                   "ORDER BY seq LIMIT $2");
    return read_all(c.run(sql, {num(after), num(detail::row_limit(limit))}), read_event);
  });
}

size_t postgres_store::mark_published(int64_t through, timestamp_ms at) {
  return guarded("mark_published", [&](connection& c) {
    c.exec("BEGIN");
    try {
      // Counted here only: the relay's mark op (the hot path) needs no count.
      auto [from, to] = mark(c, through, at);
      auto n = c.run("SELECT count(*) FROM outbox WHERE seq > $1 AND seq <= $2",
                     {num(from), num(to)})
                 .int64(0, 0);
      c.exec("COMMIT");
      return static_cast<size_t>(n);
    } catch (...) {
      if (c.healthy())
        c.exec("ROLLBACK");
      throw;
    }
  });
}

int64_t postgres_store::count_unpublished() {
  return guarded("count_unpublished", [](connection& c) {
    return c.run("SELECT count(*) FROM outbox "
                 "WHERE seq > (SELECT published_through FROM outbox_cursor)",
                 {})
      .int64(0, 0);
  });
}

size_t postgres_store::purge_published(timestamp_ms cutoff) {
  return guarded("purge_published", [&](connection& c) {
    // The first row to keep bounds the delete: the cost is the rows deleted, however large
    // the table.
    auto r = c.run("DELETE FROM outbox WHERE seq < (SELECT seq FROM outbox "
                   "WHERE seq > (SELECT published_through FROM outbox_cursor) "
                   "OR occurred_at >= orderd_ts($1) OR seq = (SELECT max(seq) FROM outbox) "
                   "ORDER BY seq LIMIT 1)",
                   {num(cutoff)});
    return static_cast<size_t>(r.affected());
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

namespace {

const row_insert outbox_row{
  "INSERT INTO outbox (id, type, aggregate, occurred_at, correlation_id, envelope) VALUES ",
  "(?::uuid, ?::text, ?::text, orderd_ts(?::bigint), ?::text, ?::text)",
  " ON CONFLICT (id) DO NOTHING RETURNING id"};

} // namespace

refusal postgres_store::run(const append_event& op) {
  // Queued: consecutive events of a change set go to the server as one INSERT, in seq order.
  auto& e = op.event;
  return queue_row(outbox_row, e.id,
                   {e.id, e.type, e.aggregate, num(e.occurred_at), e.correlation_id, e.payload},
                   [id = e.id](bool inserted) -> refusal {
                     if (!inserted)
                       return detail::event_exists(id);
                     return std::nullopt;
                   });
}

void postgres_store::run(const mark_events_published& op) {
  // The relay's mark joins the batch: one statement, never back, never past the newest event.
  deferred("UPDATE outbox_cursor SET published_through = t.target, published_at = orderd_ts($2) "
           "FROM (SELECT least($1, (SELECT coalesce(max(seq), 0) FROM outbox)) AS target) t "
           "WHERE published_through < t.target",
           {num(op.through), num(op.at)}, [](const result&) -> refusal { return std::nullopt; });
}

} // namespace orderd::persistence::postgres
