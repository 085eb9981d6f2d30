#include "app/cluster_peers.hpp"

#include <set>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/common.hpp"

namespace orderd::app {

cluster_peers::cluster_peers(caf::actor_system& sys, std::shared_ptr<cluster_link> link,
                             std::string self)
  : sys_(sys), link_(std::move(link)), self_(std::move(self)) {
  thread_ = std::thread{[this] { run(); }};
}

cluster_peers::~cluster_peers() {
  stop();
}

void cluster_peers::stop() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (stopping_)
      return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void cluster_peers::update(std::vector<peer_address> live) {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    wanted_ = std::move(live);
    fresh_ = true;
  }
  wake_.notify_all();
}

void cluster_peers::run() {
  using namespace std::chrono_literals;
  std::unique_lock<std::mutex> lock{mutex_};
  while (!stopping_) {
    // Woken by each beat; a failed connect is tried again at the next one.
    wake_.wait(lock, [this] { return stopping_ || fresh_; });
    if (stopping_)
      break;
    fresh_ = false;
    auto wanted = wanted_;
    lock.unlock();
    std::set<std::string> live;
    for (auto& m : wanted) {
      if (m.node_id == self_)
        continue;
      live.insert(m.node_id);
      if (auto it = connected_.find(m.node_id);
          it != connected_.end() && it->second == m.incarnation && link_->peer(m.node_id))
        continue;
      auto colon = m.advertise.rfind(':');
      if (colon == std::string::npos)
        continue;
      auto host = m.advertise.substr(0, colon);
      auto port = static_cast<uint16_t>(std::stoul(m.advertise.substr(colon + 1)));
      auto gateway = sys_.middleman().remote_actor(host, port);
      if (!gateway) {
        spdlog::warn("cluster: cannot reach node {} at {}: {}", m.node_id, m.advertise,
                     sys_.render(gateway.error()));
        continue;
      }
      caf::scoped_actor self{sys_};
      self->request(*gateway, std::chrono::seconds{2}, get_atom_v)
        .receive(
          [&](const caf::actor& stocks, const caf::actor& orders, const caf::actor& carts) {
            link_->set_peer(m.node_id, {stocks, orders, carts});
            connected_[m.node_id] = m.incarnation;
            spdlog::info("cluster: connected to node {} at {}", m.node_id, m.advertise);
          },
          [&](const caf::error& err) {
            spdlog::warn("cluster: node {} at {} did not name its registries: {}", m.node_id,
                         m.advertise, sys_.render(err));
          });
    }
    link_->keep_peers(live);
    std::erase_if(connected_, [&](const auto& c) { return !live.count(c.first); });
    lock.lock();
  }
}

} // namespace orderd::app
