#pragma once

// ASCII case folding, for keys compared case-insensitively (e-mail keys, host names, UUIDs):
// only A-Z change, whatever the locale.

#include <string>
#include <string_view>

namespace orderd {

inline std::string ascii_lower(std::string_view text) {
  std::string out{text};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

} // namespace orderd
