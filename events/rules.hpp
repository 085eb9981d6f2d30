#pragma once

// Which events a change causes, where that is a pure rule over figures (no actor state).

#include <vector>

#include "domain/event_record.hpp"
#include "domain/product.hpp"
#include "events/catalogue.hpp"

namespace orderd::events {

/// The stock events of a change set's moves, rendered at `at`: `inventory.updated` for every
/// SKU whose figures changed, then `inventory.low` when it crossed its threshold
/// (domain: crossed_into_low_stock). A product created in the change set has no "before": it
/// gets `inventory.updated`, and no `inventory.low` (it did not cross anything).
std::vector<event_record> stock_events(const origin& from, const std::vector<stock_move>& moves,
                                       timestamp_ms at);

} // namespace orderd::events
