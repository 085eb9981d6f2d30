#include "observability/catalogue.hpp"

namespace orderd::observability::catalogue {

namespace {

registry& reg() {
  return registry::global();
}

} // namespace

counter_family& http_requests() {
  static auto& f = reg().counters("orderd_http_requests_total",
                                  "HTTP requests answered, by route pattern, method and status.",
                                  {"route", "method", "status"});
  return f;
}

histogram_family& http_request_duration() {
  static auto& f = reg().histograms(
    "orderd_http_request_duration_seconds",
    "Time from a request's arrival at the routes to its response, by route pattern.",
    latency_buckets(), {"route"});
  return f;
}

gauge& http_connection_limit() {
  static auto& g = reg().gauge_metric(
    "orderd_http_connection_limit",
    "Open HTTP connections allowed: --max-connections, lowered to fit the open-files limit.");
  return g;
}

gauge_family& orders_by_status() {
  static auto& f = reg().gauges("orderd_orders",
                                "Orders in the store by status (counted at scrape time).",
                                {"status"});
  return f;
}

histogram_family& order_placement_duration() {
  static auto& f = reg().histograms(
    "orderd_order_placement_duration_seconds",
    "Time an order actor takes to place an order (reservations, commit), by outcome.",
    latency_buckets(), {"outcome"});
  return f;
}

histogram_family& order_placement_stage() {
  static auto& f = reg().histograms(
    "orderd_order_placement_stage_seconds",
    "Where a successful placement's time goes: holds (every line's stock held), store (the "
    "change set's round trip to the writer: its queue, the group commit, the reply).",
    latency_buckets(), {"stage"});
  return f;
}

counter_family& stock_reservations() {
  static auto& f = reg().counters(
    "orderd_stock_reservations_total",
    "Reservations decided by stock actors: accepted, or rejected for insufficient stock.",
    {"outcome"});
  return f;
}

gauge_family& mailbox_messages() {
  static auto& f = reg().gauges(
    "orderd_actor_mailbox_messages",
    "Messages waiting in an actor's mailbox, sampled by the actor itself (the store writer at "
    "each commit, the event relay each cycle, the command consumer each poll).",
    {"actor"});
  return f;
}

counter_family& payments() {
  static auto& f = reg().counters(
    "orderd_payments_total",
    "Charges of PROCESSING orders settled by this node's payment saga: succeeded, failed "
    "(declined) or timed_out (no answer within --payment-timeout-ms).",
    {"outcome"});
  return f;
}

counter_family& inbound_commands() {
  static auto& f = reg().counters(
    "orderd_inbound_commands_total",
    "Inbound RabbitMQ commands by what became of them: acked (applied, or nothing to do), "
    "retried (sent to a delay queue) or dead_lettered.",
    {"command", "outcome"});
  return f;
}

counter_family& notifications_created() {
  static auto& f = reg().counters("orderd_notifications_created_total",
                                  "Notification records written (PENDING), by channel.",
                                  {"channel"});
  return f;
}

counter_family& notification_attempts() {
  static auto& f = reg().counters(
    "orderd_notification_attempts_total",
    "Notification delivery attempts by channel and outcome: sent, failed (retried later) or "
    "dead_lettered (failed for the last time; the record is FAILED).",
    {"channel", "outcome"});
  return f;
}

counter& low_stock_events() {
  static auto& c = reg().counter_metric(
    "orderd_low_stock_events_total", "inventory.low events published (a SKU crossed its threshold).");
  return c;
}

histogram& store_batch_size() {
  static auto& h = reg().histogram_metric(
    "orderd_store_batch_size", "Change sets per store writer transaction (group commit).",
    power_of_two_buckets(512));
  return h;
}

gauge& cluster_members() {
  static auto& g = reg().gauge_metric(
    "orderd_cluster_members",
    "Live cluster members (this node included) as this node's last heartbeat read them.");
  return g;
}

counter_family& cluster_heartbeats() {
  static auto& f = reg().counters(
    "orderd_cluster_heartbeats_total",
    "This node's cluster heartbeats (one a second with --cluster-advertise): ok or failed.",
    {"outcome"});
  return f;
}

histogram& cluster_heartbeat_duration() {
  static auto& h = reg().histogram_metric(
    "orderd_cluster_heartbeat_seconds",
    "One heartbeat: refresh this node's row and read the live members (two statements).",
    latency_buckets());
  return h;
}

gauge& cluster_shards_owned() {
  static auto& g = reg().gauge_metric(
    "orderd_cluster_shards_owned",
    "Shards this node serves: it holds their leases and its local deadline has not passed.");
  return g;
}

counter_family& cluster_shard_changes() {
  static auto& f = reg().counters(
    "orderd_cluster_shard_changes_total",
    "Shards that changed hands at this node: acquired (free or handed to it), taken_over (from "
    "a node that stopped renewing), handed_off (released to the preferred owner), lost (a "
    "lease this node failed to renew in time).",
    {"change"});
  return f;
}

histogram& cluster_lease_renewal_duration() {
  static auto& h = reg().histogram_metric(
    "orderd_cluster_lease_renewal_seconds",
    "Renewing every lease this node holds (one statement, once a second).", latency_buckets());
  return h;
}

counter_family& cluster_forwards() {
  static auto& f = reg().counters(
    "orderd_cluster_forwards_total",
    "Requests this node passed to the node that owns the key's shard, by interface.", {"to"});
  return f;
}

counter& cluster_fenced_writes() {
  static auto& c = reg().counter_metric(
    "orderd_cluster_fenced_writes_total",
    "Change sets the database refused because this node no longer held the shard's lease at "
    "the epoch it wrote under (answered 503).");
  return c;
}

histogram& store_writer_wait() {
  static auto& h = reg().histogram_metric(
    "orderd_store_writer_wait_seconds",
    "Time from a change set's arrival in the store writer's handler to its commit: the batch "
    "it joins, then the commit.",
    latency_buckets());
  return h;
}

histogram& store_commit_duration() {
  static auto& h = reg().histogram_metric("orderd_store_commit_duration_seconds",
                                          "Time the store writer takes to apply and commit a batch.",
                                          latency_buckets());
  return h;
}

gauge& outbox_backlog() {
  static auto& g = reg().gauge_metric(
    "orderd_outbox_backlog", "Events in the outbox not yet published (read at scrape time).");
  return g;
}

histogram& event_publish_lag() {
  static auto& h = reg().histogram_metric(
    "orderd_event_publish_lag_seconds",
    "Time from an event's commit (occurred_at) to the publisher's confirm.", latency_buckets());
  return h;
}

counter& events_published() {
  static auto& c = reg().counter_metric("orderd_events_published_total",
                                        "Outbox events confirmed by the publisher.");
  return c;
}

gauge_family& circuit_breaker_state() {
  static auto& f = reg().gauges("orderd_circuit_breaker_state",
                                "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
                                {"breaker"});
  return f;
}

gauge_family& supervisor_live_children() {
  static auto& f = reg().gauges("orderd_supervisor_live_children",
                                "Live children per supervisor (at scrape time).", {"supervisor"});
  return f;
}

gauge_family& supervisor_restarts() {
  static auto& f = reg().gauges("orderd_supervisor_restarts_total",
                                "Children restarted per supervisor since it started.",
                                {"supervisor"}, metric_type::counter);
  return f;
}

gauge_family& supervisor_escalations() {
  static auto& f = reg().gauges("orderd_supervisor_escalations_total",
                                "Restart budgets exceeded per supervisor since it started.",
                                {"supervisor"}, metric_type::counter);
  return f;
}

double breaker_state_value(std::string_view state) noexcept {
  if (state == "closed")
    return 0;
  if (state == "half-open")
    return 1;
  if (state == "open")
    return 2;
  return -1;
}

void register_all() {
  http_requests();
  http_request_duration();
  http_connection_limit();
  orders_by_status();
  order_placement_duration();
  order_placement_stage();
  stock_reservations();
  payments();
  low_stock_events();
  store_batch_size();
  store_commit_duration();
  store_writer_wait();
  cluster_members();
  cluster_heartbeats();
  cluster_heartbeat_duration();
  cluster_shards_owned();
  cluster_shard_changes();
  cluster_lease_renewal_duration();
  cluster_forwards();
  cluster_fenced_writes();
  outbox_backlog();
  event_publish_lag();
  events_published();
  circuit_breaker_state();
  supervisor_live_children();
  supervisor_restarts();
  supervisor_escalations();
  dlq_messages();
  inbound_commands();
  mailbox_messages();
  notifications_created();
  notification_attempts();
}

} // namespace orderd::observability::catalogue
