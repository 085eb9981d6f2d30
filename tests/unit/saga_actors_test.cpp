// Deterministic tests of the payment saga: PENDING -> PROCESSING (grace period) -> charge at the
// mock payment service -> CONFIRMED, or CANCELLED with reason payment_failed and the
// reservation released. Time moves only through elapse(); the wall clock by hand.

#define CAF_SUITE saga
#include <caf/test/dsl.hpp>

#include <nlohmann/json.hpp>

#include "actor_fixture.hpp"
#include "actors/payment_actor.hpp"


namespace {

/// Payments that answer after 200 ms, succeed with `rate`, and time out after 2 s.
runtime_options saga_options(double rate) {
  auto opts = test_options();
  opts.payment_success_rate = rate;
  opts.payment_latency = 200ms;
  opts.payment_timeout = 2s;
  opts.payment_seed = 42;
  return opts;
}

struct saga_fixture : bus_fixture {
  /// Ends the grace period of everything placed so far and lets the processor tick once.
  void end_grace_period() {
    *wall = t0 + svc->options.grace_period.count() + 1;
    elapse(svc->options.processor_interval);
  }

  std::string stored_reason(const std::string& id) {
    auto o = db->find_order(id);
    return o ? o->cancel_reason : std::string{"<missing>"};
  }

  /// The payment service as a dynamically typed handle, for the fixture's submit/ask helpers.
  caf::actor payment_service_actor() {
    return caf::actor_cast<caf::actor>(svc->payments.get());
  }

  payment_state& payments() {
    return deref<payment_service::stateful_base<payment_state>>(svc->payments.get()).state;
  }
};

size_t count_of(const std::vector<event_record>& events, std::string_view type) {
  return static_cast<size_t>(std::count_if(events.begin(), events.end(),
                                           [&](const event_record& e) { return e.type == type; }));
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(saga_tests, saga_fixture)

CAF_TEST(a successful payment confirms the order and turns reserved units into sold ones) {
  seed(make_product("A", 10, 150));
  boot(saga_options(1.0));
  auto seen = subscribe("order.*");
  auto o = place_ok({{"A", 2}});
  end_grace_period();
  CAF_CHECK_EQUAL(stored_status(o.id), "PROCESSING");
  elapse(200ms); // the mock's latency
  CAF_CHECK_EQUAL(stored_status(o.id), "CONFIRMED");
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 0, 2, 3}));
  CAF_CHECK_EQUAL(stored_reason(o.id), "");
  CAF_CHECK_EQUAL(count_of(*seen, "order.processing"), 1u);
  CAF_CHECK_EQUAL(count_of(*seen, "order.confirmed"), 1u);
  CAF_CHECK_EQUAL(count_of(*seen, "order.status_changed"), 2u);
  CAF_CHECK_EQUAL(payments().charges, 1u);
  // Later ticks find nothing to charge.
  elapse(svc->options.processor_interval);
  elapse(svc->options.processor_interval);
  CAF_CHECK_EQUAL(payments().charges, 1u);
  CAF_CHECK_EQUAL(count_of(*seen, "order.confirmed"), 1u);
}

CAF_TEST(a failed payment cancels the order with reason payment_failed and releases its stock) {
  seed(make_product("A", 10, 150));
  boot(saga_options(0.0));
  auto seen = subscribe("order.*");
  auto o = place_ok({{"A", 3}});
  end_grace_period();
  elapse(200ms);
  CAF_CHECK_EQUAL(stored_status(o.id), "CANCELLED");
  CAF_CHECK_EQUAL(stored_reason(o.id), "payment_failed");
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 10, 0, 0, 3}));
  CAF_REQUIRE_EQUAL(count_of(*seen, "order.cancelled"), 1u);
  auto cancelled = std::find_if(seen->begin(), seen->end(),
                                [](const event_record& e) { return e.type == "order.cancelled"; });
  auto data = nlohmann::json::parse(cancelled->payload)["data"];
  CAF_CHECK_EQUAL(data["status"].get<std::string>(), "CANCELLED");
  CAF_CHECK_EQUAL(data["cancel_reason"].get<std::string>(), "payment_failed");
  // The live order actor knows it too.
  auto live = ask<order>(orders(), get_atom_v, o.id);
  CAF_REQUIRE(live);
  CAF_CHECK_EQUAL(live->cancel_reason, "payment_failed");
}

