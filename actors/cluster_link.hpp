#pragma once

// How the actors of a cluster node reach the node that owns a key (see docs/CLUSTER.md). The
// shard table says who serves each shard; the peers are the other nodes' registries, proxies
// through CAF's middleman. A registry asks route_key() for every keyed message: served here,
// owned by a peer (delegate there: the peer's actor answers the original sender), or nobody
// serves the shard right now (503, safe to retry). A message that came from another node is
// never sent on again, so two nodes with different pictures cannot bounce it between them.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/local_actor.hpp>
#include <caf/response_promise.hpp>

#include "cluster/shard_table.hpp"
#include "persistence/store.hpp"

namespace orderd {

/// The registries of a node that take keyed messages.
enum class cluster_interface : uint8_t { stock, orders, carts };

/// Another node's registries, as proxies.
struct peer_registries {
  caf::actor stocks;
  caf::actor orders;
  caf::actor carts;
};

class cluster_link {
public:
  explicit cluster_link(std::shared_ptr<cluster::shard_table> shards)
    : shards_(std::move(shards)) {}

  cluster::shard_table& shards() const noexcept { return *shards_; }

  void set_peer(const std::string& node, peer_registries registries);
  /// Forgets every peer not in `live`.
  void keep_peers(const std::set<std::string>& live);
  std::optional<peer_registries> peer(const std::string& node) const;

private:
  std::shared_ptr<cluster::shard_table> shards_;
  mutable std::mutex mutex_;
  std::map<std::string, peer_registries> peers_;
};

/// Where a message for a key goes. Neither field set: this node serves the key.
struct key_route {
  caf::actor remote;                  ///< the owner's registry
  std::optional<caf::error> refusal;  ///< nobody serves the key's shard now
};

/// `link` null (a single node): always served here.
key_route route_key(const cluster_link* link, std::string_view key, cluster_interface to,
                    bool from_another_node);

/// Whether the message `self` is handling was sent from another node.
bool from_another_node(caf::local_actor* self);

/// A new id (made by `make`) whose shard this node serves: a node creates orders and
/// customers in its own shards, so their actors start here. nullopt when it serves none.
template <class Make>
std::optional<std::string> make_local_id(const cluster_link* link, Make make) {
  if (!link)
    return make();
  auto& table = link->shards();
  if (table.serving().empty())
    return std::nullopt;
  for (int attempt = 0; attempt < 100000; ++attempt) {
    auto id = make();
    if (table.serving_epoch(table.shard_of(id)))
      return id;
  }
  return std::nullopt;
}

/// Adds to `cs` a fence for every shard its operations write (the key's shard: SKU, order,
/// customer, idempotency key; the outbox cursor belongs to shard 0, whose owner relays), with
/// the epoch of the node that serves it now: this node's own, or the owner's as last read.
/// The refusal when a shard has no owner right now (the change set must not be written).
std::optional<persistence::change_result> add_fences(const cluster_link& link,
                                                     persistence::change_set& cs);

/// Counts one forward to `to` (orderd_cluster_forwards_total).
void count_forward(cluster_interface to);

/// The error a request gets while nobody serves its key's shard.
caf::error shard_moving(uint32_t shard);

/// Sends a keyed request where route_key() says: delegated to the owner, refused with 503, or
/// delegated to the local actor `local()` returns. For handlers that answer through others.
template <class Self, class Local, class... Ts>
void dispatch_keyed(Self* self, const cluster_link* link, std::string_view key,
                    cluster_interface to, Local&& local, Ts&&... xs) {
  auto where = route_key(link, key, to, from_another_node(self));
  if (where.remote) {
    count_forward(to);
    self->delegate(where.remote, std::forward<Ts>(xs)...);
  } else if (where.refusal) {
    auto rp = self->make_response_promise();
    rp.deliver(*where.refusal);
  } else {
    self->delegate(local(), std::forward<Ts>(xs)...);
  }
}

} // namespace orderd
