#pragma once

#include <memory>
#include <string>

#include "persistence/store.hpp"

namespace orderd::persistence {

namespace detail {
struct memory_database;
} // namespace detail

/// Opens stores that all share one in-memory database guarded by a mutex, so a writer and its
/// readers see the same data. Same semantics as the SQLite store (guards, one savepoint per
/// change set, cursors, ordering) without durability: for tests and demos.
class memory_store_factory final : public store_factory {
public:
  memory_store_factory();
  ~memory_store_factory() override;

  std::unique_ptr<store> open() override;
  std::string backend() const override { return "memory"; }

private:
  std::shared_ptr<detail::memory_database> db_; // shared with every store opened
};

} // namespace orderd::persistence
