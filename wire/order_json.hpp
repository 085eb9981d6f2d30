#pragma once

// The JSON of an order, as the API shows it and order.created / order.cancelled carry it.
//
// Rendered by hand: it is written at least twice per placement (the 201 body and the event) and
// once per read by id, and building an nlohmann tree first cost more than the rest of the
// encoding. Strings that need escaping (quotes, control characters, anything outside printable
// ASCII) still go through nlohmann, so the output is byte for byte what nlohmann renders (tested
// in json_tests).

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/order.hpp"

namespace orderd::wire {

/// {"id", "customer_id", "customer_email", "status", "items": [{"sku", "quantity",
/// "unit_price_cents"}], "total_cents", "currency", "created_at", "updated_at"
/// [, "cancel_reason" when set]}
std::string render_order_json(const order& o);

/// Appends `text` as a JSON string literal; invalid UTF-8 is replaced (U+FFFD), never thrown on.
void append_json_string(std::string& out, std::string_view text);

/// Appends `x` as a JSON number.
void append_json_number(std::string& out, int64_t x);

} // namespace orderd::wire
