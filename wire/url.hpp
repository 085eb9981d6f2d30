#pragma once

// URL encoding shared by the HTTP server (request targets) and the AMQP URL parser: percent
// escapes and `key=value&...` query strings. Plain C++: library orderd_wire_url, no JSON.

#include <cstddef>
#include <string>
#include <string_view>

namespace orderd::wire {

/// Decodes %XX escapes (and '+' as a space if `plus_is_space`); a malformed escape (a '%' not
/// followed by two hex digits) stays as it is.
std::string percent_decode(std::string_view in, bool plus_is_space = false);

/// Where the first malformed escape of `in` starts, or npos when every '%' starts a %XX escape.
size_t find_malformed_escape(std::string_view in) noexcept;

/// Calls `f(key, value)` for each non-empty item of `query` ("a=1&b&c=3"), in order; an item
/// without '=' has an empty value. Nothing is decoded.
template <class F>
void for_each_query_item(std::string_view query, F&& f) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty())
      continue;
    auto eq = item.find('=');
    f(item.substr(0, eq),
      eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
  }
}

} // namespace orderd::wire
