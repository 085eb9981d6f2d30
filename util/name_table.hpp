#pragma once

// The names of an enum's values in one table, behind the enum's to_string and parse functions
// (the domain's enums, errc's problem titles, the resilience, metrics and AMQP states).
// Header-only, standard library only: every layer may include util/ (scripts/check_layers.sh).

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <optional>
#include <string_view>

namespace orderd {

/// Entry i names the enumerator whose value is i.
template <class E, std::size_t N>
class name_table {
public:
  /// `names[i]` names the enumerator of value i. `last` is the enum's last enumerator: a table
  /// whose size does not match it does not compile (the switch this replaces warned of a
  /// missing case). `fallback` is name()'s answer for a value outside the enum.
  consteval name_table(E last, const std::string_view (&names)[N], std::string_view fallback)
    : fallback_(fallback) {
    if (static_cast<std::size_t>(last) + 1 != N)
      throw "a name_table names every enumerator, up to the last"; // not constant: an error
    std::copy(names, names + N, names_.begin());
  }

  constexpr std::string_view name(E value) const noexcept {
    auto i = static_cast<std::size_t>(value);
    return i < N ? names_[i] : fallback_;
  }

  /// The enumerator named exactly `text`.
  constexpr std::optional<E> parse(std::string_view text) const noexcept {
    return find([&](std::string_view name) { return name == text; });
  }

  /// The enumerator named `text` in any case (ASCII).
  std::optional<E> parse_any_case(std::string_view text) const noexcept {
    return find([&](std::string_view name) {
      return name.size() == text.size()
             && std::equal(name.begin(), name.end(), text.begin(), [](char a, char b) {
                  return std::tolower(static_cast<unsigned char>(a))
                         == std::tolower(static_cast<unsigned char>(b));
                });
    });
  }

private:
  template <class Match>
  constexpr std::optional<E> find(Match match) const noexcept {
    for (std::size_t i = 0; i < N; ++i)
      if (match(names_[i]))
        return static_cast<E>(i);
    return std::nullopt;
  }

  std::array<std::string_view, N> names_{};
  std::string_view fallback_;
};

} // namespace orderd
