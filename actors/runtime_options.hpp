#pragma once

// The tunables of the actor layer, filled from config::settings in main. Plain values only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/supervision.hpp"

namespace orderd {

/// Tunables of the notification channels (actors/notifier.hpp).
struct notify_options {
  /// Off by default so tests of other actors see no notifier on the bus; main turns it on.
  bool enabled = false;
  uint32_t max_attempts = 5;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{60000};
  bool jitter = true;
  uint32_t breaker_failures = 3;
  std::chrono::milliseconds breaker_cooldown{10000};
  /// Gets an e-mail for every inventory.low event (empty: none).
  std::string stock_manager_email;
  /// Every notified event is POSTed to each of these.
  std::vector<std::string> webhook_urls;
  /// PENDING records a channel reads from the store at a time: at start, and again whenever its
  /// queue runs empty while more may be waiting (until a read finds fewer than this).
  size_t resume_batch = 1000;
  /// Notifications a channel holds in memory, queued or waiting for a retry. Past this it turns
  /// new ones away: they wait PENDING in the store and are resumed once its queue runs empty.
  /// Without the bound, a channel slower than order placement (fsynced maildir files) grew
  /// without limit under sustained load.
  size_t channel_queue_limit = 10000;
};

/// Tunables of the actor layer (filled from config::settings in main).
struct runtime_options {
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds order_idle_timeout{30000};
  size_t order_view_cache = 100000; ///< passivated orders whose views are kept (order_views)
  std::chrono::milliseconds stock_idle_timeout{600000};
  std::chrono::milliseconds cart_idle_timeout{30000};
  size_t writer_max_batch = 512;
  restart_limits restarts;
  std::chrono::milliseconds grace_period{300000};
  std::chrono::milliseconds processor_interval{1000};
  size_t processor_batch = 500;
  std::chrono::hours idempotency_ttl{24};
  size_t reader_count = 2;
  size_t bridge_count = 2;
  /// This node's name: the `source` of every event it writes.
  std::string node_id = "orderd";
  /// The event relay: events per batch, how often it looks without a nudge, how long it waits
  /// for a publisher's answer.
  size_t relay_batch = 500;
  std::chrono::milliseconds relay_interval{1000};
  /// How long a nudged relay waits before its cycle (0: at once).
  std::chrono::milliseconds relay_linger{5};
  std::chrono::milliseconds publish_timeout{60000};
  /// Its circuit breaker: consecutive failures that open it, time open before a trial.
  uint32_t breaker_failures = 5;
  std::chrono::milliseconds breaker_cooldown{10000};
  /// Retry delays after a failed publish: exponential from this base, capped at twice the
  /// cooldown; jittered unless turned off (deterministic tests).
  std::chrono::milliseconds relay_backoff_base{100};
  bool relay_jitter = true;
  /// Published events are deleted from the outbox after this long.
  std::chrono::hours outbox_retention{24};
  /// Processed inbound message ids are remembered at least this long.
  std::chrono::hours inbound_dedup{168};
  /// Payments: "mock" charges PROCESSING orders through the payment actor; "external" waits
  /// for inbound payment.result commands instead.
  bool external_payments = false;
  /// The mock payment service: share of charges that succeed, how long each takes, the seed of
  /// its random outcomes; and how long the saga waits for a charge before calling it failed.
  double payment_success_rate = 0.95;
  std::chrono::milliseconds payment_latency{200};
  uint64_t payment_seed = 0;
  std::chrono::milliseconds payment_timeout{5000};
  /// Blocking actors (store writer and readers) get their own threads in production; the
  /// deterministic test scheduler needs them to be ordinary actors.
  bool detach_blocking_actors = true;
  notify_options notify;
};

} // namespace orderd
