#pragma once

// The HTTP bridge: the actors that run the continuations of HTTP requests. A route on a Beast
// I/O thread cannot wait for an actor, so it hands a `bridge_call` to one of these (picked round
// robin from services::bridges); the call makes its requests from inside the actor and posts the
// reply back onto the connection's strand. The root supervisor spawns and restarts them.

#include <caf/event_based_actor.hpp>

#include "actors/protocol.hpp"

namespace orderd {

/// Runs each `(call_atom, bridge_call)` it receives, on its own thread of the scheduler.
caf::behavior bridge_impl(caf::event_based_actor* self);

} // namespace orderd
