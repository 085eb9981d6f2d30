// The store contract: every check runs against each backend (memory and SQLite), each time on a
// fresh, empty database, so the backends cannot drift apart. SQLite-only checks (durability,
// migrations, concurrent opens) come last, followed by a throughput measurement that runs only
// when asked for by name:
//   store_tests -s store_contract -t 'measure apply throughput'
#define CAF_SUITE store_contract
#include <caf/test/dsl.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "domain/ids.hpp"
#include "persistence/memory/memory_store.hpp"
#include "persistence/schema/migrations.hpp"

#include <sqlite3.h>
#include "persistence/sqlite/sqlite_store.hpp"
#include "persistence/postgres/postgres_store.hpp"
#include "postgres_fixture.hpp"

using namespace orderd;
using namespace orderd::persistence;

namespace {

/// A fresh directory under the system temp directory, removed with its contents.
class temp_dir {
public:
  temp_dir() {
    auto pattern = (std::filesystem::temp_directory_path() / "orderd-store-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

/// The backends the checks run against: $ORDERD_STORE_BACKENDS (comma-separated), by default
/// memory and sqlite. The postgres backend needs the server of tests/postgres/with_postgres.sh
/// (ctest's store_tests_postgres runs this binary that way).
std::vector<std::string> selected_backends() {
  const char* env = std::getenv("ORDERD_STORE_BACKENDS");
  std::string list = env != nullptr && *env != '\0' ? env : "memory,sqlite";
  std::vector<std::string> names;
  for (size_t at = 0; at <= list.size();) {
    auto comma = std::min(list.find(',', at), list.size());
    names.push_back(list.substr(at, comma - at));
    at = comma + 1;
  }
  return names;
}

/// Runs `check` against each backend, each with a fresh, empty database.
void for_each_backend(const std::function<void(store_factory&)>& check) {
  for (auto& name : selected_backends()) {
    CAF_MESSAGE("backend: " << name);
    if (name == "memory") {
      memory_store_factory factory;
      check(factory);
    } else if (name == "sqlite") {
      temp_dir dir;
      sqlite_store_factory factory{dir.file("orderd.db")};
      check(factory);
    } else if (name == "postgres") {
      test::fresh_database db;
      postgres_store_factory factory{{db.url()}};
      check(factory);
    } else {
      CAF_FAIL("unknown backend in ORDERD_STORE_BACKENDS: " << name);
    }
  }
}

/// The UUID that stands for `name` in these checks: orderd makes its order, customer,
/// notification and event ids as UUIDs, and PostgreSQL stores them as uuid. The name's bytes
/// in hex, zero-padded, so the ids sort as the names do; a UUID (or "") passes unchanged.
std::string id_of(std::string_view name) {
  if (name.empty() || is_uuid(name))
    return std::string{name};
  if (name.size() > 16)
    throw std::invalid_argument("id_of: name longer than 16 bytes");
  static constexpr char hex[] = "0123456789abcdef";
  std::string digits;
  for (unsigned char ch : name) {
    digits += hex[ch >> 4];
    digits += hex[ch & 15];
  }
  digits.resize(32, '0');
  return digits.substr(0, 8) + "-" + digits.substr(8, 4) + "-" + digits.substr(12, 4) + "-"
         + digits.substr(16, 4) + "-" + digits.substr(20);
}

product make_product(const std::string& sku, int64_t available,
                     const std::string& category = "tools") {
  product p;
  p.sku = sku;
  p.name = "Product " + sku;
  p.description = "A fine " + sku;
  p.category = category;
  p.price_cents = 1250;
  p.currency = "USD";
  p.available = available;
  p.low_stock_threshold = 5;
  p.created_at = 1000;
  p.updated_at = 1000;
  return p;
}

order make_order(const std::string& id, const std::string& customer, timestamp_ms created_at,
                 std::vector<order_line> lines = {{"SKU-A", 2, 1250}, {"SKU-B", 1, 300}}) {
  order o;
  o.id = id_of(id);
  o.customer_id = customer;
  o.customer_email = customer + "@example.com";
  o.lines = std::move(lines);
  o.total_cents = compute_total(o.lines);
  o.currency = "USD";
  o.created_at = created_at;
  o.updated_at = created_at;
  return o;
}

adjust_stock adjust(const std::string& sku, int64_t available, int64_t reserved = 0,
                    int64_t sold = 0) {
  return adjust_stock{sku, available, reserved, sold, 2000};
}

/// Applies one change set on its own and returns its result.
change_result apply_one(store& s, std::vector<store_op> ops) {
  auto results = s.apply({change_set{std::move(ops), 0}});
  CAF_REQUIRE_EQUAL(results.size(), 1u);
  return results.front();
}

/// The error code a call throws as store_error, or errc::ok if it throws nothing.
errc thrown_code(const std::function<void()>& f) {
  try {
    f();
  } catch (const store_error& e) {
    return e.code();
  }
  return errc::ok;
}

std::vector<std::string> skus_of(const std::vector<product>& products) {
  std::vector<std::string> result;
  for (auto& p : products)
    result.push_back(p.sku);
  return result;
}

event_record make_event(const std::string& id, const std::string& type = "order.created",
                        const std::string& aggregate = id_of("order-1"), timestamp_ms at = 1000) {
  event_record e;
  e.id = id_of(id);
  e.type = type;
  e.aggregate = aggregate;
  e.occurred_at = at;
  e.correlation_id = "corr-" + id;
  e.payload = R"({"id":")" + id + R"(","type":")" + type + R"("})";
  return e;
}

std::vector<std::string> ids_of(const std::vector<event_record>& events) {
  std::vector<std::string> result;
  for (auto& e : events)
    result.push_back(e.id);
  return result;
}

/// A renderer that turns every stock move into one event naming the sku and both figures
/// ("SKU-A:10->8"), so a check sees exactly what the store handed over.
stock_event_renderer describe_moves(std::shared_ptr<std::vector<stock_move>> seen = nullptr) {
  return [seen](const std::vector<stock_move>& moves) {
    if (seen)
      *seen = moves;
    std::vector<event_record> out;
    for (auto& m : moves) {
      auto before = m.before ? std::to_string(m.before->level.available) : std::string{"new"};
      auto text = m.after.level.sku + ":" + before + "->"
                  + std::to_string(m.after.level.available);
      out.push_back(make_event(make_uuid(), "inventory.updated", m.after.level.sku));
      out.back().payload = text;
    }
    return out;
  };
}

std::vector<std::string> payloads_of(const std::vector<event_record>& events) {
  std::vector<std::string> result;
  for (auto& e : events)
    result.push_back(e.payload);
  return result;
}

std::vector<std::string> ids_of(const std::vector<order>& orders) {
  std::vector<std::string> result;
  for (auto& o : orders)
    result.push_back(o.id);
  return result;
}

using strings = std::vector<std::string>;

/// The available stock of `sku`, or -1 if there is no such product. (Returned by value:
/// CAF_CHECK_EQUAL keeps a reference to its argument, which must not point into a temporary.)
int64_t available_of(store& s, const std::string& sku) {
  auto p = s.find_product(sku);
  return p ? p->available : -1;
}

} // namespace

// -- products -----------------------------------------------------------------------------------

CAF_TEST(products can be inserted found updated and deleted) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    auto p = make_product("SKU-A", 10);
    CAF_CHECK(apply_one(*s, {insert_product{p}}).ok());
    CAF_CHECK(s->find_product("SKU-A") == p);
    CAF_CHECK(!s->find_product("SKU-NONE"));
    CAF_CHECK_EQUAL(s->count_products(), 1);

    product_details details{"Renamed", "New text", "garden", 999, "EUR", 3};
    auto updated = apply_one(*s, {update_product{"SKU-A", details, 5000}});
    CAF_CHECK(updated.ok());
    auto found = s->find_product("SKU-A");
    CAF_REQUIRE(found);
    CAF_CHECK_EQUAL(found->name, "Renamed");
    CAF_CHECK_EQUAL(found->description, "New text");
    CAF_CHECK_EQUAL(found->category, "garden");
    CAF_CHECK_EQUAL(found->price_cents, 999);
    CAF_CHECK_EQUAL(found->currency, "EUR");
    CAF_CHECK_EQUAL(found->low_stock_threshold, 3);
    CAF_CHECK_EQUAL(found->updated_at, 5000);
    CAF_CHECK_EQUAL(found->created_at, 1000);
    CAF_CHECK_EQUAL(found->available, 10);

    CAF_CHECK(apply_one(*s, {delete_product{"SKU-A"}}).ok());
    CAF_CHECK(!s->find_product("SKU-A"));
    CAF_CHECK_EQUAL(s->count_products(), 0);
    CAF_CHECK(apply_one(*s, {delete_product{"SKU-A"}}).code == errc::not_found);
    CAF_CHECK(apply_one(*s, {update_product{"SKU-A", details, 6000}}).code == errc::not_found);
  });
}

CAF_TEST(inserting a product with an existing sku is a conflict) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_CHECK(apply_one(*s, {insert_product{make_product("SKU-A", 10)}}).ok());
    auto again = make_product("SKU-A", 99);
    auto result = apply_one(*s, {insert_product{again}});
    CAF_CHECK(result.code == errc::conflict);
    CAF_CHECK(result.detail.find("SKU-A") != std::string::npos);
    CAF_CHECK_EQUAL(available_of(*s, "SKU-A"), 10);
  });
}

CAF_TEST(deleting a product is refused while units are reserved) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_CHECK(apply_one(*s, {insert_product{make_product("SKU-A", 10)}, adjust("SKU-A", -2, 2)})
                .ok());
    auto refused = apply_one(*s, {delete_product{"SKU-A"}});
    CAF_CHECK(refused.code == errc::conflict);
    CAF_CHECK(refused.detail.find("SKU-A") != std::string::npos);
    CAF_CHECK(s->find_product("SKU-A"));
    CAF_CHECK(apply_one(*s, {adjust("SKU-A", 2, -2), delete_product{"SKU-A"}}).ok());
    CAF_CHECK(!s->find_product("SKU-A"));
  });
}

