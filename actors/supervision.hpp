#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/system_messages.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>
#include <spdlog/spdlog.h>
#include <caf/fwd.hpp>

#include "actors/order_views.hpp"
#include "actors/protocol.hpp"
#include "domain/notification.hpp"
#include "domain/time.hpp"
#include "persistence/store.hpp"

namespace orderd {

/// How many restarts a supervisor allows a child within a window before it gives up and
/// escalates (fails itself), and how long it waits before each restart.
struct restart_limits {
  uint32_t max_restarts = 5;
  std::chrono::milliseconds window{10000};
  std::chrono::milliseconds first_backoff{50};
  std::chrono::milliseconds max_backoff{5000};
};

/// The crash history of one child. Plain C++ so its arithmetic is unit-tested directly.
class restart_tracker {
public:
  using time_point = std::chrono::steady_clock::time_point;

  struct decision {
    bool escalate = false;
    std::chrono::milliseconds backoff{0};
  };

  /// Records a crash at `now`: restart after `backoff` (doubling per recent crash), or escalate
  /// once more than `max_restarts` crashes fall within the window.
  decision on_crash(time_point now, const restart_limits& limits);

  /// Crashes within the window ending at `now`.
  size_t recent(time_point now, const restart_limits& limits);

private:
  void prune(time_point now, const restart_limits& limits);
  std::deque<time_point> crashes_;
};

/// A handle to a singleton actor that its supervisor may replace after a restart. Everyone
/// holds the slot, never the actor, so messages always reach the current incarnation.
class actor_slot {
public:
  caf::actor get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return handle_;
  }
  void set(caf::actor handle) {
    std::lock_guard<std::mutex> guard{mtx_};
    handle_ = std::move(handle);
  }

private:
  mutable std::mutex mtx_;
  caf::actor handle_;
};

/// A fixed-size group of interchangeable actors (store readers, HTTP bridges), picked round robin.
class actor_group {
public:
  explicit actor_group(size_t size) : slots_(size == 0 ? 1 : size) {}
  caf::actor next() {
    auto i = counter_.fetch_add(1, std::memory_order_relaxed) % slots_.size();
    return slots_[i].get();
  }
  size_t size() const noexcept { return slots_.size(); }
  actor_slot& operator[](size_t i) { return slots_[i]; }

private:
  std::vector<actor_slot> slots_;
  std::atomic<size_t> counter_{0};
};

/// Passivation without a timer per message: an actor notes when it was last busy and checks
/// once per idle period (`after(...)` would re-arm a clock entry on every message it handles).
class idle_watch {
public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  /// Call on every handled request.
  void touch(time_point now) noexcept { last_active_ = now; }

  /// True if a check must be scheduled now (none is pending).
  bool arm() noexcept { return !std::exchange(pending_, true); }

  /// A scheduled check fired at `now`: zero if idle for `limit` already, otherwise how much
  /// longer to wait (the caller schedules the next check after that).
  duration remaining(time_point now, duration limit) noexcept {
    pending_ = false;
    auto idle_for = now - last_active_;
    return idle_for >= limit ? duration::zero() : limit - idle_for;
  }

private:
  time_point last_active_{};
  bool pending_ = false;
};

/// Takes a registry's children down with it. Children are monitored rather than linked: CAF 0.17
/// removes a link by scanning the parent's attachable list, so with tens of thousands of live
/// order actors a burst of passivations became quadratic and stalled the registry.
template <class Self, class Map>
void stop_children(Self* self, const Map& children, const caf::error& reason) {
  for (auto& entry : children)
    self->send_exit(entry.second, reason ? reason : caf::error{caf::exit_reason::user_shutdown});
}

/// Makes a registry stop its children whenever it stops: on its supervisor's exit message and on
/// an exception escaping a handler (a bug, or an injected fault).
template <class Self>
void stop_children_on_exit(Self* self) {
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (msg.reason) {
      stop_children(self, self->state.children, msg.reason);
      self->quit(msg.reason);
    }
  });
  self->set_exception_handler([self](caf::scheduled_actor*, std::exception_ptr& ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    caf::error reason = caf::make_error(caf::sec::runtime_error, what);
    stop_children(self, self->state.children, reason);
    return reason;
  });
}

/// The bookkeeping every registry does when a monitored child stops: forget it and, for a crash,
/// consult its restart budget. Returns the child's key and the decision, or nothing when the
/// child was not ours or stopped normally. On escalation the registry (and its children) stop.
template <class Self>
std::optional<std::pair<std::string, restart_tracker::decision>>
on_child_down(Self* self, const caf::down_msg& msg, const restart_limits& limits,
              std::string_view child_kind) {
  auto& st = self->state;
  auto key = st.keys.find(msg.source);
  if (key == st.keys.end())
    return std::nullopt;
  auto name = key->second;
  st.keys.erase(key);
  if (auto i = st.children.find(name); i != st.children.end() && i->second.address() == msg.source)
    st.children.erase(i);
  st.stats.live_children = static_cast<int64_t>(st.children.size());
  if (!msg.reason || msg.reason == caf::exit_reason::normal)
    return std::nullopt;
  auto decision = st.trackers[name].on_crash(self->clock().now(), limits);
  if (decision.escalate) {
    ++st.stats.escalations;
    spdlog::error("{} supervisor: {} {} exceeded its restart budget; escalating", st.stats.name,
                  child_kind, name);
    stop_children(self, st.children, caf::exit_reason::unhandled_exception);
    self->quit(caf::exit_reason::unhandled_exception);
  }
  return std::make_pair(std::move(name), decision);
}

/// A registry's side of the passivation handshake: child `who`, registered under `key`, asks to
/// passivate (`idle_atom`). If it is the current child for its key, the registry forgets it and
/// answers, so it may quit: anything routed to it before arrives first (per-sender FIFO). A
/// child the registry never knew (left over from a previous incarnation) is let go too. A child
/// replaced under its key meanwhile gets no answer (its new incarnation serves the key).
template <class Self>
void on_idle_request(Self* self, const std::string& key, const caf::actor_addr& who) {
  auto& st = self->state;
  if (auto i = st.children.find(key); i != st.children.end() && i->second.address() == who) {
    auto child = i->second;
    st.children.erase(i);
    st.stats.live_children = static_cast<int64_t>(st.children.size());
    self->send(child, atoms::idle_atom_v);
  } else if (st.keys.count(who) == 0) {
    // Not ours: left over from a previous incarnation of this registry. Let it go.
    if (auto orphan = caf::actor_cast<caf::actor>(who))
      self->send(orphan, atoms::idle_atom_v);
  }
}

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
  actor_slot payments; ///< the payment service (the mock)
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
  /// For /ready: "in-process" or "rabbitmq".
  std::string publisher_name = "in-process";
};

using services_ptr = std::shared_ptr<services>;

} // namespace orderd
