#pragma once

// The cart interface: the cart supervisor (customers and the cart registry) and its cart
// actors, one per customer. Its messages cross nodes in a cluster, so every payload here is
// serializable.

#include <optional>
#include <string>

#include "actors/protocol/orders.hpp"
#include "domain/cart.hpp"
#include "domain/customer.hpp"

namespace orderd {

// cart registry (customers and carts; one cart actor per customer on demand, passivates idle
// ones; see actors/cart_actor.hpp). Customer writes go through it so that deleting a customer
// also stops the customer's cart actor. Reads of customers go to the store readers.
//   (create_atom, customer_details)               -> customer | conflict (e-mail taken)
//   (update_atom, customer_id, customer_details)  -> customer | not_found | conflict
//   (delete_atom, customer_id)                    -> bool | not_found
//   (get_atom, customer_id)                       -> priced_cart | not_found (no customer/cart)
//   (add_atom, customer_id, sku, int64 qty)       -> priced_cart | not_found | unknown_sku |
//                                                    invalid_input | conflict (locked)
//   (remove_atom, customer_id, sku)               -> priced_cart | not_found | conflict (locked)
//   (checkout_atom, customer_id, placement_request)
//                                                 -> placement_result | conflict (locked, empty)
//                                                    | insufficient_stock (cart marked) | errc
//     (the request's key, hash, renderer and correlation id come from the caller; the cart
//      actor fills in the customer and the lines)
//   (crash_atom, customer_id)                     -> fault injection (the cart actor)
//   (crash_atom)                                  -> fault injection (the registry)

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, priced_line& x) {
  optional_field<int64_t> unit_price{x.unit_price_cents};
  optional_field<std::string> currency{x.currency};
  optional_field<int64_t> line_total{x.line_total_cents};
  return f(caf::meta::type_name("priced_line"), x.sku, x.quantity, unit_price, currency,
           line_total);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, priced_cart& x) {
  optional_field<int64_t> total{x.total_cents};
  optional_field<std::string> currency{x.currency};
  return f(caf::meta::type_name("priced_cart"), x.content, x.locked, x.lines, total, currency);
}

ORDERD_INSPECT(customer_details, x.name, x.email, x.phone, x.address)
ORDERD_INSPECT(customer, x.id, x.details, x.version, x.created_at, x.updated_at)

} // namespace orderd