CAF_TEST(stock changes bump the version and report the stock after) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    auto inserted = apply_one(*s, {insert_product{make_product("SKU-A", 10)}});
    CAF_REQUIRE(inserted.ok());
    CAF_REQUIRE_EQUAL(inserted.stock_after.size(), 1u);
    CAF_CHECK(inserted.stock_after[0] == (stock_level{"SKU-A", 10, 0, 0, 0}));

    auto set = apply_one(*s, {set_available{"SKU-A", 7, 3000}});
    CAF_REQUIRE_EQUAL(set.stock_after.size(), 1u);
    CAF_CHECK(set.stock_after[0] == (stock_level{"SKU-A", 7, 0, 0, 1}));

    auto reserved = apply_one(*s, {adjust("SKU-A", -3, 3)});
    CAF_REQUIRE_EQUAL(reserved.stock_after.size(), 1u);
    CAF_CHECK(reserved.stock_after[0] == (stock_level{"SKU-A", 4, 3, 0, 2}));

    auto sold = apply_one(*s, {adjust("SKU-A", 0, -3, 3)});
    CAF_REQUIRE_EQUAL(sold.stock_after.size(), 1u);
    CAF_CHECK(sold.stock_after[0] == (stock_level{"SKU-A", 4, 0, 3, 3}));

    auto stored = s->find_product("SKU-A");
    CAF_REQUIRE(stored);
    CAF_CHECK(stored->stock() == sold.stock_after[0]);
    CAF_CHECK_EQUAL(stored->updated_at, 2000);

    // Updating the descriptive fields reports the (unchanged) stock.
    product_details details{"N", "D", "tools", 1, "USD", 1};
    auto updated = apply_one(*s, {update_product{"SKU-A", details, 4000}});
    CAF_REQUIRE_EQUAL(updated.stock_after.size(), 1u);
    CAF_CHECK(updated.stock_after[0] == sold.stock_after[0]);
  });
}

CAF_TEST(stock after names every touched sku once with its final figures) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    auto result = apply_one(*s, {insert_product{make_product("SKU-A", 10)},
                                 insert_product{make_product("SKU-B", 5)},
                                 insert_product{make_product("SKU-C", 1)},
                                 adjust("SKU-A", -1, 1), adjust("SKU-B", -2, 2),
                                 adjust("SKU-A", -1, 1), delete_product{"SKU-C"}});
    CAF_REQUIRE(result.ok());
    CAF_REQUIRE_EQUAL(result.stock_after.size(), 2u);
    CAF_CHECK(result.stock_after[0] == (stock_level{"SKU-A", 8, 2, 0, 2}));
    CAF_CHECK(result.stock_after[1] == (stock_level{"SKU-B", 3, 2, 0, 1}));
    // Touched, then deleted: nothing to report.
    auto deleted = apply_one(*s, {adjust("SKU-B", 2, -2), delete_product{"SKU-B"}});
    CAF_CHECK(deleted.ok());
    CAF_CHECK(deleted.stock_after.empty());
  });
}

CAF_TEST(adjusting stock never drops a figure below zero) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-A", 3)}}).ok());
    auto refused = apply_one(*s, {adjust("SKU-A", -5, 5)});
    CAF_CHECK(refused.code == errc::insufficient_stock);
    CAF_CHECK(refused.detail.find("SKU-A") != std::string::npos);
    CAF_CHECK(refused.detail.find("available 3") != std::string::npos);
    CAF_CHECK(refused.stock_after.empty());
    CAF_CHECK(apply_one(*s, {adjust("SKU-A", 0, -1)}).code == errc::insufficient_stock);
    CAF_CHECK(apply_one(*s, {adjust("SKU-A", 0, 0, -1)}).code == errc::insufficient_stock);
    auto stored = s->find_product("SKU-A");
    CAF_REQUIRE(stored);
    CAF_CHECK(stored->stock() == (stock_level{"SKU-A", 3, 0, 0, 0}));
    // Exactly down to zero is fine.
    CAF_CHECK(apply_one(*s, {adjust("SKU-A", -3, 3)}).ok());
    CAF_CHECK_EQUAL(available_of(*s, "SKU-A"), 0);
  });
}

CAF_TEST(stock changes of an unknown sku are not found) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    auto adjusted = apply_one(*s, {adjust("SKU-NONE", 1)});
    CAF_CHECK(adjusted.code == errc::not_found);
    CAF_CHECK(adjusted.detail.find("SKU-NONE") != std::string::npos);
    CAF_CHECK(apply_one(*s, {set_available{"SKU-NONE", 1, 1}}).code == errc::not_found);
  });
}

CAF_TEST(negative stock is invalid input) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_CHECK(apply_one(*s, {insert_product{make_product("SKU-A", -1)}}).code
              == errc::invalid_input);
    CAF_CHECK(!s->find_product("SKU-A"));
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-A", 1)}}).ok());
    CAF_CHECK(apply_one(*s, {set_available{"SKU-A", -1, 1}}).code == errc::invalid_input);
    CAF_CHECK_EQUAL(available_of(*s, "SKU-A"), 1);
  });
}

CAF_TEST(text is stored verbatim and never interpreted as sql) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    auto p = make_product("x'); DROP TABLE products; --", 1, "it's \"quoted\" ü");
    CAF_REQUIRE(apply_one(*s, {insert_product{p}}).ok());
    CAF_CHECK(s->find_product(p.sku) == p);
    auto listed = s->list_products({"it's \"quoted\" ü", 10, ""});
    CAF_CHECK_EQUAL(listed.items.size(), 1u);
    CAF_CHECK_EQUAL(s->count_products(), 1);
  });
}

// -- orders -------------------------------------------------------------------------------------

CAF_TEST(an order is stored with its lines) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    auto o = make_order(id_of("order-1"), "cust-1", 1000);
    CAF_CHECK(apply_one(*s, {insert_order{o}}).ok());
    CAF_CHECK(s->find_order(id_of("order-1")) == o);
    CAF_CHECK(!s->find_order(id_of("order-2")));
    CAF_CHECK_EQUAL(s->count_orders(), 1);
    auto again = apply_one(*s, {insert_order{make_order(id_of("order-1"), "cust-2", 2000)}});
    CAF_CHECK(again.code == errc::conflict);
    CAF_CHECK(again.detail.find(id_of("order-1")) != std::string::npos);
    CAF_CHECK(s->find_order(id_of("order-1")) == o);
    auto no_lines = make_order(id_of("order-2"), "cust-1", 1000, {});
    CAF_CHECK(apply_one(*s, {insert_order{no_lines}}).ok());
    CAF_CHECK(s->find_order(id_of("order-2")) == no_lines);
  });
}

CAF_TEST(an order transition is guarded by the expected status) {
  for_each_backend([](store_factory& factory) {
    using st = order_status;
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_order{make_order(id_of("order-1"), "cust-1", 1000)}}).ok());
    CAF_CHECK(apply_one(*s, {transition_order{id_of("order-1"), st::pending, st::processing, 1500}})
                .ok());
    auto stored = s->find_order(id_of("order-1"));
    CAF_REQUIRE(stored);
    CAF_CHECK(stored->status == st::processing);
    CAF_CHECK_EQUAL(stored->updated_at, 1500);

    auto stale = apply_one(*s, {transition_order{id_of("order-1"), st::pending, st::cancelled, 1600}});
    CAF_CHECK(stale.code == errc::illegal_transition);
    CAF_CHECK(stale.detail.find(id_of("order-1")) != std::string::npos);
    CAF_CHECK(stale.detail.find("PROCESSING") != std::string::npos);
    CAF_CHECK(s->find_order(id_of("order-1"))->status == st::processing);

    auto unknown = apply_one(*s, {transition_order{id_of("order-9"), st::pending, st::cancelled, 1}});
    CAF_CHECK(unknown.code == errc::not_found);
  });
}

CAF_TEST(a cancelled order keeps its cancel reason) {
  for_each_backend([](store_factory& factory) {
    using st = order_status;
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_order{make_order(id_of("order-1"), "cust-1", 1000)}}).ok());
    CAF_REQUIRE(apply_one(*s, {insert_order{make_order(id_of("order-2"), "cust-1", 1000)}}).ok());
    CAF_CHECK_EQUAL(s->find_order(id_of("order-1"))->cancel_reason, "");
    CAF_REQUIRE(apply_one(*s, {transition_order{id_of("order-1"), st::pending, st::processing, 1500,
                                                "ignored: not a cancel"}})
                  .ok());
    CAF_CHECK_EQUAL(s->find_order(id_of("order-1"))->cancel_reason, "");
    CAF_REQUIRE(apply_one(*s, {transition_order{id_of("order-1"), st::processing, st::cancelled, 1600,
                                                "payment_failed"}})
                  .ok());
    CAF_CHECK_EQUAL(s->find_order(id_of("order-1"))->cancel_reason, "payment_failed");
    // A refused change set leaves the reason alone.
    auto refused = apply_one(*s, {transition_order{id_of("order-2"), st::pending, st::cancelled, 1700,
                                                   "customer_request"},
                                  transition_order{id_of("order-9"), st::pending, st::cancelled, 1}});
    CAF_CHECK(!refused.ok());
    CAF_CHECK_EQUAL(s->find_order(id_of("order-2"))->cancel_reason, "");
    order_query q;
    q.status = st::cancelled;
    auto listed = s->list_orders(q);
    CAF_REQUIRE_EQUAL(listed.items.size(), 1u);
    CAF_CHECK_EQUAL(listed.items[0].cancel_reason, "payment_failed");
  });
}

// -- change sets --------------------------------------------------------------------------------

