#pragma once

// Which node serves each shard, as this node last learned it from the lease rows in PostgreSQL
// (written by app/cluster_membership, read by whoever must route or fence a key). This node's
// own shards carry a local deadline on the steady clock: it was taken before the renewing
// statement was sent, minus a margin, so it passes before the lease can expire on the
// database's clock. Past it, the node no longer serves the shard, whatever else it believes.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderd::cluster {

using steady_time = std::chrono::steady_clock::time_point;

/// A shard's owner as last read: its node, where that node is reached, and the lease epoch.
struct shard_owner {
  std::string node_id;
  std::string advertise;
  int64_t epoch = 0;
};

/// One shard this node holds.
struct owned_shard {
  uint32_t shard = 0;
  int64_t epoch = 0;
  steady_time serve_until{}; ///< local deadline (see above)
};

/// The whole picture after one lease round.
struct shard_assignment {
  std::vector<owned_shard> mine;
  /// Every shard's owner while its lease is valid (this node's included); empty node_id: no
  /// valid lease (being taken over or handed off).
  std::vector<shard_owner> owners;
};

class shard_table {
public:
  shard_table(std::string self, uint32_t shard_count);

  const std::string& self() const noexcept { return self_; }
  uint32_t shard_count() const noexcept { return shard_count_; }
  uint32_t shard_of(std::string_view key) const noexcept;

  /// This node's epoch for `shard` while it serves it (its local deadline not passed).
  std::optional<int64_t> serving_epoch(uint32_t shard,
                                       steady_time now = std::chrono::steady_clock::now()) const;

  /// The shard's owner as last read; nullopt while no lease is valid, or when this node is the
  /// owner on paper but its own deadline has passed.
  std::optional<shard_owner> owner(uint32_t shard,
                                   steady_time now = std::chrono::steady_clock::now()) const;

  /// The shards this node serves now, by shard.
  std::vector<owned_shard> serving(steady_time now = std::chrono::steady_clock::now()) const;

  /// Replaces the picture (the membership thread, after each lease round).
  void assign(shard_assignment next);

  /// Stops serving `shard` at once (before a hand-off releases its lease).
  void drop(uint32_t shard);

  /// Stops serving everything (leaving the cluster).
  void drop_all();

private:
  using picture = std::shared_ptr<const shard_assignment>;
  picture snapshot() const;

  std::string self_;
  uint32_t shard_count_;
  mutable std::mutex mutex_;
  picture current_;
};

} // namespace orderd::cluster
