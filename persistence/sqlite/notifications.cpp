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
  if (write(*c_,
            "INSERT INTO notifications (id, channel, recipient, subject, body, status, attempts, "
            "last_error, customer_id, event_id, event_type, created_at, updated_at) VALUES (:id, "
            ":channel, :recipient, :subject, :body, :status, :attempts, :error, :customer, "
            ":event, :type, :created, :updated) ON CONFLICT (id) DO NOTHING",
            {{":id", n.id}, {":channel", to_string(n.channel)}, {":recipient", n.recipient},
             {":subject", n.subject}, {":body", n.body}, {":status", to_string(n.status)},
             {":attempts", n.attempts}, {":error", n.last_error}, {":customer", n.customer_id},
             {":event", n.event_id}, {":type", n.event_type}, {":created", n.created_at},
             {":updated", n.updated_at}})
      == 0)
    return detail::notification_exists(n.id);
  return std::nullopt;
}

refusal sqlite_store::run(const update_notification& op) {
  if (write(*c_,
            "UPDATE notifications SET status = :status, attempts = :attempts, "
            "last_error = :error, updated_at = :updated WHERE id = :id",
            {{":status", to_string(op.status)}, {":attempts", op.attempts},
             {":error", op.last_error}, {":updated", op.updated_at}, {":id", op.id}})
      == 0)
    return detail::notification_not_found(op.id);
  return std::nullopt;
}

} // namespace orderd::persistence::sqlite