CAF_TEST(a failing change set leaves no trace while its neighbours commit) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-A", 10)},
                               insert_product{make_product("SKU-B", 1)}})
                  .ok());
    std::vector<change_set> batch{
      {{insert_order{make_order(id_of("order-1"), "cust-1", 1000)}, adjust("SKU-A", -2, 2)}, 1},
      // Everything but the last op would succeed: it must all be undone.
      {{insert_order{make_order(id_of("order-2"), "cust-1", 1001)}, adjust("SKU-A", -3, 3),
        set_available{"SKU-B", 50, 1}, insert_product{make_product("SKU-C", 1)},
        delete_product{"SKU-B"},
        save_idempotency{{"key-2", "hash", 201, "{}", 1001}}, adjust("SKU-B", -5, 5)},
       2},
      {{insert_order{make_order(id_of("order-3"), "cust-1", 1002)}, adjust("SKU-A", -1, 1)}, 3},
    };
    auto results = s->apply(batch);
    CAF_REQUIRE_EQUAL(results.size(), 3u);
    CAF_CHECK(results[0].ok());
    CAF_CHECK(results[1].code == errc::not_found); // SKU-B was deleted earlier in the set
    CAF_CHECK(results[1].stock_after.empty());
    CAF_CHECK(results[2].ok());
    CAF_REQUIRE_EQUAL(results[2].stock_after.size(), 1u);
    CAF_CHECK(results[2].stock_after[0] == (stock_level{"SKU-A", 7, 3, 0, 2}));

    CAF_CHECK(s->find_order(id_of("order-1")));
    CAF_CHECK(!s->find_order(id_of("order-2")));
    CAF_CHECK(s->find_order(id_of("order-3")));
    CAF_CHECK(s->find_product("SKU-A")->stock() == (stock_level{"SKU-A", 7, 3, 0, 2}));
    CAF_CHECK(s->find_product("SKU-B")->stock() == (stock_level{"SKU-B", 1, 0, 0, 0}));
    CAF_CHECK(!s->find_product("SKU-C"));
    CAF_CHECK(!s->find_idempotency("key-2"));
    CAF_CHECK_EQUAL(s->count_orders(), 2);
    // Newest first: the rolled-back order left no gap in the order of the others.
    CAF_CHECK_EQUAL(ids_of(s->list_orders({}).items), (strings{id_of("order-3"), id_of("order-1")}));
  });
}

CAF_TEST(empty batches and empty change sets succeed) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_CHECK(s->apply({}).empty());
    auto results = s->apply({change_set{}, change_set{}});
    CAF_REQUIRE_EQUAL(results.size(), 2u);
    CAF_CHECK(results[0].ok() && results[1].ok());
  });
}

// -- idempotency --------------------------------------------------------------------------------

CAF_TEST(idempotency records can be saved found and purged) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    idempotency_record old_one{"key-1", "hash-1", 201, R"({"id":id_of("order-1")})", 1000};
    idempotency_record new_one{"key-2", "hash-2", 409, R"({"type":"conflict"})", 5000};
    CAF_CHECK(apply_one(*s, {save_idempotency{old_one}}).ok());
    CAF_CHECK(apply_one(*s, {save_idempotency{new_one}}).ok());
    CAF_CHECK(s->find_idempotency("key-1") == old_one);
    CAF_CHECK(s->find_idempotency("key-2") == new_one);
    CAF_CHECK(!s->find_idempotency("key-3"));

    auto duplicate = apply_one(*s, {save_idempotency{{"key-1", "other", 200, "{}", 9000}}});
    CAF_CHECK(duplicate.code == errc::conflict);
    CAF_CHECK(s->find_idempotency("key-1") == old_one);

    CAF_CHECK_EQUAL(s->purge_idempotency(1000), 0u); // strictly before the cutoff
    CAF_CHECK_EQUAL(s->purge_idempotency(4000), 1u);
    CAF_CHECK(!s->find_idempotency("key-1"));
    CAF_CHECK(s->find_idempotency("key-2") == new_one);
  });
}

// -- processed inbound messages ---------------------------------------------------------------

CAF_TEST(a processed message commits with its change and refuses a second copy) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_CHECK(apply_one(*s, {insert_product{make_product("SKU-A", 10)}}).ok());
    processed_message first{"msg-1", "inventory.adjust", 1000};
    CAF_CHECK(apply_one(*s, {adjust("SKU-A", 5), record_message{first}}).ok());
    CAF_CHECK(s->find_processed_message("msg-1") == first);
    CAF_CHECK(!s->find_processed_message("msg-2"));
    // The redelivered copy is refused as a whole: its stock change does not happen twice.
    auto again = apply_one(*s, {adjust("SKU-A", 5),
                                record_message{{"msg-1", "inventory.adjust", 2000}}});
    CAF_CHECK(again.code == errc::conflict);
    CAF_CHECK_EQUAL(s->find_product("SKU-A")->available, 15);
    CAF_CHECK(s->find_processed_message("msg-1") == first);
    // A refused change leaves no record: the command can be retried.
    auto refused = apply_one(*s, {adjust("SKU-A", -100),
                                  record_message{{"msg-3", "inventory.adjust", 3000}}});
    CAF_CHECK(refused.code == errc::insufficient_stock);
    CAF_CHECK(!s->find_processed_message("msg-3"));
    CAF_CHECK(apply_one(*s, {record_message{{"msg-4", "order.cancel", 5000}}}).ok());
    CAF_CHECK_EQUAL(s->purge_processed_messages(1000), 0u); // strictly before the cutoff
    CAF_CHECK_EQUAL(s->purge_processed_messages(4000), 1u);
    CAF_CHECK(!s->find_processed_message("msg-1"));
    CAF_CHECK(s->find_processed_message("msg-4").has_value());
  });
}

// -- payment charges ------------------------------------------------------------------------

CAF_TEST(an order is charged once: the first recorded outcome stands) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    auto id = make_uuid();
    CAF_CHECK(!s->find_charge(id));
    payment_charge declined{id, false, "declined by the mock payment service", 1250, "EUR", 1000};
    CAF_CHECK(apply_one(*s, {record_charge{declined}}).ok());
    CAF_CHECK(s->find_charge(id) == declined);
    // Another node (or an earlier attempt) decided first: a second outcome is refused whole.
    payment_charge charged{id, true, "", 1250, "EUR", 2000};
    auto again = apply_one(*s, {record_charge{charged}});
    CAF_CHECK(again.code == errc::conflict);
    CAF_CHECK(s->find_charge(id) == declined);
    // Neighbours in the batch commit.
    auto other = make_uuid();
    change_set twice, fresh;
    twice.ops.emplace_back(record_charge{charged});
    fresh.ops.emplace_back(record_charge{{other, true, "", 990, "USD", 3000}});
    auto results = s->apply({twice, fresh});
    CAF_REQUIRE_EQUAL(results.size(), 2u);
    CAF_CHECK(results[0].code == errc::conflict);
    CAF_CHECK(results[1].ok());
    CAF_CHECK(s->find_charge(other)->succeeded);
    CAF_CHECK(s->find_charge(other)->currency == "USD");
    CAF_CHECK(!s->find_charge("not-an-order"));
  });
}

// -- the outbox ---------------------------------------------------------------------------------

CAF_TEST(outbox events are appended in seq order and read back unpublished) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_CHECK_EQUAL(s->count_unpublished(), 0);
    CAF_CHECK(s->unpublished_events(10).empty());
    auto e1 = make_event(id_of("e-1"));
    auto e2 = make_event(id_of("e-2"), "order.cancelled");
    auto e3 = make_event(id_of("e-3"), "inventory.updated", "SKU-A", 1001);
    CAF_REQUIRE(apply_one(*s, {append_event{e1}, append_event{e2}}).ok());
    CAF_REQUIRE(apply_one(*s, {append_event{e3}}).ok());
    CAF_CHECK_EQUAL(s->count_unpublished(), 3);
    auto events = s->unpublished_events(10);
    CAF_REQUIRE_EQUAL(events.size(), 3u);
    CAF_CHECK_EQUAL(ids_of(events), (strings{id_of("e-1"), id_of("e-2"), id_of("e-3")}));
    CAF_CHECK(events[0].seq < events[1].seq && events[1].seq < events[2].seq);
    // Every field comes back verbatim (seq is the store's).
    e3.seq = events[2].seq;
    CAF_CHECK(events[2] == e3);
    CAF_CHECK_EQUAL(ids_of(s->unpublished_events(2)), (strings{id_of("e-1"), id_of("e-2")}));
    // After a seq (the relay's own cursor while its mark is on the way): only what follows.
    CAF_CHECK_EQUAL(ids_of(s->unpublished_events_after(events[0].seq, 10)),
                    (strings{id_of("e-2"), id_of("e-3")}));
    CAF_CHECK(s->unpublished_events_after(events[2].seq, 10).empty());
    CAF_CHECK(s->mark_published(events[1].seq, 5000) == 2u);
    CAF_CHECK_EQUAL(ids_of(s->unpublished_events_after(events[0].seq, 10)), (strings{id_of("e-3")}));
    s->mark_published(0, 5000); // the cursor never moves back: e-3 only stays unpublished
    // Another connection sees the committed rows too.
    auto other = factory.open();
    CAF_CHECK_EQUAL(ids_of(other->unpublished_events(10)), (strings{id_of("e-3")}));
  });
}

CAF_TEST(marking events published removes them from the backlog once) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {append_event{make_event(id_of("e-1"), "order.created", "o-1", 1000)},
                               append_event{make_event(id_of("e-2"), "order.created", "o-2", 2000)},
                               append_event{make_event(id_of("e-3"), "order.created", "o-3", 3000)}})
                  .ok());
    auto events = s->unpublished_events(10);
    CAF_REQUIRE_EQUAL(events.size(), 3u);
    CAF_CHECK_EQUAL(s->mark_published(events[1].seq, 5000), 2u);
    CAF_CHECK_EQUAL(s->count_unpublished(), 1);
    CAF_CHECK_EQUAL(ids_of(s->unpublished_events(10)), (strings{id_of("e-3")}));
    // Marking again, or less, changes nothing: the cursor never moves back.
    CAF_CHECK_EQUAL(s->mark_published(events[1].seq, 6000), 0u);
    CAF_CHECK_EQUAL(s->mark_published(events[0].seq, 6000), 0u);
    CAF_CHECK_EQUAL(s->count_unpublished(), 1);
    // New events get higher seqs than every earlier one, published or not.
    CAF_REQUIRE(apply_one(*s, {append_event{make_event(id_of("e-4"), "order.created", "o-4", 4000)}})
                  .ok());
    auto rest = s->unpublished_events(10);
    CAF_CHECK_EQUAL(ids_of(rest), (strings{id_of("e-3"), id_of("e-4")}));
    CAF_CHECK(rest[1].seq > events[2].seq);
    // Purging drops published rows that occurred before the cutoff, never unpublished ones.
    CAF_CHECK_EQUAL(s->purge_published(1000), 0u); // strictly before the cutoff
    CAF_CHECK_EQUAL(s->purge_published(1001), 1u); // e-1
    CAF_CHECK_EQUAL(s->purge_published(1'000'000), 1u); // e-2; e-3 is unpublished
    CAF_CHECK_EQUAL(s->count_unpublished(), 2);
    // Purging keeps the newest row, so a seq is never handed out again.
    CAF_REQUIRE(apply_one(*s, {append_event{make_event(id_of("e-5"))}}).ok());
    auto all = s->unpublished_events(10);
    CAF_REQUIRE_EQUAL(ids_of(all), (strings{id_of("e-3"), id_of("e-4"), id_of("e-5")}));
    CAF_CHECK_EQUAL(s->mark_published(all[2].seq, 7000), 3u);
    CAF_CHECK_EQUAL(s->count_unpublished(), 0);
    CAF_CHECK_EQUAL(s->purge_published(1'000'000), 2u); // e-3, e-4; e-5 is the newest
    CAF_REQUIRE(apply_one(*s, {append_event{make_event(id_of("e-6"))}}).ok());
    auto last = s->unpublished_events(10);
    CAF_REQUIRE_EQUAL(ids_of(last), (strings{id_of("e-6")}));
    CAF_CHECK(last[0].seq > all[2].seq);
  });
}

