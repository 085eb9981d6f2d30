// The PostgreSQL backend's foundation against a real server: tests/postgres/with_postgres.sh
// starts a private PostgreSQL and sets ORDERD_TEST_DATABASE_URL; each test gets a database of
// its own.

#define CAF_SUITE postgres
#include <caf/test/dsl.hpp>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "persistence/postgres/cluster.hpp"
#include "persistence/postgres/connection.hpp"
#include "persistence/postgres/migrate.hpp"
#include "persistence/postgres/postgres_store.hpp"
#include "persistence/schema/migrations.hpp"
#include "postgres_fixture.hpp"

using namespace orderd;
using namespace orderd::persistence;
using namespace orderd::persistence::postgres;
using orderd::test::fresh_database;
using orderd::test::server_url;

namespace {

/// The SQLSTATE of the pg_error `run` throws ("" if it throws nothing).
template <class F>
std::string sqlstate_of(F run) {
  try {
    run();
  } catch (const pg_error& e) {
    return e.sqlstate();
  }
  return "";
}

constexpr const char* insert_product =
  "INSERT INTO products (sku, name, price_cents, currency, available, reserved, sold, "
  "created_at, updated_at) VALUES ($1, 'Mug', 1250, 'EUR', $2, 0, 0, now(), now())";

constexpr const char* insert_order =
  "INSERT INTO orders (id, customer_id, status, total_cents, currency, created_at, updated_at) "
  "VALUES ($1, 'c-1', $2, 100, 'EUR', now(), now())";

} // namespace

CAF_TEST(redact hides every password form and nothing else) {
  CAF_CHECK_EQUAL(redact("postgresql://shop:s3cret@db.example:5432/orderd?sslmode=verify-full"),
                  "postgresql://shop:***@db.example:5432/orderd?sslmode=verify-full");
  CAF_CHECK_EQUAL(redact("postgres://shop@db.example/orderd"), "postgres://shop@db.example/orderd");
  CAF_CHECK_EQUAL(redact("postgresql://db.example:5432/orderd"),
                  "postgresql://db.example:5432/orderd");
  CAF_CHECK_EQUAL(redact("postgresql://shop@db/orderd?password=s3cret&application_name=orderd"),
                  "postgresql://shop@db/orderd?password=***&application_name=orderd");
  CAF_CHECK_EQUAL(redact("host=db user=shop password=s3cret dbname=orderd"),
                  "host=db user=shop password=*** dbname=orderd");
  CAF_CHECK_EQUAL(redact("host=db password='a b\\' c' dbname=orderd"),
                  "host=db password=*** dbname=orderd");
  CAF_CHECK_EQUAL(redact("host=db sslkey=/k sslpassword=keypass"),
                  "host=db sslkey=/k sslpassword=***");
}

CAF_TEST(a refused connection is unavailable and does not show the password) {
  auto url = server_url();
  // Swap the real password for a wrong one that is easy to look for.
  auto at = url.find('@');
  auto colon = url.rfind(':', at);
  auto wrong = url.substr(0, colon + 1) + "Wr0ngPassw0rd" + url.substr(at) + "/postgres";
  try {
    connection c{wrong};
    CAF_FAIL("connected with a wrong password");
  } catch (const pg_error& e) {
    std::string what = e.what();
    CAF_CHECK_EQUAL(e.code(), errc::unavailable);
    CAF_CHECK(what.find("Wr0ngPassw0rd") == std::string::npos);
    CAF_CHECK(what.find("postgresql://orderd:***@127.0.0.1:") != std::string::npos);
    CAF_MESSAGE(what);
  }
}

CAF_TEST(migrate creates the schema once and records every version) {
  fresh_database db;
  connection c{db.url()};
  CAF_CHECK(applied_versions(c).empty());
  migrate(c);
  auto expected = schema::postgres_migrations();
  auto applied = applied_versions(c);
  CAF_REQUIRE_EQUAL(applied.size(), expected.size());
  CAF_CHECK_EQUAL(applied.back(), expected.back().version);
  for (auto table : {"products", "orders", "order_lines", "idempotency_keys", "outbox",
                     "outbox_cursor", "processed_messages", "customers", "carts", "cart_lines",
                     "cart_short_lines", "notifications"})
    CAF_CHECK_EQUAL(c.exec("SELECT to_regclass($1) IS NOT NULL", {std::string{table}}).text(0, 0),
                    "t");
  migrate(c); // a second start changes nothing
  CAF_CHECK(applied_versions(c) == applied);
  CAF_CHECK_EQUAL(c.exec("SELECT count(*) FROM outbox_cursor").int64(0, 0), 1);
}

