// Deterministic tests of events: which events each change writes into the outbox (in its own
// change set), the in-process bus, and the relay (order, confirms, retries, circuit breaker)
// with a fake publisher. Same rules as actors_test.cpp: never run(); time moves by elapse().

#define CAF_SUITE events
#include <caf/test/dsl.hpp>

#include "actor_fixture.hpp"

#include <nlohmann/json.hpp>

#include "actors/event_bus.hpp"

using json = nlohmann::ordered_json;

namespace {

/// What the fake broker saw and how it answers.
struct fake_broker {
  std::vector<std::vector<std::string>> attempts; ///< event ids of every batch received
  int fail_next = 0;                    ///< the next n batches fail outright
  std::optional<size_t> confirm_prefix; ///< the next batch: confirm only this many
  bool hold = false;                    ///< keep the answers until released
  std::vector<std::pair<caf::typed_response_promise<publish_ack>, publish_ack>> held;
};

caf::behavior fake_publisher(caf::event_based_actor* self, std::shared_ptr<fake_broker> b) {
  return {
    [=](publish_atom, const std::vector<event_record>& batch) -> caf::result<publish_ack> {
      std::vector<std::string> ids;
      for (auto& e : batch)
        ids.push_back(e.id);
      b->attempts.push_back(ids);
      publish_ack ack{batch.size(), {}};
      if (b->fail_next > 0) {
        --b->fail_next;
        ack = publish_ack{0, "broker down"};
      } else if (b->confirm_prefix) {
        ack = publish_ack{std::min(*b->confirm_prefix, batch.size()), "nacked"};
        b->confirm_prefix.reset();
      }
      if (b->hold) {
        auto rp = self->make_response_promise<publish_ack>();
        b->held.emplace_back(rp, ack);
        return rp;
      }
      return ack;
    },
    // Answers the held batches (from inside the actor: promises must be kept by their owner).
    [=](tick_atom) {
      for (auto& [rp, ack] : b->held)
        rp.deliver(ack);
      b->held.clear();
    },
  };
}

using strings = std::vector<std::string>;

strings types_of(const std::vector<event_record>& events) {
  strings out;
  for (auto& e : events)
    out.push_back(e.type);
  return out;
}

strings ids_of(const std::vector<event_record>& events) {
  strings out;
  for (auto& e : events)
    out.push_back(e.id);
  return out;
}

json envelope_of(const event_record& e) {
  return json::parse(e.payload);
}

std::string str(const json& j) {
  return j.is_string() ? j.get<std::string>() : j.dump();
}

int64_t num(const json& j) {
  return j.is_number_integer() ? j.get<int64_t>() : -999999;
}

/// A relay that only moves when nudged or retrying (no periodic tick during a test).
runtime_options quiet_relay() {
  auto opts = test_options();
  opts.relay_interval = 1h;
  return opts;
}

struct events_fixture : bus_fixture {
  std::shared_ptr<fake_broker> broker = std::make_shared<fake_broker>();

  void boot_with_fake_broker(runtime_options opts = quiet_relay()) {
    publisher = [b = broker](caf::event_based_actor* parent) {
      return parent->spawn<caf::linked>(fake_publisher, b);
    };
    boot(opts);
  }

  placement_request placement(std::vector<requested_line> lines, std::string correlation) {
    auto req = make_placement(std::move(lines));
    req.correlation_id = std::move(correlation);
    return req;
  }

  relay_status status() {
    auto s = ask<relay_status>(svc->relay.get(), status_atom_v);
    CAF_REQUIRE(s);
    return *s;
  }

  int64_t backlog() {
    return db->count_unpublished();
  }

  /// Ids of the unpublished events, in seq order.
  strings unpublished() {
    return ids_of(db->unpublished_events(1000));
  }

  /// Lets the fake broker answer the batches it holds, and delivers everything that follows.
  void release(const caf::actor& publisher) {
    self->send(publisher, tick_atom_v);
    settle();
  }

