#include "actors/cluster_link.hpp"

#include <caf/actor_control_block.hpp>

#include "actors/protocol/common.hpp"
#include "observability/catalogue.hpp"

namespace orderd {

void cluster_link::set_peer(const std::string& node, peer_registries registries) {
  std::lock_guard<std::mutex> lock{mutex_};
  peers_[node] = std::move(registries);
}

void cluster_link::keep_peers(const std::set<std::string>& live) {
  std::lock_guard<std::mutex> lock{mutex_};
  std::erase_if(peers_, [&](const auto& p) { return !live.count(p.first); });
}

std::optional<peer_registries> cluster_link::peer(const std::string& node) const {
  std::lock_guard<std::mutex> lock{mutex_};
  auto it = peers_.find(node);
  if (it == peers_.end())
    return std::nullopt;
  return it->second;
}

caf::error shard_moving(uint32_t shard) {
  return fail(errc::unavailable, "shard " + std::to_string(shard)
                                   + " is moving between cluster nodes; retry shortly");
}

key_route route_key(const cluster_link* link, std::string_view key, cluster_interface to,
                    bool from_another_node) {
  if (!link)
    return {};
  auto& table = link->shards();
  auto shard = table.shard_of(key);
  if (table.serving_epoch(shard))
    return {};
  if (from_another_node)
    return {{}, shard_moving(shard)};
  auto owner = table.owner(shard);
  if (!owner || owner->node_id == table.self())
    return {{}, shard_moving(shard)};
  auto peer = link->peer(owner->node_id);
  if (!peer)
    return {{}, fail(errc::unavailable, "node " + owner->node_id + " (owner of shard "
                                          + std::to_string(shard) + ") is not connected yet")};
  switch (to) {
    case cluster_interface::stock:
      return {peer->stocks, {}};
    case cluster_interface::orders:
      return {peer->orders, {}};
    case cluster_interface::carts:
      return {peer->carts, {}};
  }
  return {};
}

bool from_another_node(caf::local_actor* self) {
  auto& sender = self->current_sender();
  return sender && sender->node() != self->node();
}

namespace {

/// The keys a change set writes. Most operations are written only by the actor that owns the
/// key, so on the node that serves its shard: `owned`. Stock moves and a checkout's emptied cart
/// are written with an order, by the order's node, while another node's stock or cart actor
/// holds the key: `held_elsewhere` (fenced at that owner's epoch).
struct op_keys {
  std::vector<std::string_view>& owned;
  std::vector<std::string_view>& held_elsewhere;
  void operator()(const persistence::insert_product& op) { owned.push_back(op.item.sku); }
  void operator()(const persistence::update_product& op) { owned.push_back(op.sku); }
  void operator()(const persistence::delete_product& op) { owned.push_back(op.sku); }
  void operator()(const persistence::set_available& op) { owned.push_back(op.sku); }
  void operator()(const persistence::adjust_stock& op) { held_elsewhere.push_back(op.sku); }
  void operator()(const persistence::insert_order& op) { owned.push_back(op.item.id); }
  void operator()(const persistence::transition_order& op) { owned.push_back(op.order_id); }
  void operator()(const persistence::save_idempotency& op) { owned.push_back(op.record.key); }
  void operator()(const persistence::insert_customer& op) { owned.push_back(op.item.id); }
  void operator()(const persistence::update_customer& op) { owned.push_back(op.item.id); }
  void operator()(const persistence::delete_customer& op) { owned.push_back(op.id); }
  void operator()(const persistence::save_cart& op) { held_elsewhere.push_back(op.item.customer_id); }
  // The relay's cursor: the node serving shard 0 relays.
  void operator()(const persistence::mark_events_published&) { owned.push_back({}); }
  // Events, inbound message records and notifications belong to the change they come with.
  template <class Op>
  void operator()(const Op&) {}
};

} // namespace

std::optional<persistence::change_result> add_fences(const cluster_link& link,
                                                     persistence::change_set& cs) {
  std::vector<std::string_view> owned;
  std::vector<std::string_view> held_elsewhere;
  for (auto& op : cs.ops)
    std::visit(op_keys{owned, held_elsewhere}, op);
  auto& table = link.shards();
  auto shard_of = [&](std::string_view key) { return key.empty() ? 0u : table.shard_of(key); };
  std::set<uint32_t> mine;
  for (auto key : owned)
    mine.insert(shard_of(key));
  // Shards the caller fenced already (a placement's stock moves, at the ownership each hold
  // was granted under) keep that fence: the owner now may be a later one.
  std::set<uint32_t> fenced;
  for (auto& f : cs.fences)
    fenced.insert(static_cast<uint32_t>(f.shard));
  std::set<uint32_t> theirs;
  for (auto key : held_elsewhere)
    if (!mine.count(shard_of(key)) && !fenced.count(shard_of(key)))
      theirs.insert(shard_of(key));
  auto refused = [](std::string detail) {
    persistence::change_result r;
    r.code = errc::unavailable;
    r.detail = "fenced: " + std::move(detail) + "; retry shortly";
    return r;
  };
  auto now = std::chrono::steady_clock::now();
  for (auto shard : mine) {
    // Written by the key's own actor: only while this node serves the shard, at its epoch.
    auto epoch = table.serving_epoch(shard, now);
    if (!epoch)
      return refused("this node no longer serves shard " + std::to_string(shard));
    cs.fences.push_back({static_cast<int32_t>(shard), table.self(), *epoch});
  }
  for (auto shard : theirs) {
    if (auto epoch = table.serving_epoch(shard, now)) {
      cs.fences.push_back({static_cast<int32_t>(shard), table.self(), *epoch});
      continue;
    }
    auto owner = table.owner(shard, now);
    if (!owner)
      return refused("shard " + std::to_string(shard) + " has no owner right now");
    cs.fences.push_back({static_cast<int32_t>(shard), owner->node_id, owner->epoch});
  }
  return std::nullopt;
}

void count_forward(cluster_interface to) {
  static auto& f = observability::catalogue::cluster_forwards();
  static auto& stock = f.with({"stock"});
  static auto& orders = f.with({"orders"});
  static auto& carts = f.with({"carts"});
  (to == cluster_interface::stock ? stock : to == cluster_interface::orders ? orders : carts)
    .inc();
}

} // namespace orderd