CAF_TEST(marking never covers events that do not exist yet) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    // Nothing to mark: a cursor moved ahead would swallow the events appended next.
    CAF_CHECK_EQUAL(s->mark_published(999999, 5000), 0u);
    CAF_REQUIRE(apply_one(*s, {append_event{make_event(id_of("e-1"))}, append_event{make_event(id_of("e-2"))}})
                  .ok());
    CAF_CHECK_EQUAL(s->count_unpublished(), 2);
    auto events = s->unpublished_events(10);
    CAF_CHECK_EQUAL(s->mark_published(events[1].seq + 1000, 5000), 2u); // clamped to e-2
    CAF_REQUIRE(apply_one(*s, {append_event{make_event(id_of("e-3"))}}).ok());
    CAF_CHECK_EQUAL(ids_of(s->unpublished_events(10)), (strings{id_of("e-3")}));
  });
}

CAF_TEST(marking is an op that commits with its batch) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {append_event{make_event(id_of("e-1"))}, append_event{make_event(id_of("e-2"))},
                               append_event{make_event(id_of("e-3"))}, append_event{make_event(id_of("e-4"))}})
                  .ok());
    auto events = s->unpublished_events(10);
    CAF_REQUIRE_EQUAL(events.size(), 4u);
    std::vector<change_set> batch{
      // Rolled back with its change set: the cursor stays.
      {{mark_events_published{events[2].seq, 5000}, adjust("NOPE", 1)}, 1},
      // Commits with the event it is batched with.
      {{mark_events_published{events[1].seq, 5000}, append_event{make_event(id_of("e-5"))}}, 2},
    };
    auto results = s->apply(batch);
    CAF_REQUIRE_EQUAL(results.size(), 2u);
    CAF_CHECK(results[0].code == errc::not_found);
    CAF_CHECK(results[1].ok());
    CAF_CHECK_EQUAL(ids_of(s->unpublished_events(10)), (strings{id_of("e-3"), id_of("e-4"), id_of("e-5")}));
    // Marking what is marked already changes nothing and is no failure.
    CAF_CHECK(apply_one(*s, {mark_events_published{events[0].seq, 6000}}).ok());
    CAF_CHECK_EQUAL(s->count_unpublished(), 3);
    // Purging walks from the oldest row and stops at the first unpublished one (e-3).
    CAF_CHECK_EQUAL(s->purge_published(1'000'000), 2u);
    CAF_CHECK(apply_one(*s, {mark_events_published{events[3].seq, 7000}}).ok());
    CAF_CHECK_EQUAL(s->purge_published(1'000'000), 2u); // e-3, e-4; e-5 waits
    CAF_CHECK_EQUAL(ids_of(s->unpublished_events(10)), (strings{id_of("e-5")}));
  });
}

CAF_TEST(an event commits with its change set or not at all) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-A", 1)}}).ok());
    std::vector<change_set> batch{
      {{insert_order{make_order(id_of("order-1"), "c", 1000, {{"SKU-A", 1, 10}})},
        adjust("SKU-A", -1, 1), append_event{make_event(id_of("e-1"))}},
       1},
      // Refused by the stock guard: its event must go with it.
      {{insert_order{make_order(id_of("order-2"), "c", 1001, {{"SKU-A", 1, 10}})},
        append_event{make_event(id_of("e-2"))}, adjust("SKU-A", -1, 1)},
       2},
      {{append_event{make_event(id_of("e-3"))}}, 3},
    };
    auto results = s->apply(batch);
    CAF_REQUIRE_EQUAL(results.size(), 3u);
    CAF_CHECK(results[0].ok());
    CAF_CHECK(results[1].code == errc::insufficient_stock);
    CAF_CHECK(results[2].ok());
    auto events = s->unpublished_events(10);
    CAF_CHECK_EQUAL(ids_of(events), (strings{id_of("e-1"), id_of("e-3")}));
    // The rolled-back row left no gap that a later row could fill out of order.
    CAF_REQUIRE_EQUAL(events.size(), 2u);
    CAF_REQUIRE(apply_one(*s, {append_event{make_event(id_of("e-4"))}}).ok());
    CAF_CHECK(s->unpublished_events(10).back().seq > events[1].seq);
  });
}

CAF_TEST(event ids are unique and events need an id and a type) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {append_event{make_event(id_of("e-1"))}}).ok());
    CAF_CHECK(apply_one(*s, {append_event{make_event(id_of("e-1"), "other")}}).code == errc::conflict);
    CAF_CHECK(apply_one(*s, {append_event{make_event("")}}).code == errc::invalid_input);
    CAF_CHECK(apply_one(*s, {append_event{make_event(id_of("e-2"), "")}}).code == errc::invalid_input);
    CAF_CHECK_EQUAL(ids_of(s->unpublished_events(10)), (strings{id_of("e-1")}));
  });
}

CAF_TEST(stock events are rendered from the exact figures before and after the change set) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    auto seen = std::make_shared<std::vector<stock_move>>();
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-A", 10)},
                               append_stock_events{describe_moves(seen)}})
                  .ok());
    CAF_REQUIRE_EQUAL(seen->size(), 1u);
    CAF_CHECK(!seen->front().before); // created by this change set
    CAF_CHECK(seen->front().after == (stock_snapshot{{"SKU-A", 10, 0, 0, 0}, 5}));
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-B", 4)}}).ok());

    // Two change sets of one batch move SKU-A: each sees its own before and after.
    auto first = std::make_shared<std::vector<stock_move>>();
    auto second = std::make_shared<std::vector<stock_move>>();
    std::vector<change_set> batch{
      {{adjust("SKU-A", -2, 2), adjust("SKU-B", -1, 1), adjust("SKU-A", -1, 1),
        append_stock_events{describe_moves(first)}},
       1},
      {{adjust("SKU-A", -3, 3), append_stock_events{describe_moves(second)}}, 2},
    };
    auto results = s->apply(batch);
    CAF_REQUIRE(results[0].ok() && results[1].ok());
    CAF_REQUIRE_EQUAL(first->size(), 2u);
    CAF_CHECK((*first)[0].before == (stock_snapshot{{"SKU-A", 10, 0, 0, 0}, 5}));
    CAF_CHECK((*first)[0].after == (stock_snapshot{{"SKU-A", 7, 3, 0, 2}, 5}));
    CAF_CHECK((*first)[1].before == (stock_snapshot{{"SKU-B", 4, 0, 0, 0}, 5}));
    CAF_CHECK((*first)[1].after == (stock_snapshot{{"SKU-B", 3, 1, 0, 1}, 5}));
    CAF_REQUIRE_EQUAL(second->size(), 1u);
    CAF_CHECK((*second)[0].before == (stock_snapshot{{"SKU-A", 7, 3, 0, 2}, 5}));
    CAF_CHECK((*second)[0].after == (stock_snapshot{{"SKU-A", 4, 6, 0, 3}, 5}));

    // set_available and update_product report what they found, threshold included.
    auto third = std::make_shared<std::vector<stock_move>>();
    auto details = product_details{"A", "", "tools", 1250, "USD", 8};
    CAF_REQUIRE(apply_one(*s, {set_available{"SKU-A", 9, 3000},
                               update_product{"SKU-A", details, 3000},
                               append_stock_events{describe_moves(third)}})
                  .ok());
    CAF_REQUIRE_EQUAL(third->size(), 1u);
    CAF_CHECK((*third)[0].before == (stock_snapshot{{"SKU-A", 4, 6, 0, 3}, 5}));
    CAF_CHECK((*third)[0].after == (stock_snapshot{{"SKU-A", 9, 6, 0, 4}, 8}));

    // The rendered rows are in the outbox, in move order, after the events before them.
    CAF_CHECK_EQUAL(payloads_of(s->unpublished_events(10)),
                    (strings{"SKU-A:new->10", "SKU-A:10->7", "SKU-B:4->3", "SKU-A:7->4",
                             "SKU-A:4->9"}));
  });
}

CAF_TEST(stock events see only the moves before them and not deleted skus) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-A", 10)},
                               insert_product{make_product("SKU-B", 10)}})
                  .ok());
    auto seen = std::make_shared<std::vector<stock_move>>();
    CAF_REQUIRE(apply_one(*s, {adjust("SKU-A", -1), delete_product{"SKU-B"},
                               append_stock_events{describe_moves(seen)}, adjust("SKU-A", -1)})
                  .ok());
    CAF_REQUIRE_EQUAL(seen->size(), 1u);
    CAF_CHECK_EQUAL(seen->front().after.level.available, 9);
    // An empty rendering appends nothing; a change set without stock ops renders no moves.
    CAF_CHECK(apply_one(*s, {append_stock_events{describe_moves(seen)}}).ok());
    CAF_CHECK(seen->empty());
    CAF_CHECK_EQUAL(s->count_unpublished(), 1);
  });
}

