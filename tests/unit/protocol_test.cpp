// The stock, order and cart interfaces will cross nodes: every payload they carry must survive
// CAF's binary serialization unchanged, field for field. A field left out of an inspect() (or a
// type still marked unsafe, whose fields CAF skips) comes back as its default and fails here.

#define CAF_SUITE protocol
#include <caf/test/dsl.hpp>

#include <vector>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actors/protocol.hpp"
#include "samples.hpp"

using namespace orderd;

namespace {

template <class T>
T round_trip(const T& value) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = value;
  if (auto err = sink(copy))
    CAF_FAIL("serialization failed: " << caf::to_string(err));
  T back{};
  caf::binary_deserializer source{nullptr, buf};
  if (auto err = source(back))
    CAF_FAIL("deserialization failed: " << caf::to_string(err));
  CAF_CHECK_EQUAL(source.remaining(), 0u);
  return back;
}

/// The shared sample order, cancelled so that every member is set.
order cancelled_order() {
  auto o = samples::sample_order();
  o.status = order_status::cancelled;
  o.cancel_reason = "payment_failed";
  return o;
}

} // namespace

CAF_TEST(stock interface payloads survive serialization) {
  auto p = samples::sample_product();
  CAF_CHECK(round_trip(p) == p);
  CAF_CHECK(round_trip(p.stock()) == p.stock());
  product_details d{"Kettle", "1.7 l", "kitchen", 1999, "EUR", 3};
  CAF_CHECK(round_trip(d) == d);
  reservation r{"A-1", 2, 1999, "EUR"};
  CAF_CHECK(round_trip(r) == r);
  change_origin origin{"corr-1", "msg-1"};
  CAF_CHECK(round_trip(origin) == origin);
}

CAF_TEST(order interface payloads survive serialization) {
  auto o = cancelled_order();
  CAF_CHECK(round_trip(o) == o);
  placement_request req;
  req.request = {"c-7", "ada@example.com", {{"A-1", 2}, {"B-2", 1}}};
  req.idempotency_key = "key-1";
  req.request_hash = "hash-1";
  req.response_format = wire::order_format::legacy;
  req.correlation_id = "corr-1";
  req.message_id = "msg-1";
  req.cart_after = samples::sample_cart();
  CAF_CHECK(round_trip(req) == req);
  req.cart_after.reset();
  CAF_CHECK(round_trip(req) == req);
  placement_result placed{false, o, 0, {}};
  CAF_CHECK(round_trip(placed) == placed);
  placement_result replayed{true, {}, 201, R"({"id":"x"})"};
  CAF_CHECK(round_trip(replayed) == replayed);
  payment_result paid{o.id, true, "approved", "corr-2", "msg-2"};
  CAF_CHECK(round_trip(paid) == paid);
  supervisor_stats stats{"order supervisor", 12, 3, 1, "root", "orders", {"a", "b"}};
  CAF_CHECK(round_trip(stats) == stats);
}

CAF_TEST(cart interface payloads survive serialization) {
  auto c = samples::sample_cart();
  CAF_CHECK(round_trip(c) == c);
  priced_cart priced;
  priced.content = c;
  priced.locked = true;
  priced.lines = {{"A-1", 2, 1999, std::string{"EUR"}, 3998}, {"B-2", 5, {}, {}, {}}};
  priced.total_cents = 3998;
  priced.currency = "EUR";
  auto back = round_trip(priced);
  CAF_CHECK(back.content == priced.content);
  CAF_CHECK_EQUAL(back.locked, true);
  CAF_CHECK(back.lines == priced.lines);
  CAF_CHECK(back.total_cents == priced.total_cents);
  CAF_CHECK(back.currency == priced.currency);
  customer cu{"c-7", {"Ada", "ada@example.com", "+44 1", "1 Analytical St"}, 2, 1700000000000,
              1700000000001};
  CAF_CHECK(round_trip(cu) == cu);
}

CAF_TEST(a placement message survives serialization as a CAF message) {
  caf::actor_system_config cfg;
  add_cluster_message_types(cfg);
  caf::actor_system sys{cfg};
  placement_request req;
  req.request = {"c-7", "ada@example.com", {{"A-1", 2}}};
  req.idempotency_key = "key-1";
  req.cart_after = samples::sample_cart();
  auto msg = caf::make_message(place_atom_v, req);
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  CAF_REQUIRE(!sink(msg));
  caf::message back;
  caf::binary_deserializer source{sys, buf};
  CAF_REQUIRE(!source(back));
  CAF_REQUIRE((back.match_elements<place_atom, placement_request>()));
  CAF_CHECK(back.get_as<placement_request>(1) == req);
}
