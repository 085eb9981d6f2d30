#pragma once

#include <cstdint>
#include <string>

namespace orderd {

/// A command in the dead-letter queue, as the admin API lists it (see inbound.hpp).
struct dead_letter {
  std::string id;               ///< its message_id (the handle for replay)
  std::string command;          ///< empty when it never named one
  std::string routing_key;      ///< as first received
  std::string reason;           ///< why it was dead-lettered
  uint32_t attempts = 0;        ///< failed attempts before that
  std::string last_error;       ///< the last attempt's error (empty for poison)
  std::string dead_lettered_at; ///< RFC 3339
  std::string correlation_id;
  std::string body;             ///< as sent
};

} // namespace orderd