CAF_TEST(a throwing stock event renderer refuses only its change set) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-A", 10)}}).ok());
    auto boom = [](const std::vector<stock_move>&) -> std::vector<event_record> {
      throw std::runtime_error("boom");
    };
    std::vector<change_set> batch{
      {{adjust("SKU-A", -1), append_stock_events{boom}}, 1},
      {{adjust("SKU-A", -2), append_event{make_event(id_of("e-1"))}}, 2},
      {{append_stock_events{}}, 3}, // no renderer at all
    };
    auto results = s->apply(batch);
    CAF_REQUIRE_EQUAL(results.size(), 3u);
    CAF_CHECK(results[0].code == errc::internal);
    CAF_CHECK(results[1].ok());
    CAF_CHECK(results[2].code == errc::invalid_input);
    CAF_CHECK_EQUAL(available_of(*s, "SKU-A"), 8);
    CAF_CHECK_EQUAL(ids_of(s->unpublished_events(10)), (strings{id_of("e-1")}));
  });
}

// -- listings -----------------------------------------------------------------------------------

CAF_TEST(products are listed by sku in pages) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    std::vector<store_op> ops;
    // Inserted out of order; "tools" and "garden" interleave.
    for (auto sku : {"SKU-E", "SKU-B", "SKU-G", "SKU-A", "SKU-D", "SKU-C", "SKU-F"})
      ops.push_back(insert_product{make_product(sku, 10, sku[4] % 2 ? "tools" : "garden")});
    CAF_REQUIRE(apply_one(*s, std::move(ops)).ok());

    auto first = s->list_products({"", 3, ""});
    CAF_CHECK_EQUAL(skus_of(first.items), (strings{"SKU-A", "SKU-B", "SKU-C"}));
    CAF_REQUIRE(!first.next_cursor.empty());
    auto second = s->list_products({"", 3, first.next_cursor});
    CAF_CHECK_EQUAL(skus_of(second.items), (strings{"SKU-D", "SKU-E", "SKU-F"}));
    CAF_REQUIRE(!second.next_cursor.empty());
    auto third = s->list_products({"", 3, second.next_cursor});
    CAF_CHECK_EQUAL(skus_of(third.items), (strings{"SKU-G"}));
    CAF_CHECK(third.next_cursor.empty());

    // A page that ends exactly at the last item says so.
    auto exact = s->list_products({"", 7, ""});
    CAF_CHECK_EQUAL(exact.items.size(), 7u);
    CAF_CHECK(exact.next_cursor.empty());

    // 'A' (65), 'C', 'E', 'G' are odd: tools.
    auto tools = s->list_products({"tools", 2, ""});
    CAF_CHECK_EQUAL(skus_of(tools.items), (strings{"SKU-A", "SKU-C"}));
    auto more_tools = s->list_products({"tools", 2, tools.next_cursor});
    CAF_CHECK_EQUAL(skus_of(more_tools.items), (strings{"SKU-E", "SKU-G"}));
    CAF_CHECK(more_tools.next_cursor.empty());
    CAF_CHECK(s->list_products({"toys", 2, ""}).items.empty());
  });
}

CAF_TEST(orders are listed newest first in pages) {
  for_each_backend([](store_factory& factory) {
    using st = order_status;
    auto s = factory.open();
    std::vector<store_op> ops;
    for (int i = 1; i <= 7; ++i) {
      auto customer = i % 2 ? "cust-odd" : "cust-even";
      // Timestamps run backwards: the listing must follow insertion, not created_at.
      ops.push_back(insert_order{make_order("order-" + std::to_string(i), customer, 10 - i)});
    }
    ops.push_back(transition_order{id_of("order-2"), st::pending, st::cancelled, 50});
    ops.push_back(transition_order{id_of("order-5"), st::pending, st::cancelled, 50});
    CAF_REQUIRE(apply_one(*s, std::move(ops)).ok());

    auto first = s->list_orders({std::nullopt, "", 3, ""});
    CAF_CHECK_EQUAL(ids_of(first.items), (strings{id_of("order-7"), id_of("order-6"), id_of("order-5")}));
    auto second = s->list_orders({std::nullopt, "", 3, first.next_cursor});
    CAF_CHECK_EQUAL(ids_of(second.items), (strings{id_of("order-4"), id_of("order-3"), id_of("order-2")}));
    auto third = s->list_orders({std::nullopt, "", 3, second.next_cursor});
    CAF_CHECK_EQUAL(ids_of(third.items), (strings{id_of("order-1")}));
    CAF_CHECK(third.next_cursor.empty());
    // Lines come with every order of a page.
    for (auto& page : {first, second, third})
      for (auto& o : page.items)
        CAF_CHECK(o == *s->find_order(o.id));

    auto pending = s->list_orders({st::pending, "", 2, ""});
    CAF_CHECK_EQUAL(ids_of(pending.items), (strings{id_of("order-7"), id_of("order-6")}));
    pending = s->list_orders({st::pending, "", 2, pending.next_cursor});
    CAF_CHECK_EQUAL(ids_of(pending.items), (strings{id_of("order-4"), id_of("order-3")}));
    pending = s->list_orders({st::pending, "", 2, pending.next_cursor});
    CAF_CHECK_EQUAL(ids_of(pending.items), (strings{id_of("order-1")}));
    CAF_CHECK(pending.next_cursor.empty());

    auto even = s->list_orders({std::nullopt, "cust-even", 10, ""});
    CAF_CHECK_EQUAL(ids_of(even.items), (strings{id_of("order-6"), id_of("order-4"), id_of("order-2")}));
    CAF_CHECK(even.next_cursor.empty());
    CAF_CHECK_EQUAL(even.items[0].lines.size(), 2u);
    auto odd_cancelled = s->list_orders({st::cancelled, "cust-odd", 10, ""});
    CAF_CHECK_EQUAL(ids_of(odd_cancelled.items), (strings{id_of("order-5")}));
    CAF_CHECK(s->list_orders({st::shipped, "", 10, ""}).items.empty());
  });
}

CAF_TEST(malformed cursors and empty pages are invalid input) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    std::vector<store_op> ops;
    for (auto sku : {"SKU-A", "SKU-B", "SKU-C"})
      ops.push_back(insert_product{make_product(sku, 1)});
    for (auto id : {id_of("order-1"), id_of("order-2"), id_of("order-3")})
      ops.push_back(insert_order{make_order(id, "cust-1", 1)});
    CAF_REQUIRE(apply_one(*s, std::move(ops)).ok());
    auto product_cursor = s->list_products({"", 1, ""}).next_cursor;
    auto order_cursor = s->list_orders({std::nullopt, "", 1, ""}).next_cursor;
    CAF_REQUIRE(!product_cursor.empty() && !order_cursor.empty());

    for (std::string bad : {"!!!", "not base64", "A", "Zm9v", "bzpub3RhbnVtYmVy"}) {
      CAF_CHECK(thrown_code([&] { s->list_products({"", 1, bad}); }) == errc::invalid_input);
      CAF_CHECK(thrown_code([&] { s->list_orders({std::nullopt, "", 1, bad}); })
                == errc::invalid_input);
    }
    // A cursor of one listing is no good for the other.
    CAF_CHECK(thrown_code([&] { s->list_orders({std::nullopt, "", 1, product_cursor}); })
              == errc::invalid_input);
    CAF_CHECK(thrown_code([&] { s->list_products({"", 1, order_cursor}); })
              == errc::invalid_input);
    CAF_CHECK(thrown_code([&] { s->list_products({"", 0, ""}); }) == errc::invalid_input);
    CAF_CHECK(thrown_code([&] { s->list_orders({std::nullopt, "", 0, ""}); })
              == errc::invalid_input);
  });
}

CAF_TEST(due pending orders are the oldest pending ones) {
  for_each_backend([](store_factory& factory) {
    using st = order_status;
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_order{make_order(id_of("late"), "c", 900)},
                               insert_order{make_order(id_of("early"), "c", 100)},
                               insert_order{make_order(id_of("same-time-1"), "c", 500)},
                               insert_order{make_order(id_of("same-time-2"), "c", 500)},
                               insert_order{make_order(id_of("moved"), "c", 50)},
                               insert_order{make_order(id_of("future"), "c", 5000)},
                               transition_order{id_of("moved"), st::pending, st::processing, 60}})
                  .ok());
    auto due = s->due_pending_orders(1000, 10);
    CAF_CHECK_EQUAL(ids_of(due), (strings{id_of("early"), id_of("same-time-1"), id_of("same-time-2"), id_of("late")}));
    for (auto& o : due)
      CAF_CHECK(o == *s->find_order(o.id));
    CAF_CHECK_EQUAL(ids_of(s->due_pending_orders(1000, 2)), (strings{id_of("early"), id_of("same-time-1")}));
    CAF_CHECK_EQUAL(ids_of(s->due_pending_orders(500, 10)),
                    (strings{id_of("early"), id_of("same-time-1"), id_of("same-time-2")}));
    CAF_CHECK(s->due_pending_orders(99, 10).empty());
    CAF_CHECK(s->due_pending_orders(1000, 0).empty());
  });
}