CAF_TEST(nodes migrating together apply each version once) {
  fresh_database db;
  std::vector<std::thread> nodes;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i)
    nodes.emplace_back([&] {
      try {
        connection c{db.url()};
        migrate(c);
      } catch (const std::exception& e) {
        ++failures;
        CAF_MESSAGE("a node failed to migrate: " << e.what());
      }
    });
  for (auto& t : nodes)
    t.join();
  CAF_CHECK_EQUAL(failures.load(), 0);
  connection c{db.url()};
  CAF_CHECK_EQUAL(c.exec("SELECT count(*) FROM schema_migrations").int64(0, 0),
                  static_cast<int64_t>(schema::postgres_migrations().size()));
}

CAF_TEST(a schema newer than the build is refused) {
  fresh_database db;
  connection c{db.url()};
  migrate(c);
  c.exec("INSERT INTO schema_migrations (version, name) VALUES (999, '999_from_the_future.sql')");
  try {
    migrate(c);
    CAF_FAIL("migrated a newer schema");
  } catch (const store_error& e) {
    CAF_CHECK_EQUAL(e.code(), errc::storage_failure);
    CAF_CHECK(std::string{e.what()}.find("newer than this build") != std::string::npos);
    CAF_CHECK(std::string{e.what()}.find(":***@") != std::string::npos);
  }
}

CAF_TEST(the database itself guards stock and keys) {
  fresh_database db;
  connection c{db.url()};
  migrate(c);
  c.exec(insert_product, {std::string{"A"}, std::string{"3"}});
  // Stock never below zero, whatever the writer.
  CAF_CHECK_EQUAL(sqlstate_of([&] { c.exec("UPDATE products SET available = available - 4"); }),
                  "23514");
  CAF_CHECK_EQUAL(c.exec("SELECT available FROM products WHERE sku = 'A'").int64(0, 0), 3);
  CAF_CHECK_EQUAL(sqlstate_of([&] { c.exec(insert_product, {std::string{"B"}, std::string{"-1"}}); }),
                  "23514");
  // Unique keys.
  CAF_CHECK_EQUAL(sqlstate_of([&] { c.exec(insert_product, {std::string{"A"}, std::string{"1"}}); }),
                  "23505");
  std::string id = "0190a5b2-7c1e-7d3f-8a9b-0c1d2e3f4a5b";
  c.exec(insert_order, {id, std::string{"PENDING"}});
  CAF_CHECK_EQUAL(sqlstate_of([&] { c.exec(insert_order, {id, std::string{"PENDING"}}); }),
                  "23505");
  // UUIDs compare case-insensitively: the same id in capitals is the same order.
  CAF_CHECK_EQUAL(c.exec("SELECT count(*) FROM orders WHERE id = $1",
                         {std::string{"0190A5B2-7C1E-7D3F-8A9B-0C1D2E3F4A5B"}})
                    .int64(0, 0),
                  1);
}

CAF_TEST(the database itself guards the order state machine) {
  fresh_database db;
  connection c{db.url()};
  migrate(c);
  std::string id = "0190a5b2-7c1e-7d3f-8a9b-0c1d2e3f4a5c";
  auto move = [&](const char* to) {
    c.exec("UPDATE orders SET status = $1 WHERE id = $2", {std::string{to}, id});
  };
  CAF_CHECK_EQUAL(sqlstate_of([&] { c.exec(insert_order, {id, std::string{"SHIPPED"}}); }),
                  "23514");
  c.exec(insert_order, {id, std::string{"PENDING"}});
  CAF_CHECK_EQUAL(sqlstate_of([&] { move("SHIPPED"); }), "23514");
  CAF_CHECK_EQUAL(sqlstate_of([&] { move("DELIVERED"); }), "23514");
  CAF_CHECK_EQUAL(sqlstate_of([&] { move("PROCESSING"); }), "");
  CAF_CHECK_EQUAL(sqlstate_of([&] { move("PENDING"); }), "23514");
  CAF_CHECK_EQUAL(sqlstate_of([&] { move("CONFIRMED"); }), "");
  CAF_CHECK_EQUAL(sqlstate_of([&] { move("CANCELLED"); }), "23514");
  CAF_CHECK_EQUAL(sqlstate_of([&] { move("SHIPPED"); }), "");
  CAF_CHECK_EQUAL(sqlstate_of([&] { move("DELIVERED"); }), "");
  CAF_CHECK_EQUAL(sqlstate_of([&] { move("CANCELLED"); }), "23514");
  CAF_CHECK_EQUAL(c.exec("SELECT status FROM orders WHERE id = $1", {id}).text(0, 0), "DELIVERED");
  // A cancel is allowed from PENDING and from PROCESSING (the payment saga's compensation).
  std::string other = "0190a5b2-7c1e-7d3f-8a9b-0c1d2e3f4a5d";
  c.exec(insert_order, {other, std::string{"PENDING"}});
  c.exec("UPDATE orders SET status = 'PROCESSING' WHERE id = $1", {other});
  CAF_CHECK_EQUAL(sqlstate_of([&] {
                    c.exec("UPDATE orders SET status = 'CANCELLED' WHERE id = $1", {other});
                  }),
                  "");
}

