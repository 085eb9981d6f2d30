#pragma once

// What every actor interface shares: the atoms (verbs), orderd's error category and the
// helpers that build and read its errors, and the counters every supervisor reports.
//
// Deadlines: requests between actors carry no timeout (`caf::infinite`). A request to an actor
// that dies is answered with an error by CAF itself, so nothing waits forever on a crash, and
// the clock thread is spared a timer per hop. Only the edge (the HTTP bridge, the processor)
// sets deadlines.
//
// Conventions: every request names its target with an atom verb first, then the key (sku,
// order id or customer id) where the target is a registry, then the payload. Replies are the
// value or a `caf::error` built from `orderd::errc` (see fail()). Each interface header beside
// this one holds its messages and the contract its actors implement.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include "domain/errc.hpp"
#include "domain/order.hpp"

CAF_ERROR_CODE_ENUM(orderd::errc, "orderd")

// -- atoms (verbs, at most 10 characters) --------------------------------------------------------

CAF_ADD_ATOM(orderd, orderd::atoms, reserve_atom, "reserve")
CAF_ADD_ATOM(orderd, orderd::atoms, release_atom, "release")
CAF_ADD_ATOM(orderd, orderd::atoms, commit_atom, "commit")
CAF_ADD_ATOM(orderd, orderd::atoms, resync_atom, "resync")
CAF_ADD_ATOM(orderd, orderd::atoms, get_atom, "get")
CAF_ADD_ATOM(orderd, orderd::atoms, create_atom, "create")
CAF_ADD_ATOM(orderd, orderd::atoms, update_atom, "update")
CAF_ADD_ATOM(orderd, orderd::atoms, delete_atom, "delete")
CAF_ADD_ATOM(orderd, orderd::atoms, set_atom, "set")
CAF_ADD_ATOM(orderd, orderd::atoms, adjust_atom, "adjust")
CAF_ADD_ATOM(orderd, orderd::atoms, place_atom, "place")
CAF_ADD_ATOM(orderd, orderd::atoms, cancel_atom, "cancel")
CAF_ADD_ATOM(orderd, orderd::atoms, move_atom, "move")
CAF_ADD_ATOM(orderd, orderd::atoms, crash_atom, "crash")
CAF_ADD_ATOM(orderd, orderd::atoms, write_atom, "write")
CAF_ADD_ATOM(orderd, orderd::atoms, flush_atom, "flush")
CAF_ADD_ATOM(orderd, orderd::atoms, list_atom, "list")
CAF_ADD_ATOM(orderd, orderd::atoms, low_atom, "low")
CAF_ADD_ATOM(orderd, orderd::atoms, due_atom, "due")
CAF_ADD_ATOM(orderd, orderd::atoms, idem_atom, "idem")
CAF_ADD_ATOM(orderd, orderd::atoms, ping_atom, "ping")
CAF_ADD_ATOM(orderd, orderd::atoms, tick_atom, "tick")
CAF_ADD_ATOM(orderd, orderd::atoms, load_atom, "load")
CAF_ADD_ATOM(orderd, orderd::atoms, respawn_atom, "respawn")
CAF_ADD_ATOM(orderd, orderd::atoms, stats_atom, "stats")
CAF_ADD_ATOM(orderd, orderd::atoms, call_atom, "call")
CAF_ADD_ATOM(orderd, orderd::atoms, purge_atom, "purge")
CAF_ADD_ATOM(orderd, orderd::atoms, idle_atom, "idle")
CAF_ADD_ATOM(orderd, orderd::atoms, stay_atom, "stay")
CAF_ADD_ATOM(orderd, orderd::atoms, outbox_atom, "outbox")
CAF_ADD_ATOM(orderd, orderd::atoms, backlog_atom, "backlog")
CAF_ADD_ATOM(orderd, orderd::atoms, nudge_atom, "nudge")
CAF_ADD_ATOM(orderd, orderd::atoms, publish_atom, "publish")
CAF_ADD_ATOM(orderd, orderd::atoms, subscribe_atom, "subscribe")
CAF_ADD_ATOM(orderd, orderd::atoms, unsub_atom, "unsub")
CAF_ADD_ATOM(orderd, orderd::atoms, event_atom, "event")
CAF_ADD_ATOM(orderd, orderd::atoms, status_atom, "status")
CAF_ADD_ATOM(orderd, orderd::atoms, retry_atom, "retry")
CAF_ADD_ATOM(orderd, orderd::atoms, processed_atom, "processed")
CAF_ADD_ATOM(orderd, orderd::atoms, dlq_atom, "dlq")
CAF_ADD_ATOM(orderd, orderd::atoms, replay_atom, "replay")
CAF_ADD_ATOM(orderd, orderd::atoms, count_atom, "count")
CAF_ADD_ATOM(orderd, orderd::atoms, add_atom, "add")
CAF_ADD_ATOM(orderd, orderd::atoms, remove_atom, "remove")
CAF_ADD_ATOM(orderd, orderd::atoms, checkout_atom, "checkout")
CAF_ADD_ATOM(orderd, orderd::atoms, notify_atom, "notify")
CAF_ADD_ATOM(orderd, orderd::atoms, deliver_atom, "deliver")
CAF_ADD_ATOM(orderd, orderd::atoms, charge_atom, "charge")
CAF_ADD_ATOM(orderd, orderd::atoms, settle_atom, "settle")
CAF_ADD_ATOM(orderd, orderd::atoms, ship_atom, "ship")

