#pragma once

// Building outbox events into change sets: which events a change causes is decided here (with
// the rules in domain/ and events/rules.hpp), how they look on the wire in events/catalogue.hpp.

#include <string>
#include <vector>

#include "actors/services.hpp"
#include "events/rules.hpp"
#include "persistence/store.hpp"

namespace orderd {

/// The origin of the events an actor writes now: this node, and `correlation_id` (a new UUID
/// when the request carried none).
events::origin origin_of(const services& svc, std::string correlation_id);

/// The op that appends stock_events() for the moves of the ops before it. It must come after
/// the stock ops: the store hands it the exact figures read inside the transaction.
persistence::append_stock_events append_stock_events_op(events::origin from, timestamp_ms at);

/// Adds the processed-message record of an inbound command to `cs`, so the command's effect and
/// the record commit together (nothing when `message_id` is empty: the change came over HTTP).
void record_inbound(persistence::change_set& cs, const std::string& message_id,
                    std::string_view command, timestamp_ms at);

/// True when the change set appends outbox events (so the relay has work once it commits).
bool appends_events(const persistence::change_set& cs) noexcept;

} // namespace orderd
