#include "domain/errc.hpp"

#include "domain/name_table.hpp"

namespace orderd {

namespace {

constexpr name_table errc_names{errc::internal,
                                {"ok", "invalid-input", "not-found", "unknown-sku",
                                 "insufficient-stock", "conflict", "illegal-transition",
                                 "idempotency-key-reused", "idempotency-key-in-flight",
                                 "currency-mismatch", "unavailable", "storage-failure",
                                 "internal"},
                                "unknown"};

} // namespace

std::string_view to_string(errc code) noexcept {
  return errc_names.name(code);
}

} // namespace orderd
