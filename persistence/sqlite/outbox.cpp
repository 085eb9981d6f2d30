// The transactional outbox: events appended with the change that caused them, and the
// published cursor the relay moves.

#include "persistence/sqlite/internal.hpp"

#include <algorithm>

namespace orderd::persistence::sqlite {

namespace {

/// Moves the published cursor to `through` (never back, never past the newest event); returns
/// the cursor before and after (equal when it did not move).
std::pair<int64_t, int64_t> mark(connection& c, int64_t through, timestamp_ms at) {
  int64_t from = 0;
  {
    auto q = c.prepare("SELECT published_through, (SELECT coalesce(max(seq), 0) FROM outbox) "
                       "FROM outbox_cursor");
    if (!q.step())
      throw sqlite_failure(SQLITE_CORRUPT, "the outbox cursor row is missing");
    from = q.int64(0);
    through = std::min(through, q.int64(1));
  }
  if (through <= from)
    return {from, from};
  c.prepare("UPDATE outbox_cursor SET published_through = :through, published_at = :at")
    .bind(":through", through)
    .bind(":at", at)
    .run();
  return {from, through};
}

} // namespace

std::vector<event_record> sqlite_store::unpublished_events_after(int64_t after, size_t limit) {
  return translate_errors("unpublished_events", [&] {
    std::vector<event_record> result;
    static const auto sql = select(event_columns,
                                   "outbox WHERE seq > max(:after, "
                                   "(SELECT published_through FROM outbox_cursor)) "
                                   "ORDER BY seq LIMIT :limit");
    auto q = c_->prepare(sql);
    q.bind(":after", after);
    q.bind(":limit", detail::row_limit(limit));
    while (q.step())
      result.push_back(read_event(q));
    return result;
  });
}

size_t sqlite_store::mark_published(int64_t through, timestamp_ms at) {
  return translate_errors("mark_published", [&] {
    size_t marked = 0;
    c_->prepare("BEGIN IMMEDIATE").run();
    try {
      // Counted here only: the relay's mark op (the hot path) needs no count.
      auto [from, to] = mark(*c_, through, at);
      {
        auto q = c_->prepare("SELECT count(*) FROM outbox WHERE seq > :from AND seq <= :to");
        q.bind(":from", from).bind(":to", to);
        q.step();
        marked = static_cast<size_t>(q.int64(0));
      }
      c_->prepare("COMMIT").run();
    } catch (...) {
      c_->roll_back_quietly();
      throw;
    }
    return marked;
  });
}

int64_t sqlite_store::count_unpublished() {
  return translate_errors("count_unpublished", [&] {
    auto q = c_->prepare("SELECT count(*) FROM outbox "
                         "WHERE seq > (SELECT published_through FROM outbox_cursor)");
    q.step();
    return q.int64(0);
  });
}

size_t sqlite_store::purge_published(timestamp_ms cutoff) {
  return translate_errors("purge_published", [&] {
    // The first row to keep is found by walking the primary key from its start: the cost is
    // the rows to delete, however large the table.
    c_->prepare("DELETE FROM outbox WHERE seq < (SELECT seq FROM outbox "
                "WHERE seq > (SELECT published_through FROM outbox_cursor) "
                "OR occurred_at >= :cutoff OR seq = (SELECT max(seq) FROM outbox) "
                "ORDER BY seq LIMIT 1)")
      .bind(":cutoff", cutoff)
      .run();
    return static_cast<size_t>(c_->changes());
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

refusal sqlite_store::run(const append_event& op) {
  auto& e = op.event;
  if (write(*c_,
            "INSERT INTO outbox (id, type, aggregate, occurred_at, correlation_id, envelope) "
            "VALUES (:id, :type, :aggregate, :occurred_at, :correlation_id, :envelope) "
            "ON CONFLICT (id) DO NOTHING",
            {{":id", e.id}, {":type", e.type}, {":aggregate", e.aggregate},
             {":occurred_at", e.occurred_at}, {":correlation_id", e.correlation_id},
             {":envelope", e.payload}})
      == 0)
    return detail::event_exists(e.id);
  return std::nullopt;
}

void sqlite_store::run(const mark_events_published& op) {
  mark(*c_, op.through, op.at);
}

} // namespace orderd::persistence::sqlite
