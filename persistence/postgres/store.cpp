// The PostgreSQL session behind a store: connecting and reconnecting with backoff, the batch's
// transaction (whose outcome is read back when the connection breaks during COMMIT), and the
// factory that migrates the schema on first open.

#include <algorithm>
#include <thread>

#include "persistence/postgres/internal.hpp"
#include "persistence/postgres/migrate.hpp"

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
  // One round trip: the transaction and its id, to read the outcome back if COMMIT is lost.
  // synchronous_commit stays what the server says (on by default): a 2xx is a durable commit.
  auto r = tx().exec("BEGIN; SELECT txid_current()");
  txid_ = r.text(0, 0);
}

void postgres_store::commit() {
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
  if (!c_ || !c_->healthy())
    return; // the server rolls back a transaction whose session is gone
  try {
    c_->exec("ROLLBACK");
  } catch (...) {
    drop_session();
  }
}

void postgres_store::savepoint() {
  tx().exec("SAVEPOINT change_set");
}

void postgres_store::roll_back_to_savepoint() {
  tx().exec("ROLLBACK TO SAVEPOINT change_set; RELEASE SAVEPOINT change_set");
}

void postgres_store::release_savepoint() {
  tx().exec("RELEASE SAVEPOINT change_set");
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
