#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace orderd {

/// A random (version 4) UUID in canonical lower-case form.
std::string make_uuid();

/// A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds `now_ms`, then random bits, in
/// canonical lower-case form. For ids in a unique index that grows all the time (orders, outbox
/// events): time-ordered ids land at the right edge of the index, so a batch of inserts dirties a
/// few pages instead of one random page each.
std::string make_time_ordered_uuid(int64_t now_ms);

/// True if `text` is a UUID in canonical 8-4-4-4-12 hex form (any case).
bool is_uuid(std::string_view text) noexcept;

} // namespace orderd