  /// The ids the fake broker got in its `n`th batch.
  strings attempt(size_t n) {
    CAF_REQUIRE(broker->attempts.size() > n);
    return broker->attempts[n];
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(event_tests, events_fixture)

// -- which events ---------------------------------------------------------------------------

CAF_TEST(placing an order publishes order created and inventory updated from one change set) {
  seed(make_product("A", 10, 150));
  seed(make_product("B", 5, 300));
  boot(quiet_relay());
  auto seen = subscribe("#");
  auto res = place(placement({{"A", 2}, {"B", 1}}, "corr-1"));
  CAF_REQUIRE(res);
  auto& o = res->placed;
  // Nudged by the writer, the relay published them at once (no tick: its interval is 1 h).
  CAF_CHECK_EQUAL(backlog(), 0);
  CAF_REQUIRE_EQUAL(types_of(*seen),
                    (strings{"order.created", "inventory.updated", "inventory.updated"}));
  auto created = envelope_of((*seen)[0]);
  CAF_CHECK_EQUAL(str(created["id"]), (*seen)[0].id);
  CAF_CHECK_EQUAL(str(created["type"]), "order.created");
  CAF_CHECK_EQUAL(str(created["source"]), "test-node");
  CAF_CHECK_EQUAL(str(created["correlation_id"]), "corr-1");
  CAF_CHECK_EQUAL(str(created["occurred_at"]), format_rfc3339(t0));
  CAF_CHECK_EQUAL(str(created["data"]["id"]), o.id);
  CAF_CHECK_EQUAL(str(created["data"]["status"]), "PENDING");
  CAF_CHECK_EQUAL(num(created["data"]["total_cents"]), 600);
  CAF_CHECK_EQUAL(created["data"]["items"].size(), 2u);
  CAF_CHECK_EQUAL((*seen)[0].aggregate, o.id);
  CAF_CHECK_EQUAL((*seen)[0].correlation_id, "corr-1");
  // The figures the transaction left behind, version included.
  auto a = envelope_of((*seen)[1])["data"];
  CAF_CHECK_EQUAL(a.dump(), (json{{"sku", "A"}, {"available", 8}, {"reserved", 2}, {"sold", 0},
                                  {"version", 2}})
                               .dump());
  CAF_CHECK_EQUAL(str(envelope_of((*seen)[1])["correlation_id"]), "corr-1");
  CAF_CHECK_EQUAL((*seen)[2].aggregate, "B");
  CAF_CHECK_EQUAL(num(envelope_of((*seen)[2])["data"]["available"]), 4);
}

CAF_TEST(a placement without a correlation id gets a new one) {
  seed(make_product("A", 10, 150));
  boot(quiet_relay());
  auto seen = subscribe("order.created");
  CAF_REQUIRE(place(placement({{"A", 1}}, "")));
  CAF_REQUIRE_EQUAL(seen->size(), 1u);
  CAF_CHECK(is_uuid(seen->front().correlation_id));
}

CAF_TEST(a stock rejection writes stock rejected and nothing else before answering) {
  seed(make_product("A", 10, 150));
  seed(make_product("B", 10, 150));
  boot(quiet_relay());
  auto seen = subscribe("#");
  auto res = place(placement({{"A", 20}, {"B", 1}}, "corr-2"));
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(code_text(code_of(res.error())), code_text(errc::insufficient_stock));
  CAF_REQUIRE_EQUAL(types_of(*seen), (strings{"stock.rejected"}));
  auto data = envelope_of(seen->front())["data"];
  CAF_CHECK_EQUAL(str(data["customer_id"]), "customer-1");
  CAF_CHECK_EQUAL(str(data["correlation_id"]), "corr-2");
  CAF_CHECK_EQUAL(data["items"].dump(),
                  R"([{"sku":"A","requested":20,"available":10}])");
  CAF_CHECK_EQUAL(db->count_orders(), 0);
  CAF_CHECK_EQUAL(stored_stock("B"), (stock_level{"B", 10, 0, 0, 1}));
  // The holds went back: the whole stock is still for sale.
  CAF_CHECK(place(placement({{"A", 10}, {"B", 10}}, "")));
}

// -- inbound commands (message ids) ---------------------------------------------------------

CAF_TEST(an inbound placement commits its message id with the order and a copy changes nothing) {
  seed(make_product("A", 10, 150));
  boot(quiet_relay());
  auto seen = subscribe("order.*");
  auto req = placement({{"A", 2}}, "corr-in");
  req.message_id = "msg-place-1";
  auto first = place(req);
  CAF_REQUIRE(first);
  auto record = db->find_processed_message("msg-place-1");
  CAF_REQUIRE(record);
  CAF_CHECK_EQUAL(record->kind, "order.place");
  // A copy of the same message (redelivered, or sent twice): refused by the record, holds undone.
  auto copy = place(req);
  CAF_REQUIRE(!copy);
  CAF_CHECK_EQUAL(code_text(code_of(copy.error())), code_text(errc::conflict));
  CAF_CHECK_EQUAL(db->count_orders(), 1);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 2, 0, 2}));
  CAF_CHECK(place(placement({{"A", 8}}, ""))); // every remaining unit is still for sale
  CAF_CHECK_EQUAL(types_of(*seen), (strings{"order.created", "order.created"}));
}