// -- the cluster's shared state (002_cluster.sql, persistence/postgres/cluster)

namespace {

/// A fresh database with orderd's schema.
std::unique_ptr<fresh_database> migrated_database() {
  auto db = std::make_unique<fresh_database>();
  connection c{db->url()};
  migrate(c);
  return db;
}

} // namespace

CAF_TEST(the shard count of the first node holds and every shard has a lease row) {
  auto db = migrated_database();
  cluster_directory first{db->url()};
  cluster_directory second{db->url()};
  CAF_CHECK_EQUAL(first.ensure_cluster(8), 8);
  CAF_CHECK_EQUAL(second.ensure_cluster(64), 8); // the cluster exists: its count holds
  auto leases = second.leases();
  CAF_REQUIRE_EQUAL(leases.size(), 8u);
  for (int32_t i = 0; i < 8; ++i) {
    CAF_CHECK_EQUAL(leases[static_cast<size_t>(i)].shard, i);
    CAF_CHECK(leases[static_cast<size_t>(i)].owner.empty());
    CAF_CHECK(!leases[static_cast<size_t>(i)].valid);
  }
}

CAF_TEST(members are live while their heartbeat is recent by the database clock) {
  auto db = migrated_database();
  cluster_directory dir{db->url()};
  using std::chrono::milliseconds;
  dir.heartbeat("node-b", "10.0.0.2:7000", "0190a5b2-7c1e-7d3f-8a9b-00000000000b");
  dir.heartbeat("node-a", "10.0.0.1:7000", "0190a5b2-7c1e-7d3f-8a9b-00000000000a");
  auto live = dir.live_members(milliseconds{60000});
  CAF_REQUIRE_EQUAL(live.size(), 2u);
  CAF_CHECK_EQUAL(live[0].node_id, "node-a");
  CAF_CHECK_EQUAL(live[0].advertise, "10.0.0.1:7000");
  CAF_CHECK_EQUAL(live[1].node_id, "node-b");
  // A heartbeat older than the window is not live (a window of nothing: every heartbeat is).
  CAF_CHECK(dir.live_members(milliseconds{0}).empty());
  // A node that left is not live, until it beats again.
  dir.leave("node-b", "0190a5b2-7c1e-7d3f-8a9b-00000000000b");
  CAF_CHECK_EQUAL(dir.live_members(milliseconds{60000}).size(), 1u);
  dir.heartbeat("node-b", "10.0.0.2:7000", "0190a5b2-7c1e-7d3f-8a9b-0000000000bb");
  CAF_CHECK_EQUAL(dir.live_members(milliseconds{60000}).size(), 2u);
}

