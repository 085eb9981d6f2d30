#pragma once

#include <string>
#include <string_view>

namespace orderd {

/// A random (version 4) UUID in canonical lower-case form.
std::string make_uuid();

/// True if `text` is a UUID in canonical 8-4-4-4-12 hex form (any case).
bool is_uuid(std::string_view text) noexcept;

} // namespace orderd
