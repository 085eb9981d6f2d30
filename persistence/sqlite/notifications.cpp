// Notifications: what is to be (or was) delivered, and each delivery attempt's outcome.

#include "persistence/sqlite/internal.hpp"

namespace orderd::persistence::sqlite {

std::optional<notification> sqlite_store::find_notification(const std::string& id) {
  return translate_errors("find_notification", [&] {
    return find_one(*c_, select(notification_columns, "notifications WHERE id = :key"), id,
                    read_notification);
  });
}

page<notification> sqlite_store::list_notifications(const notification_query& nq) {
  keyset_page<notification, std::string> result{cursor_kind::notification, nq.cursor,
                                                nq.limit};
  return translate_errors("list_notifications", [&] {
    std::string filter = "WHERE 1 = 1";
    if (result.after())
      filter += " AND id > :after";
    if (nq.status)
      filter += " AND status = :status";
    if (nq.channel)
      filter += " AND channel = :channel";
    if (!nq.customer_id.empty())
      filter += " AND customer_id = :customer";
    auto q = c_->prepare(
      select(notification_columns, "notifications " + filter + " ORDER BY id LIMIT :limit"));
    if (nq.status)
      q.bind(":status", to_string(*nq.status));
    if (nq.channel)
      q.bind(":channel", to_string(*nq.channel));
    if (!nq.customer_id.empty())
      q.bind(":customer", nq.customer_id);
    return read_page(result, q, read_notification, &notification::id);
  });
}

std::vector<notification> sqlite_store::pending_notifications(notification_channel channel,
                                                              size_t limit) {
  return translate_errors("pending_notifications", [&] {
    // The partial index of PENDING rows by (channel, created_at, id): starts at this channel's.
    auto q = c_->prepare(select(notification_columns,
                                "notifications WHERE status = 'PENDING' AND channel = :channel "
                                "ORDER BY created_at, id LIMIT :limit"));
    q.bind(":channel", to_string(channel));
    q.bind(":limit", detail::row_limit(limit));
    std::vector<notification> result;
    while (q.step())
      result.push_back(read_notification(q));
    return result;
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

refusal sqlite_store::run(const insert_notification& op) {
  auto& n = op.item;
  auto q = c_->prepare(
    "INSERT INTO notifications (id, channel, recipient, subject, body, status, attempts, "
    "last_error, customer_id, event_id, event_type, created_at, updated_at) VALUES (:id, "
    ":channel, :recipient, :subject, :body, :status, :attempts, :error, :customer, :event, "
    ":type, :created, :updated) ON CONFLICT (id) DO NOTHING");
  q.bind(":id", n.id).bind(":channel", to_string(n.channel)).bind(":recipient", n.recipient);
  q.bind(":subject", n.subject).bind(":body", n.body).bind(":status", to_string(n.status));
  q.bind(":attempts", n.attempts).bind(":error", n.last_error).bind(":customer", n.customer_id);
  q.bind(":event", n.event_id).bind(":type", n.event_type);
  q.bind(":created", n.created_at).bind(":updated", n.updated_at);
  if (q.changed_rows() == 0)
    return detail::notification_exists(n.id);
  return std::nullopt;
}

refusal sqlite_store::run(const update_notification& op) {
  auto q = c_->prepare("UPDATE notifications SET status = :status, attempts = :attempts, "
                       "last_error = :error, updated_at = :updated WHERE id = :id");
  q.bind(":status", to_string(op.status)).bind(":attempts", op.attempts);
  q.bind(":error", op.last_error).bind(":updated", op.updated_at).bind(":id", op.id);
  if (q.changed_rows() == 0)
    return detail::notification_not_found(op.id);
  return std::nullopt;
}

} // namespace orderd::persistence::sqlite
