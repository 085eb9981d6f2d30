#pragma once

// UUIDs compare case-insensitively (RFC 9562): orderd makes them in lower case and stores them
// so, and every edge (HTTP paths, query parameters, headers, AMQP commands) turns a UUID it is
// given into that one spelling before anything looks it up.

#include <string>
#include <string_view>

#include "domain/ids.hpp"
#include "util/ascii.hpp"

namespace orderd {

/// `id` in lower case when it is spelled as a UUID; anything else unchanged.
inline std::string canonical_id(std::string_view id) {
  return is_uuid(id) ? ascii_lower(id) : std::string{id};
}

} // namespace orderd
