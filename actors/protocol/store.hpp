#pragma once

// The store interface: the writer (group commit) and the pool of readers in front of
// persistence::store. Local to a node: its payloads (change sets of variants, queries, pages)
// never leave the process.

#include <cstdint>
#include <utility>
#include <vector>

#include "actors/protocol/carts.hpp"
#include "actors/protocol/common.hpp"
#include "actors/protocol/events.hpp"
#include "actors/protocol/stock.hpp"
#include "domain/order.hpp"
#include "persistence/store.hpp"

namespace orderd {

/// Tags to tell product, order, customer, cart and notification reads apart on the reader.
struct product_tag {};
struct order_tag {};
struct customer_tag {};
struct cart_tag {};
struct notification_tag {};

/// Orders per status, as the store counts them (statuses without orders are left out).
using order_status_counts = std::vector<std::pair<order_status, int64_t>>;

// store writer (one per node; owns the write connection; group commit):
//   (write_atom, change_set)                      -> change_result   (after the batch committed)
//   (purge_atom, timestamp_ms cutoff)             -> size_t      expired idempotency keys
//   (purge_atom, outbox_atom, timestamp_ms cutoff) -> size_t     published events before cutoff
//   (purge_atom, processed_atom, timestamp_ms cutoff) -> size_t  processed-message records
//   After a batch that appended outbox events, it sends (nudge_atom) to the event relay.
//   (crash_atom)                                  -> fault injection
//
// store reader (pool; each owns a read connection):
//   (get_atom, product_tag, sku)                  -> product | not_found
//   (list_atom, product_query)                    -> page<product>
//   (low_atom, size_t limit)                      -> std::vector<product>
//   (get_atom, order_tag, id)                     -> order | not_found
//   (list_atom, order_query)                      -> page<order>
//   (due_atom, timestamp_ms before, size_t limit) -> std::vector<order>
//   (idem_atom, key)                              -> idempotency_record | not_found
//   (get_atom, customer_tag, id)                  -> customer | not_found
//   (list_atom, customer_query)                   -> page<customer>
//   (get_atom, cart_tag, customer_id)             -> cart | not_found
//   (ping_atom)                                   -> bool
//   (outbox_atom, size_t limit, int64_t after)    -> std::vector<event_record>  unpublished, by seq,
//                                                    seq > after (what the relay has not sent yet)
//   (backlog_atom)                                -> int64_t     unpublished events
//   (processed_atom, message_id)                  -> bool        inbound message done already
//   (charge_atom, order_id)                       -> payment_charge | not_found  the order's
//                                                    recorded charge (the mock payment service)
//   (count_atom, order_tag)                       -> order_status_counts
//   (get_atom, notification_tag, id)              -> notification | not_found
//   (list_atom, notification_query)               -> page<notification>
//   (due_atom, notification_tag, notification_channel, size_t limit)
//                                                 -> std::vector<notification>  PENDING, oldest first

} // namespace orderd

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::change_set)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::change_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::product_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::order_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::page<orderd::product>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::page<orderd::order>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::idempotency_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::payment_charge)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::order_status_counts)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::customer_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::notification_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::page<orderd::notification>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orderd::persistence::page<orderd::customer>)
