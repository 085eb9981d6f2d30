// Deterministic tests of the actor layer: the whole supervision tree runs on CAF's test
// coordinator, over the in-memory store, with a fake wall clock.
//
// Never call run() here: the processor re-arms its timer after every tick, and run() fires
// timeouts regardless of their time, so it would never return. settle() consumes messages only;
// time moves only through elapse() (CAF clock) and `*wall` (the services' wall clock).

#define CAF_SUITE actors
#include <caf/test/dsl.hpp>

#include "actor_fixture.hpp"

CAF_TEST_FIXTURE_SCOPE(actor_tests, fixture)

// -- stock actor ----------------------------------------------------------------------------

CAF_TEST(a reservation grants a hold that reduces the free units until it is released) {
  seed(make_product("A", 10, 150));
  boot();
  auto r1 = reserve("A", "o-1", 7);
  CAF_REQUIRE(r1);
  CAF_CHECK_EQUAL(r1->sku, "A");
  CAF_CHECK_EQUAL(r1->quantity, 7);
  CAF_CHECK_EQUAL(r1->unit_price_cents, 150);
  CAF_CHECK_EQUAL(r1->currency, "USD");
  // Only 3 units are free now.
  auto r2 = reserve("A", "o-2", 4);
  CAF_CHECK_EQUAL(code_name(r2), code_text(errc::insufficient_stock));
  if (!r2) {
    auto shorts = short_lines_of(r2.error());
    CAF_REQUIRE_EQUAL(shorts.size(), 1u);
    CAF_CHECK_EQUAL(shorts[0], (short_line{"A", 4, 3}));
  }
  // A hold is not committed: the committed figures did not move.
  auto view = stock_view("A");
  CAF_REQUIRE(view);
  CAF_CHECK_EQUAL(view->available, 10);
  CAF_CHECK_EQUAL(view->reserved, 0);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 10, 0, 0, 1}));
  // Releasing returns the 7 units.
  self->send(stocks(), release_atom_v, std::string{"A"}, std::string{"o-1"});
  settle();
  CAF_CHECK(reserve("A", "o-2", 4));
  auto r3 = reserve("A", "o-3", 7);
  CAF_CHECK_EQUAL(code_name(r3), code_text(errc::insufficient_stock));
  if (!r3)
    CAF_CHECK_EQUAL(short_lines_of(r3.error()), (std::vector<short_line>{{"A", 7, 6}}));
}

CAF_TEST(a repeated reservation for the same order returns the existing hold) {
  seed(make_product("A", 10, 150));
  boot();
  CAF_REQUIRE(reserve("A", "o-1", 4));
  auto again = reserve("A", "o-1", 4);
  CAF_REQUIRE(again);
  CAF_CHECK_EQUAL(again->quantity, 4);
  // Still only 4 held: 6 are free.
  CAF_CHECK(reserve("A", "o-2", 6));
  CAF_CHECK_EQUAL(code_name(reserve("A", "o-3", 1)), code_text(errc::insufficient_stock));
}

CAF_TEST(a commit applies the committed figures and drops the hold) {
  seed(make_product("A", 10, 150));
  boot();
  CAF_REQUIRE(reserve("A", "o-1", 4));
  self->send(stocks(), commit_atom_v, std::string{"A"}, std::string{"o-1"},
             stock_level{"A", 6, 4, 0, 2});
  settle();
  auto view = stock_view("A");
  CAF_REQUIRE(view);
  CAF_CHECK_EQUAL(view->stock(), (stock_level{"A", 6, 4, 0, 2}));
  // The hold is gone and the 4 units are out of `available`: exactly 6 are free.
  CAF_CHECK(reserve("A", "o-2", 6));
  auto more = reserve("A", "o-3", 1);
  CAF_CHECK_EQUAL(code_name(more), code_text(errc::insufficient_stock));
  if (!more)
    CAF_CHECK_EQUAL(short_lines_of(more.error()), (std::vector<short_line>{{"A", 1, 0}}));
  // Older figures never overwrite newer ones.
  self->send(stocks(), commit_atom_v, std::string{"A"}, std::string{"o-x"},
             stock_level{"A", 100, 0, 0, 1});
  settle();
  view = stock_view("A");
  CAF_REQUIRE(view);
  CAF_CHECK_EQUAL(view->available, 6);
  CAF_CHECK_EQUAL(view->version, 2);
}

CAF_TEST(an unknown sku is refused) {
  boot();
  CAF_CHECK_EQUAL(code_name(reserve("NOPE", "o-1", 1)), code_text(errc::unknown_sku));
  CAF_CHECK_EQUAL(code_name(stock_view("NOPE")), code_text(errc::not_found));
  CAF_CHECK_EQUAL(code_name(ask<product>(stocks(), adjust_atom_v, std::string{"NOPE"},
                                         int64_t{5})),
                  code_text(errc::not_found));
  CAF_CHECK(!db->find_product("NOPE"));
}