namespace {

/// A store that inherits store::count_orders_by_status() (the default that pages through
/// list_orders) and forwards everything else.
class default_counting_store final : public store {
public:
  explicit default_counting_store(std::unique_ptr<store> inner) : inner_(std::move(inner)) {}
  std::vector<change_result> apply(const std::vector<change_set>& b) override {
    return inner_->apply(b);
  }
  std::optional<product> find_product(const std::string& sku) override {
    return inner_->find_product(sku);
  }
  page<product> list_products(const product_query& q) override { return inner_->list_products(q); }
  std::vector<product> low_stock_products(size_t n) override {
    return inner_->low_stock_products(n);
  }
  std::optional<order> find_order(const std::string& id) override { return inner_->find_order(id); }
  page<order> list_orders(const order_query& q) override { return inner_->list_orders(q); }
  std::vector<order> due_pending_orders(timestamp_ms t, size_t n) override {
    return inner_->due_pending_orders(t, n);
  }
  std::optional<idempotency_record> find_idempotency(const std::string& k) override {
    return inner_->find_idempotency(k);
  }
  size_t purge_idempotency(timestamp_ms t) override { return inner_->purge_idempotency(t); }
  std::optional<processed_message> find_processed_message(const std::string& id) override {
    return inner_->find_processed_message(id);
  }
  size_t purge_processed_messages(timestamp_ms t) override {
    return inner_->purge_processed_messages(t);
  }
  std::optional<payment_charge> find_charge(const std::string& id) override {
    return inner_->find_charge(id);
  }
  std::optional<customer> find_customer(const std::string& id) override {
    return inner_->find_customer(id);
  }
  page<customer> list_customers(const customer_query& q) override {
    return inner_->list_customers(q);
  }
  std::optional<cart> find_cart(const std::string& id) override { return inner_->find_cart(id); }
  std::optional<notification> find_notification(const std::string& id) override {
    return inner_->find_notification(id);
  }
  page<notification> list_notifications(const notification_query& q) override {
    return inner_->list_notifications(q);
  }
  std::vector<event_record> unpublished_events_after(int64_t after, size_t n) override {
    return inner_->unpublished_events_after(after, n);
  }
  std::vector<notification> pending_notifications(notification_channel c, size_t n) override {
    return inner_->pending_notifications(c, n);
  }
  int64_t count_products() override { return inner_->count_products(); }
  int64_t count_orders() override { return inner_->count_orders(); }
  size_t mark_published(int64_t through, timestamp_ms at) override {
    return inner_->mark_published(through, at);
  }
  int64_t count_unpublished() override { return inner_->count_unpublished(); }
  size_t purge_published(timestamp_ms t) override { return inner_->purge_published(t); }
  bool ping() override { return inner_->ping(); }

private:
  std::unique_ptr<store> inner_;
};

} // namespace

CAF_TEST(orders are counted by status) {
  for_each_backend([](store_factory& factory) {
    using st = order_status;
    auto s = factory.open();
    CAF_CHECK(s->count_orders_by_status().empty());
    std::vector<store_op> ops;
    for (int i = 0; i < 7; ++i)
      ops.emplace_back(insert_order{make_order("o-" + std::to_string(i), "c", 100 + i)});
    ops.emplace_back(transition_order{id_of("o-0"), st::pending, st::processing, 200});
    ops.emplace_back(transition_order{id_of("o-1"), st::pending, st::cancelled, 200});
    ops.emplace_back(transition_order{id_of("o-2"), st::pending, st::cancelled, 200});
    CAF_REQUIRE(apply_one(*s, std::move(ops)).ok());
    using counts = std::vector<std::pair<order_status, int64_t>>;
    auto expected = counts{{st::pending, 4}, {st::processing, 1}, {st::cancelled, 2}};
    auto sorted = [](counts xs) {
      std::sort(xs.begin(), xs.end());
      return xs;
    };
    CAF_CHECK(sorted(s->count_orders_by_status()) == sorted(expected));
    // The interface's default (for backends without a query of their own) agrees.
    default_counting_store by_pages{factory.open()};
    CAF_CHECK(sorted(by_pages.count_orders_by_status()) == sorted(expected));
  });
}

CAF_TEST(low stock products are those at or below their threshold) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    // The threshold is 5.
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-D", 5)},
                               insert_product{make_product("SKU-A", 6)},
                               insert_product{make_product("SKU-C", 0)},
                               insert_product{make_product("SKU-B", 1)}})
                  .ok());
    CAF_CHECK_EQUAL(skus_of(s->low_stock_products(10)), (strings{"SKU-B", "SKU-C", "SKU-D"}));
    CAF_CHECK_EQUAL(skus_of(s->low_stock_products(2)), (strings{"SKU-B", "SKU-C"}));
    CAF_REQUIRE(apply_one(*s, {adjust("SKU-A", -1)}).ok());
    CAF_CHECK_EQUAL(skus_of(s->low_stock_products(10)),
                    (strings{"SKU-A", "SKU-B", "SKU-C", "SKU-D"}));
  });
}

// -- connections --------------------------------------------------------------------------------

CAF_TEST(connections of one factory see the committed writes of each other) {
  for_each_backend([](store_factory& factory) {
    auto writer = factory.open();
    auto reader = factory.open();
    CAF_CHECK(reader->ping());
    CAF_REQUIRE(apply_one(*writer, {insert_product{make_product("SKU-A", 10)}}).ok());
    CAF_CHECK(reader->find_product("SKU-A"));
    CAF_REQUIRE(apply_one(*reader, {adjust("SKU-A", -4, 4)}).ok());
    CAF_CHECK_EQUAL(available_of(*writer, "SKU-A"), 6);
    CAF_CHECK_EQUAL(reader->count_products(), 1);
  });
}

// -- notifications ------------------------------------------------------------------------------

notification make_notification(const std::string& id, notification_channel channel,
                               timestamp_ms created_at, const std::string& customer = "") {
  notification n;
  n.id = id_of(id);
  n.channel = channel;
  n.recipient = channel == notification_channel::webhook ? "http://127.0.0.1:9/hook"
                                                         : "ada@example.com";
  n.subject = "Order " + id + " confirmed";
  n.body = "Thank you.\nYour order is on its way; it's 'quoted' -- no SQL here";
  n.customer_id = customer;
  n.event_id = "event-" + id;
  n.event_type = "order.confirmed";
  n.created_at = created_at;
  n.updated_at = created_at;
  return n;
}

CAF_TEST(notifications are inserted pending and updated with each attempt) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    auto n = make_notification(id_of("n-1"), notification_channel::email, 1000, id_of("cust-ada"));
    CAF_REQUIRE(apply_one(*s, {insert_notification{n}}).ok());
    CAF_CHECK(s->find_notification(id_of("n-1")) == n);
    CAF_CHECK(!s->find_notification(id_of("n-nobody")));
    CAF_CHECK(apply_one(*s, {insert_notification{n}}).code == errc::conflict);

    CAF_REQUIRE(apply_one(*s, {update_notification{id_of("n-1"), notification_status::pending, 1,
                                                   "connection refused", 2000}})
                  .ok());
    CAF_REQUIRE(
      apply_one(*s, {update_notification{id_of("n-1"), notification_status::sent, 2, "", 3000}}).ok());
    auto stored = s->find_notification(id_of("n-1"));
    CAF_REQUIRE(stored);
    CAF_CHECK(stored->status == notification_status::sent);
    CAF_CHECK_EQUAL(stored->attempts, 2);
    CAF_CHECK_EQUAL(stored->last_error, "");
    CAF_CHECK_EQUAL(stored->updated_at, 3000);
    CAF_CHECK_EQUAL(stored->created_at, 1000);
    CAF_CHECK(
      apply_one(*s, {update_notification{id_of("n-nobody"), notification_status::sent, 1, "", 1}}).code
      == errc::not_found);

    // A refused change set takes its notification with it.
    auto res = apply_one(*s, {insert_notification{make_notification(id_of("n-2"), notification_channel::push,
                                                                    1000)},
                              update_notification{id_of("n-nobody"), notification_status::sent, 1, "", 1}});
    CAF_CHECK(res.code == errc::not_found);
    CAF_CHECK(!s->find_notification(id_of("n-2")));
    CAF_CHECK(apply_one(*s, {insert_notification{make_notification("", notification_channel::push,
                                                                   1)}})
                .code
              == errc::invalid_input);
  });
}

CAF_TEST(notifications are listed by id in pages and filtered) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    std::vector<store_op> ops;
    for (int i = 0; i < 7; ++i) {
      auto channel = i % 2 ? notification_channel::push : notification_channel::email;
      ops.push_back(insert_notification{make_notification(
        "n-" + std::to_string(i), channel, 1000 + i, i % 2 ? "cust-odd" : "")});
    }
    CAF_REQUIRE(apply_one(*s, ops).ok());
    CAF_REQUIRE(
      apply_one(*s, {update_notification{id_of("n-3"), notification_status::failed, 5, "refused", 9}})
        .ok());

    notification_query q;
    q.limit = 3;
    std::vector<std::string> seen;
    for (;;) {
      auto pg = s->list_notifications(q);
      for (auto& n : pg.items)
        seen.push_back(n.id);
      if (pg.next_cursor.empty())
        break;
      CAF_CHECK_EQUAL(pg.items.size(), 3u);
      q.cursor = pg.next_cursor;
    }
    CAF_CHECK_EQUAL(seen, (std::vector<std::string>{id_of("n-0"), id_of("n-1"), id_of("n-2"), id_of("n-3"), id_of("n-4"), id_of("n-5"),
                                                    id_of("n-6")}));

    notification_query pushes;
    pushes.channel = notification_channel::push;
    pushes.customer_id = "cust-odd";
    CAF_CHECK_EQUAL(s->list_notifications(pushes).items.size(), 3u);
    notification_query failed;
    failed.status = notification_status::failed;
    auto dead = s->list_notifications(failed).items;
    CAF_REQUIRE_EQUAL(dead.size(), 1u);
    CAF_CHECK_EQUAL(dead[0].id, id_of("n-3"));
    CAF_CHECK_EQUAL(dead[0].last_error, "refused");

    notification_query bad;
    bad.cursor = "not-a-cursor";
    CAF_CHECK(thrown_code([&] { s->list_notifications(bad); }) == errc::invalid_input);
    notification_query foreign; // a customer cursor is not a notification cursor
    foreign.cursor = "Yzp4"; // base64url of "c:x"
    CAF_CHECK(thrown_code([&] { s->list_notifications(foreign); }) == errc::invalid_input);
  });
}

CAF_TEST(pending notifications come oldest first) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_notification{make_notification(
                                 id_of("n-b"), notification_channel::email, 3000)},
                               insert_notification{make_notification(
                                 id_of("n-a"), notification_channel::webhook, 2000)},
                               insert_notification{make_notification(
                                 id_of("n-c"), notification_channel::email, 1000)}})
                  .ok());
    CAF_REQUIRE(
      apply_one(*s, {update_notification{id_of("n-c"), notification_status::sent, 1, "", 4000}}).ok());
    CAF_REQUIRE(apply_one(*s, {insert_notification{make_notification(
                                 id_of("n-d"), notification_channel::email, 2500)}})
                  .ok());
    auto pending = s->pending_notifications(notification_channel::email, 10);
    CAF_REQUIRE_EQUAL(pending.size(), 2u); // n-c is sent, n-a is another channel's
    CAF_CHECK_EQUAL(pending[0].id, id_of("n-d"));
    CAF_CHECK_EQUAL(pending[1].id, id_of("n-b"));
    CAF_CHECK_EQUAL(s->pending_notifications(notification_channel::email, 1).size(), 1u);
    auto hooks = s->pending_notifications(notification_channel::webhook, 10);
    CAF_REQUIRE_EQUAL(hooks.size(), 1u);
    CAF_CHECK_EQUAL(hooks[0].id, id_of("n-a"));
    CAF_CHECK(s->pending_notifications(notification_channel::push, 10).empty());
  });
}

