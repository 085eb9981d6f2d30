#include "persistence/detail/change_set_apply.hpp"

#include <algorithm>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace orderd::persistence::detail {

namespace {

/// Collects how a change set moves stock: for every sku it touched, in first-touched order and
/// without skus it deleted, the figures before its first touch and after its latest one.
class stock_tracker {
public:
  /// An operation changed `move.after.level.sku`; `move.before` is what it found (nullopt: it
  /// created the product). Only the first `before` of a sku counts.
  void touched(stock_move move) {
    auto i = std::find_if(moves_.begin(), moves_.end(), [&](const stock_move& x) {
      return x.after.level.sku == move.after.level.sku;
    });
    if (i != moves_.end())
      i->after = std::move(move.after);
    else
      moves_.push_back(std::move(move));
  }

  void deleted(const std::string& sku) {
    std::erase_if(moves_, [&](const stock_move& x) { return x.after.level.sku == sku; });
  }

  /// The moves so far (for append_stock_events).
  const std::vector<stock_move>& moves() const noexcept { return moves_; }

  /// The figures after the change set, for change_result::stock_after.
  std::vector<stock_level> take() {
    std::vector<stock_level> levels;
    levels.reserve(moves_.size());
    for (auto& m : moves_)
      levels.push_back(std::move(m.after.level));
    moves_.clear();
    return levels;
  }

private:
  std::vector<stock_move> moves_; // change sets touch few skus: a linear scan is fastest
};

/// Runs an append_stock_events renderer over the moves so far. Returns the events, or the
/// refusal when the renderer threw (it must never take the whole batch down).
std::variant<std::vector<event_record>, op_failure> render_stock_events(
  const append_stock_events& op, const stock_tracker& stock) {
  try {
    return op.render(stock.moves());
  } catch (const std::exception& e) {
    return render_failed(e.what());
  } catch (...) {
    return render_failed("unknown exception");
  }
}

/// Runs one operation through the backend's primitive, keeping the change set's stock moves.
struct op_dispatch {
  change_set_primitives& db;
  stock_tracker& stock;
  std::vector<stock_pending> pending = {}; ///< moves whose figures the backend owes

  /// Records a stock outcome: a move, or a pending one to resolve later.
  refusal note(stock_outcome outcome) {
    if (auto failure = std::get_if<op_failure>(&outcome))
      return std::move(*failure);
    if (auto later = std::get_if<stock_pending>(&outcome)) {
      pending.push_back(*later);
      return std::nullopt;
    }
    stock.touched(std::get<stock_move>(std::move(outcome)));
    return std::nullopt;
  }

  /// Resolves the pending moves, in order.
  refusal settle() {
    auto due = std::move(pending);
    pending.clear();
    for (auto p : due) {
      auto outcome = db.resolve_stock(p);
      if (std::holds_alternative<stock_pending>(outcome))
        throw std::logic_error("resolve_stock returned a pending move");
      if (auto failure = note(std::move(outcome)))
        return failure;
    }
    return std::nullopt;
  }

  template <class Op>
  refusal operator()(const Op& op) {
    auto outcome = db.run(op);
    if constexpr (std::is_same_v<decltype(outcome), stock_outcome>)
      return note(std::move(outcome));
    else
      return outcome;
  }

  refusal operator()(const delete_product& op) {
    auto failure = db.run(op);
    if (!failure)
      stock.deleted(op.sku);
    return failure;
  }

  refusal operator()(const mark_events_published& op) {
    db.run(op);
    return std::nullopt;
  }

  refusal operator()(const append_stock_events& op) {
    auto rendered = render_stock_events(op, stock);
    if (auto failure = std::get_if<op_failure>(&rendered))
      return std::move(*failure);
    for (auto& event : std::get<std::vector<event_record>>(rendered)) {
      append_event append{std::move(event)};
      if (auto failure = check_arguments(append))
        return failure;
      if (auto failure = db.run(append))
        return failure;
    }
    return std::nullopt;
  }
};

/// Runs the ops of `cs` in order up to the first refusal, which it returns.
refusal run_ops(const change_set& cs, change_set_primitives& db, stock_tracker& stock) {
  op_dispatch dispatch{db, stock};
  for (auto& f : cs.fences) {
    try {
      if (auto failure = db.fence(f))
        return failure;
    } catch (const std::exception& e) {
      if (auto failure = db.refusal_of(e))
        return failure;
      throw;
    }
  }
  for (auto& op : cs.ops) {
    auto failure = check_arguments(op);
    if (!failure) {
      try {
        // Pending stock moves are resolved before any other kind of operation: it may read
        // their figures (append_stock_events) or touch the same product.
        if (!std::holds_alternative<adjust_stock>(op))
          failure = dispatch.settle();
        if (!failure)
          failure = std::visit(dispatch, op);
      } catch (const std::exception& e) {
        failure = db.refusal_of(e);
        if (!failure)
          throw;
      }
    }
    if (failure)
      return failure;
  }
  try {
    if (auto failure = dispatch.settle())
      return failure;
    return db.finish_change_set();
  } catch (const std::exception& e) {
    if (auto failure = db.refusal_of(e))
      return failure;
    throw;
  }
}

change_result applied(stock_tracker& stock) {
  change_result result;
  result.stock_after = stock.take();
  return result;
}

/// The results of the whole batch committed in one transaction, or nullopt (and nothing
/// committed) if any change set was refused.
std::optional<std::vector<change_result>> apply_without_savepoints(
  const std::vector<change_set>& batch, change_set_primitives& db) {
  std::vector<change_result> results;
  results.reserve(batch.size());
  db.begin();
  try {
    for (auto& cs : batch) {
      stock_tracker stock;
      if (run_ops(cs, db, stock)) {
        db.roll_back();
        return std::nullopt;
      }
      results.push_back(applied(stock));
    }
    db.commit();
  } catch (...) {
    db.roll_back();
    throw;
  }
  return results;
}

change_result apply_in_savepoint(const change_set& cs, change_set_primitives& db) {
  db.savepoint();
  stock_tracker stock;
  if (auto failure = run_ops(cs, db, stock)) {
    db.roll_back_to_savepoint();
    return refused(std::move(*failure));
  }
  db.release_savepoint();
  return applied(stock);
}

} // namespace

refusal change_set_primitives::refusal_of(const std::exception&) const {
  return std::nullopt;
}

refusal change_set_primitives::fence(const shard_fence& f) {
  return op_failure{errc::unavailable, "fenced: shard " + std::to_string(f.shard)
                                         + " cannot be fenced by this store (a cluster needs "
                                           "the PostgreSQL store)"};
}

refusal change_set_primitives::finish_change_set() {
  return std::nullopt;
}

stock_outcome change_set_primitives::resolve_stock(stock_pending) {
  throw std::logic_error("this store backend reported a pending stock move it cannot resolve");
}

std::vector<change_result> apply_batch(const std::vector<change_set>& batch,
                                       change_set_primitives& db, savepoint_policy policy) {
  if (batch.empty())
    return {};
  if (policy == savepoint_policy::after_refusal)
    if (auto all_applied = apply_without_savepoints(batch, db))
      return std::move(*all_applied);
  std::vector<change_result> results;
  results.reserve(batch.size());
  db.begin();
  try {
    for (auto& cs : batch)
      results.push_back(apply_in_savepoint(cs, db));
    db.commit();
  } catch (...) {
    db.roll_back();
    throw;
  }
  return results;
}

} // namespace orderd::persistence::detail
