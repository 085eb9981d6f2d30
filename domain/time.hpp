#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace orderd {

/// Milliseconds since the Unix epoch (UTC). All stored timestamps use it.
using timestamp_ms = int64_t;

/// A source of wall-clock time, injected so tests can control it.
using wall_clock = std::function<timestamp_ms()>;

/// The real wall clock.
timestamp_ms system_now_ms();

/// Formats as RFC 3339 UTC with milliseconds, e.g. `2026-11-21T23:49:07.123Z`.
std::string format_rfc3339(timestamp_ms t);

/// Parses what format_rfc3339 produces (and the same without fraction).
std::optional<timestamp_ms> parse_rfc3339(std::string_view text);

} // namespace orderd
