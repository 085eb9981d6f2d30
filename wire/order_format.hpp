#pragma once

// Which of the two order renderings a response uses. A placement carries it to the order actor,
// which stores the rendered 201 body with an Idempotency-Key so that a replay answers the
// original bytes; it is a plain enum so the placement stays serializable.

#include <cstdint>
#include <string>

#include "domain/order.hpp"

namespace orderd::wire {

/// The v1 API's order JSON, or the seed service's (legacy `/order`) shape.
enum class order_format : uint8_t { v1, legacy };

/// The JSON of `o` in `format`.
std::string render_order(const order& o, order_format format);

} // namespace orderd::wire