CAF_TEST(adjusting below zero is refused and leaves the figures unchanged) {
  seed(make_product("A", 5, 150));
  boot();
  auto res = ask<product>(stocks(), adjust_atom_v, std::string{"A"}, int64_t{-6});
  CAF_CHECK_EQUAL(code_name(res), code_text(errc::insufficient_stock));
  auto view = stock_view("A");
  CAF_REQUIRE(view);
  CAF_CHECK_EQUAL(view->available, 5);
  CAF_CHECK_EQUAL(view->version, 1);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 5, 0, 0, 1}));
  // A legal adjustment goes through to the store and the actor.
  res = ask<product>(stocks(), adjust_atom_v, std::string{"A"}, int64_t{-2});
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->available, 3);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 3, 0, 0, 2}));
  CAF_CHECK(reserve("A", "o-1", 3));
  CAF_CHECK_EQUAL(code_name(reserve("A", "o-2", 1)), code_text(errc::insufficient_stock));
}

CAF_TEST(creating a product that exists is a conflict) {
  seed(make_product("A", 5, 150));
  boot();
  auto created = ask<product>(stocks(), create_atom_v, std::string{"B"}, make_product("B", 3, 99));
  CAF_REQUIRE(created);
  CAF_CHECK_EQUAL(created->available, 3);
  CAF_CHECK_EQUAL(created->created_at, t0);
  auto stored = db->find_product("B");
  CAF_REQUIRE(stored.has_value());
  CAF_CHECK_EQUAL(stored->available, 3);
  auto dup = make_product("B", 1000, 1);
  dup.name = "Impostor";
  CAF_CHECK_EQUAL(code_name(ask<product>(stocks(), create_atom_v, std::string{"B"}, dup)),
                  code_text(errc::conflict));
  CAF_CHECK_EQUAL(code_name(ask<product>(stocks(), create_atom_v, std::string{"A"}, dup)),
                  code_text(errc::conflict));
  auto b = db->find_product("B");
  CAF_REQUIRE(b.has_value());
  CAF_CHECK_EQUAL(b->name, "Product B");
  CAF_CHECK_EQUAL(stored_stock("A").available, 5);
  CAF_CHECK_EQUAL(db->count_products(), 2);
}

CAF_TEST(an idle stock actor passivates and a later reservation reloads it from the store) {
  seed(make_product("A", 10, 150));
  auto opts = test_options();
  opts.stock_idle_timeout = 5s;
  boot(opts);
  place_ok({{"A", 4}});
  CAF_CHECK_EQUAL(stats_of(stocks()).live_children, 1);
  elapse(4s);
  CAF_CHECK_EQUAL(stats_of(stocks()).live_children, 1);
  elapse(2s);
  CAF_CHECK_EQUAL(stats_of(stocks()).live_children, 0);
  // Reads come from the store meanwhile ...
  auto view = stock_view("A");
  CAF_REQUIRE(view);
  CAF_CHECK_EQUAL(view->stock(), (stock_level{"A", 6, 4, 0, 2}));
  CAF_CHECK_EQUAL(stats_of(stocks()).live_children, 0);
  // ... and a reservation wakes a new incarnation with the committed figures.
  CAF_CHECK(reserve("A", "o-2", 6));
  CAF_CHECK_EQUAL(stats_of(stocks()).live_children, 1);
  CAF_CHECK_EQUAL(code_name(reserve("A", "o-3", 1)), code_text(errc::insufficient_stock));
  CAF_CHECK_EQUAL(stats_of(stocks()).restarts, 0); // passivation is not a crash
}

CAF_TEST(a stock actor with open holds does not passivate) {
  seed(make_product("A", 10, 150));
  auto opts = test_options();
  opts.stock_idle_timeout = 5s;
  boot(opts);
  CAF_REQUIRE(reserve("A", "o-1", 10));
  elapse(6s);
  CAF_CHECK_EQUAL(stats_of(stocks()).live_children, 1);
  CAF_CHECK_EQUAL(code_name(reserve("A", "o-2", 1)), code_text(errc::insufficient_stock));
}

CAF_TEST(a reservation that races with passivation is not lost) {
  // The stock actor asks to passivate (no holds yet) while a reservation is on its way to it:
  // the registry routes the reservation to the old incarnation before it handles the idle
  // request. The hold granted in between must not vanish with the actor.
  seed(make_product("A", 10, 150));
  auto opts = test_options();
  opts.stock_idle_timeout = 5s;
  boot(opts);
  CAF_REQUIRE(reserve("A", "o-0", 1)); // wake the actor ...
  self->send(stocks(), release_atom_v, std::string{"A"}, std::string{"o-0"}); // ... no holds
  settle();
  CAF_REQUIRE_EQUAL(stats_of(stocks()).live_children, 1);
  // The client's reservation is scheduled first, then the actor's idle timeout fires.
  auto first = submit<reservation>(stocks(), reserve_atom_v, std::string{"A"},
                                   std::string{"o-1"}, int64_t{10});
  advance_time(opts.stock_idle_timeout);
  settle();
  auto granted = reply(first);
  CAF_REQUIRE(granted);
  CAF_CHECK_EQUAL(granted->quantity, 10);
  auto live = stats_of(stocks()).live_children;
  CAF_MESSAGE("live stock actors after the race: " << live);
  // All 10 units are held by o-1: nothing is left for anybody else.
  auto second = reserve("A", "o-2", 10);
  CAF_CHECK_EQUAL(code_name(second), code_text(errc::insufficient_stock));
}

