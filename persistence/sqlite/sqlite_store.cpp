#include "persistence/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <cctype>

#include "persistence/sqlite/internal.hpp"

namespace orderd::persistence {

namespace sqlite {

std::vector<change_result> sqlite_store::apply(const std::vector<change_set>& batch) {
  // Optimistic first: a savepoint per change set makes SQLite copy each page the change set
  // touches into the statement journal first (the same right-edge pages of orders,
  // order_lines and outbox, in every change set): measured, it cost more than the inserts.
  return translate_errors("apply", [&] {
    return detail::apply_batch(batch, *this, detail::savepoint_policy::after_refusal);
  });
}

bool sqlite_store::ping() {
  try {
    auto q = c_->prepare("SELECT 1");
    return q.step() && q.int64(0) == 1;
  } catch (const std::exception&) {
    return false;
  }
}

void sqlite_store::begin() {
  // IMMEDIATE takes the write lock up front, so no statement can fail half-way on BUSY.
  c_->prepare("BEGIN IMMEDIATE").run();
}

void sqlite_store::commit() {
  c_->prepare("COMMIT").run();
}

void sqlite_store::roll_back() {
  c_->roll_back_quietly();
}

void sqlite_store::savepoint() {
  c_->prepare("SAVEPOINT change_set").run();
}

void sqlite_store::roll_back_to_savepoint() {
  // ROLLBACK TO keeps the savepoint open; RELEASE then drops it.
  c_->prepare("ROLLBACK TO change_set").run();
  release_savepoint();
}

void sqlite_store::release_savepoint() {
  c_->prepare("RELEASE change_set").run();
}

refusal sqlite_store::refusal_of(const std::exception& error) const {
  // A violated constraint refuses its change set only; anything else (I/O, corrupt file)
  // puts the whole transaction in doubt.
  auto failure = dynamic_cast<const sqlite_failure*>(&error);
  if (!failure || !is_constraint_violation(*failure))
    return std::nullopt;
  return op_failure{errc::invalid_input,
                    std::string{"refused by the database: "} + failure->what()};
}

} // namespace sqlite

namespace {

std::string normalized_synchronous(std::string mode) {
  std::transform(mode.begin(), mode.end(), mode.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (mode != "FULL" && mode != "NORMAL")
    throw store_error(errc::invalid_input,
                      "sqlite synchronous must be FULL or NORMAL, not '" + mode + "'");
  return mode;
}

} // namespace

sqlite_store_factory::sqlite_store_factory(std::string db_path, sqlite_options options)
  : db_path_(std::move(db_path)), options_(std::move(options)) {
  // Validated here because the value is spliced into a PRAGMA, which takes no parameters.
  options_.synchronous = normalized_synchronous(std::move(options_.synchronous));
  if (options_.busy_timeout.count() < 0)
    throw store_error(errc::invalid_input, "sqlite busy timeout must not be negative");
}

std::unique_ptr<store> sqlite_store_factory::open() {
  return sqlite::translate_errors("open " + db_path_, [&]() -> std::unique_ptr<store> {
    auto c = std::make_unique<sqlite::connection>(db_path_, options_);
    sqlite::migrate(*c);
    return std::make_unique<sqlite::sqlite_store>(std::move(c));
  });
}

std::vector<applied_migration> sqlite_store_factory::applied_migrations() {
  return sqlite::translate_errors("applied_migrations " + db_path_, [&] {
    sqlite::connection c{db_path_, options_};
    sqlite::migrate(c);
    return sqlite::read_applied(c);
  });
}

} // namespace orderd::persistence
