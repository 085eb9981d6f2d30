#include "domain/errc.hpp"

namespace orderd {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::ok:
      return "ok";
    case errc::invalid_input:
      return "invalid-input";
    case errc::not_found:
      return "not-found";
    case errc::unknown_sku:
      return "unknown-sku";
    case errc::insufficient_stock:
      return "insufficient-stock";
    case errc::conflict:
      return "conflict";
    case errc::illegal_transition:
      return "illegal-transition";
    case errc::idempotency_mismatch:
      return "idempotency-key-reused";
    case errc::idempotency_in_flight:
      return "idempotency-key-in-flight";
    case errc::currency_mismatch:
      return "currency-mismatch";
    case errc::unavailable:
      return "unavailable";
    case errc::storage_failure:
      return "storage-failure";
    case errc::internal:
      return "internal";
  }
  return "unknown";
}

} // namespace orderd
