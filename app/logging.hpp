#pragma once

#include <string>

namespace orderd::app {

/// Configures spdlog's default logger: `level` as in --log-level, `format` "text" or "json"
/// (one JSON object per line: ts, level, thread, msg). Timestamps are UTC.
void setup_logging(const std::string& level, const std::string& format);

} // namespace orderd::app
