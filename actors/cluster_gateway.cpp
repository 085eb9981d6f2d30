#include "actors/cluster_gateway.hpp"

#include <caf/all.hpp>

namespace orderd {

caf::behavior cluster_gateway_impl(caf::event_based_actor*, services_ptr svc) {
  return {
    [=](get_atom) -> caf::message {
      return caf::make_message(svc->stocks.get(), svc->orders.get(), svc->carts.get());
    },
  };
}

} // namespace orderd
