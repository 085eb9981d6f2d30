#pragma once

// The one actor a cluster node publishes on its cluster port (CAF's middleman): other nodes ask
// it for this node's registries, the only actors they send keyed messages to (see
// actors/cluster_link.hpp). It answers with the current handles, so a registry restarted by
// its supervisor is found again at the next ask.
//   (get_atom) -> (actor stocks, actor orders, actor carts)

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/services.hpp"

namespace orderd {

caf::behavior cluster_gateway_impl(caf::event_based_actor* self, services_ptr svc);

} // namespace orderd