CAF_TEST(an inbound placement refused for stock commits order rejected and its message id) {
  seed(make_product("A", 3, 150));
  boot(quiet_relay());
  auto seen = subscribe("#");
  auto req = placement({{"A", 5}}, "corr-short");
  req.message_id = "msg-place-2";
  auto res = place(req);
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(code_text(code_of(res.error())), code_text(errc::insufficient_stock));
  CAF_REQUIRE_EQUAL(types_of(*seen), (strings{"stock.rejected", "order.rejected"}));
  auto rejected = envelope_of((*seen)[1]);
  CAF_CHECK_EQUAL(str(rejected["correlation_id"]), "corr-short");
  CAF_CHECK_EQUAL(str(rejected["data"]["reason"]), "insufficient-stock");
  CAF_CHECK_EQUAL(rejected["data"]["items"].dump(),
                  R"([{"sku":"A","requested":5,"available":3}])");
  CAF_CHECK(db->find_processed_message("msg-place-2"));
  // Unknown SKUs too; an HTTP placement (no message id) writes no order.rejected.
  auto unknown = placement({{"NOPE", 1}}, "corr-unknown");
  unknown.message_id = "msg-place-3";
  CAF_CHECK(!place(unknown));
  CAF_CHECK(!place(placement({{"NOPE", 1}}, "corr-http")));
  CAF_REQUIRE_EQUAL(types_of(*seen), (strings{"stock.rejected", "order.rejected", "order.rejected"}));
  CAF_CHECK_EQUAL(str(envelope_of((*seen)[2])["data"]["reason"]), "unknown-sku");
  CAF_CHECK(db->find_processed_message("msg-place-3"));
}

CAF_TEST(inbound stock changes and cancels commit their message id and refuse a copy) {
  seed(make_product("A", 10, 150));
  boot(quiet_relay());
  auto adjusted = ask<product>(svc->stocks.get(), adjust_atom_v, std::string{"A"}, int64_t{5},
                               change_origin{"corr-adjust", "msg-adjust"});
  CAF_REQUIRE(adjusted);
  CAF_CHECK_EQUAL(adjusted->available, 15);
  auto again = ask<product>(svc->stocks.get(), adjust_atom_v, std::string{"A"}, int64_t{5},
                            change_origin{"corr-adjust", "msg-adjust"});
  CAF_REQUIRE(!again);
  CAF_CHECK_EQUAL(code_text(code_of(again.error())), code_text(errc::conflict));
  auto set = ask<product>(svc->stocks.get(), set_atom_v, std::string{"A"}, int64_t{40},
                          change_origin{"", "msg-set"});
  CAF_REQUIRE(set);
  CAF_CHECK_EQUAL(stored_stock("A").available, 40);
  auto set_record = db->find_processed_message("msg-set");
  CAF_REQUIRE(set_record);
  CAF_CHECK_EQUAL(set_record->kind, "inventory.adjust");

  auto o = place_ok({{"A", 3}});
  auto cancelled = ask<order>(svc->orders.get(), cancel_atom_v, o.id, std::string{"corr-c"},
                              std::string{"msg-cancel"});
  CAF_REQUIRE(cancelled);
  CAF_CHECK(cancelled->status == order_status::cancelled);
  auto cancel_record = db->find_processed_message("msg-cancel");
  CAF_REQUIRE(cancel_record);
  CAF_CHECK_EQUAL(cancel_record->kind, "order.cancel");
  CAF_CHECK_EQUAL(stored_stock("A").available, 40);
}