CAF_TEST(a payment that does not answer in time counts as failed) {
  seed(make_product("A", 10, 150));
  auto opts = saga_options(1.0);
  opts.payment_latency = 10s; // slower than the 2 s timeout
  boot(opts);
  auto o = place_ok({{"A", 1}});
  end_grace_period();
  elapse(1s);
  CAF_CHECK_EQUAL(stored_status(o.id), "PROCESSING");
  elapse(1s);
  CAF_CHECK_EQUAL(stored_status(o.id), "CANCELLED");
  CAF_CHECK_EQUAL(stored_reason(o.id), "payment_failed");
  CAF_CHECK_EQUAL(stored_stock("A").available, 10);
  // The late answer changes nothing.
  elapse(10s);
  CAF_CHECK_EQUAL(stored_status(o.id), "CANCELLED");
  CAF_CHECK_EQUAL(stored_stock("A").available, 10);
}

CAF_TEST(a saga cut short by a restart resumes from the stored PROCESSING status) {
  seed(make_product("A", 10, 150));
  auto opts = saga_options(1.0);
  opts.payment_latency = 1s;
  boot(opts);
  auto o = place_ok({{"A", 2}});
  end_grace_period();
  CAF_REQUIRE_EQUAL(stored_status(o.id), "PROCESSING");
  CAF_REQUIRE_EQUAL(payments().in_flight.size(), 1u);
  // The node dies while the charge is at the payment service.
  caf::anon_send_exit(root, caf::exit_reason::kill);
  settle();
  elapse(2s);
  CAF_CHECK_EQUAL(stored_status(o.id), "PROCESSING");
  // A new node (same store) finds the order PROCESSING on its first tick and charges it.
  boot(opts);
  auto seen = subscribe("order.*");
  elapse(opts.processor_interval);
  CAF_CHECK_EQUAL(payments().charges, 0u);
  elapse(opts.payment_latency);
  CAF_CHECK_EQUAL(stored_status(o.id), "CONFIRMED");
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 0, 2, 3}));
  CAF_CHECK_EQUAL(payments().charges, 1u);
  elapse(opts.processor_interval);
  elapse(opts.payment_latency);
  CAF_CHECK_EQUAL(count_of(*seen, "order.confirmed"), 1u);
}

CAF_TEST(a new order moves when its grace period ends without waiting for the periodic scan) {
  seed(make_product("A", 10, 150));
  auto opts = saga_options(1.0);
  opts.processor_interval = 1h; // the periodic scan never runs in this test
  boot(opts);
  auto o = place_ok({{"A", 1}}); // order.created reaches the processor through the bus
  elapse(299s);
  *wall = t0 + 299'000;
  CAF_CHECK_EQUAL(stored_status(o.id), "PENDING");
  // The wake-up is rounded up to the next 100 ms after the grace period.
  *wall = t0 + 300'100;
  elapse(1100ms);
  CAF_CHECK_EQUAL(stored_status(o.id), "PROCESSING");
  CAF_CHECK(state_of<processor_state>(svc->processor.get()).wake_ups.empty());
  elapse(200ms);
  CAF_CHECK_EQUAL(stored_status(o.id), "CONFIRMED");
}

CAF_TEST(the mock charges an order once however often it is asked) {
  boot(saga_options(1.0));
  auto first = submit<payment_result>(payment_service_actor(), charge_atom_v, std::string{"o-1"},
                                      int64_t{300}, std::string{"USD"});
  auto second = submit<payment_result>(payment_service_actor(), charge_atom_v, std::string{"o-1"},
                                       int64_t{300}, std::string{"USD"});
  settle();
  CAF_CHECK(!reply(first)); // still "at the provider"
  elapse(200ms);
  CAF_REQUIRE(reply(first));
  CAF_REQUIRE(reply(second));
  CAF_CHECK(reply(first)->succeeded && reply(second)->succeeded);
  auto again = ask<payment_result>(payment_service_actor(), charge_atom_v, std::string{"o-1"},
                                   int64_t{300}, std::string{"USD"});
  CAF_REQUIRE(again);
  CAF_CHECK(again->succeeded);
  CAF_CHECK_EQUAL(payments().charges, 1u);
  // The outcome is recorded in the store before it is answered.
  auto recorded = db->find_charge("o-1");
  CAF_REQUIRE(recorded);
  CAF_CHECK(recorded->succeeded);
  CAF_CHECK_EQUAL(recorded->amount_cents, 300);
  CAF_CHECK_EQUAL(recorded->currency, "USD");
}

namespace {

persistence::change_set recorded_charge(const std::string& order_id, bool succeeded) {
  persistence::change_set cs;
  cs.ops.emplace_back(persistence::record_charge{
    {order_id, succeeded, succeeded ? "" : "declined elsewhere", 300, "USD", 1000}});
  return cs;
}

} // namespace

