#include "persistence/detail/keyset.hpp"

#include <array>
#include <charconv>

#include "persistence/detail/store_common.hpp"

namespace orderd::persistence::detail {

namespace {

// -- base64url without padding (RFC 4648 §5) --------------------------------------------------

constexpr std::string_view base64url_alphabet
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (uint32_t{static_cast<uint8_t>(in[i])} << 16)
                 | (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8)
                 | uint32_t{static_cast<uint8_t>(in[i + 2])};
    out += base64url_alphabet[(n >> 18) & 63];
    out += base64url_alphabet[(n >> 12) & 63];
    out += base64url_alphabet[(n >> 6) & 63];
    out += base64url_alphabet[n & 63];
  }
  if (auto rest = in.size() - i; rest > 0) {
    uint32_t n = uint32_t{static_cast<uint8_t>(in[i])} << 16;
    if (rest == 2)
      n |= uint32_t{static_cast<uint8_t>(in[i + 1])} << 8;
    out += base64url_alphabet[(n >> 18) & 63];
    out += base64url_alphabet[(n >> 12) & 63];
    if (rest == 2)
      out += base64url_alphabet[(n >> 6) & 63];
  }
  return out;
}

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> table{};
  for (auto& v : table)
    v = -1;
  for (size_t i = 0; i < base64url_alphabet.size(); ++i)
    table[static_cast<uint8_t>(base64url_alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr auto base64url_decode_table = make_decode_table();

std::optional<std::string> base64url_decode(std::string_view in) {
  if (in.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t bits = 0;
  int bit_count = 0;
  for (char c : in) {
    auto v = base64url_decode_table[static_cast<uint8_t>(c)];
    if (v < 0)
      return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out += static_cast<char>((bits >> bit_count) & 0xFF);
    }
  }
  // Leftover bits must be zero, so every cursor has exactly one spelling.
  if ((bits & ((1u << bit_count) - 1)) != 0)
    return std::nullopt;
  return out;
}

[[noreturn]] void bad_cursor() {
  throw store_error(errc::invalid_input, "malformed cursor");
}

std::string tag_of(cursor_kind kind) {
  return {static_cast<char>(kind), ':'};
}

} // namespace

std::string encode_cursor(cursor_kind kind, std::string_view key) {
  auto plain = tag_of(kind);
  plain += key;
  return base64url_encode(plain);
}

std::string encode_cursor(cursor_kind kind, int64_t key) {
  return encode_cursor(kind, std::to_string(key));
}

template <>
std::optional<std::string> decode_cursor<std::string>(cursor_kind kind, std::string_view cursor) {
  if (cursor.empty())
    return std::nullopt;
  auto plain = base64url_decode(cursor);
  auto tag = tag_of(kind);
  if (!plain || !plain->starts_with(tag))
    bad_cursor();
  return plain->substr(tag.size());
}

template <>
std::optional<int64_t> decode_cursor<int64_t>(cursor_kind kind, std::string_view cursor) {
  auto digits = decode_cursor<std::string>(kind, cursor);
  if (!digits)
    return std::nullopt;
  int64_t key = 0;
  auto [end, ec] = std::from_chars(digits->data(), digits->data() + digits->size(), key);
  if (ec != std::errc{} || end != digits->data() + digits->size() || key <= 0)
    bad_cursor();
  return key;
}

int64_t page_limit(size_t limit) {
  if (limit == 0)
    throw store_error(errc::invalid_input, "page limit must be at least 1");
  return row_limit(limit);
}

} // namespace orderd::persistence::detail
