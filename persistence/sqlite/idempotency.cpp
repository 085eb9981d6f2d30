// Idempotency keys: the stored outcome of a request, for its repeats.

#include "persistence/sqlite/internal.hpp"

namespace orderd::persistence::sqlite {

std::optional<idempotency_record> sqlite_store::find_idempotency(const std::string& key) {
  return translate_errors("find_idempotency", [&] {
    return find_one(*c_, select(idempotency_columns, "idempotency_keys WHERE key = :key"), key,
                    read_idempotency);
  });
}

size_t sqlite_store::purge_idempotency(timestamp_ms cutoff) {
  return translate_errors("purge_idempotency", [&] {
    return delete_before(*c_, "DELETE FROM idempotency_keys WHERE created_at < :cutoff", cutoff);
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

refusal sqlite_store::run(const save_idempotency& op) {
  auto& r = op.record;
  if (write(*c_,
            "INSERT INTO idempotency_keys (key, request_hash, status_code, response_body, "
            "created_at) VALUES (:key, :hash, :status_code, :body, :created_at) "
            "ON CONFLICT (key) DO NOTHING",
            {{":key", r.key}, {":hash", r.request_hash}, {":status_code", int64_t{r.status_code}},
             {":body", r.response_body}, {":created_at", r.created_at}})
      == 0)
    return detail::idempotency_key_exists(r.key);
  return std::nullopt;
}

} // namespace orderd::persistence::sqlite
