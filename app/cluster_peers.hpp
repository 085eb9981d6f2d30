#pragma once

// Connections to the other nodes of the cluster: for every live member (as the membership
// thread last read them), a thread of its own connects to the member's cluster port through
// CAF's middleman, asks its gateway for its registries and hands them to the cluster link. A
// member that restarted (new incarnation) is connected again; one that left is forgotten. The
// blocking connects never delay a heartbeat or a lease renewal.

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/cluster_link.hpp"

namespace orderd::app {

struct peer_address {
  std::string node_id;
  std::string advertise;   ///< HOST:PORT of its cluster port
  std::string incarnation; ///< changes at every start of the node
};

class cluster_peers {
public:
  cluster_peers(caf::actor_system& sys, std::shared_ptr<cluster_link> link, std::string self);
  ~cluster_peers();
  cluster_peers(const cluster_peers&) = delete;
  cluster_peers& operator=(const cluster_peers&) = delete;

  /// The live members now (this node included; it is skipped). Never blocks.
  void update(std::vector<peer_address> live);

  void stop();

private:
  void run();

  caf::actor_system& sys_;
  std::shared_ptr<cluster_link> link_;
  std::string self_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool fresh_ = false;
  std::vector<peer_address> wanted_;
  std::map<std::string, std::string> connected_; ///< node id -> incarnation (thread only)
  std::thread thread_;
};

} // namespace orderd::app