// -- customers and carts ------------------------------------------------------------------------

customer make_customer(const std::string& id, const std::string& email, timestamp_ms at = 1000) {
  customer c;
  c.id = id_of(id);
  c.details = {"Customer " + id, email, "+1 555 0100", "1 Main St"};
  c.version = 1;
  c.created_at = at;
  c.updated_at = at;
  return c;
}

cart make_cart(const std::string& customer_id, int64_t version,
               std::vector<requested_line> lines = {{"SKU-A", 2}, {"SKU-B", 1}}) {
  cart c;
  c.customer_id = id_of(customer_id);
  c.lines = std::move(lines);
  c.version = version;
  c.created_at = 1000;
  c.updated_at = 1000 + version;
  return c;
}

CAF_TEST(customers can be inserted found updated and deleted) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    auto ada = make_customer(id_of("cust-ada"), "ada@example.com");
    CAF_REQUIRE(apply_one(*s, {insert_customer{ada}}).ok());
    CAF_CHECK(s->find_customer(id_of("cust-ada")) == ada);
    CAF_CHECK(!s->find_customer(id_of("cust-nobody")));

    auto next = ada;
    next.details = {"Ada L.", "ada.l@example.com", "", ""};
    next.version = 2;
    next.updated_at = 2000;
    CAF_REQUIRE(apply_one(*s, {update_customer{next, 1}}).ok());
    CAF_CHECK(s->find_customer(id_of("cust-ada")) == next);

    // A stale version is refused and changes nothing.
    auto stale = next;
    stale.details.name = "Stale";
    stale.version = 2;
    auto res = apply_one(*s, {update_customer{stale, 1}});
    CAF_CHECK(res.code == errc::conflict);
    CAF_CHECK(s->find_customer(id_of("cust-ada")) == next);

    CAF_CHECK(apply_one(*s, {update_customer{make_customer(id_of("cust-nobody"), "x@example.com"), 0}})
                .code
              == errc::not_found);
    CAF_REQUIRE(apply_one(*s, {delete_customer{id_of("cust-ada")}}).ok());
    CAF_CHECK(!s->find_customer(id_of("cust-ada")));
    CAF_CHECK(apply_one(*s, {delete_customer{id_of("cust-ada")}}).code == errc::not_found);
  });
}

CAF_TEST(customer e-mail addresses are unique whatever their case) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_customer{make_customer(id_of("c-1"), "Ada@Example.com")}}).ok());
    CAF_CHECK(apply_one(*s, {insert_customer{make_customer(id_of("c-2"), "ada@example.COM")}}).code
              == errc::conflict);
    CAF_CHECK(apply_one(*s, {insert_customer{make_customer(id_of("c-1"), "other@example.com")}}).code
              == errc::conflict);
    CAF_REQUIRE(apply_one(*s, {insert_customer{make_customer(id_of("c-2"), "bob@example.com")}}).ok());
    // Taking another customer's address by update is refused too ...
    auto bob = make_customer(id_of("c-2"), "ADA@example.com");
    bob.version = 2;
    CAF_CHECK(apply_one(*s, {update_customer{bob, 1}}).code == errc::conflict);
    // ... but changing the case of one's own is fine, and frees nothing for others.
    auto ada = make_customer(id_of("c-1"), "ADA@EXAMPLE.COM");
    ada.version = 2;
    CAF_REQUIRE(apply_one(*s, {update_customer{ada, 1}}).ok());
    CAF_CHECK(apply_one(*s, {insert_customer{make_customer(id_of("c-3"), "ada@example.com")}}).code
              == errc::conflict);
    // A deleted customer's address is free again.
    CAF_REQUIRE(apply_one(*s, {delete_customer{id_of("c-1")}}).ok());
    CAF_CHECK(apply_one(*s, {insert_customer{make_customer(id_of("c-3"), "ada@example.com")}}).ok());
  });
}

CAF_TEST(customers are listed by id in pages) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    std::vector<store_op> ops;
    for (auto id : {id_of("c-3"), id_of("c-1"), id_of("c-5"), id_of("c-2"), id_of("c-4")})
      ops.push_back(insert_customer{make_customer(id, std::string{id} + "@example.com")});
    CAF_REQUIRE(apply_one(*s, std::move(ops)).ok());
    std::vector<std::string> seen;
    std::string cursor;
    size_t pages = 0;
    do {
      auto pg = s->list_customers({2, cursor});
      for (auto& c : pg.items)
        seen.push_back(c.id);
      cursor = pg.next_cursor;
      ++pages;
    } while (!cursor.empty());
    CAF_CHECK_EQUAL(pages, 3u);
    CAF_CHECK(seen == (std::vector<std::string>{id_of("c-1"), id_of("c-2"), id_of("c-3"), id_of("c-4"), id_of("c-5")}));
    CAF_CHECK(thrown_code([&] { s->list_customers({2, "!!!"}); }) == errc::invalid_input);
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-A", 1)},
                               insert_product{make_product("SKU-B", 1)}})
                  .ok());
    auto product_cursor = s->list_products({"", 1, ""}).next_cursor;
    CAF_REQUIRE(!product_cursor.empty());
    CAF_CHECK(thrown_code([&] { s->list_customers({2, product_cursor}); })
              == errc::invalid_input);
    CAF_CHECK(thrown_code([&] { s->list_customers({0, ""}); }) == errc::invalid_input);
  });
}

CAF_TEST(a cart is saved with its lines and short lines and guarded by version) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_customer{make_customer(id_of("c-1"), "c1@example.com")}}).ok());
    CAF_CHECK(!s->find_cart(id_of("c-1")));
    auto first = make_cart(id_of("c-1"), 1);
    CAF_REQUIRE(apply_one(*s, {save_cart{first}}).ok());
    CAF_CHECK(s->find_cart(id_of("c-1")) == first);

    auto marked = make_cart(id_of("c-1"), 2, {{"SKU-B", 1}, {"SKU-A", 5}});
    marked.status = cart_status::stock_unavailable;
    marked.short_lines = {{"SKU-A", 5, 3}};
    CAF_REQUIRE(apply_one(*s, {save_cart{marked}}).ok());
    CAF_CHECK(s->find_cart(id_of("c-1")) == marked);

    // The same version again, or a version that skips one, is refused.
    CAF_CHECK(apply_one(*s, {save_cart{make_cart(id_of("c-1"), 2)}}).code == errc::conflict);
    CAF_CHECK(apply_one(*s, {save_cart{make_cart(id_of("c-1"), 4)}}).code == errc::conflict);
    CAF_CHECK(s->find_cart(id_of("c-1")) == marked);

    // Emptied: the cart stays, without lines; created_at is the first save's.
    auto emptied = make_cart(id_of("c-1"), 3, {});
    emptied.created_at = 999999; // ignored: a cart keeps its creation time
    CAF_REQUIRE(apply_one(*s, {save_cart{emptied}}).ok());
    emptied.created_at = first.created_at;
    CAF_CHECK(s->find_cart(id_of("c-1")) == emptied);
  });
}

CAF_TEST(a cart needs its customer and goes with it) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_CHECK(apply_one(*s, {save_cart{make_cart(id_of("c-nobody"), 1)}}).code == errc::not_found);
    CAF_REQUIRE(apply_one(*s, {insert_customer{make_customer(id_of("c-1"), "c1@example.com")},
                               save_cart{make_cart(id_of("c-1"), 1)}})
                  .ok());
    CAF_REQUIRE(apply_one(*s, {delete_customer{id_of("c-1")}}).ok());
    CAF_CHECK(!s->find_cart(id_of("c-1")));
    // A stale cart actor writing after the delete is refused.
    CAF_CHECK(apply_one(*s, {save_cart{make_cart(id_of("c-1"), 2)}}).code == errc::not_found);
    // A new customer starts without a cart, even under a reused id.
    CAF_REQUIRE(apply_one(*s, {insert_customer{make_customer(id_of("c-1"), "c1@example.com")}}).ok());
    CAF_CHECK(!s->find_cart(id_of("c-1")));
  });
}

CAF_TEST(an order and its emptied cart commit together or not at all) {
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-A", 10)},
                               insert_product{make_product("SKU-B", 10)},
                               insert_customer{make_customer(id_of("c-1"), "c1@example.com")},
                               save_cart{make_cart(id_of("c-1"), 1)}})
                  .ok());
    // The cart guard fails (version 1 expected, 3 - 1 = 2 given): no order either.
    auto refused = apply_one(*s, {insert_order{make_order(id_of("order-1"), id_of("c-1"), 2000)},
                                  adjust("SKU-A", -2, 2), save_cart{make_cart(id_of("c-1"), 3, {})}});
    CAF_CHECK(refused.code == errc::conflict);
    CAF_CHECK(!s->find_order(id_of("order-1")));
    CAF_CHECK_EQUAL(available_of(*s, "SKU-A"), 10);
    CAF_CHECK(s->find_cart(id_of("c-1")) == make_cart(id_of("c-1"), 1));
    auto ok = apply_one(*s, {insert_order{make_order(id_of("order-1"), id_of("c-1"), 2000)},
                             adjust("SKU-A", -2, 2), save_cart{make_cart(id_of("c-1"), 2, {})}});
    CAF_CHECK(ok.ok());
    CAF_CHECK(s->find_order(id_of("order-1")));
    CAF_CHECK(s->find_cart(id_of("c-1"))->lines.empty());
  });
}