CAF_TEST(cancelling publishes status changed cancelled and inventory updated) {
  seed(make_product("A", 10, 150));
  boot(quiet_relay());
  auto o = place_ok({{"A", 3}});
  auto seen = subscribe("#");
  auto cancelled = ask<order>(orders(), cancel_atom_v, o.id, std::string{"corr-3"});
  CAF_REQUIRE(cancelled);
  CAF_REQUIRE_EQUAL(types_of(*seen),
                    (strings{"order.status_changed", "order.cancelled", "inventory.updated"}));
  CAF_CHECK_EQUAL(envelope_of((*seen)[0])["data"].dump(),
                  (json{{"id", o.id}, {"from", "PENDING"}, {"to", "CANCELLED"}}).dump());
  CAF_CHECK_EQUAL(str(envelope_of((*seen)[1])["data"]["status"]), "CANCELLED");
  CAF_CHECK_EQUAL(num(envelope_of((*seen)[2])["data"]["available"]), 10);
  for (auto& e : *seen)
    CAF_CHECK_EQUAL(e.correlation_id, "corr-3");
  // A refused cancel writes nothing.
  CAF_CHECK(!ask<order>(orders(), cancel_atom_v, o.id, std::string{}));
  CAF_CHECK_EQUAL(seen->size(), 3u);
}

CAF_TEST(the processor publishes order processing for pending to processing) {
  seed(make_product("A", 10, 150));
  boot(quiet_relay());
  auto o = place_ok({{"A", 1}});
  auto seen = subscribe("order.*");
  *wall = t0 + 300'000;
  elapse(svc->options.processor_interval);
  CAF_CHECK_EQUAL(stored_status(o.id), "PROCESSING");
  CAF_REQUIRE_EQUAL(types_of(*seen), (strings{"order.status_changed", "order.processing"}));
  CAF_CHECK_EQUAL(envelope_of((*seen)[1])["data"].dump(),
                  (json{{"id", o.id}, {"from", "PENDING"}, {"to", "PROCESSING"}}).dump());
  CAF_CHECK_EQUAL((*seen)[0].correlation_id, (*seen)[1].correlation_id);
  // Confirming moves stock (reserved -> sold), so it reports the inventory too.
  auto all = subscribe("#");
  CAF_REQUIRE(ask<order>(orders(), move_atom_v, o.id, order_status::confirmed, std::string{}));
  CAF_CHECK_EQUAL(types_of(*all),
                  (strings{"order.status_changed", "order.confirmed", "inventory.updated"}));
}