namespace orderd {

using namespace orderd::atoms;

/// Counters one supervisor reports about itself.
struct supervisor_stats {
  std::string name;
  int64_t live_children = 0;
  int64_t restarts = 0;
  int64_t escalations = 0;
  /// The supervisor above it ("" for the root) and the child name it has there, for drawing
  /// the tree.
  std::string parent;
  std::string slot;
  /// Names of its live children when they are few and named (the root's); registries, with
  /// one child per order or SKU, report only live_children.
  std::vector<std::string> children;

  friend bool operator==(const supervisor_stats&, const supervisor_stats&) = default;
};

// every supervisor:
//   (stats_atom)                                  -> std::vector<supervisor_stats>

// -- errors --------------------------------------------------------------------------------------


/// Builds a business error with a human-readable detail.
caf::error fail(errc code, std::string detail);

/// Builds an insufficient-stock error carrying every short line.
caf::error fail_short(std::vector<short_line> lines);

/// The orderd code of an error; CAF's own errors (timeouts, dead actors) map to `unavailable`.
errc code_of(const caf::error& err) noexcept;

/// The detail text given to fail(), or a description of a CAF error.
std::string detail_of(const caf::error& err);

/// The short lines of an insufficient-stock error (empty for any other error).
std::vector<short_line> short_lines_of(const caf::error& err);

// -- serialization helpers -----------------------------------------------------------------------

/// Defines the inspect() CAF serializes `type` with: its name, then the given members (as
/// `x.member`) in order. Every member must be listed: a member left out does not cross nodes.
#define ORDERD_INSPECT(type, ...)                                                                \
  template <class Inspector>                                                                     \
  typename Inspector::result_type inspect(Inspector& f, type& x) {                               \
    return f(caf::meta::type_name(#type), __VA_ARGS__);                                          \
  }

/// Lets a `std::optional` member take part in an inspect() (CAF 0.17 knows only caf::optional):
/// a presence flag, then the value when present.
template <class T>
struct optional_field {
  std::optional<T>& value;
};

template <class T>
struct optional_field_value {
  bool& present;
  T& storage;
};

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, optional_field_value<T>& x) {
  return x.present ? f(x.storage) : f();
}

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, optional_field<T>& x) {
  if constexpr (Inspector::reads_state) {
    return x.value ? f(true, *x.value) : f(false);
  } else {
    bool present = false;
    T storage{};
    optional_field_value<T> inner{present, storage};
    auto result = f(present, inner);
    if (present)
      x.value = std::move(storage);
    else
      x.value.reset();
    return result;
  }
}

// Domain types that travel in messages of more than one interface.

ORDERD_INSPECT(supervisor_stats, x.name, x.live_children, x.restarts, x.escalations, x.parent,
               x.slot, x.children)
ORDERD_INSPECT(short_line, x.sku, x.requested, x.available)
ORDERD_INSPECT(requested_line, x.sku, x.quantity)
ORDERD_INSPECT(order_line, x.sku, x.quantity, x.unit_price_cents)
ORDERD_INSPECT(order, x.id, x.customer_id, x.customer_email, x.status, x.lines, x.total_cents,
               x.currency, x.created_at, x.updated_at, x.cancel_reason)
ORDERD_INSPECT(order_request, x.customer_id, x.customer_email, x.lines)

} // namespace orderd
