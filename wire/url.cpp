#include "wire/url.hpp"

namespace orderd::wire {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// The byte of the escape at in[i] ('%'), or -1 when it is malformed.
int escaped_byte(std::string_view in, size_t i) noexcept {
  if (i + 2 >= in.size())
    return -1;
  int hi = hex_value(in[i + 1]);
  int lo = hex_value(in[i + 2]);
  return hi >= 0 && lo >= 0 ? hi * 16 + lo : -1;
}

} // namespace

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (int byte = escaped_byte(in, i); byte >= 0) {
        out += static_cast<char>(byte);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

size_t find_malformed_escape(std::string_view in) noexcept {
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%')
      continue;
    if (escaped_byte(in, i) < 0)
      return i;
    i += 2;
  }
  return std::string_view::npos;
}

} // namespace orderd::wire
