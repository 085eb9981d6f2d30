#include "domain/ids.hpp"

#include <cstdint>
#include <random>

namespace orderd {

namespace {

/// Canonical 8-4-4-4-12 lower-case hex of the two 64-bit halves.
std::string format_uuid(uint64_t hi, uint64_t lo) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t pos = 0;
  for (auto word : {hi, lo})
    for (int i = 0; i < 16; ++i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23)
        ++pos;
      out[pos++] = hex[(word >> (60 - 4 * i)) & 0xF];
    }
  return out;
}

std::mt19937_64& generator() {
  // One generator per thread: seeded from the OS once, then lock-free.
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

constexpr uint64_t rfc_variant(uint64_t lo) {
  return (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
}

} // namespace

std::string make_uuid() {
  auto& gen = generator();
  uint64_t hi = (gen() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL; // version 4
  return format_uuid(hi, rfc_variant(gen()));
}

std::string make_time_ordered_uuid(int64_t now_ms) {
  auto& gen = generator();
  uint64_t hi = (static_cast<uint64_t>(now_ms) & 0xFFFFFFFFFFFFULL) << 16;
  hi |= 0x7000ULL | (gen() & 0x0FFFULL); // version 7, 12 random bits
  return format_uuid(hi, rfc_variant(gen()));
}

bool is_uuid(std::string_view text) noexcept {
  if (text.size() != 36)
    return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-')
        return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

} // namespace orderd