// -- order actor and order registry -----------------------------------------------------------

CAF_TEST(placing a two line order reserves both lines in one change set) {
  seed(make_product("A", 10, 150));
  seed(make_product("B", 5, 250));
  boot();
  auto change_sets_before = state_of<writer_state>(svc->writer.get()).change_sets;
  auto res = place(make_placement({{"A", 2}, {"B", 1}}));
  CAF_REQUIRE(res);
  CAF_CHECK(!res->replayed);
  auto& o = res->placed;
  CAF_CHECK(is_uuid(o.id));
  CAF_CHECK_EQUAL(name_of(o.status), "PENDING");
  CAF_REQUIRE_EQUAL(o.lines.size(), 2u);
  CAF_CHECK_EQUAL(o.lines[0], (order_line{"A", 2, 150}));
  CAF_CHECK_EQUAL(o.lines[1], (order_line{"B", 1, 250}));
  CAF_CHECK_EQUAL(o.total_cents, 550);
  CAF_CHECK_EQUAL(o.currency, "USD");
  CAF_CHECK_EQUAL(o.created_at, t0);
  // One change set for the order (with its events), one for the relay marking them published.
  CAF_CHECK_EQUAL(state_of<writer_state>(svc->writer.get()).change_sets, change_sets_before + 2);
  // The store holds the order and the moved stock.
  auto stored = db->find_order(o.id);
  CAF_REQUIRE(stored.has_value());
  CAF_CHECK(*stored == o);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 2, 0, 2}));
  CAF_CHECK_EQUAL(stored_stock("B"), (stock_level{"B", 4, 1, 0, 2}));
  // The stock actors learnt the committed figures and dropped the holds.
  auto a = stock_view("A");
  CAF_REQUIRE(a);
  CAF_CHECK_EQUAL(a->stock(), (stock_level{"A", 8, 2, 0, 2}));
  auto probe = reserve("A", "probe", 9);
  CAF_REQUIRE(!probe);
  CAF_CHECK_EQUAL(short_lines_of(probe.error()), (std::vector<short_line>{{"A", 9, 8}}));
}

CAF_TEST(an order with one short line reserves nothing) {
  seed(make_product("A", 10, 150));
  seed(make_product("B", 5, 250));
  boot();
  auto res = place(make_placement({{"A", 2}, {"B", 6}}));
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(code_name(res), code_text(errc::insufficient_stock));
  CAF_CHECK_EQUAL(short_lines_of(res.error()), (std::vector<short_line>{{"B", 6, 5}}));
  CAF_CHECK_EQUAL(db->count_orders(), 0);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 10, 0, 0, 1}));
  CAF_CHECK_EQUAL(stored_stock("B"), (stock_level{"B", 5, 0, 0, 1}));
  // The hold on A was given back: all 10 are free again.
  CAF_CHECK(reserve("A", "probe", 10));
  CAF_CHECK(reserve("B", "probe", 5));
  // The failed order actor is gone.
  CAF_CHECK_EQUAL(stats_of(orders()).live_children, 0);
}

CAF_TEST(an order naming an unknown sku is refused and reserves nothing) {
  seed(make_product("A", 10, 150));
  boot();
  auto res = place(make_placement({{"A", 2}, {"GHOST", 1}}));
  CAF_CHECK_EQUAL(code_name(res), code_text(errc::unknown_sku));
  CAF_CHECK_EQUAL(db->count_orders(), 0);
  CAF_CHECK(reserve("A", "probe", 10));
}

CAF_TEST(placing an order without items is refused as invalid input) {
  // The registry must answer (not leave the caller to its timeout) even for an empty order.
  seed(make_product("A", 10, 150));
  boot();
  auto res = place(make_placement({}));
  CAF_CHECK_EQUAL(code_name(res), code_text(errc::invalid_input));
  if (!res)
    CAF_MESSAGE("reply: " << caf::to_string(res.error()));
  CAF_CHECK_EQUAL(db->count_orders(), 0);
}

