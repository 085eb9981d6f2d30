#pragma once

// Applying a batch of change sets, once for every backend. A backend supplies primitives: its
// transaction with one savepoint at a time, and one call per operation that does what the
// operation says in its own storage. Everything else happens here: the argument checks, running
// a change set's ops in order up to the first refusal, the stock figures before and after
// (stock_after and the moves append_stock_events renders), and where savepoints go so that a
// refused change set does not spoil its neighbours. Internal to orderd_persistence.

#include <exception>
#include <optional>
#include <variant>
#include <vector>

#include "persistence/detail/store_common.hpp"
#include "persistence/store.hpp"

namespace orderd::persistence::detail {

/// Whether an operation was refused (and why); nullopt when it was applied.
using refusal = std::optional<op_failure>;

/// A stock move a backend sent without waiting for its figures: resolve_stock() gives them.
struct stock_pending {
  size_t handle = 0; ///< the backend's own reference
};

/// What an operation that changes a product's stock figures did: the figures and threshold
/// before it (nullopt: it created the product) and after it, or why it was refused; or, for a
/// backend that collects stock moves into one statement, that the answer comes later.
using stock_outcome = std::variant<stock_move, op_failure, stock_pending>;

/// The primitives apply_batch needs from a backend.
class change_set_primitives {
public:
  virtual ~change_set_primitives() = default;

  // -- the transaction: one per batch, with at most one savepoint open at a time

  /// Starts the batch's write transaction.
  virtual void begin() = 0;
  virtual void commit() = 0;
  /// Undoes the whole transaction. Runs while an error or a refusal is on its way out.
  virtual void roll_back() = 0;
  virtual void savepoint() = 0;
  /// Undoes everything since savepoint() and ends the savepoint.
  virtual void roll_back_to_savepoint() = 0;
  /// Keeps everything since savepoint() and ends the savepoint.
  virtual void release_savepoint() = 0;

  /// The refusal that `error`, thrown by an operation below, stands for: a database refusing
  /// one statement (a violated constraint) refuses its change set only. nullopt when the error
  /// puts the whole transaction in doubt (I/O, corruption): it then ends the batch.
  virtual refusal refusal_of(const std::exception& error) const;

  /// Called after the last operation of a change set that nothing refused so far: a backend
  /// that sent writes without waiting for their answers (a pipeline) reads them here and says
  /// whether one refused. Its errors go through refusal_of like an operation's.
  virtual refusal finish_change_set();

  /// Checks one fence of the change set (before its first operation). The default refuses
  /// (unavailable): only a store that keeps shard leases can check a fence.
  virtual refusal fence(const shard_fence& f);

  /// The outcome of a stock move that run() reported pending (never stock_pending again).
  /// Called for every pending move, in the order they were reported, before the next
  /// operation of another kind runs and before the change set ends. Only backends that report
  /// pending moves implement it.
  virtual stock_outcome resolve_stock(stock_pending pending);

  // -- one primitive per operation, run inside the transaction on arguments check_arguments
  // accepted. A refusal may leave changes behind: the caller undoes the whole change set.

  virtual stock_outcome run(const insert_product& op) = 0;
  virtual stock_outcome run(const update_product& op) = 0;
  virtual refusal run(const delete_product& op) = 0;
  virtual stock_outcome run(const set_available& op) = 0;
  virtual stock_outcome run(const adjust_stock& op) = 0;
  virtual refusal run(const insert_order& op) = 0;
  virtual refusal run(const transition_order& op) = 0;
  virtual refusal run(const save_idempotency& op) = 0;
  /// Also appends what append_stock_events rendered, one event at a time.
  virtual refusal run(const append_event& op) = 0;
  virtual void run(const mark_events_published& op) = 0;
  virtual refusal run(const record_message& op) = 0;
  virtual refusal run(const record_charge& op) = 0;
  virtual refusal run(const insert_customer& op) = 0;
  virtual refusal run(const update_customer& op) = 0;
  virtual refusal run(const delete_customer& op) = 0;
  virtual refusal run(const save_cart& op) = 0;
  virtual refusal run(const insert_notification& op) = 0;
  virtual refusal run(const update_notification& op) = 0;
};

/// Where apply_batch opens savepoints.
enum class savepoint_policy {
  /// One around every change set (where a savepoint costs next to nothing).
  per_change_set,
  /// None at first: the whole batch straight into the transaction. Only if a change set is
  /// refused is the transaction rolled back and the batch applied again, one savepoint per
  /// change set. For databases where a savepoint makes every change set journal each page it
  /// touches, while refusals are rare (the actors check before they write).
  after_refusal,
};

/// Applies `batch` through `db` in one transaction and returns one result per change set (same
/// order). A refused change set is undone alone. Rethrows, after rolling the transaction back,
/// whatever `db` throws that refusal_of does not turn into a refusal.
std::vector<change_result> apply_batch(const std::vector<change_set>& batch,
                                       change_set_primitives& db, savepoint_policy policy);

} // namespace orderd::persistence::detail
