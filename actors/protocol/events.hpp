#pragma once

// The event interface: the outbox relay, the publisher it hands batches to (the in-process
// bus or the RabbitMQ bridge) and the in-process bus's subscribers.

#include <cstdint>
#include <string>

#include "actors/protocol/common.hpp"
#include "domain/event_record.hpp"

namespace orderd {

/// A publisher's answer to a batch of outbox events: the first `confirmed` events of the batch
/// are safe (confirmed by the broker, or delivered by the in-process bus); the others were not,
/// for `error`. The relay marks exactly the confirmed prefix published.
struct publish_ack {
  uint64_t confirmed = 0;
  std::string error;
};

/// What the event relay reports about itself (for /ready).
struct relay_status {
  std::string publisher;        ///< "in-process" or "rabbitmq"
  std::string state;            ///< its circuit breaker: "closed", "open" or "half-open"
  int64_t backlog = -1;         ///< unpublished events; -1 when the store did not answer
  uint64_t published = 0;       ///< events published since the relay started
  uint32_t failures = 0;        ///< consecutive failed attempts
  std::string last_error;       ///< why the last attempt failed (empty after a success)
};

// event relay (one per node; publishes the outbox in seq order, see actors/relay.hpp):
//   (nudge_atom)                                  -> void        new events committed
//   (status_atom)                                 -> relay_status
//
// event publisher (the in-process bus, or the RabbitMQ bridge when --amqp-url is set):
//   (publish_atom, std::vector<event_record>)     -> publish_ack
//
// event bus (in-process subscribers, see actors/event_bus.hpp):
//   (subscribe_atom, std::string pattern)         -> bool        the sender gets matching events
//   (subscribe_atom, std::string pattern, actor)  -> bool        `actor` gets them
//   (unsub_atom, std::string pattern)             -> bool
//   delivers (event_atom, event_record) to each subscriber whose topic pattern matches the type

ORDERD_INSPECT(publish_ack, x.confirmed, x.error)
ORDERD_INSPECT(relay_status, x.publisher, x.state, x.backlog, x.published, x.failures,
               x.last_error)
ORDERD_INSPECT(event_record, x.id, x.type, x.aggregate, x.occurred_at, x.correlation_id, x.payload,
               x.seq)

} // namespace orderd