CAF_TEST(cancelling gives the stock back exactly once) {
  seed(make_product("A", 10, 150));
  boot();
  auto o = place_ok({{"A", 3}});
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 7, 3, 0, 2}));
  *wall = t0 + 5000;
  auto cancelled = ask<order>(orders(), cancel_atom_v, o.id, std::string{});
  CAF_REQUIRE(cancelled);
  CAF_CHECK_EQUAL(name_of(cancelled->status), "CANCELLED");
  CAF_CHECK_EQUAL(cancelled->updated_at, t0 + 5000);
  CAF_CHECK_EQUAL(stored_status(o.id), "CANCELLED");
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 10, 0, 0, 3}));
  auto again = ask<order>(orders(), cancel_atom_v, o.id, std::string{});
  CAF_CHECK_EQUAL(code_name(again), code_text(errc::illegal_transition));
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 10, 0, 0, 3}));
  auto view = stock_view("A");
  CAF_REQUIRE(view);
  CAF_CHECK_EQUAL(view->stock(), (stock_level{"A", 10, 0, 0, 3}));
  CAF_CHECK(reserve("A", "probe", 10));
  CAF_CHECK_EQUAL(code_name(reserve("A", "probe-2", 1)), code_text(errc::insufficient_stock));
}

CAF_TEST(requests for an unknown order are not found) {
  boot();
  auto id = make_uuid();
  CAF_CHECK_EQUAL(code_name(ask<order>(orders(), get_atom_v, id)), code_text(errc::not_found));
  CAF_CHECK_EQUAL(code_name(ask<order>(orders(), cancel_atom_v, id, std::string{})),
                  code_text(errc::not_found));
}

CAF_TEST(the same idempotency key with the same request replays the original response) {
  seed(make_product("A", 10, 150));
  boot();
  auto first = place(make_placement({{"A", 2}}, "key-1", "hash-1"));
  CAF_REQUIRE(first);
  CAF_REQUIRE(!first->replayed);
  auto original = first->placed;
  auto second = place(make_placement({{"A", 2}}, "key-1", "hash-1"));
  CAF_REQUIRE(second);
  CAF_CHECK(second->replayed);
  CAF_CHECK_EQUAL(second->replay_status, 201);
  CAF_CHECK_EQUAL(second->replay_body, render(original));
  CAF_CHECK_EQUAL(db->count_orders(), 1);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 2, 0, 2}));
  auto rec = db->find_idempotency("key-1");
  CAF_REQUIRE(rec.has_value());
  CAF_CHECK_EQUAL(rec->request_hash, "hash-1");
  CAF_CHECK_EQUAL(rec->created_at, t0);
}

CAF_TEST(the same idempotency key with another request is a mismatch) {
  seed(make_product("A", 10, 150));
  boot();
  CAF_REQUIRE(place(make_placement({{"A", 2}}, "key-1", "hash-1")));
  auto other = place(make_placement({{"A", 3}}, "key-1", "hash-2"));
  CAF_CHECK_EQUAL(code_name(other), code_text(errc::idempotency_mismatch));
  CAF_CHECK_EQUAL(db->count_orders(), 1);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 2, 0, 2}));
}

CAF_TEST(a second request with a key still in flight is refused) {
  seed(make_product("A", 10, 150));
  boot();
  // Both requests are in the registry's mailbox before it runs.
  auto h1 = submit<placement_result>(orders(), place_atom_v,
                                     make_placement({{"A", 2}}, "key-1", "hash-1"));
  auto h2 = submit<placement_result>(orders(), place_atom_v,
                                     make_placement({{"A", 2}}, "key-1", "hash-1"));
  auto h3 = submit<placement_result>(orders(), place_atom_v,
                                     make_placement({{"A", 4}}, "key-1", "hash-2"));
  settle();
  auto r1 = reply(h1);
  auto r2 = reply(h2);
  auto r3 = reply(h3);
  CAF_REQUIRE(r1);
  CAF_CHECK(!r1->replayed);
  CAF_CHECK_EQUAL(code_name(r2), code_text(errc::idempotency_in_flight));
  CAF_CHECK_EQUAL(code_name(r3), code_text(errc::idempotency_mismatch));
  CAF_CHECK_EQUAL(db->count_orders(), 1);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 2, 0, 2}));
  // Once the first one finished, the key replays.
  auto r4 = place(make_placement({{"A", 2}}, "key-1", "hash-1"));
  CAF_REQUIRE(r4);
  CAF_CHECK(r4->replayed);
  CAF_CHECK_EQUAL(r4->replay_body, render(r1->placed));
}

CAF_TEST(lines naming the same sku are merged into one reservation) {
  seed(make_product("A", 10, 150));
  boot();
  auto o = place_ok({{"A", 2}, {"A", 3}});
  CAF_REQUIRE_EQUAL(o.lines.size(), 1u);
  CAF_CHECK_EQUAL(o.lines[0], (order_line{"A", 5, 150}));
  CAF_CHECK_EQUAL(o.total_cents, 750);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 5, 5, 0, 2}));
}

CAF_TEST(an order mixing currencies is refused and reserves nothing) {
  seed(make_product("A", 10, 150, "USD"));
  seed(make_product("E", 10, 200, "EUR"));
  boot();
  auto res = place(make_placement({{"A", 1}, {"E", 1}}));
  CAF_CHECK_EQUAL(code_name(res), code_text(errc::currency_mismatch));
  CAF_CHECK_EQUAL(db->count_orders(), 0);
  CAF_CHECK(reserve("A", "probe", 10));
  CAF_CHECK(reserve("E", "probe", 10));
}