CAF_TEST(inventory low is published once when available crosses the threshold) {
  auto p = make_product("A", 10, 150);
  p.low_stock_threshold = 5;
  seed(p);
  boot(quiet_relay());
  auto low = subscribe("inventory.low");
  auto updated = subscribe("inventory.updated");
  place_ok({{"A", 4}}); // 10 -> 6: above
  CAF_CHECK_EQUAL(low->size(), 0u);
  place_ok({{"A", 1}}); // 6 -> 5: at the threshold, crossed
  CAF_REQUIRE_EQUAL(low->size(), 1u);
  CAF_CHECK_EQUAL(envelope_of(low->front())["data"].dump(),
                  R"({"sku":"A","available":5,"reserved":5,"low_stock_threshold":5,"version":3})");
  place_ok({{"A", 1}}); // 5 -> 4: still low, no new crossing
  CAF_CHECK_EQUAL(low->size(), 1u);
  CAF_REQUIRE(ask<product>(stocks(), adjust_atom_v, std::string{"A"}, int64_t{10})); // 14
  CAF_CHECK_EQUAL(low->size(), 1u);
  CAF_REQUIRE(ask<product>(stocks(), set_atom_v, std::string{"A"}, int64_t{2})); // crossed again
  CAF_CHECK_EQUAL(low->size(), 2u);
  // Every stock change reported its figures, in version order.
  std::vector<int64_t> versions;
  for (auto& e : *updated)
    versions.push_back(num(envelope_of(e)["data"]["version"]));
  CAF_CHECK_EQUAL(versions, (std::vector<int64_t>{2, 3, 4, 5, 6}));
}

CAF_TEST(product changes publish inventory events and raising the threshold can cross it) {
  boot(quiet_relay());
  auto seen = subscribe("inventory.#");
  auto p = make_product("N", 8, 100);
  p.low_stock_threshold = 2;
  CAF_REQUIRE(ask<product>(stocks(), create_atom_v, std::string{"N"}, p));
  CAF_REQUIRE_EQUAL(types_of(*seen), (strings{"inventory.updated"}));
  CAF_CHECK_EQUAL(num(envelope_of(seen->front())["data"]["available"]), 8);
  // Renaming leaves the figures alone: no event.
  product_details d{"New name", "", "", 100, "USD", 2};
  CAF_REQUIRE(ask<product>(stocks(), update_atom_v, std::string{"N"}, d));
  CAF_CHECK_EQUAL(seen->size(), 1u);
  // A threshold above the available units makes the sku low.
  d.low_stock_threshold = 10;
  CAF_REQUIRE(ask<product>(stocks(), update_atom_v, std::string{"N"}, d));
  CAF_CHECK_EQUAL(types_of(*seen), (strings{"inventory.updated", "inventory.low"}));
}

// -- the bus --------------------------------------------------------------------------------

CAF_TEST(bus subscribers receive the types their pattern matches once each) {
  seed(make_product("A", 10, 150));
  boot(quiet_relay());
  auto orders_only = subscribe("order.*");
  auto everything = std::make_shared<std::vector<event_record>>();
  auto c = sys.spawn(event_collector, everything);
  helpers.push_back(c);
  // Two matching patterns: still one copy.
  CAF_REQUIRE(ask<bool>(svc->bus.get(), subscribe_atom_v, std::string{"#"}, c));
  CAF_REQUIRE(ask<bool>(svc->bus.get(), subscribe_atom_v, std::string{"inventory.*"}, c));
  place_ok({{"A", 1}});
  CAF_CHECK_EQUAL(types_of(*orders_only), (strings{"order.created"}));
  CAF_CHECK_EQUAL(types_of(*everything), (strings{"order.created", "inventory.updated"}));
  // A subscriber that terminates is dropped.
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  settle();
  // Left: orders_only, and the processor's order.created wake-ups.
  CAF_CHECK_EQUAL(state_of<event_bus_state>(svc->bus.get()).subscriptions.size(), 2u);
}

// -- the relay --------------------------------------------------------------------------------

