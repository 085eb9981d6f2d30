#pragma once

// JSON views of the admin API built from domain types only: the dead-letter queue, the parts of
// the overview that come from the store, the fault hook's answer. Views of what actors report
// about themselves (relay, command consumer, supervisors) are rendered in http/status_json.cpp:
// those types live in actors/, which wire/ may not include.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/dead_letter.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"

namespace orderd::wire {

/// How many orders have one status.
using status_count = std::pair<order_status, int64_t>;

/// `{"id","command","routing_key","reason","attempts","last_error","dead_lettered_at",
/// "correlation_id","body"}`; `body` is the JSON sent when it is JSON, else the text.
nlohmann::ordered_json to_json(const dead_letter& d);

/// GET /api/v1/admin/dlq: `{"items":[dead letter...],"count","truncated"}`.
std::string encode_dead_letters(std::span<const dead_letter> letters, bool truncated);

/// POST /api/v1/admin/dlq/{id}/replay: `{"status":"replayed","message":dead letter}`.
std::string encode_replayed(const dead_letter& d);

/// Every order status in state-machine order with its count in `counts`, 0 where it has none
/// (the store leaves out statuses without orders).
std::vector<status_count> every_status(std::span<const status_count> counts);

/// An entry of the overview's low-stock list:
/// `{"sku","name","available","reserved","low_stock_threshold"}`.
nlohmann::ordered_json to_low_stock_json(const product& p);

/// POST /api/v1/admin/faults: `{"status":"injected","target","key"}`.
std::string encode_fault_injected(std::string_view target, std::string_view key);

} // namespace orderd::wire