CAF_TEST(a shard has one owner at a time and every change of hands raises its epoch) {
  auto db = migrated_database();
  cluster_directory a{db->url()};
  cluster_directory b{db->url()};
  using std::chrono::milliseconds;
  a.ensure_cluster(4);
  auto held = a.acquire(2, "node-a", milliseconds{60000});
  CAF_REQUIRE(held);
  CAF_CHECK_EQUAL(held->owner, "node-a");
  CAF_CHECK_EQUAL(held->epoch, 1);
  CAF_CHECK(held->valid);
  // Another node cannot take an unexpired lease; its owner renews it at the same epoch.
  CAF_CHECK(!b.acquire(2, "node-b", milliseconds{60000}));
  auto renewed = a.acquire(2, "node-a", milliseconds{60000});
  CAF_REQUIRE(renewed);
  CAF_CHECK_EQUAL(renewed->epoch, 1);
  // A lease given up (a hand-off) is free at once; the taker gets the next epoch.
  CAF_CHECK(a.release(2, "node-a", 1));
  CAF_CHECK(!a.release(2, "node-a", 1)); // released already
  auto taken = b.acquire(2, "node-b", milliseconds{60000});
  CAF_REQUIRE(taken);
  CAF_CHECK_EQUAL(taken->owner, "node-b");
  CAF_CHECK_EQUAL(taken->epoch, 2);
  // An expired lease (a lease of nothing expires at once) goes to whoever asks next.
  CAF_REQUIRE(b.acquire(3, "node-b", milliseconds{0}));
  auto over = a.acquire(3, "node-a", milliseconds{60000});
  CAF_REQUIRE(over);
  CAF_CHECK_EQUAL(over->epoch, 2);
  // The history holds one row per (shard, epoch): never two owners of one epoch.
  auto history = a.session().exec(
    "SELECT shard, epoch, owner FROM shard_lease_history ORDER BY shard, epoch");
  CAF_REQUIRE_EQUAL(history.rows(), 4);
  CAF_CHECK_EQUAL(history.text(0, 2), "node-a"); // shard 2, epoch 1
  CAF_CHECK_EQUAL(history.text(1, 2), "node-b"); // shard 2, epoch 2
  CAF_CHECK_EQUAL(history.text(2, 2), "node-b"); // shard 3, epoch 1
  CAF_CHECK_EQUAL(history.text(3, 2), "node-a"); // shard 3, epoch 2
}

namespace {

/// A change set that inserts product `sku` (5 available), fenced with `fences`.
change_set product_set(const std::string& sku, std::vector<shard_fence> fences) {
  orderd::product p;
  p.sku = sku;
  p.name = sku;
  p.price_cents = 100;
  p.currency = "EUR";
  p.available = 5;
  change_set cs;
  cs.ops.emplace_back(persistence::insert_product{p});
  cs.fences = std::move(fences);
  return cs;
}

} // namespace

CAF_TEST(a former owner is fenced and a takeover waits for a write in flight) {
  auto db = migrated_database();
  cluster_directory a{db->url()};
  cluster_directory b{db->url()};
  using std::chrono::milliseconds;
  a.ensure_cluster(2);
  auto mine = a.acquire(0, "node-a", milliseconds{0}); // expires at once: a paused owner
  CAF_REQUIRE(mine);
  auto theirs = b.acquire(0, "node-b", milliseconds{60000});
  CAF_REQUIRE(theirs);
  auto fence = [](cluster_directory& dir, const std::string& node, int64_t epoch) {
    return dir.session()
      .exec(cluster_directory::fence_sql(), {std::string{"0"}, node, std::to_string(epoch)})
      .rows();
  };
  // Whatever node-a's memory says, its epoch no longer passes the fence; node-b's does.
  CAF_CHECK_EQUAL(fence(a, "node-a", mine->epoch), 0);
  CAF_CHECK_EQUAL(fence(b, "node-b", theirs->epoch), 1);
  // node-b writes: its fence key-share-locks the lease row until the commit. A renewal (an
  // UPDATE of expires_at) does not wait for it; a takeover does, even of an expired lease.
  b.session().exec("BEGIN");
  CAF_CHECK_EQUAL(fence(b, "node-b", theirs->epoch), 1);
  a.session().exec("SET lock_timeout = '200ms'");
  cluster_directory renewer{db->url()};
  renewer.session().exec("SET lock_timeout = '200ms'");
  CAF_CHECK_EQUAL(renewer.renew_all("node-b", milliseconds{60000}).size(), 1u);
  renewer.session().exec("UPDATE shard_leases SET expires_at = now() WHERE shard = 0");
  auto take_over = [&] { (void) a.acquire(0, "node-a", milliseconds{60000}); };
  CAF_CHECK_EQUAL(sqlstate_of(take_over), "55P03");
  b.session().exec("COMMIT");
  auto after = a.acquire(0, "node-a", milliseconds{60000});
  CAF_REQUIRE(after);
  CAF_CHECK_EQUAL(after->epoch, theirs->epoch + 1);
}