CAF_TEST(the relay publishes events in commit order and marks them after the confirm) {
  seed(make_product("A", 100, 150));
  broker->hold = true;
  boot_with_fake_broker();
  for (int i = 0; i < 3; ++i)
    place_ok({{"A", 1}});
  // The first batch went out as soon as the first order committed; it is not confirmed yet.
  CAF_REQUIRE_EQUAL(broker->attempts.size(), 1u);
  CAF_CHECK_EQUAL(backlog(), 6);
  auto all = unpublished();
  CAF_CHECK_EQUAL(attempt(0), (strings{all[0], all[1]}));
  // The confirm marks them; the nudges that came meanwhile start the next batch at once.
  release(svc->publisher.get());
  CAF_CHECK_EQUAL(backlog(), 4);
  CAF_REQUIRE_EQUAL(broker->attempts.size(), 2u);
  CAF_CHECK_EQUAL(attempt(1), (strings{all.begin() + 2, all.end()}));
  release(svc->publisher.get());
  CAF_CHECK_EQUAL(backlog(), 0);
  CAF_CHECK_EQUAL(broker->attempts.size(), 2u);
  auto s = status();
  CAF_CHECK_EQUAL(s.publisher, "fake");
  CAF_CHECK_EQUAL(s.state, "closed");
  CAF_CHECK_EQUAL(s.published, 6u);
  CAF_CHECK_EQUAL(s.backlog, 0);
}

CAF_TEST(a failed publish blocks the events after it and is retried in order) {
  seed(make_product("A", 100, 150));
  broker->fail_next = 1;
  boot_with_fake_broker();
  place_ok({{"A", 1}});
  CAF_REQUIRE_EQUAL(broker->attempts.size(), 1u);
  CAF_CHECK_EQUAL(backlog(), 2); // nothing confirmed, nothing marked
  CAF_CHECK_EQUAL(status().failures, 1u);
  // New events wait behind the failed ones: no attempt before the backoff ends.
  place_ok({{"A", 1}});
  CAF_CHECK_EQUAL(broker->attempts.size(), 1u);
  auto all = unpublished();
  CAF_REQUIRE_EQUAL(all.size(), 4u);
  elapse(99ms);
  CAF_CHECK_EQUAL(broker->attempts.size(), 1u);
  elapse(1ms);
  CAF_REQUIRE_EQUAL(broker->attempts.size(), 2u);
  CAF_CHECK_EQUAL(attempt(1), all); // the failed ones first, then the rest, in seq order
  CAF_CHECK_EQUAL(backlog(), 0);
  CAF_CHECK_EQUAL(status().failures, 0u);
}

CAF_TEST(only the confirmed prefix of a batch is marked and the rest is published next) {
  seed(make_product("A", 100, 150));
  seed(make_product("B", 100, 150));
  broker->confirm_prefix = 1;
  boot_with_fake_broker();
  place_ok({{"A", 1}, {"B", 1}});
  auto all = db->unpublished_events(10);
  CAF_REQUIRE_EQUAL(all.size(), 2u); // created was marked; A's and B's updates wait
  CAF_REQUIRE_EQUAL(broker->attempts.size(), 1u);
  auto first = attempt(0);
  CAF_REQUIRE_EQUAL(first.size(), 3u);
  CAF_CHECK_EQUAL(first[1], all[0].id);
  CAF_CHECK_EQUAL(status().last_error, "nacked");
  elapse(100ms);
  CAF_REQUIRE_EQUAL(broker->attempts.size(), 2u);
  CAF_CHECK_EQUAL(attempt(1), ids_of(all));
  CAF_CHECK_EQUAL(backlog(), 0);
}

