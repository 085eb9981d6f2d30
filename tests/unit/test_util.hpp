#pragma once

// Small helpers shared by the unit tests (header-only, no CAF).

#include <exception>
#include <optional>
#include <string>

namespace orderd::test {

/// The exception message `f` throws as E, or nullopt when it does not throw.
template <class E = std::exception, class F>
std::optional<std::string> error_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return std::string{e.what()};
  }
  return std::nullopt;
}

} // namespace orderd::test
