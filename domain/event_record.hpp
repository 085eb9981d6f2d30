#pragma once

#include <cstdint>
#include <string>

#include "domain/time.hpp"

namespace orderd {

/// One event as orderd records and publishes it: rendered by events/ inside the change set of
/// the change it reports, kept in the store's transactional outbox until the relay has published
/// it, and delivered to in-process subscribers. An event exists if and only if its change
/// committed.
struct event_record {
  std::string id;             ///< UUID; also the AMQP message_id consumers deduplicate by
  std::string type;           ///< e.g. "order.created"; the AMQP routing key
  std::string aggregate;      ///< order id or sku: events of one aggregate keep their order
  timestamp_ms occurred_at = 0;
  std::string correlation_id; ///< the request that caused it
  std::string payload;        ///< the full envelope, JSON text (events/catalogue.hpp)
  /// Publication order, assigned by the store when the row is appended (ignored on append).
  /// Rows commit in seq order, so seq order is commit order.
  int64_t seq = 0;

  friend bool operator==(const event_record&, const event_record&) = default;
};

} // namespace orderd