CAF_TEST(the breaker opens after n failures and half opens after the cooldown) {
  seed(make_product("A", 100, 150));
  broker->fail_next = 1000;
  boot_with_fake_broker(); // 3 failures open it; 1 s cooldown; backoff 100, 200, 400 ms
  place_ok({{"A", 1}});
  CAF_CHECK_EQUAL(broker->attempts.size(), 1u);
  CAF_CHECK_EQUAL(status().state, "closed");
  elapse(100ms);
  CAF_CHECK_EQUAL(broker->attempts.size(), 2u);
  CAF_CHECK_EQUAL(status().state, "closed");
  elapse(200ms);
  CAF_CHECK_EQUAL(broker->attempts.size(), 3u);
  auto s = status();
  CAF_CHECK_EQUAL(s.state, "open");
  CAF_CHECK_EQUAL(s.failures, 3u);
  CAF_CHECK_EQUAL(s.backlog, 2);
  CAF_CHECK_EQUAL(s.last_error, "broker down");
  // Open: orders still commit, their events wait; the broker is left alone.
  place_ok({{"A", 1}});
  elapse(999ms);
  CAF_CHECK_EQUAL(broker->attempts.size(), 3u);
  CAF_CHECK_EQUAL(backlog(), 4);
  // The cooldown is over: one trial (half-open), which fails and reopens the breaker ...
  elapse(1ms);
  CAF_CHECK_EQUAL(broker->attempts.size(), 4u);
  CAF_CHECK_EQUAL(status().state, "open");
  elapse(999ms);
  CAF_CHECK_EQUAL(broker->attempts.size(), 4u);
  // ... and after another cooldown a trial that succeeds closes it and drains the backlog.
  broker->fail_next = 0;
  elapse(1ms);
  CAF_CHECK_EQUAL(broker->attempts.size(), 5u);
  CAF_CHECK_EQUAL(attempt(4).size(), 4u);
  s = status();
  CAF_CHECK_EQUAL(s.state, "closed");
  CAF_CHECK_EQUAL(s.backlog, 0);
  CAF_CHECK_EQUAL(s.failures, 0u);
}

CAF_TEST(the breaker reports half open once the cooldown has passed) {
  seed(make_product("A", 100, 150));
  broker->fail_next = 3;
  boot_with_fake_broker();
  place_ok({{"A", 1}});
  elapse(100ms);
  elapse(200ms);
  CAF_CHECK_EQUAL(status().state, "open");
  // The cooldown has passed: whether or not the retry ran yet, the breaker lets a trial through.
  advance_time(1s);
  CAF_CHECK_EQUAL(status().state, "half-open");
  settle();
  CAF_CHECK_EQUAL(status().state, "closed");
  CAF_CHECK_EQUAL(backlog(), 0);
}

CAF_TEST(the relay forwards what the broker confirmed to local subscribers) {
  seed(make_product("A", 100, 150));
  broker->fail_next = 1;
  boot_with_fake_broker();
  auto seen = subscribe("#");
  place_ok({{"A", 1}});
  CAF_CHECK(seen->empty()); // the broker refused: nothing confirmed, nothing local either
  elapse(100ms);
  CAF_CHECK_EQUAL(types_of(*seen), (strings{"order.created", "inventory.updated"}));
}

CAF_TEST(events written before a restart are published when the relay starts) {
  seed(make_product("A", 100, 150));
  // Committed, never published (as after kill -9 between commit and publish).
  persistence::change_set cs;
  event_record e;
  e.id = make_uuid();
  e.type = "order.created";
  e.aggregate = "order-x";
  e.payload = "{}";
  cs.ops.emplace_back(persistence::append_event{e});
  CAF_REQUIRE(db->apply({cs})[0].ok());
  boot_with_fake_broker();
  CAF_REQUIRE_EQUAL(broker->attempts.size(), 1u);
  CAF_CHECK_EQUAL(attempt(0), (strings{e.id}));
  CAF_CHECK_EQUAL(backlog(), 0);
}

CAF_TEST(a crashed relay is restarted and publishes what is left) {
  seed(make_product("A", 100, 150));
  broker->hold = true;
  boot_with_fake_broker();
  place_ok({{"A", 1}});
  CAF_REQUIRE_EQUAL(broker->attempts.size(), 1u);
  auto old_relay = svc->relay.get();
  self->send(old_relay, crash_atom_v);
  settle();
  CAF_CHECK_EQUAL(stats_of(root).restarts, 1);
  CAF_REQUIRE(svc->relay.get() != old_relay); // the root restarted it at once
  // The new relay published the unconfirmed events again (at least once).
  CAF_REQUIRE_EQUAL(broker->attempts.size(), 2u);
  CAF_CHECK_EQUAL(attempt(1), attempt(0));
  broker->hold = false;
  release(svc->publisher.get());
  CAF_CHECK_EQUAL(backlog(), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