CAF_TEST(an order moves through its lifecycle and confirming turns reserved units into sold ones) {
  seed(make_product("A", 10, 150));
  boot();
  auto o = place_ok({{"A", 2}});
  auto move = [&](order_status to) {
    return ask<order>(orders(), move_atom_v, o.id, to, std::string{});
  };
  CAF_CHECK_EQUAL(code_name(move(order_status::confirmed)),
                  code_text(errc::illegal_transition));
  CAF_CHECK_EQUAL(stored_status(o.id), "PENDING");
  CAF_REQUIRE(move(order_status::processing));
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 2, 0, 2}));
  auto confirmed = move(order_status::confirmed);
  CAF_REQUIRE(confirmed);
  CAF_CHECK_EQUAL(name_of(confirmed->status), "CONFIRMED");
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 0, 2, 3}));
  CAF_CHECK_EQUAL(code_name(ask<order>(orders(), cancel_atom_v, o.id, std::string{})),
                  code_text(errc::illegal_transition));
  CAF_REQUIRE(move(order_status::shipped));
  CAF_REQUIRE(move(order_status::delivered));
  CAF_CHECK_EQUAL(stored_status(o.id), "DELIVERED");
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 0, 2, 3}));
  auto view = stock_view("A");
  CAF_REQUIRE(view);
  CAF_CHECK_EQUAL(view->stock(), (stock_level{"A", 8, 0, 2, 3}));
}

CAF_TEST(a cancel that races with order passivation is served before the actor stops) {
  seed(make_product("A", 10, 150));
  auto opts = test_options();
  opts.order_idle_timeout = 5s;
  boot(opts);
  auto o = place_ok({{"A", 2}});
  // The cancel reaches the registry before the actor's idle request does.
  auto cancelled = submit<order>(orders(), cancel_atom_v, o.id, std::string{});
  advance_time(opts.order_idle_timeout);
  settle();
  auto res = reply(cancelled);
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(name_of(res->status), "CANCELLED");
  CAF_CHECK_EQUAL(stored_status(o.id), "CANCELLED");
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 10, 0, 0, 3}));
  CAF_CHECK_EQUAL(code_name(ask<order>(orders(), cancel_atom_v, o.id, std::string{})),
                  code_text(errc::illegal_transition));
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 10, 0, 0, 3}));
}

CAF_TEST(order actors publish what they committed for reads and withdraw it when they stop) {
  seed(make_product("A", 10, 150));
  auto opts = test_options();
  opts.order_idle_timeout = 5s;
  boot(opts);
  auto o = place_ok({{"A", 2}});
  auto view = svc->orders_read.find(o.id);
  CAF_REQUIRE(view);
  CAF_CHECK(*view.item == o); // published before the placement was answered
  *wall = t0 + 1000;
  CAF_REQUIRE(ask<order>(orders(), cancel_atom_v, o.id, std::string{}));
  view = svc->orders_read.find(o.id);
  CAF_REQUIRE(view);
  CAF_CHECK_EQUAL(name_of(view.item->status), "CANCELLED");
  CAF_CHECK_EQUAL(view.item->updated_at, t0 + 1000);
  // A crash withdraws it (the actor's state is in doubt); a read without a live actor does
  // not rebuild one, the next command does, and it republishes what the store holds.
  self->send(orders(), crash_atom_v, o.id);
  settle();
  CAF_CHECK(!svc->orders_read.find(o.id));
  CAF_REQUIRE(ask<order>(orders(), get_atom_v, o.id));
  CAF_CHECK_EQUAL(code_name(ask<order>(orders(), cancel_atom_v, o.id, std::string{})),
                  code_text(errc::illegal_transition));
  view = svc->orders_read.find(o.id);
  CAF_REQUIRE(view);
  CAF_CHECK_EQUAL(name_of(view.item->status), "CANCELLED");
  // Passivation keeps it: nothing changes the order without a new actor, which publishes.
  advance_time(opts.order_idle_timeout);
  settle();
  advance_time(opts.order_idle_timeout);
  settle();
  CAF_CHECK_EQUAL(stats_of(orders()).live_children, 0);
  view = svc->orders_read.find(o.id);
  CAF_REQUIRE(view);
  CAF_CHECK_EQUAL(name_of(view.item->status), "CANCELLED");
}

CAF_TEST(order views keep a bounded number of passivated orders) {
  order_views views{16}; // one per shard
  auto make = [](int i) {
    order o;
    o.id = "order-" + std::to_string(i);
    o.total_cents = i;
    return o;
  };
  for (int i = 0; i < 100; ++i) {
    views.publish(1000 + i, make(i));
    views.retire(1000 + i, make(i).id);
  }
  CAF_CHECK(views.size() <= 16u);
  CAF_CHECK(views.find("order-99")); // the newest retired one is still there
  // Another incarnation's retire or withdraw leaves a live actor's view alone.
  views.publish(7, make(200));
  views.retire(8, "order-200");
  views.withdraw(8, "order-200");
  CAF_REQUIRE(views.find("order-200"));
  // A view republished by a live actor is not evicted by its earlier retirement.
  views.publish(9, make(300));
  views.retire(9, "order-300");
  views.publish(10, make(300));
  for (int i = 400; i < 500; ++i) {
    views.publish(1000 + i, make(i));
    views.retire(1000 + i, make(i).id);
  }
  CAF_CHECK(views.find("order-300"));
  CAF_CHECK(views.find("order-200"));
  views.withdraw(10, "order-300"); // a crash: gone at once
  CAF_CHECK(!views.find("order-300"));
}

