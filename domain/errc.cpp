#include "domain/errc.hpp"

#include "util/name_table.hpp"

namespace orderd {

std::string_view to_string(errc code) noexcept {
  static constexpr name_table names{
    errc::internal,
    {"ok", "invalid-input", "not-found", "unknown-sku", "insufficient-stock", "conflict",
     "illegal-transition", "idempotency-key-reused", "idempotency-key-in-flight",
     "currency-mismatch", "unavailable", "storage-failure", "internal"},
    "unknown"};
  return names.name(code);
}

} // namespace orderd
