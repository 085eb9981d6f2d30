#pragma once

// Every actor interface of orderd. Each lives in its own header under actors/protocol/:
//   common   atoms, errors, supervisor counters     store    writer and readers (node-local)
//   stock    inventory supervisor, stock actors     orders   order registry, payment service
//   carts    customers and carts                    events   relay, publisher, in-process bus
//   notify   notification supervisor and channels   bridges  HTTP bridge, inbound AMQP bridge
// The stock, order and cart interfaces cross nodes in a cluster: their payloads have real
// inspect() serialization (round-trip tested in protocol_test). The others stay on their node.

#include "actors/protocol/bridges.hpp"
#include "actors/protocol/carts.hpp"
#include "actors/protocol/common.hpp"
#include "actors/protocol/events.hpp"
#include "actors/protocol/notify.hpp"
#include "actors/protocol/orders.hpp"
#include "actors/protocol/stock.hpp"
#include "actors/protocol/store.hpp"

namespace caf {
class actor_system_config;
}

namespace orderd {

/// Names every payload of the stock, order and cart interfaces in `cfg`, so that CAF can
/// (de)serialize messages that carry them between nodes.
void add_cluster_message_types(caf::actor_system_config& cfg);

} // namespace orderd
