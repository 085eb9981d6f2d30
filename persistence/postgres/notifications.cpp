// Notifications: what is to be (or was) delivered, and each delivery attempt's outcome.

#include "persistence/postgres/internal.hpp"

namespace orderd::persistence::postgres {

std::optional<notification> postgres_store::find_notification(const std::string& id) {
  if (!uuid_shaped(id))
    return std::nullopt;
  return guarded("find_notification", [&](connection& c) {
    static const auto sql = select(notification_columns, "notifications WHERE id = $1");
    return find_one(c, sql, id, read_notification);
  });
}

page<notification> postgres_store::list_notifications(const notification_query& nq) {
  keyset_page<notification, std::string> listed{cursor_kind::notification, nq.cursor,
                                                nq.limit};
  if (listed.after() && !uuid_shaped(*listed.after()))
    throw store_error(errc::invalid_input, "malformed notification cursor");
  return guarded("list_notifications", [&](connection& c) {
    args params;
    std::string where = "WHERE true";
    auto add = [&](std::string condition, std::string value) {
      params.emplace_back(std::move(value));
      where += " AND " + condition + " $" + std::to_string(params.size());
    };
    if (listed.after())
      add("id >", *listed.after());
    if (nq.status)
      add("status =", text_of(to_string(*nq.status)));
    if (nq.channel)
      add("channel =", text_of(to_string(*nq.channel)));
    if (!nq.customer_id.empty())
      add("customer_id =", nq.customer_id);
    params.emplace_back(num(listed.fetch_limit()));
    auto sql = select(notification_columns, "notifications " + where + " ORDER BY id LIMIT $"
                                              + std::to_string(params.size()));
    return fill_page(listed, c.run(sql, params), read_notification,
                     [](const notification& n) { return n.id; });
  });
}

std::vector<notification> postgres_store::pending_notifications(notification_channel channel,
                                                                size_t limit) {
  return guarded("pending_notifications", [&](connection& c) {
    // The partial index of PENDING rows by (channel, created_at, id).
    static const auto sql = select(notification_columns,
                                   "notifications WHERE status = 'PENDING' AND channel = $1 "
                                   "ORDER BY created_at, id LIMIT $2");
    return read_all(c.run(sql, {text_of(to_string(channel)), num(detail::row_limit(limit))}),
                    read_notification);
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

namespace {

const row_insert notification_row{
  "INSERT INTO notifications (id, channel, recipient, subject, body, status, attempts, "
  "last_error, customer_id, event_id, event_type, created_at, updated_at) VALUES ",
  "(?::uuid, ?::text, ?::text, ?::text, ?::text, ?::text, ?::bigint, ?::text, ?::text, "
  "?::text, ?::text, orderd_ts(?::bigint), orderd_ts(?::bigint))",
  " ON CONFLICT (id) DO NOTHING RETURNING id"};

} // namespace

refusal postgres_store::run(const insert_notification& op) {
  auto& n = op.item;
  return queue_row(notification_row, n.id,
                   {n.id, text_of(to_string(n.channel)), n.recipient, n.subject, n.body,
                    text_of(to_string(n.status)), num(n.attempts), n.last_error, n.customer_id,
                    n.event_id, n.event_type, num(n.created_at), num(n.updated_at)},
                   [id = n.id](bool inserted) -> refusal {
                     if (!inserted)
                       return detail::notification_exists(id);
                     return std::nullopt;
                   });
}

refusal postgres_store::run(const update_notification& op) {
  if (!uuid_shaped(op.id))
    return detail::notification_not_found(op.id);
  return deferred("UPDATE notifications SET status = $2, attempts = $3, last_error = $4, "
                  "updated_at = orderd_ts($5) WHERE id = $1",
                  {op.id, text_of(to_string(op.status)), num(op.attempts), op.last_error,
                   num(op.updated_at)},
                  [id = op.id](const result& r) -> refusal {
                    if (r.affected() == 0)
                      return detail::notification_not_found(id);
                    return std::nullopt;
                  });
}

} // namespace orderd::persistence::postgres
