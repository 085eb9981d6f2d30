#define CAF_SUITE api_bridge
#include <caf/test/dsl.hpp>

#include <algorithm>

// A request whose HTTP bridge is missing, or stops while it holds the request (a crash, then
// the root supervisor's restart), gets the documented 503 problem (safe to retry), never the
// server's lost-reply 500. The API runs on CAF's test coordinator over a services table whose
// slots hold a real bridge and stand-in actors.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/bridge.hpp"
#include "http/api.hpp"

using namespace orderd;
using namespace orderd::http;

namespace {

constexpr auto some_order_id = "00000000-0000-4000-8000-000000000000";

/// Keeps what the API answered; an unanswered slot is what the server turns into a 500.
struct captured : detail::reply_slot {
  std::optional<response> got;
  void send(response&& r) override {
    got = std::move(r);
  }
};

/// An order supervisor that finds every order.
caf::behavior answering_orders(caf::event_based_actor*) {
  return {
    [](get_atom, const std::string& id) {
      order o;
      o.id = id;
      return o;
    },
  };
}

/// An order supervisor and a store reader that take every request and answer none while the
/// test runs (a slow store, a busy actor).
struct silent_state {
  std::vector<caf::typed_response_promise<order>> orders;
  std::vector<caf::typed_response_promise<bool>> pings;
};

caf::behavior silent_actor(caf::stateful_actor<silent_state>* self) {
  return {
    [=](get_atom, const std::string&) -> caf::result<order> {
      self->state.orders.push_back(self->make_response_promise<order>());
      return self->state.orders.back();
    },
    [=](ping_atom) -> caf::result<bool> {
      self->state.pings.push_back(self->make_response_promise<bool>());
      return self->state.pings.back();
    },
  };
}

struct fixture : test_coordinator_fixture<> {
  services_ptr svc;
  std::unique_ptr<api> rest;
  std::vector<caf::actor> spawned;

  fixture() {
    runtime_options opts;
    opts.bridge_count = 1;
    opts.reader_count = 1;
    svc = std::make_shared<services>(opts, nullptr, [] { return timestamp_ms{0}; });
    svc->bridges[0].set(keep(sys.spawn(bridge_impl)));
    rest = std::make_unique<api>(svc, api_options{});
  }

  ~fixture() override {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }

  caf::actor keep(caf::actor a) {
    spawned.push_back(a);
    return a;
  }

  /// Hands a request to the API; the answer, if any, is in the slot.
  std::shared_ptr<captured> send(std::string path) {
    http::request req;
    req.method = "GET";
    req.target = path;
    req.raw_path = path;
    req.path = std::move(path);
    auto slot = std::make_shared<captured>();
    rest->handle(std::move(req), responder{slot});
    return slot;
  }

  /// The bridge crashes (CAF drops its mailbox and the reply handlers it waits on); its slot
  /// keeps the dead handle until the root supervisor restarts it.
  void crash_bridge() {
    caf::anon_send_exit(svc->bridges[0].get(), caf::exit_reason::kill);
    run();
  }
};

/// True for the 503 a route gives while an actor restarts: a problem document that says to
/// retry, with Retry-After.
bool is_retry_problem(const std::optional<response>& r) {
  if (!r)
    return false;
  auto retry_after = std::find(r->headers.begin(), r->headers.end(),
                               std::pair<std::string, std::string>{"Retry-After", "1"});
  return r->status == 503 && r->content_type == "application/problem+json"
         && r->body.find("restarting") != std::string::npos && retry_after != r->headers.end();
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(api_bridge_tests, fixture)

CAF_TEST(a request answers through a running bridge) {
  svc->orders.set(keep(sys.spawn(answering_orders)));
  auto slot = send(std::string{"/api/v1/orders/"} + some_order_id);
  CAF_CHECK(!slot->got);
  run();
  CAF_REQUIRE(slot->got);
  CAF_CHECK_EQUAL(slot->got->status, 200);
  CAF_CHECK(slot->got->body.find(some_order_id) != std::string::npos);
}

CAF_TEST(without a bridge a request gets 503 at once) {
  svc->orders.set(keep(sys.spawn(answering_orders)));
  svc->bridges[0].set(caf::actor{});
  auto slot = send(std::string{"/api/v1/orders/"} + some_order_id);
  CAF_CHECK(is_retry_problem(slot->got));
}

CAF_TEST(a request sent to a crashed bridge gets 503) {
  svc->orders.set(keep(sys.spawn(answering_orders)));
  crash_bridge();
  auto slot = send(std::string{"/api/v1/orders/"} + some_order_id);
  run();
  CAF_CHECK(is_retry_problem(slot->got));
}

CAF_TEST(a request whose bridge crashes while it waits gets 503) {
  svc->orders.set(keep(sys.spawn(silent_actor)));
  auto slot = send(std::string{"/api/v1/orders/"} + some_order_id);
  run();
  CAF_CHECK(!slot->got); // the bridge waits for the order supervisor
  crash_bridge();
  CAF_CHECK(is_retry_problem(slot->got));
}

CAF_TEST(ready whose bridge crashes while it gathers gets 503) {
  svc->readers[0].set(keep(sys.spawn(silent_actor)));
  auto slot = send("/ready");
  run();
  CAF_CHECK(!slot->got); // the bridge waits for the store reader
  crash_bridge();
  CAF_CHECK(is_retry_problem(slot->got));
}

CAF_TEST(metrics whose bridge crashed still render) {
  crash_bridge();
  auto slot = send("/metrics");
  run();
  CAF_REQUIRE(slot->got);
  CAF_CHECK_EQUAL(slot->got->status, 200);
}

CAF_TEST_FIXTURE_SCOPE_END()
