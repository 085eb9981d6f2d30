#pragma once

// Where a key lives in a cluster: a stable hash maps stock, order and cart keys to a fixed number
// of shards, and rendezvous hashing picks each shard's preferred owner among the live members.
// Pure functions, identical on every node, build and platform.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace orderd {

/// 64-bit FNV-1a of `key`, finished with a mixer so nearby keys spread: stable across builds
/// (never std::hash, which may differ between standard libraries).
uint64_t stable_hash(std::string_view key) noexcept;

/// The shard of `key` among `shard_count` shards (shard_count > 0; 0 yields 0).
uint32_t shard_of(std::string_view key, uint32_t shard_count) noexcept;

/// The member that should own `shard`: the highest weight hash(member, shard) among `members`
/// (rendezvous hashing), "" when there are none. When a member leaves, only its shards move;
/// when one joins, it takes about 1/n of every other member's shards.
std::string rendezvous_owner(uint32_t shard, const std::vector<std::string>& members);

} // namespace orderd