// -- supervision ----------------------------------------------------------------------------

CAF_TEST(restart tracker doubles the backoff and escalates past the budget) {
  restart_limits limits;
  limits.max_restarts = 4;
  limits.window = 10s;
  limits.first_backoff = 50ms;
  limits.max_backoff = 150ms;
  restart_tracker tracker;
  restart_tracker::time_point t{std::chrono::hours(1)};
  auto d = tracker.on_crash(t, limits);
  CAF_CHECK(!d.escalate);
  CAF_CHECK_EQUAL(d.backoff.count(), 0); // the first crash restarts at once
  d = tracker.on_crash(t + 1s, limits);
  CAF_CHECK(!d.escalate);
  CAF_CHECK_EQUAL(d.backoff.count(), 50);
  d = tracker.on_crash(t + 2s, limits);
  CAF_CHECK(!d.escalate);
  CAF_CHECK_EQUAL(d.backoff.count(), 100);
  d = tracker.on_crash(t + 3s, limits);
  CAF_CHECK(!d.escalate);
  CAF_CHECK_EQUAL(d.backoff.count(), 150); // 200 capped at max_backoff
  CAF_CHECK_EQUAL(tracker.recent(t + 3s, limits), 4u);
  d = tracker.on_crash(t + 4s, limits);
  CAF_CHECK(d.escalate); // fifth crash within 10 s with a budget of 4
}

CAF_TEST(restart tracker forgets crashes older than the window) {
  restart_limits limits;
  limits.max_restarts = 2;
  limits.window = 10s;
  limits.first_backoff = 100ms;
  limits.max_backoff = 1s;
  restart_tracker tracker;
  restart_tracker::time_point t{std::chrono::hours(1)};
  CAF_CHECK_EQUAL(tracker.on_crash(t, limits).backoff.count(), 0);
  CAF_CHECK_EQUAL(tracker.on_crash(t + 5s, limits).backoff.count(), 100);
  // Exactly one window after the first crash it still counts ...
  CAF_CHECK_EQUAL(tracker.recent(t + 10s, limits), 2u);
  // ... a moment later it does not.
  CAF_CHECK_EQUAL(tracker.recent(t + 10s + 1ms, limits), 1u);
  // So a third crash now is the second in the window: no escalation, one doubling step.
  auto d = tracker.on_crash(t + 10s + 1ms, limits);
  CAF_CHECK(!d.escalate);
  CAF_CHECK_EQUAL(d.backoff.count(), 100);
  d = tracker.on_crash(t + 11s, limits);
  CAF_CHECK(d.escalate); // three within [t+1s, t+11s]
  // After a long quiet period the history is empty again.
  CAF_CHECK_EQUAL(tracker.recent(t + 60s, limits), 0u);
  d = tracker.on_crash(t + 60s, limits);
  CAF_CHECK(!d.escalate);
  CAF_CHECK_EQUAL(d.backoff.count(), 0);
}

CAF_TEST(a crashed stock actor is restarted and recovers its committed figures) {
  seed(make_product("A", 10, 150));
  boot();
  place_ok({{"A", 3}});
  auto before = stock_view("A");
  CAF_REQUIRE(before);
  CAF_CHECK_EQUAL(before->stock(), (stock_level{"A", 7, 3, 0, 2}));
  auto old_child = state_of<stock_registry_state>(stocks()).core.children().at("A");
  self->send(stocks(), crash_atom_v, std::string{"A"});
  settle();
  auto stats = stats_of(stocks());
  CAF_CHECK_EQUAL(stats.restarts, 1);
  CAF_CHECK_EQUAL(stats.escalations, 0);
  auto& children = state_of<stock_registry_state>(stocks()).core.children();
  CAF_REQUIRE(children.count("A") == 1);
  CAF_CHECK_NOT_EQUAL(children.at("A"), old_child);
  auto after = stock_view("A");
  CAF_REQUIRE(after);
  CAF_CHECK_EQUAL(after->stock(), before->stock());
  CAF_CHECK(*after == *before);
  // Reservations work on the new incarnation, against the recovered figures.
  CAF_CHECK(reserve("A", "o-2", 7));
  CAF_CHECK_EQUAL(code_name(reserve("A", "o-3", 1)), code_text(errc::insufficient_stock));
}