CAF_TEST(an order charged before a restart or by a former owner is not charged again) {
  CAF_REQUIRE(db->apply({recorded_charge("o-2", false)}).at(0).ok());
  boot(saga_options(1.0)); // this node would accept every charge
  auto answer = submit<payment_result>(payment_service_actor(), charge_atom_v,
                                       std::string{"o-2"}, int64_t{300}, std::string{"USD"});
  settle();
  auto got = reply(answer); // from the store, without the provider's latency
  CAF_REQUIRE(got);
  CAF_CHECK(!got->succeeded);
  CAF_CHECK_EQUAL(got->reason, "declined elsewhere");
  CAF_CHECK_EQUAL(payments().charges, 0u);
}

CAF_TEST(two nodes charging one order at once both answer the outcome recorded first) {
  boot(saga_options(1.0));
  auto answer = submit<payment_result>(payment_service_actor(), charge_atom_v,
                                       std::string{"o-3"}, int64_t{300}, std::string{"USD"});
  settle();
  CAF_CHECK(!reply(answer));
  // Another node decides (declined) while this one's charge is still at the provider.
  CAF_REQUIRE(db->apply({recorded_charge("o-3", false)}).at(0).ok());
  elapse(200ms);
  CAF_REQUIRE(reply(answer));
  CAF_CHECK(!reply(answer)->succeeded);
  CAF_CHECK_EQUAL(payments().charges, 0u);
  CAF_CHECK(!db->find_charge("o-3")->succeeded);
}

CAF_TEST(an external payment result settles a processing order once) {
  seed(make_product("A", 10, 150));
  auto opts = saga_options(1.0);
  opts.external_payments = true;
  boot(opts);
  auto o = place_ok({{"A", 1}});
  end_grace_period();
  elapse(5s);
  CAF_CHECK_EQUAL(stored_status(o.id), "PROCESSING"); // nobody charges it here
  CAF_CHECK_EQUAL(payments().charges, 0u);
  payment_result failed{o.id, false, "card declined", "corr-1", "msg-1"};
  auto settled = ask<order>(orders(), settle_atom_v, failed);
  CAF_REQUIRE(settled);
  CAF_CHECK_EQUAL(settled->cancel_reason, "payment_failed");
  CAF_CHECK_EQUAL(stored_stock("A").available, 10);
  // Another result for the same order: its payment was settled already.
  payment_result late{o.id, true, "", "corr-2", "msg-2"};
  CAF_CHECK_EQUAL(code_name(ask<order>(orders(), settle_atom_v, late)),
                  code_text(errc::illegal_transition));
  CAF_CHECK_EQUAL(stored_status(o.id), "CANCELLED");
}

CAF_TEST(a payment result for an order another node moved reloads it and settles on retry) {
  seed(make_product("A", 10, 150));
  auto opts = saga_options(1.0);
  opts.external_payments = true;
  boot(opts);
  auto o = place_ok({{"A", 1}}); // its actor stays live, believing it PENDING
  persistence::change_set moved_elsewhere;
  moved_elsewhere.ops.emplace_back(persistence::transition_order{
    o.id, order_status::pending, order_status::processing, t0 + 1, ""});
  CAF_REQUIRE(db->apply({moved_elsewhere}).front().ok());
  payment_result paid{o.id, true, "", "corr-1", "msg-1"};
  CAF_CHECK_EQUAL(code_name(ask<order>(orders(), settle_atom_v, paid)),
                  code_text(errc::unavailable));
  auto settled = ask<order>(orders(), settle_atom_v, paid);
  CAF_REQUIRE(settled);
  CAF_CHECK_EQUAL(name_of(settled->status), "CONFIRMED");
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 9, 0, 1, 3}));
}

CAF_TEST(shipping updates follow the state machine and accept only SHIPPED and DELIVERED) {
  seed(make_product("A", 10, 150));
  boot(saga_options(1.0));
  auto o = place_ok({{"A", 1}});
  auto ship = [&](order_status to) {
    return ask<order>(orders(), ship_atom_v, o.id, to, std::string{});
  };
  CAF_CHECK_EQUAL(code_name(ship(order_status::shipped)), code_text(errc::illegal_transition));
  CAF_CHECK_EQUAL(code_name(ship(order_status::confirmed)), code_text(errc::invalid_input));
  CAF_CHECK_EQUAL(code_name(ship(order_status::cancelled)), code_text(errc::invalid_input));
  end_grace_period();
  elapse(200ms);
  CAF_REQUIRE_EQUAL(stored_status(o.id), "CONFIRMED");
  CAF_CHECK_EQUAL(code_name(ship(order_status::delivered)), code_text(errc::illegal_transition));
  CAF_CHECK(ship(order_status::shipped));
  CAF_CHECK(ship(order_status::delivered));
  CAF_CHECK_EQUAL(stored_status(o.id), "DELIVERED");
}

CAF_TEST_FIXTURE_SCOPE_END()
