#pragma once

#include <memory>
#include <vector>

#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/protocol.hpp"
#include "actors/services.hpp"
#include "persistence/store.hpp"

namespace orderd {

/// The single store writer: collects change sets from every actor and commits them in batches
/// (group commit), so durability costs one fsync per batch rather than one per order.
struct writer_state {
  std::unique_ptr<persistence::store> db;
  std::vector<persistence::change_set> batch;
  std::vector<caf::response_promise> waiting;
  /// When each change set of `batch` reached the writer (orderd_store_writer_wait_seconds).
  std::vector<std::chrono::steady_clock::time_point> arrived;
  bool flush_scheduled = false;
  bool appended_events = false; ///< the pending batch appends outbox events: nudge the relay
  size_t max_batch = 512;
  // Counters for logs and metrics.
  uint64_t batches = 0;
  uint64_t change_sets = 0;
  static inline const char* name = "store-writer";
};

caf::behavior writer_impl(caf::stateful_actor<writer_state>* self, services_ptr svc);

/// A store reader: one read connection serving queries that need no actor state.
struct reader_state {
  std::unique_ptr<persistence::store> db;
  static inline const char* name = "store-reader";
};

caf::behavior reader_impl(caf::stateful_actor<reader_state>* self, services_ptr svc);

} // namespace orderd