CAF_TEST(a stock actor crashing beyond its budget escalates and the root restarts the inventory) {
  seed(make_product("A", 10, 150));
  auto opts = test_options();
  opts.restarts.max_restarts = 2;
  boot(opts);
  auto old_registry = stocks();
  CAF_REQUIRE(stock_view("A"));
  auto crash = [&] {
    self->send(stocks(), crash_atom_v, std::string{"A"});
    settle();
  };
  crash(); // restarts at once
  CAF_CHECK_EQUAL(stats_of(stocks()).restarts, 1);
  crash(); // restarts after the first backoff
  CAF_CHECK_EQUAL(stats_of(stocks()).restarts, 2);
  CAF_CHECK(stocks() == old_registry);
  crash(); // waits in the mailbox of the child, which loads only after its backoff
  CAF_CHECK(stocks() == old_registry);
  elapse(opts.restarts.first_backoff);
  // The third crash within the window exceeded max_restarts = 2.
  auto new_registry = stocks();
  CAF_REQUIRE(new_registry);
  CAF_CHECK(new_registry != old_registry);
  auto root_stats = stats_of(root);
  CAF_CHECK_EQUAL(root_stats.name, "root");
  CAF_CHECK_EQUAL(root_stats.restarts, 1);
  CAF_CHECK_EQUAL(root_stats.escalations, 0);
  // The old registry is gone; the new one serves the recovered figures.
  CAF_CHECK_EQUAL(code_name(ask<product>(old_registry, get_atom_v, std::string{"A"})),
                  code_text(errc::unavailable));
  auto fresh = stats_of(new_registry);
  CAF_CHECK_EQUAL(fresh.restarts, 0);
  auto view = stock_view("A");
  CAF_REQUIRE(view);
  CAF_CHECK_EQUAL(view->stock(), (stock_level{"A", 10, 0, 0, 1}));
  CAF_CHECK(reserve("A", "o-1", 10));
  auto o = place(make_placement({{"A", 1}}));
  CAF_CHECK_EQUAL(code_name(o), code_text(errc::insufficient_stock)); // the 10 units are held by o-1
}

CAF_TEST(a crashed order actor is rebuilt from the store on the next request) {
  seed(make_product("A", 10, 150));
  boot();
  auto o = place_ok({{"A", 2}});
  CAF_CHECK_EQUAL(stats_of(orders()).live_children, 1);
  self->send(orders(), crash_atom_v, o.id);
  settle();
  auto stats = stats_of(orders());
  CAF_CHECK_EQUAL(stats.live_children, 0);
  CAF_CHECK_EQUAL(stats.restarts, 1);
  CAF_CHECK_EQUAL(stats.escalations, 0);
  // Nothing was lost: the store still has the pending order.
  auto got = ask<order>(orders(), get_atom_v, o.id);
  CAF_REQUIRE(got);
  CAF_CHECK(*got == o);
  // The next command rebuilds the actor with the same status and lines.
  auto moved = ask<order>(orders(), cancel_atom_v, o.id, std::string{});
  CAF_REQUIRE(moved);
  CAF_CHECK_EQUAL(name_of(moved->status), "CANCELLED");
  CAF_CHECK(moved->lines == o.lines);
  CAF_CHECK_EQUAL(moved->total_cents, o.total_cents);
  CAF_CHECK_EQUAL(stats_of(orders()).live_children, 1);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 10, 0, 0, 3}));
}

CAF_TEST(a crashed store writer is restarted by the root and writes work again) {
  seed(make_product("A", 10, 150));
  boot();
  auto old_writer = svc->writer.get();
  self->send(old_writer, crash_atom_v);
  settle();
  auto new_writer = svc->writer.get();
  CAF_CHECK(new_writer != old_writer);
  CAF_CHECK_EQUAL(stats_of(root).restarts, 1);
  auto o = place_ok({{"A", 2}});
  CAF_CHECK_EQUAL(stored_status(o.id), "PENDING");
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 2, 0, 2}));
}

CAF_TEST(a child crashing beyond the root budget takes the root down) {
  boot(); // max_restarts = 3, first backoff 50 ms
  auto crash_writer = [&] {
    self->send(svc->writer.get(), crash_atom_v);
    settle();
  };
  crash_writer(); // restarted at once
  crash_writer(); // restarted after 50 ms
  elapse(50ms);
  crash_writer(); // restarted after 100 ms
  elapse(100ms);
  CAF_CHECK_EQUAL(stats_of(root).restarts, 3);
  crash_writer(); // the fourth crash within the window
  CAF_CHECK_EQUAL(code_name(ask<std::vector<supervisor_stats>>(root, stats_atom_v)),
                  code_text(errc::unavailable));
  CAF_CHECK_EQUAL(code_name(ask<product>(svc->stocks.get(), get_atom_v, std::string{"A"})),
                  code_text(errc::unavailable));
  root = nullptr; // nothing left to stop
}

// -- grace period ----------------------------------------------------------------------------

