#pragma once

// The order interface: the order supervisor (order registry) and its order actors, one per
// order, and the payment service the saga charges. Its messages cross nodes in a cluster, so
// every payload here is serializable.

#include <optional>
#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/protocol/common.hpp"
#include "domain/cart.hpp"
#include "domain/order.hpp"
#include "wire/order_format.hpp"

namespace orderd {

/// What the HTTP or AMQP bridge (or a cart's checkout) asks the order registry to place.
struct placement_request {
  order_request request;
  /// Optional Idempotency-Key with the fingerprint of the request it came with.
  std::string idempotency_key;
  std::string request_hash;
  /// How the success response stored with the idempotency key is rendered (the v1 API or the
  /// seed service's format), so a replay returns the original bytes.
  wire::order_format response_format = wire::order_format::v1;
  /// The caller's correlation (trace) id, carried into the events this placement writes;
  /// empty: the order actor makes one up.
  std::string correlation_id;
  /// The AMQP message_id of an inbound `order.place` command (empty over HTTP). The outcome,
  /// order.created or order.rejected, commits with a processed-message record of this id.
  std::string message_id;
  /// A checkout's cart as the order leaves it (emptied): saved in the same change set as the
  /// order, or not at all, so an order never leaves a full cart behind.
  std::optional<cart> cart_after;

  friend bool operator==(const placement_request&, const placement_request&) = default;
};

/// The reply to a placement: the new order, or the stored response of an earlier request made
/// with the same idempotency key.
struct placement_result {
  bool replayed = false;
  order placed;             ///< valid when !replayed
  int replay_status = 0;    ///< valid when replayed
  std::string replay_body;  ///< valid when replayed

  friend bool operator==(const placement_result&, const placement_result&) = default;
};

/// The outcome of charging one order: from the payment service (mock) to the processor, or
/// from another service through the inbound `payment.result` command to the order registry.
struct payment_result {
  std::string order_id;
  bool succeeded = false;
  std::string reason;         ///< why it failed (informational; stored only in logs)
  std::string correlation_id; ///< carried into the events of the settlement; empty: new one
  std::string message_id;     ///< inbound payment.result: commits its processed record

  friend bool operator==(const payment_result&, const payment_result&) = default;
};

// order registry (spawns one order actor per order on demand, passivates idle ones):
//   (place_atom, placement_request)               -> placement_result | errc
//   (get_atom, order_id)                          -> order | not_found
//   (cancel_atom, order_id, correlation_id)       -> order | not_found | illegal_transition
//   (move_atom, order_id, order_status to, correlation_id)
//                                                 -> order | not_found | illegal_transition
//   (cancel_atom, order_id, correlation_id, message_id)  the same for an inbound order.cancel
//   (correlation_id: carried into the events of the change; empty: a new one is made up)
//   Placements and cancels with a message_id commit a processed-message record with their
//   change (conflict: processed already). A placement with a message_id that is refused for a
//   business reason (unknown_sku, insufficient_stock, currency_mismatch) commits an
//   order.rejected event and the record before the refusal is answered.
//   (settle_atom, payment_result)                 -> order | not_found | illegal_transition
//     the payment saga's last step: succeeded -> CONFIRMED (reserved stock becomes sold),
//     failed -> CANCELLED with reason payment_failed (reserved stock is released); the order
//     must be PROCESSING. With a message_id the processed record commits with the change.
//   (ship_atom, order_id, order_status to, correlation_id)
//                                                 -> order | not_found | invalid_input (not
//                                                    SHIPPED/DELIVERED) | illegal_transition
//   (crash_atom, order_id)                        -> fault injection
//
// payment service (the mock; one per node, see actors/payment_actor.hpp):
//   (charge_atom, order_id, int64 amount_cents, currency) -> payment_result  after the latency;
//     charges are recorded by order id: charging an order again answers the recorded outcome

ORDERD_INSPECT(cart, x.customer_id, x.lines, x.status, x.short_lines, x.version, x.created_at,
               x.updated_at)

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, placement_request& x) {
  optional_field<cart> cart_after{x.cart_after};
  return f(caf::meta::type_name("placement_request"), x.request, x.idempotency_key,
           x.request_hash, x.response_format, x.correlation_id, x.message_id, cart_after);
}

/// The payment service (the mock), typed: a charge is the only request it takes from others;
/// (tick_atom, order_id) is its own timer for a charge that completes.
using payment_service = caf::typed_actor<
  caf::replies_to<charge_atom, std::string, int64_t, std::string>::with<payment_result>,
  caf::reacts_to<tick_atom, std::string>>;

ORDERD_INSPECT(placement_result, x.replayed, x.placed, x.replay_status, x.replay_body)
ORDERD_INSPECT(payment_result, x.order_id, x.succeeded, x.reason, x.correlation_id, x.message_id)

} // namespace orderd
