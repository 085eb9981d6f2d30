#include "actors/bridge.hpp"

namespace orderd {

caf::behavior bridge_impl(caf::event_based_actor* self) {
  return {
    [=](call_atom, bridge_call& call) { call.run(self); },
  };
}

} // namespace orderd