CAF_TEST(audited writes fall in their owners turns and a write out of turn shows) {
  auto db = migrated_database();
  cluster_directory a{db->url()};
  cluster_directory b{db->url()};
  using std::chrono::milliseconds;
  a.ensure_cluster(2);
  postgres_options audited{db->url()};
  audited.audit_fenced_writes = true;
  postgres_store_factory factory{audited};
  auto store = factory.open();
  auto first = a.acquire(0, "node-a", milliseconds{60000});
  CAF_REQUIRE(first);
  CAF_CHECK(store->apply({product_set("T-1", {{0, "node-a", first->epoch}})})[0].ok());
  // node-a's lease runs out and node-b takes over: node-b's write passes, node-a's is fenced
  // and leaves no audit row.
  a.session().exec("UPDATE shard_leases SET expires_at = now() WHERE shard = 0");
  auto second = b.acquire(0, "node-b", milliseconds{60000});
  CAF_REQUIRE(second);
  auto results = store->apply({product_set("T-2", {{0, "node-b", second->epoch}}),
                               product_set("T-3", {{0, "node-a", first->epoch}})});
  CAF_CHECK(results[0].ok());
  CAF_CHECK_EQUAL(results[1].code, errc::unavailable);
  auto count = [&](const std::string& sql) { return a.session().exec(sql).int64(0, 0); };
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM shard_writes"), 2);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM shard_writes WHERE node = 'node-a' AND epoch = "
                        + std::to_string(first->epoch)), 1);
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM shard_writes_out_of_turn"), 0);
  // Had node-a's write committed after node-b took over (a fence that failed to fence), its
  // row would number after epoch 2's history row: the checker's view names it.
  a.session().exec("INSERT INTO shard_writes (shard, epoch, node) VALUES (0, $1, 'node-a')",
                   {std::to_string(first->epoch)});
  CAF_CHECK_EQUAL(count("SELECT count(*) FROM shard_writes_out_of_turn"), 1);
  CAF_CHECK_EQUAL(count("SELECT next_acquired_seq FROM shard_writes_out_of_turn"),
                  count("SELECT write_seq FROM shard_lease_history WHERE shard = 0 AND epoch = "
                        + std::to_string(second->epoch)));
  // Audit rows older than what is kept are pruned.
  a.session().exec("UPDATE shard_writes SET committed_at = now() - interval '2 days'");
  CAF_CHECK_EQUAL(a.prune_audited_writes(std::chrono::hours{24}), 3);
}

CAF_TEST(a change set commits only under the fence of a lease its node holds) {
  auto db = migrated_database();
  cluster_directory a{db->url()};
  using std::chrono::milliseconds;
  a.ensure_cluster(4);
  auto held = a.acquire(1, "node-a", milliseconds{60000});
  CAF_REQUIRE(held);
  postgres_store_factory factory{postgres_options{db->url()}};
  auto store = factory.open();
  // One batch: the holder's fence passes, a stale epoch and a node without the lease are
  // refused as unavailable ("fenced:"), and the refused ones spoil nothing of the others.
  auto results = store->apply({product_set("F-1", {{1, "node-a", held->epoch}}),
                               product_set("F-2", {{1, "node-a", held->epoch + 1}}),
                               product_set("F-3", {{1, "node-b", held->epoch}}),
                               product_set("F-4", {{1, "node-a", held->epoch}, {2, "node-a", 0}}),
                               product_set("F-5", {})});
  CAF_REQUIRE_EQUAL(results.size(), 5u);
  CAF_CHECK(results[0].ok());
  for (size_t i : {1u, 2u, 3u}) {
    CAF_CHECK_EQUAL(results[i].code, errc::unavailable);
    if (results[i].detail.rfind("fenced:", 0) != 0)
      CAF_FAIL("a fenced change set says so: " << results[i].detail);
  }
  CAF_CHECK(results[4].ok());
  CAF_CHECK(store->find_product("F-1").has_value());
  CAF_CHECK(!store->find_product("F-2").has_value());
  CAF_CHECK(!store->find_product("F-3").has_value());
  CAF_CHECK(!store->find_product("F-4").has_value());
  CAF_CHECK(store->find_product("F-5").has_value());
  // Once the lease is released, the former holder's fence fails too.
  CAF_REQUIRE(a.release(1, "node-a", held->epoch));
  auto late = store->apply({product_set("F-6", {{1, "node-a", held->epoch}})});
  CAF_CHECK_EQUAL(late[0].code, errc::unavailable);
  CAF_CHECK(!store->find_product("F-6").has_value());
}