CAF_TEST(ids that are not UUIDs are simply not found) {
  // orderd makes every order, customer and notification id as a UUID; PostgreSQL stores them as
  // uuid. Any other spelling cannot be stored, so every backend answers "not found" for it,
  // never an error.
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    for (std::string bad : {"order-1", "", "'; DROP TABLE orders; --", "zzzzzzzz-zzzz"}) {
      CAF_CHECK(!s->find_order(bad));
      CAF_CHECK(!s->find_customer(bad));
      CAF_CHECK(!s->find_cart(bad));
      CAF_CHECK(!s->find_notification(bad));
      CAF_CHECK(apply_one(*s, {transition_order{bad, order_status::pending,
                                                order_status::cancelled, 1}})
                  .code
                == errc::not_found);
      CAF_CHECK(apply_one(*s, {delete_customer{bad}}).code == errc::not_found);
      CAF_CHECK(apply_one(*s, {update_notification{bad, notification_status::sent, 1, "", 1}})
                  .code
                == errc::not_found);
    }
  });
}

CAF_TEST(cursors keep their wire format) {
  // Clients hold cursors across releases and backends: base64url, without padding, of the
  // listing's tag and the last key of the page (the README shows "cDpNVUctMDAx").
  for_each_backend([](store_factory& factory) {
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("MUG-001", 1)},
                               insert_product{make_product("MUG-002", 1)},
                               insert_order{make_order(id_of("order-1"), "cust-a", 1)},
                               insert_order{make_order(id_of("order-2"), "cust-a", 2)},
                               insert_order{make_order(id_of("order-3"), "cust-a", 3)},
                               insert_customer{make_customer("cust-a", "a@example.com")},
                               insert_customer{make_customer("cust-b", "b@example.com")},
                               insert_notification{make_notification(
                                 id_of("n-1"), notification_channel::email, 1)},
                               insert_notification{make_notification(
                                 id_of("n-2"), notification_channel::email, 2)}})
                  .ok());
    CAF_CHECK_EQUAL(s->list_products({"", 1, ""}).next_cursor, "cDpNVUctMDAx"); // p:MUG-001
    auto orders = s->list_orders({std::nullopt, "", 1, ""}); // newest first: seq 3
    CAF_CHECK_EQUAL(s->list_orders({std::nullopt, "", 1, orders.next_cursor}).next_cursor,
                    "bzoy"); // o:2
    CAF_CHECK_EQUAL(s->list_customers({1, ""}).next_cursor, "Yzo2Mzc1NzM3NC0yZDYxLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA");
    // c:63757374-2d61-0000-0000-000000000000
    notification_query nq;
    nq.limit = 1;
    CAF_CHECK_EQUAL(s->list_notifications(nq).next_cursor, "bjo2ZTJkMzEwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA");
    // n:6e2d3100-0000-0000-0000-000000000000
  });
}

// -- SQLite only --------------------------------------------------------------------------------

CAF_TEST(sqlite data survives closing and reopening the database) {
  temp_dir dir;
  auto path = dir.file("orderd.db");
  std::vector<applied_migration> migrations;
  {
    sqlite_store_factory factory{path};
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_product{make_product("SKU-A", 10)},
                               insert_order{make_order(id_of("order-1"), "cust-1", 1000)},
                               save_idempotency{{"key-1", "h", 201, "{}", 1000}}})
                  .ok());
    migrations = factory.applied_migrations();
    CAF_REQUIRE(!migrations.empty());
    CAF_CHECK_EQUAL(migrations.front().version, 1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5)); // so a re-run would show
  sqlite_store_factory factory{path, {"NORMAL", std::chrono::milliseconds(1000)}};
  auto s = factory.open();
  CAF_CHECK(s->find_product("SKU-A") == make_product("SKU-A", 10));
  CAF_CHECK(s->find_order(id_of("order-1")) == make_order(id_of("order-1"), "cust-1", 1000));
  CAF_CHECK(s->find_idempotency("key-1"));
  CAF_CHECK(factory.applied_migrations() == migrations);
}

CAF_TEST(sqlite keeps customers and carts across a reopen) {
  temp_dir dir;
  auto path = dir.file("orderd.db");
  auto marked = make_cart(id_of("c-1"), 1);
  marked.status = cart_status::stock_unavailable;
  marked.short_lines = {{"SKU-A", 2, 0}};
  {
    sqlite_store_factory factory{path};
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {insert_customer{make_customer(id_of("c-1"), "c1@example.com")},
                               save_cart{marked}})
                  .ok());
  }
  sqlite_store_factory factory{path};
  auto s = factory.open();
  CAF_CHECK(s->find_customer(id_of("c-1")) == make_customer(id_of("c-1"), "c1@example.com"));
  CAF_CHECK(s->find_cart(id_of("c-1")) == marked);
  CAF_CHECK_GREATER_OR_EQUAL(factory.applied_migrations().back().version, 4);
}

CAF_TEST(sqlite keeps unpublished events across a reopen) {
  temp_dir dir;
  auto path = dir.file("orderd.db");
  {
    sqlite_store_factory factory{path};
    auto s = factory.open();
    CAF_REQUIRE(apply_one(*s, {append_event{make_event(id_of("e-1"))}, append_event{make_event(id_of("e-2"))}})
                  .ok());
    auto events = s->unpublished_events(1);
    CAF_REQUIRE_EQUAL(events.size(), 1u);
    CAF_CHECK_EQUAL(s->mark_published({events[0].seq}, 2000), 1u);
  }
  sqlite_store_factory factory{path};
  auto s = factory.open();
  CAF_CHECK_EQUAL(ids_of(s->unpublished_events(10)), (strings{id_of("e-2")}));
  CAF_CHECK_EQUAL(s->count_unpublished(), 1);
}

CAF_TEST(sqlite connections opening a new database at once migrate it once) {
  temp_dir dir;
  auto path = dir.file("orderd.db");
  constexpr int openers = 6;
  std::atomic<int> ready = 0;
  std::atomic<int> opened = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < openers; ++i)
    threads.emplace_back([&] {
      sqlite_store_factory factory{path}; // separate factories: nothing shared in-process
      ++ready;
      while (ready < openers) {
        // Line up so the opens really collide.
      }
      try {
        auto s = factory.open();
        if (s->ping() && s->count_products() == 0)
          ++opened;
      } catch (const store_error& e) {
        std::cerr << "open failed: " << e.what() << '\n';
      }
    });
  for (auto& t : threads)
    t.join();
  CAF_CHECK_EQUAL(opened.load(), openers);
  sqlite_store_factory factory{path};
  auto migrations = factory.applied_migrations();
  // Every embedded migration, once each (the count grows with the schema).
  auto embedded = schema::sqlite_migrations();
  CAF_REQUIRE_EQUAL(migrations.size(), embedded.size());
  CAF_CHECK_EQUAL(migrations.front().version, 1);
  CAF_CHECK_EQUAL(migrations.back().version, embedded.back().version);
}

CAF_TEST(sqlite applies a migration missing below the newest applied one) {
  // Migrations may be merged out of order (say 004 ships before 003): a database that has the
  // newest version but lacks an older one must still get it.
  temp_dir dir;
  auto path = dir.file("orderd.db");
  {
    sqlite_store_factory factory{path};
    factory.open();
  }
  {
    sqlite3* raw = nullptr;
    CAF_REQUIRE_EQUAL(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    auto rc = sqlite3_exec(raw, "DROP TABLE outbox; DELETE FROM schema_migrations WHERE version = 2",
                           nullptr, nullptr, nullptr);
    sqlite3_close(raw);
    CAF_REQUIRE_EQUAL(rc, SQLITE_OK);
  }
  sqlite_store_factory factory{path};
  auto s = factory.open();
  CAF_CHECK(apply_one(*s, {append_event{make_event(id_of("e-1"))}}).ok());
  CAF_CHECK_EQUAL(s->count_unpublished(), 1);
  CAF_CHECK_EQUAL(factory.applied_migrations().size(), schema::sqlite_migrations().size());
}

CAF_TEST(sqlite refuses bad options and unusable paths) {
  CAF_CHECK(thrown_code([] { sqlite_store_factory{"x.db", {"OFF"}}; }) == errc::invalid_input);
  CAF_CHECK(thrown_code([] { sqlite_store_factory{"x.db", {"normal"}}; }) == errc::ok);
  temp_dir dir;
  sqlite_store_factory factory{dir.file("no/such/dir/orderd.db")};
  CAF_CHECK(thrown_code([&] { factory.open(); }) == errc::storage_failure);
}

// -- measurement (runs only when named with -t) ---------------------------------------------------

namespace {

/// Change sets per second `apply` sustains: batches of 256 change sets, each one order
/// (insert_order with 2 lines + 2 adjust_stock), like the writer's group commit.
double measure_apply_throughput(const std::string& synchronous, int batches) {
  constexpr int batch_size = 256;
  constexpr int skus = 64;
  temp_dir dir;
  sqlite_store_factory factory{dir.file("bench.db"), {synchronous}};
  auto s = factory.open();
  std::vector<store_op> catalogue;
  for (int i = 0; i < skus; ++i)
    catalogue.push_back(insert_product{make_product("SKU-" + std::to_string(i), 1'000'000'000)});
  apply_one(*s, std::move(catalogue));
  int next_order = 0;
  auto started = std::chrono::steady_clock::now();
  for (int b = 0; b < batches; ++b) {
    std::vector<change_set> batch;
    batch.reserve(batch_size);
    for (int i = 0; i < batch_size; ++i, ++next_order) {
      auto a = "SKU-" + std::to_string(next_order % skus);
      auto c = "SKU-" + std::to_string((next_order * 7 + 3) % skus);
      auto o = make_order(make_uuid(), "cust-" + std::to_string(next_order % 100),
                          next_order, {{a, 2, 1250}, {c, 1, 300}});
      batch.push_back({{insert_order{std::move(o)}, adjust(a, -2, 2), adjust(c, -1, 1)},
                       static_cast<uint64_t>(i)});
    }
    for (auto& r : s->apply(batch))
      if (!r.ok())
        throw std::runtime_error("benchmark change set failed: " + r.detail);
  }
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  return batches * batch_size / elapsed.count();
}

} // namespace

CAF_TEST_DISABLED(measure apply throughput) {
  auto batches = 40;
  if (auto env = std::getenv("ORDERD_BENCH_BATCHES"))
    batches = std::max(1, std::atoi(env));
  for (auto mode : {"FULL", "NORMAL"}) {
    auto rate = measure_apply_throughput(mode, batches);
    std::cout << "sqlite synchronous=" << mode << ": " << static_cast<int64_t>(rate)
              << " change sets/s (" << batches << " batches of 256)" << std::endl;
  }
}
