#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/protocol.hpp"
#include "actors/services.hpp"
#include "resilience/backoff.hpp"
#include "resilience/circuit_breaker.hpp"

namespace orderd {

// Notifications: the notification supervisor (a child of the root) subscribes to the event bus
// and turns order and inventory events into notification records, one per channel and
// recipient. Each record is written PENDING in one change set before anyone tries to deliver it,
// then handed to its channel actor. A channel delivers one record at a time through its
// transport (the blocking ones on their own threads), retries failures with exponential backoff
// and jitter, guards its transport with a circuit breaker, and gives up after max_attempts:
// the record becomes FAILED, which is the dead-letter list (GET /api/v1/notifications?status=
// FAILED). After a restart the supervisor resumes every PENDING record from the store.
//
//   notification supervisor
//   ├── channel email    → transport (SMTP or maildir; detached)
//   ├── channel webhook  → transport (HTTP POST; detached)
//   └── channel push     → record only (no provider)
//
// Channels are linked to the supervisor: a crashing channel takes it down and the root restarts
// it, which resumes the PENDING records. Order placement never waits for any of this: the bus
// delivers events to the supervisor's mailbox only after they committed.

/// Who an event concerns, as far as its payload (and, if needed, the store) tells.
struct notification_audience {
  std::string email;
  std::string customer_id;
  std::string order_id;
};

/// The event types the supervisor subscribes to (exact types are patterns too; `order.confirmed`
/// works as soon as something publishes it).
const std::vector<std::string>& notified_event_types();

/// What the event's payload alone says about its audience (email, customer id, order id).
notification_audience audience_of(const event_record& e);

/// The records an event causes, without ids and times: e-mail to the customer (or, for
/// inventory.low, to the stock manager), push to the customer, the event JSON to each webhook.
std::vector<notification> render_notifications(const event_record& e,
                                               const notification_audience& who,
                                               const notify_options& opts);

struct channel_state {
  channel_state() = default;
  notification_channel channel = notification_channel::email;
  caf::actor transport; ///< invalid: record only
  std::optional<resilience::circuit_breaker> breaker;
  std::optional<resilience::backoff> retry_delays;
  uint32_t max_attempts = 5;
  std::deque<notification> ready;         ///< due now, in arrival order
  size_t batch = 1;                       ///< attempts handed to the transport at once
  std::unordered_set<std::string> known;  ///< ids queued, waiting for a retry or in flight
  bool busy = false;                      ///< an attempt is in flight
  bool wake_scheduled = false;            ///< a tick is scheduled for the breaker's cooldown
  /// Outcomes of attempts not yet written: they go to the store writer in one change set
  /// while the previous one commits (one write per group commit, not one per notification).
  std::vector<persistence::update_notification> unrecorded;
  bool recording = false;                 ///< a change set of outcomes is being written
  /// Outcomes being written now: terminal ones leave `known` once written, so that a resume
  /// racing the write cannot hand a delivered record over again.
  std::vector<std::string> settling;
  /// PENDING records of this channel may wait in the store and not in memory: at start, and
  /// after the queue turned records away (see notify_options::channel_queue_limit).
  bool maybe_pending = true;
  bool reading = false;                   ///< a read of PENDING records is under way
  /// Settled while a read was under way: its snapshot may still show them PENDING.
  std::unordered_set<std::string> settled_while_reading;
  caf::actor_clock::time_point read_not_before{}; ///< a read found nothing new: wait a little
  resilience::breaker_state shown = resilience::breaker_state::closed;
  uint64_t sent = 0;
  uint64_t dead_lettered = 0;
  static inline const char* name = "notification-channel";
};

/// One channel: delivers, retries, breaks the circuit, dead-letters. `transport` answers
/// (deliver_atom, notification) -> bool | error.
caf::behavior channel_impl(caf::stateful_actor<channel_state>* self, services_ptr svc,
                           notification_channel channel, caf::actor transport);

struct notifier_state {
  notifier_state() = default;
  std::map<notification_channel, caf::actor> channels;
  caf::actor_addr bus; ///< the bus incarnation we subscribed to
  uint64_t events_seen = 0;
  /// Records for events, not yet written: they go to the store writer in one change set while
  /// the previous one commits (one write per group commit, not one per event).
  std::vector<notification> unwritten;
  bool writing = false; ///< a change set of records is being written
  static inline const char* name = "notification-supervisor";
};

caf::behavior notifier_impl(caf::stateful_actor<notifier_state>* self, services_ptr svc);

/// A transport around a blocking delivery function: returns an empty string on success, else why
/// it failed. Spawn it detached: the function may block for up to its own timeout.
using delivery_function = std::function<std::string(const notification&)>;

/// Delivers several at once (one reason per notification, empty: delivered): a transport whose
/// cost is per call, not per message (the maildir's fsync), does it once for the group.
using batch_delivery_function
  = std::function<std::vector<std::string>(const std::vector<notification>&)>;

struct transport_state {
  delivery_function deliver;
  batch_delivery_function deliver_batch; ///< empty: a batch is delivered one by one
  static inline const char* name = "notification-transport";
};

caf::behavior transport_impl(caf::stateful_actor<transport_state>* self, delivery_function fn);

/// A transport that delivers a group with `batch` (and single attempts with `fn`).
caf::behavior batch_transport_impl(caf::stateful_actor<transport_state>* self,
                                   delivery_function fn, batch_delivery_function batch);

} // namespace orderd
