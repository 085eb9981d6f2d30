#pragma once

#include <cstdint>
#include <string_view>

namespace orderd {

/// Business and infrastructure failure codes shared by every layer.
/// The HTTP bridge maps each to a status code in one place (wire/problem.cpp).
enum class errc : uint8_t {
  ok = 0,
  invalid_input,        ///< malformed or out-of-range request data (400)
  not_found,            ///< the named entity does not exist (404)
  unknown_sku,          ///< an order names a product that does not exist (422)
  insufficient_stock,   ///< not enough available stock for a line (409)
  conflict,             ///< entity exists already or is in the wrong state (409)
  illegal_transition,   ///< the order state machine refuses the change (409)
  idempotency_mismatch, ///< same Idempotency-Key, different request body (422)
  idempotency_in_flight,///< the first request with this key is still running (409)
  currency_mismatch,    ///< an order mixes products priced in different currencies (422)
  unavailable,          ///< a dependency (store, actor) failed; safe to retry (503)
  storage_failure,      ///< the store reported an error (500)
  internal,             ///< a bug (500)
};

/// Stable, machine-readable name of a code (used in problem `type` URIs and logs).
std::string_view to_string(errc code) noexcept;

} // namespace orderd
