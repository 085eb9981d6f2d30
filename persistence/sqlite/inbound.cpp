// Processed inbound messages (RabbitMQ), so a redelivered copy changes nothing twice.

#include "persistence/sqlite/internal.hpp"

namespace orderd::persistence::sqlite {

std::optional<processed_message> sqlite_store::find_processed_message(const std::string& id) {
  return translate_errors("find_processed_message", [&] {
    return find_one(*c_,
                    select(processed_message_columns, "processed_messages WHERE message_id = :key"),
                    id, read_processed_message);
  });
}

size_t sqlite_store::purge_processed_messages(timestamp_ms cutoff) {
  return translate_errors("purge_processed_messages", [&] {
    return delete_before(*c_, "DELETE FROM processed_messages WHERE processed_at < :cutoff",
                         cutoff);
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

refusal sqlite_store::run(const record_message& op) {
  auto& m = op.message;
  if (write(*c_,
            "INSERT INTO processed_messages (message_id, kind, processed_at) "
            "VALUES (:id, :kind, :at) ON CONFLICT (message_id) DO NOTHING",
            {{":id", m.message_id}, {":kind", m.kind}, {":at", m.processed_at}})
      == 0)
    return detail::message_processed_already(m.message_id);
  return std::nullopt;
}

} // namespace orderd::persistence::sqlite