CAF_TEST(the processor moves a pending order to processing only after the grace period) {
  seed(make_product("A", 10, 150));
  boot(); // grace 300 s, processor interval 1 s
  *wall = t0;
  auto kept = place_ok({{"A", 1}});
  auto dropped = place_ok({{"A", 1}});
  CAF_REQUIRE(ask<order>(orders(), cancel_atom_v, dropped.id, std::string{}));
  // Ticks while the grace period runs leave it alone.
  for (int i = 0; i < 3; ++i) {
    elapse(svc->options.processor_interval);
    CAF_CHECK_EQUAL(stored_status(kept.id), "PENDING");
  }
  *wall = t0 + 299'999;
  elapse(svc->options.processor_interval);
  CAF_CHECK_EQUAL(stored_status(kept.id), "PENDING");
  CAF_CHECK_EQUAL(state_of<processor_state>(svc->processor.get()).moved, 0u);
  // Past the grace period, the next tick moves it (and only it).
  *wall = t0 + 300'001;
  settle();
  CAF_CHECK_EQUAL(stored_status(kept.id), "PENDING"); // no tick yet
  elapse(svc->options.processor_interval);
  CAF_CHECK_EQUAL(stored_status(kept.id), "PROCESSING");
  auto moved = db->find_order(kept.id);
  CAF_REQUIRE(moved.has_value());
  CAF_CHECK_EQUAL(moved->updated_at, t0 + 300'001);
  CAF_CHECK_EQUAL(stored_status(dropped.id), "CANCELLED");
  CAF_CHECK_EQUAL(state_of<processor_state>(svc->processor.get()).moved, 1u);
  // Moving to PROCESSING keeps the reservation.
  CAF_CHECK_EQUAL(stored_stock("A").reserved, 1);
  // The live order actor knows the new status.
  auto live = ask<order>(orders(), get_atom_v, kept.id);
  CAF_REQUIRE(live);
  CAF_CHECK_EQUAL(name_of(live->status), "PROCESSING");
  CAF_CHECK_EQUAL(code_name(ask<order>(orders(), cancel_atom_v, kept.id, std::string{})),
                  code_text(errc::illegal_transition));
}

CAF_TEST(a full batch of due orders is followed by another batch at once) {
  seed(make_product("A", 10, 150));
  auto opts = test_options();
  opts.processor_batch = 2;
  boot(opts);
  std::vector<order> placed;
  for (int i = 0; i < 5; ++i)
    placed.push_back(place_ok({{"A", 1}}));
  *wall = t0 + 300'000;
  elapse(opts.processor_interval);
  for (auto& o : placed)
    CAF_CHECK_EQUAL(stored_status(o.id), "PROCESSING");
  CAF_CHECK_EQUAL(state_of<processor_state>(svc->processor.get()).moved, 5u);
}

CAF_TEST(the processor purges expired idempotency keys) {
  seed(make_product("A", 10, 150));
  boot();
  CAF_REQUIRE(place(make_placement({{"A", 1}}, "key-1", "hash-1")));
  elapse(svc->options.processor_interval);
  CAF_CHECK(db->find_idempotency("key-1").has_value()); // younger than the TTL
  *wall = t0 + 24 * 3600 * 1000 + 1;
  elapse(svc->options.processor_interval);
  CAF_CHECK(!db->find_idempotency("key-1").has_value());
  // The key is free again: the same request places a new order.
  auto again = place(make_placement({{"A", 1}}, "key-1", "hash-1"));
  CAF_REQUIRE(again);
  CAF_CHECK(!again->replayed);
  CAF_CHECK_EQUAL(db->count_orders(), 2);
}

// -- passivation -----------------------------------------------------------------------------

CAF_TEST(an idle order actor passivates and is rebuilt from the store when needed) {
  seed(make_product("A", 10, 150));
  auto opts = test_options();
  opts.order_idle_timeout = 5s;
  boot(opts);
  auto o = place_ok({{"A", 2}});
  CAF_CHECK_EQUAL(stats_of(orders()).live_children, 1);
  elapse(4s);
  CAF_CHECK_EQUAL(stats_of(orders()).live_children, 1);
  elapse(2s);
  CAF_CHECK_EQUAL(stats_of(orders()).live_children, 0);
  CAF_CHECK(state_of<order_registry_state>(orders()).core.children().empty());
  // A read does not wake it ...
  auto got = ask<order>(orders(), get_atom_v, o.id);
  CAF_REQUIRE(got);
  CAF_CHECK(*got == o);
  CAF_CHECK_EQUAL(stats_of(orders()).live_children, 0);
  // ... a command rebuilds it from the store.
  auto cancelled = ask<order>(orders(), cancel_atom_v, o.id, std::string{});
  CAF_REQUIRE(cancelled);
  CAF_CHECK_EQUAL(name_of(cancelled->status), "CANCELLED");
  CAF_CHECK_EQUAL(stats_of(orders()).live_children, 1);
  CAF_CHECK_EQUAL(stored_status(o.id), "CANCELLED");
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 10, 0, 0, 3}));
  CAF_CHECK_EQUAL(stats_of(orders()).restarts, 0); // passivation is not a crash
}

CAF_TEST_FIXTURE_SCOPE_END()
