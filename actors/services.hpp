#pragma once

// What every actor of the tree can reach: the options, the store factory, the clock, and a slot
// per singleton actor. One instance per node, built by main (or a test fixture) before the tree
// starts and shared read-mostly.

#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/actor_slot.hpp"
#include "actors/cluster_link.hpp"
#include "actors/protocol/orders.hpp"
#include "actors/order_views.hpp"
#include "actors/runtime_options.hpp"
#include "domain/notification.hpp"
#include "domain/time.hpp"
#include "persistence/store.hpp"

namespace orderd {

/// Everything an actor needs to reach its peers. Shared (read-mostly) by the whole tree.
/// Spawns the event publisher as a linked child of `parent` (the root supervisor). main supplies
/// one for RabbitMQ; without one, the in-process event bus is the publisher.
using publisher_factory = std::function<caf::actor(caf::event_based_actor* parent)>;

/// Spawns the transport of one notification channel as a linked child of `parent` (main supplies
/// SMTP/maildir and HTTP ones, detached because they block); an invalid handle means "record only":
/// delivery succeeds once the record is durable (push, and tests that need no transport).
using transport_factory
  = std::function<caf::actor(caf::event_based_actor* parent, notification_channel channel)>;

struct services {
  explicit services(runtime_options opts, std::shared_ptr<persistence::store_factory> factory,
                    wall_clock clock)
    : options(opts),
      store(std::move(factory)),
      now(std::move(clock)),
      readers(opts.reader_count),
      bridges(opts.bridge_count),
      orders_read(opts.order_view_cache) {}

  runtime_options options;
  std::shared_ptr<persistence::store_factory> store;
  wall_clock now;

  actor_slot writer;
  actor_group readers;
  actor_slot stocks; ///< the inventory supervisor (stock registry)
  actor_slot orders; ///< the order supervisor (order registry)
  actor_slot carts;  ///< the cart supervisor (customers and the cart registry)
  actor_slot processor;
  basic_actor_slot<payment_service> payments; ///< the payment service (the mock)
  actor_group bridges;
  actor_slot root;
  actor_slot bus;       ///< the in-process event bus
  actor_slot publisher; ///< where the relay publishes: the bus, or the RabbitMQ bridge
  actor_slot relay;     ///< the event relay (the writer nudges it)
  actor_slot consumer;  ///< the inbound command bridge (only with --amqp-url)
  actor_slot notifier;  ///< the notification supervisor (only when options.notify.enabled)
  /// What the live order actors last committed, for reads by id (see actors/order_views.hpp).
  order_views orders_read;

  /// Set by main before the tree starts; empty: the bus publishes (see publisher_factory).
  publisher_factory spawn_publisher;
  /// Set by main with --amqp-url: spawns the inbound command bridge (RabbitMQ consumer) as a
  /// linked child of the root, handing it these services.
  std::function<caf::actor(caf::event_based_actor* parent, std::shared_ptr<services> self)>
    spawn_consumer;
  /// Set by main: the notification channels' transports (see transport_factory).
  transport_factory spawn_transport;
  /// Set by main: how many notifications a channel's transport takes at once (unset: 1).
  std::function<size_t(notification_channel)> transport_batch;
  /// Set by main on a cluster node (--cluster-advertise): who serves which key; null on a
  /// single node, where every key is served here.
  std::shared_ptr<cluster_link> cluster;
  /// For /ready: "in-process" or "rabbitmq".
  std::string publisher_name = "in-process";
};

using services_ptr = std::shared_ptr<services>;

} // namespace orderd
