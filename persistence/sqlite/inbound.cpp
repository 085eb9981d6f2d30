// Processed inbound messages (RabbitMQ), so a redelivered copy changes nothing twice; and the
// payment charge of each order, so a saga asked again charges nothing twice.

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

std::optional<payment_charge> sqlite_store::find_charge(const std::string& order_id) {
  return translate_errors("find_charge", [&] {
    return find_one(*c_, select(payment_charge_columns, "payment_charges WHERE order_id = :key"),
                    order_id, read_payment_charge);
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

refusal sqlite_store::run(const record_charge& op) {
  auto& c = op.charge;
  if (write(*c_,
            "INSERT INTO payment_charges (order_id, succeeded, reason, amount_cents, currency, "
            "charged_at) VALUES (:id, :ok, :reason, :amount, :currency, :at) "
            "ON CONFLICT (order_id) DO NOTHING",
            {{":id", c.order_id}, {":ok", int64_t{c.succeeded ? 1 : 0}}, {":reason", c.reason},
             {":amount", c.amount_cents}, {":currency", c.currency}, {":at", c.charged_at}})
      == 0)
    return detail::charged_already(c.order_id);
  return std::nullopt;
}

} // namespace orderd::persistence::sqlite
