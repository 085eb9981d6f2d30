#pragma once

// The private PostgreSQL server tests/postgres/with_postgres.sh starts for a test binary, and a
// fresh database on it per check.

#include <atomic>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include <caf/test/dsl.hpp>

#include "persistence/postgres/connection.hpp"

namespace orderd::test {

inline std::string server_url() {
  const char* url = std::getenv("ORDERD_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0')
    CAF_FAIL("ORDERD_TEST_DATABASE_URL is not set: run through tests/postgres/with_postgres.sh");
  return url;
}

/// A fresh, empty database on the test server, dropped again at the end.
struct fresh_database {
  fresh_database() {
    static std::atomic<int> counter{0};
    name = "orderd_t" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    persistence::postgres::connection admin{server_url() + "/postgres"};
    admin.exec("DROP DATABASE IF EXISTS " + name);
    admin.exec("CREATE DATABASE " + name);
  }
  ~fresh_database() {
    try {
      persistence::postgres::connection admin{server_url() + "/postgres"};
      admin.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (...) {
    }
  }
  std::string url() const { return server_url() + "/" + name; }

  std::string name;
};

} // namespace orderd::test
