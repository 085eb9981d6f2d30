#include "observability/trace.hpp"

#include <algorithm>
#include <cstring>
#include <random>

namespace orderd::observability {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

bool is_lower_hex(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

int hex_value(char c) noexcept {
  return c <= '9' ? c - '0' : c - 'a' + 10;
}

/// The thread's log trace id, NUL-terminated (a fixed buffer: no allocation per scope).
thread_local char current_trace[33] = {};

} // namespace

std::optional<trace_context> parse_traceparent(std::string_view text) {
  // version(2) - trace id(32) - parent id(16) - flags(2) = 55 characters.
  if (text.size() < 55 || text[2] != '-' || text[35] != '-' || text[52] != '-')
    return std::nullopt;
  auto version = text.substr(0, 2);
  auto trace_id = text.substr(3, 32);
  auto span_id = text.substr(36, 16);
  auto flags = text.substr(53, 2);
  if (!is_lower_hex(version) || version == "ff" || !is_lower_hex(trace_id)
      || !is_lower_hex(span_id) || !is_lower_hex(flags) || all_zero(trace_id)
      || all_zero(span_id))
    return std::nullopt;
  if (text.size() > 55 && (version == "00" || text[55] != '-'))
    return std::nullopt;
  trace_context c;
  c.trace_id = std::string{trace_id};
  c.span_id = std::string{span_id};
  c.flags = static_cast<uint8_t>(hex_value(flags[0]) * 16 + hex_value(flags[1]));
  return c;
}

std::string random_hex_id(size_t n) {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::string out(n, '0');
  do {
    uint64_t bits = 0;
    for (size_t i = 0; i < n; ++i) {
      if (i % 16 == 0)
        bits = gen();
      out[i] = hex_digits[bits & 0xF];
      bits >>= 4;
    }
  } while (all_zero(out));
  return out;
}

trace_context make_trace_context() {
  return trace_context{random_hex_id(32), random_hex_id(16), 1};
}

std::string format_traceparent(const trace_context& c) {
  std::string out = "00-";
  out += c.trace_id;
  out += '-';
  out += c.span_id;
  out += '-';
  out += hex_digits[(c.flags >> 4) & 0xF];
  out += hex_digits[c.flags & 0xF];
  return out;
}

bool is_trace_id(std::string_view text) noexcept {
  return text.size() == 32 && is_lower_hex(text) && !all_zero(text);
}

std::string trace_id_of_correlation(std::string_view correlation_id) {
  if (correlation_id.empty())
    return {};
  if (is_trace_id(correlation_id))
    return std::string{correlation_id};
  if (correlation_id.size() == 36) {
    std::string digits;
    for (size_t i = 0; i < 36; ++i) {
      char c = correlation_id[i];
      bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_position != (c == '-'))
        break;
      if (!dash_position)
        digits += (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    if (is_trace_id(digits))
      return digits;
  }
  // Two FNV-1a 64 hashes with different offsets make the 128 bits.
  std::string out;
  for (uint64_t h : {1469598103934665603ULL, 0x84222325cbf29ce4ULL}) {
    for (unsigned char c : correlation_id) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    for (int i = 15; i >= 0; --i)
      out += hex_digits[(h >> (4 * i)) & 0xF];
  }
  if (all_zero(out))
    out.back() = '1';
  return out;
}

std::string traceparent_for_event(std::string_view correlation_id, std::string_view event_id) {
  trace_context c;
  c.trace_id = trace_id_of_correlation(correlation_id);
  if (c.trace_id.empty())
    c.trace_id = random_hex_id(32);
  std::string digits;
  for (char ch : event_id)
    if (ch != '-')
      digits += (ch >= 'A' && ch <= 'F') ? static_cast<char>(ch - 'A' + 'a') : ch;
  if (digits.size() >= 16)
    c.span_id = digits.substr(digits.size() - 16);
  if (c.span_id.size() != 16 || !is_lower_hex(c.span_id) || all_zero(c.span_id))
    c.span_id = random_hex_id(16);
  c.flags = 1;
  return format_traceparent(c);
}

std::string_view current_log_trace_id() noexcept {
  return std::string_view{current_trace};
}

log_trace_scope::log_trace_scope(std::string_view trace_id) noexcept {
  std::memcpy(saved_, current_trace, sizeof saved_);
  auto n = std::min<size_t>(trace_id.size(), 32);
  std::memcpy(current_trace, trace_id.data(), n);
  current_trace[n] = '\0';
}

log_trace_scope::~log_trace_scope() {
  std::memcpy(current_trace, saved_, sizeof saved_);
}

} // namespace orderd::observability
