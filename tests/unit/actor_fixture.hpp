#pragma once

// The fixture of the deterministic actor tests (actors_test.cpp, events_actors_test.cpp): the
// whole supervision tree on CAF's test coordinator, over the in-memory store, with a fake wall
// clock. Include after <caf/test/dsl.hpp> (and CAF_SUITE).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/order_actor.hpp"
#include "actors/processor.hpp"
#include "actors/protocol.hpp"
#include "actors/root_supervisor.hpp"
#include "actors/stock_actor.hpp"
#include "actors/store_actors.hpp"
#include "actors/services.hpp"
#include "domain/ids.hpp"
#include "persistence/memory/memory_store.hpp"

using namespace orderd;
using namespace std::chrono_literals;

namespace {

constexpr timestamp_ms t0 = 1'750'000'000'000; // the fake wall clock at the start of each test

runtime_options test_options() {
  runtime_options opts;
  opts.request_timeout = 60s; // never reached: tests advance the CAF clock by seconds only
  opts.order_idle_timeout = 1h;
  opts.stock_idle_timeout = 1h;
  opts.cart_idle_timeout = 1h;
  opts.writer_max_batch = 64;
  opts.restarts.max_restarts = 3;
  opts.restarts.window = 10s;
  opts.restarts.first_backoff = 50ms;
  opts.restarts.max_backoff = 400ms;
  opts.grace_period = 300s;
  opts.processor_interval = 1s;
  opts.processor_batch = 10;
  opts.reader_count = 2;
  opts.bridge_count = 1;
  opts.detach_blocking_actors = false; // writer and readers run on the test scheduler
  opts.node_id = "test-node";
  opts.relay_interval = 1s;
  opts.relay_linger = 0ms; // a nudge starts the cycle at once
  opts.breaker_failures = 3;
  opts.breaker_cooldown = 1s;
  opts.relay_backoff_base = 100ms;
  opts.relay_jitter = false; // retry delays exactly 100, 200, 400 ms, ...
  return opts;
}

product make_product(const std::string& sku, int64_t available, int64_t price_cents,
                     const std::string& currency = "USD") {
  product p;
  p.sku = sku;
  p.name = "Product " + sku;
  p.price_cents = price_cents;
  p.currency = currency;
  p.available = available;
  p.version = 1;
  p.created_at = p.updated_at = t0;
  return p;
}

/// The 201 body an idempotent placement stores (what a replay must answer byte for byte).
std::string render(const order& o) {
  return wire::render_order(o, wire::order_format::v1);
}

placement_request make_placement(std::vector<requested_line> lines, std::string key = {},
                                 std::string hash = {}) {
  placement_request req;
  req.request.customer_id = "customer-1";
  req.request.customer_email = "customer@example.com";
  req.request.lines = std::move(lines);
  req.idempotency_key = std::move(key);
  req.request_hash = std::move(hash);
  return req;
}

/// "ok" or the orderd code of a failed reply, as text (readable in failed checks).
template <class T>
std::string code_name(const caf::expected<T>& x) {
  return x ? std::string{"ok"} : std::string{to_string(code_of(x.error()))};
}

/// The text code_name() gives for `code`.
std::string code_text(errc code) {
  return std::string{to_string(code)};
}

std::string name_of(order_status s) {
  return std::string{to_string(s)};
}

/// The test's requester: runs each call it is sent, so replies reach a scheduled actor and
/// no test ever blocks on a reply that does not come.
caf::behavior test_client(caf::event_based_actor* self) {
  return {
    [=](call_atom, bridge_call& call) { call.run(self); },
  };
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<timestamp_ms> wall = std::make_shared<timestamp_ms>(t0);
  std::shared_ptr<persistence::memory_store_factory> factory
    = std::make_shared<persistence::memory_store_factory>();
  std::unique_ptr<persistence::store> db; ///< the test's own connection, to seed and inspect
  services_ptr svc;
  caf::actor root;
  /// Sends every request of a test and lives as long as the test, so the holds it takes
  /// (reservations made directly at a stock actor) are not dropped as orphaned.
  caf::actor client;
  /// Set before boot() to replace the in-process bus as the relay's publisher.
  publisher_factory publisher;

  fixture() : db(factory->open()) {
    spdlog::set_level(spdlog::level::off);
    client = sys.spawn(test_client);
  }

  ~fixture() override {
    // Stop the tree, so the base destructor's run() does not spin on the processor's timer.
    if (root)
      caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
    settle();
  }

  void boot(runtime_options opts = test_options()) {
    svc = std::make_shared<services>(opts, factory, [w = wall] { return *w; });
    if (publisher) {
      svc->spawn_publisher = publisher;
      svc->publisher_name = "fake";
    }
    root = sys.spawn(root_supervisor_impl, svc);
    settle();
  }

  /// Delivers every pending message; fires no timeout.
  size_t settle() {
    return consume_messages();
  }

  /// Moves the CAF clock (timers, receive timeouts, delayed sends), then delivers.
  void elapse(caf::timespan d) {
    advance_time(d);
    settle();
  }

  void seed(const product& p) {
    persistence::change_set cs;
    cs.ops.emplace_back(persistence::insert_product{p});
    auto res = db->apply({cs});
    CAF_REQUIRE(res.size() == 1 && res[0].ok());
  }

  /// The reply to a request, filled in by the test client when it arrives.
  template <class T>
  using pending = std::shared_ptr<std::optional<caf::expected<T>>>;

  /// Sends a request from the test client without delivering anything yet.
  template <class T, class... Ts>
  pending<T> submit(const caf::actor& dest, Ts... xs) {
    auto out = std::make_shared<std::optional<caf::expected<T>>>();
    bridge_call call;
    call.run = [=](caf::event_based_actor* me) {
      me->request(dest, caf::infinite, xs...)
        .then([=](T& x) { *out = caf::expected<T>{std::move(x)}; },
              [=](caf::error& err) { *out = caf::expected<T>{std::move(err)}; });
    };
    caf::anon_send(client, call_atom_v, std::move(call));
    return out;
  }

  /// The reply to a submitted request, or `request_timeout` if none arrived (yet).
  template <class T>
  caf::expected<T> reply(const pending<T>& x) {
    if (!x->has_value())
      return caf::make_error(caf::sec::request_timeout, "no reply arrived");
    return **x;
  }

  template <class T, class... Ts>
  caf::expected<T> ask(const caf::actor& dest, Ts... xs) {
    auto x = submit<T>(dest, std::move(xs)...);
    settle();
    return reply(x);
  }

  caf::actor stocks() {
    return svc->stocks.get();
  }
  caf::actor orders() {
    return svc->orders.get();
  }

  caf::expected<reservation> reserve(const std::string& sku, const std::string& order_id,
                                     int64_t qty) {
    return ask<reservation>(stocks(), reserve_atom_v, sku, order_id, qty);
  }

  caf::expected<product> stock_view(const std::string& sku) {
    return ask<product>(stocks(), get_atom_v, sku);
  }

  caf::expected<placement_result> place(placement_request req) {
    return ask<placement_result>(orders(), place_atom_v, std::move(req));
  }

  /// Places an order that must succeed; returns it.
  order place_ok(std::vector<requested_line> lines) {
    auto res = place(make_placement(std::move(lines)));
    CAF_REQUIRE(res);
    CAF_REQUIRE(!res->replayed);
    return res->placed;
  }

  stock_level stored_stock(const std::string& sku) {
    auto p = db->find_product(sku);
    CAF_REQUIRE(p.has_value());
    return p->stock();
  }

  std::string stored_status(const std::string& id) {
    auto o = db->find_order(id);
    return o ? name_of(o->status) : std::string{"<missing>"};
  }

  supervisor_stats stats_of(const caf::actor& supervisor) {
    auto xs = ask<std::vector<supervisor_stats>>(supervisor, stats_atom_v);
    CAF_REQUIRE(xs);
    CAF_REQUIRE(!xs->empty());
    return xs->front();
  }

  template <class State>
  State& state_of(const caf::actor& hdl) {
    return deref<caf::stateful_actor<State>>(hdl).state;
  }
};

using event_list = std::shared_ptr<std::vector<event_record>>;

/// Collects the events it is sent into `out`.
caf::behavior event_collector(caf::event_based_actor*, event_list out) {
  return {
    [=](event_atom, const event_record& e) { out->push_back(e); },
  };
}

/// The fixture with subscribe(): test actors listening on the bus, stopped with the test.
struct bus_fixture : fixture {
  std::vector<caf::actor> helpers; ///< actors the test spawned; stopped before the tree

  ~bus_fixture() override {
    for (auto& h : helpers)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  }

  /// Events of types matching `pattern`, as the bus delivers them.
  event_list subscribe(const std::string& pattern) {
    auto out = std::make_shared<std::vector<event_record>>();
    auto c = sys.spawn(event_collector, out);
    helpers.push_back(c);
    auto ok = ask<bool>(svc->bus.get(), subscribe_atom_v, pattern, c);
    CAF_REQUIRE(ok && *ok);
    return out;
  }
};

} // namespace
