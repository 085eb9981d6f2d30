#pragma once

// The stock interface: the inventory supervisor (stock registry) and its stock actors, one per
// SKU. Its messages cross nodes in a cluster, so every payload here is serializable.

#include <string>

#include "actors/protocol/common.hpp"
#include "domain/product.hpp"

namespace orderd {

/// A hold a stock actor granted to one order line.
struct reservation {
  std::string sku;
  int64_t quantity = 0;
  int64_t unit_price_cents = 0;
  std::string currency;
  /// In a cluster: the shard of the SKU and the node and epoch at which the granting actor
  /// served it (epoch 0 outside a cluster). The order's write is fenced at exactly this
  /// ownership, so a hold granted by an owner that has since handed the shard on can never
  /// commit behind the back of the new owner's actor, which loaded its figures without it.
  int32_t shard = 0;
  std::string owner_node;
  int64_t owner_epoch = 0;

  friend bool operator==(const reservation&, const reservation&) = default;
};

/// Who asked for a product or stock change: the request's correlation (trace) id, carried into
/// the change's events and log lines, and the AMQP message_id of an inbound command (empty over
/// HTTP), recorded with the change so a redelivered copy changes nothing.
struct change_origin {
  std::string correlation_id;
  std::string message_id;

  friend bool operator==(const change_origin&, const change_origin&) = default;
};

// stock actor (one per sku; lives under the stock registry, which forwards by sku):
//   (reserve_atom, sku, order_id, qty)            -> reservation | unknown_sku | insufficient_stock
//   (release_atom, sku, order_id)                 -> void        drop a hold (order failed)
//   (commit_atom, sku, order_id, stock_level)     -> void        the hold is durable now
//   (resync_atom, sku)                            -> void        reload committed figures
//   (get_atom, sku)                               -> product | not_found
//   (create_atom, sku, product)                   -> product | conflict
//   (update_atom, sku, product_details)           -> product | not_found
//   (delete_atom, sku)                            -> bool | not_found | conflict
//   (set_atom, sku, int64 available)              -> product | not_found
//   (adjust_atom, sku, int64 delta)               -> product | not_found | insufficient_stock
//   (create_atom | update_atom | delete_atom | set_atom | adjust_atom, ..., change_origin)
//                                                 the same, with the request's correlation id
//                                                 in the events and logs; with a message_id
//                                                 (inbound inventory.adjust) the change commits
//                                                 with the message's processed record
//                                                 (conflict if it exists)
//   (crash_atom, sku)                             -> fault injection

ORDERD_INSPECT(stock_level, x.sku, x.available, x.reserved, x.sold, x.version)
ORDERD_INSPECT(product, x.sku, x.name, x.description, x.category, x.price_cents, x.currency,
               x.available, x.reserved, x.sold, x.low_stock_threshold, x.version, x.created_at,
               x.updated_at)
ORDERD_INSPECT(product_details, x.name, x.description, x.category, x.price_cents, x.currency,
               x.low_stock_threshold)
ORDERD_INSPECT(reservation, x.sku, x.quantity, x.unit_price_cents, x.currency, x.shard,
               x.owner_node, x.owner_epoch)
ORDERD_INSPECT(change_origin, x.correlation_id, x.message_id)

} // namespace orderd
