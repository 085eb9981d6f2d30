#include "domain/shard.hpp"

namespace orderd {

namespace {

/// splitmix64's finaliser: every input bit reaches every output bit.
uint64_t mix(uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

} // namespace

uint64_t stable_hash(std::string_view key) noexcept {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return mix(h);
}

uint32_t shard_of(std::string_view key, uint32_t shard_count) noexcept {
  if (shard_count == 0)
    return 0;
  return static_cast<uint32_t>(stable_hash(key) % shard_count);
}

std::string rendezvous_owner(uint32_t shard, const std::vector<std::string>& members) {
  std::string best;
  uint64_t best_weight = 0;
  for (auto& m : members) {
    auto weight = mix(stable_hash(m) ^ mix(uint64_t{shard} + 0x9e3779b97f4a7c15ULL));
    // Ties (vanishingly rare) go to the smaller name, so every node picks the same owner.
    if (best.empty() || weight > best_weight || (weight == best_weight && m < best)) {
      best = m;
      best_weight = weight;
    }
  }
  return best;
}

} // namespace orderd
