// The PostgreSQL session behind a store: connecting and reconnecting with backoff, the batch's
// transaction (whose outcome is read back when the connection breaks during COMMIT), and the
// factory that migrates the schema on first open.

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "persistence/postgres/internal.hpp"
#include "persistence/postgres/cluster.hpp"
#include "persistence/postgres/migrate.hpp"
#include "util/ascii.hpp"

namespace orderd::persistence {

namespace postgres {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds first_backoff{100};

} // namespace

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (auto& item : items) {
    if (out.size() > 1)
      out += ',';
    out += '"';
    for (char ch : item) {
      if (ch == '"' || ch == '\\')
        out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

std::string array_literal(const std::vector<int64_t>& items) {
  std::string out = "{";
  for (auto item : items) {
    if (out.size() > 1)
      out += ',';
    out += std::to_string(item);
  }
  return out + "}";
}

postgres_store::postgres_store(const postgres_options& options, std::string label)
  : options_(options), label_(std::move(label)) {
}

connection& postgres_store::session() {
  if (c_ && c_->healthy())
    return *c_;
  c_.reset();
  auto now = steady_clock::now();
  if (now < next_attempt_)
    throw pg_error(errc::unavailable, "",
                   "PostgreSQL at " + label_ + " is unreachable; retrying with backoff");
  try {
    c_ = std::make_unique<connection>(options_.conninfo);
    // Every statement is prepared once and run with fresh values many times; its plan does not
    // depend on them (keys and limits), so plan once instead of five custom plans first.
    c_->exec("SET plan_cache_mode = force_generic_plan");
    backoff_ = milliseconds{0};
    return *c_;
  } catch (const store_error&) {
    backoff_ = std::clamp(backoff_ * 2, first_backoff, options_.reconnect_ceiling);
    next_attempt_ = now + backoff_;
    throw;
  }
}

void postgres_store::drop_session() noexcept {
  c_.reset();
}

std::vector<change_result> postgres_store::apply(const std::vector<change_set>& batch) {
  // Optimistic first, as on SQLite: a savepoint is a subtransaction here, and refusals are rare
  // (the actors check before they write).
  return guarded("apply", [&](connection&) {
    return detail::apply_batch(batch, *this, detail::savepoint_policy::after_refusal);
  });
}

bool postgres_store::ping() {
  try {
    return guarded("ping", [](connection& c) { return c.exec("SELECT 1").int64(0, 0) == 1; });
  } catch (const std::exception&) {
    return false;
  }
}

void postgres_store::begin() {
  // One round trip: the transaction, the outbox lock, and the transaction's id, to read the
  // outcome back if COMMIT is lost.
  // synchronous_commit stays what the server says (on by default): a 2xx is a durable commit.
  pending_.clear();
  queued_rows_.clear();
  stock_moves_.clear();
  // The outbox lock (transaction-scoped, taken before any row lock, so it never deadlocks):
  // writers that share the database, one per node, commit one after another, so outbox seq
  // order is commit order and the relay, reading past its cursor, can never skip an event that
  // commits later with a lower seq.
  auto r = tx().exec("BEGIN; SELECT pg_advisory_xact_lock(479086700915); SELECT txid_current()");
  txid_ = r.text(0, 0);
  // The batch's statements go out without waiting for each answer (see deferred()); only a
  // statement whose answer is needed at once (a stock move) waits, for everything before it.
  tx().enter_pipeline();
}

void postgres_store::commit() {
  pending_.clear();
  tx().leave_pipeline(); // every answer was read by then (finish_change_set)
  try {
    tx().exec("COMMIT");
  } catch (const store_error& e) {
    if (e.code() != errc::unavailable)
      throw;
    resolve_commit_outcome(e);
  }
}

void postgres_store::resolve_commit_outcome(const store_error& lost) {
  drop_session();
  auto deadline = steady_clock::now() + options_.commit_resolve_timeout;
  auto pause = first_backoff;
  for (;;) {
    std::string state; // "" while the database cannot be asked
    try {
      connection probe{options_.conninfo};
      auto status = probe.exec("SELECT txid_status($1)", {txid_});
      state = status.is_null(0, 0) ? std::string{"unknown"} : status.text(0, 0);
    } catch (const store_error& e) {
      if (e.code() != errc::unavailable)
        throw;
    }
    // The next call reconnects; a flapping database must not turn a commit into an error.
    if (state == "committed")
      return;
    if (state == "aborted")
      throw pg_error(errc::unavailable, "",
                     "the connection to PostgreSQL broke during COMMIT; the transaction was "
                     "rolled back, nothing was committed (" + std::string{lost.what()} + ")");
    // "" (unreachable) or "in progress" (the old session still finishing): look again shortly.
    if (steady_clock::now() + pause > deadline)
      throw pg_error(errc::unavailable, "",
                     "the connection to PostgreSQL broke during COMMIT and the outcome could "
                     "not be read back in time: the change may or may not be stored (retry "
                     "with the same Idempotency-Key to find out)");
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, options_.reconnect_ceiling);
  }
}

void postgres_store::roll_back() {
  pending_.clear();
  queued_rows_.clear();
  stock_moves_.clear();
  if (!c_ || !c_->healthy())
    return; // the server rolls back a transaction whose session is gone
  try {
    c_->leave_pipeline();
    c_->exec("ROLLBACK");
  } catch (...) {
    drop_session();
  }
}

void postgres_store::savepoint() {
  // Savepoints come only in the batch's second pass, after a refusal: one statement at a
  // time there, so each refusal is seen where it happens.
  pending_.clear();
  tx().leave_pipeline();
  tx().exec("SAVEPOINT change_set");
}

void postgres_store::roll_back_to_savepoint() {
  pending_.clear();
  queued_rows_.clear();
  stock_moves_.clear();
  tx().exec("ROLLBACK TO SAVEPOINT change_set; RELEASE SAVEPOINT change_set");
}

void postgres_store::release_savepoint() {
  tx().exec("RELEASE SAVEPOINT change_set");
}

const std::string& multi_row_sql(const row_insert& kind, size_t rows) {
  // Only the writer's thread builds statements, but a store per reader exists too: guard the
  // cache anyway (built once per kind and count, then only read).
  static std::mutex guard;
  static std::map<std::pair<const row_insert*, size_t>, std::string> built;
  std::lock_guard<std::mutex> lock{guard};
  auto& sql = built[{&kind, rows}];
  if (sql.empty()) {
    sql = std::string{kind.head};
    int n = 0;
    for (size_t r = 0; r < rows; ++r) {
      if (r > 0)
        sql += ", ";
      for (char ch : kind.row) {
        if (ch == '?')
          sql += "$" + std::to_string(++n);
        else
          sql += ch;
      }
    }
    sql += kind.tail;
  }
  return sql;
}

refusal postgres_store::queue_row(const row_insert& kind, std::string key, args values,
                                  std::function<refusal(bool inserted)> check) {
  queued_rows_.push_back({&kind, std::move(key), std::move(values), std::move(check)});
  return std::nullopt;
}

void postgres_store::send_queued_rows() {
  constexpr size_t max_rows = 64; // keeps the distinct statements (one per count) few
  auto rows = std::move(queued_rows_);
  queued_rows_.clear();
  for (size_t first = 0; first < rows.size();) {
    size_t end = first + 1;
    while (end < rows.size() && end - first < max_rows && rows[end].kind == rows[first].kind)
      ++end;
    args values;
    std::vector<std::pair<std::string, std::function<refusal(bool)>>> checks;
    for (size_t i = first; i < end; ++i) {
      for (auto& v : rows[i].values)
        values.push_back(std::move(v));
      checks.emplace_back(ascii_lower(rows[i].key), std::move(rows[i].check));
    }
    auto ticket = c_->send(multi_row_sql(*rows[first].kind, end - first), values);
    pending_.push_back({ticket, [checks = std::move(checks)](const result& r) -> refusal {
                          // RETURNING lists the keys inserted; a key listed once stands for its
                          // first row only (a second row with it met the first).
                          std::multiset<std::string> inserted;
                          for (int row = 0; row < r.rows(); ++row)
                            inserted.insert(r.text(row, 0));
                          for (auto& [key, check] : checks) {
                            auto hit = inserted.find(key);
                            bool was_inserted = hit != inserted.end();
                            if (was_inserted)
                              inserted.erase(hit);
                            if (auto failure = check(was_inserted))
                              return failure;
                          }
                          return std::nullopt;
                        }});
    first = end;
  }
}

refusal postgres_store::deferred(const std::string& sql, const args& params,
                                 std::function<refusal(const result&)> check) {
  pending_.push_back({tx().send(sql, params), std::move(check)});
  return std::nullopt;
}

refusal postgres_store::fence(const shard_fence& f) {
  // The lease row, key-share-locked until the commit: a takeover waits for this write, and a node
  // that lost the lease (or never had it at this epoch) commits nothing of this change set.
  return deferred(cluster_directory::fence_sql(options_.audit_fenced_writes),
                  {std::to_string(f.shard), f.node, std::to_string(f.epoch)},
                  [f](const result& r) -> refusal {
                    if (r.rows() > 0)
                      return std::nullopt;
                    return op_failure{errc::unavailable,
                                      "fenced: shard " + std::to_string(f.shard) + " is no longer "
                                        "held by " + f.node + " at epoch "
                                        + std::to_string(f.epoch)};
                  });
}

refusal postgres_store::finish_change_set() {
  stock_moves_.clear(); // all resolved by now (apply_batch settles them first)
  tx();                 // sends the queued rows
  auto pending = std::move(pending_);
  pending_.clear();
  for (size_t i = 0; i < pending.size(); ++i) {
    if (auto failure = pending[i].check(tx().take(pending[i].ticket))) {
      for (size_t rest = i + 1; rest < pending.size(); ++rest) {
        try {
          tx().take(pending[rest].ticket); // read (and drop) the answers still due
        } catch (const store_error&) {
        }
      }
      return failure;
    }
  }
  return std::nullopt;
}

refusal postgres_store::refusal_of(const std::exception& error) const {
  // A violated constraint (class 23) or a value the column cannot hold (class 22) refuses its
  // change set only; anything else puts the whole transaction in doubt.
  auto failure = dynamic_cast<const pg_error*>(&error);
  if (failure == nullptr)
    return std::nullopt;
  auto& state = failure->sqlstate();
  if (state == "23505")
    return op_failure{errc::conflict, std::string{"refused by the database: "} + error.what()};
  if (state.rfind("23", 0) == 0 || state.rfind("22", 0) == 0)
    return op_failure{errc::invalid_input,
                      std::string{"refused by the database: "} + error.what()};
  return std::nullopt;
}

} // namespace postgres

postgres_store_factory::postgres_store_factory(postgres_options options)
  : options_(std::move(options)), label_(postgres::redact(options_.conninfo)) {
  if (options_.conninfo.empty())
    throw store_error(errc::invalid_input, "the PostgreSQL store needs a database URL");
}

std::unique_ptr<store> postgres_store_factory::open() {
  {
    std::lock_guard<std::mutex> guard{migrate_mutex_};
    if (!migrated_) {
      postgres::connection c{options_.conninfo};
      postgres::migrate(c);
      migrated_ = true;
    }
  }
  return std::make_unique<postgres::postgres_store>(options_, label_);
}

} // namespace orderd::persistence
