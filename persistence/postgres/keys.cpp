// Idempotency keys (the stored outcome of a request, for its repeats) and processed inbound
// messages (so a redelivered copy changes nothing twice).

#include "persistence/postgres/internal.hpp"

namespace orderd::persistence::postgres {

std::optional<idempotency_record> postgres_store::find_idempotency(const std::string& key) {
  return guarded("find_idempotency", [&](connection& c) {
    static const auto sql = select(idempotency_columns, "idempotency_keys WHERE key = $1");
    return find_one(c, sql, key, read_idempotency);
  });
}

namespace {

/// Runs a DELETE whose one parameter is the cutoff time; returns how many rows it deleted.
size_t delete_before(connection& c, const std::string& sql, timestamp_ms cutoff) {
  return static_cast<size_t>(c.run(sql, {num(cutoff)}).affected());
}

} // namespace

size_t postgres_store::purge_idempotency(timestamp_ms cutoff) {
  return guarded("purge_idempotency", [&](connection& c) {
    return delete_before(c, "DELETE FROM idempotency_keys WHERE created_at < orderd_ts($1)",
                         cutoff);
  });
}

std::optional<processed_message> postgres_store::find_processed_message(const std::string& id) {
  return guarded("find_processed_message", [&](connection& c) {
    static const auto sql
      = select(processed_message_columns, "processed_messages WHERE message_id = $1");
    return find_one(c, sql, id, read_processed_message);
  });
}

std::optional<payment_charge> postgres_store::find_charge(const std::string& order_id) {
  if (!uuid_shaped(order_id))
    return std::nullopt;
  return guarded("find_charge", [&](connection& c) {
    static const auto sql = select(payment_charge_columns, "payment_charges WHERE order_id = $1");
    return find_one(c, sql, order_id, read_payment_charge);
  });
}

size_t postgres_store::purge_processed_messages(timestamp_ms cutoff) {
  return guarded("purge_processed_messages", [&](connection& c) {
    return delete_before(c, "DELETE FROM processed_messages WHERE processed_at < orderd_ts($1)",
                         cutoff);
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

refusal postgres_store::run(const save_idempotency& op) {
  auto& r = op.record;
  return deferred("INSERT INTO idempotency_keys (key, request_hash, status_code, "
                  "response_body, created_at) VALUES ($1, $2, $3, $4, orderd_ts($5)) "
                  "ON CONFLICT (key) DO NOTHING",
                  {r.key, r.request_hash, num(r.status_code), r.response_body,
                   num(r.created_at)},
                  [key = r.key](const result& changed) -> refusal {
                    if (changed.affected() == 0)
                      return detail::idempotency_key_exists(key);
                    return std::nullopt;
                  });
}

refusal postgres_store::run(const record_message& op) {
  auto& m = op.message;
  return deferred("INSERT INTO processed_messages (message_id, kind, processed_at) "
                  "VALUES ($1, $2, orderd_ts($3)) ON CONFLICT (message_id) DO NOTHING",
                  {m.message_id, m.kind, num(m.processed_at)},
                  [id = m.message_id](const result& changed) -> refusal {
                    if (changed.affected() == 0)
                      return detail::message_processed_already(id);
                    return std::nullopt;
                  });
}

refusal postgres_store::run(const record_charge& op) {
  auto& c = op.charge;
  return deferred("INSERT INTO payment_charges (order_id, succeeded, reason, amount_cents, "
                  "currency, charged_at) VALUES ($1, $2, $3, $4, $5, orderd_ts($6)) "
                  "ON CONFLICT (order_id) DO NOTHING",
                  {c.order_id, std::string{c.succeeded ? "true" : "false"}, c.reason,
                   num(c.amount_cents), c.currency, num(c.charged_at)},
                  [id = c.order_id](const result& changed) -> refusal {
                    if (changed.affected() == 0)
                      return detail::charged_already(id);
                    return std::nullopt;
                  });
}

} // namespace orderd::persistence::postgres
