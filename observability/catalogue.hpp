#pragma once

// Every metric orderd exposes, in one place (README.md lists them too). Each accessor registers
// its family in registry::global() on first use and returns the same object afterwards; keep the
// returned reference (a static local at the call site) rather than calling per event.

#include <string_view>

#include "observability/metrics.hpp"

namespace orderd::observability::catalogue {

/// Registers every family, so /metrics shows HELP and TYPE even before the first event.
void register_all();

// -- HTTP (http/observe.cpp)
counter_family& http_requests();          ///< orderd_http_requests_total{route,method,status}
histogram_family& http_request_duration(); ///< orderd_http_request_duration_seconds{route}
/// orderd_http_connection_limit: open connections allowed (app/main.cpp, from --max-connections
/// and the open-files limit)
gauge& http_connection_limit();

// -- orders and stock (actors/order_actor.cpp, actors/stock_actor.cpp)
gauge_family& orders_by_status();           ///< orderd_orders{status}, read from the store at scrape
histogram_family& order_placement_duration(); ///< orderd_order_placement_duration_seconds{outcome}
histogram_family& order_placement_stage(); ///< orderd_order_placement_stage_seconds{stage}
counter_family& stock_reservations();       ///< orderd_stock_reservations_total{outcome}
counter& low_stock_events();                ///< orderd_low_stock_events_total

// -- the payment saga (actors/processor.cpp)
/// orderd_payments_total{outcome}: succeeded | failed (declined) | timed_out (no answer in time)
counter_family& payments();

// -- cluster membership (app/cluster_membership.cpp)
gauge& cluster_members();                 ///< orderd_cluster_members: live, as this node last saw
counter_family& cluster_heartbeats();     ///< orderd_cluster_heartbeats_total{outcome}: ok | failed
histogram& cluster_heartbeat_duration();  ///< orderd_cluster_heartbeat_seconds
gauge& cluster_shards_owned();            ///< orderd_cluster_shards_owned: this node serves
/// orderd_cluster_shard_changes_total{change}: acquired | taken_over | handed_off | lost
counter_family& cluster_shard_changes();
histogram& cluster_lease_renewal_duration(); ///< orderd_cluster_lease_renewal_seconds
/// orderd_cluster_forwards_total{to}: requests this node passed to a shard's owner (stock,
/// orders, carts)
counter_family& cluster_forwards();
counter& cluster_fenced_writes(); ///< orderd_cluster_fenced_writes_total: refused by the fence

// -- store writer (actors/store_actors.cpp)
histogram& store_batch_size();   ///< orderd_store_batch_size (change sets per commit)
histogram& store_commit_duration(); ///< orderd_store_commit_duration_seconds
histogram& store_writer_wait(); ///< orderd_store_writer_wait_seconds

// -- outbox and relay (actors/relay.cpp)
gauge& outbox_backlog();             ///< orderd_outbox_backlog, read from the store at scrape
histogram& event_publish_lag();      ///< orderd_event_publish_lag_seconds (commit -> confirm)
counter& events_published();         ///< orderd_events_published_total
gauge_family& circuit_breaker_state(); ///< orderd_circuit_breaker_state{breaker}: 0/1/2

// -- supervision (stats_atom replies, at scrape)
gauge_family& supervisor_live_children(); ///< orderd_supervisor_live_children{supervisor}
gauge_family& supervisor_restarts();      ///< orderd_supervisor_restarts_total{supervisor}
gauge_family& supervisor_escalations();   ///< orderd_supervisor_escalations_total{supervisor}

// -- mailboxes: an actor can only count its own, so the busiest ones sample it as they work
/// orderd_actor_mailbox_messages{actor}: store-writer (at each commit), event-relay (each
/// cycle), command-consumer (each poll)
gauge_family& mailbox_messages();

// -- inbound commands (the AMQP consumer)
/// orderd_inbound_commands_total{command,outcome}: outcome acked | retried | dead_lettered
counter_family& inbound_commands();

// -- dead letters (set by the AMQP inbound bridge): see observability::dlq_messages()

/// The gauge value of a breaker state name: closed 0, half-open 1, open 2 (-1 if unknown).
/// Notifications (actors/notifier.hpp).
counter_family& notifications_created();  ///< orderd_notifications_created_total{channel}
/// orderd_notification_attempts_total{channel,outcome}: outcome sent, failed (will retry),
/// dead_lettered (gave up), refused (the channel's breaker was open).
counter_family& notification_attempts();

double breaker_state_value(std::string_view state) noexcept;

} // namespace orderd::observability::catalogue
