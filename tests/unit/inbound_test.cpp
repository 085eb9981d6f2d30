// The inbound bridge's translation rules (messaging/inbound.hpp): identifying and decoding
// commands, what becomes of each answer, the retry schedule, and the copies sent to the delay
// and dead-letter queues and replayed from there. No broker, no actors.

#define CAF_SUITE inbound
#include <caf/test/unit_test.hpp>

#include "messaging/inbound.hpp"

using namespace orderd;
using namespace orderd::messaging;
using std::chrono::milliseconds;

namespace {

delivery make_delivery(std::string routing_key, std::string body, std::string message_id = "m-1") {
  delivery d;
  d.delivery_tag = 7;
  d.exchange = "orderd.commands";
  d.routing_key = std::move(routing_key);
  d.body = std::move(body);
  d.properties.message_id = std::move(message_id);
  d.properties.correlation_id = "corr-1";
  return d;
}

std::string error_of(const std::variant<inbound_command, std::string>& x) {
  auto e = std::get_if<std::string>(&x);
  return e ? *e : std::string{};
}

} // namespace

CAF_TEST(a command is named by its type property or else its routing key) {
  auto d = make_delivery("order.place", "{}");
  auto c = std::get<inbound_command>(identify(d));
  CAF_CHECK_EQUAL(c.command, "order.place");
  CAF_CHECK_EQUAL(c.message_id, "m-1");
  CAF_CHECK_EQUAL(c.correlation_id, "corr-1");
  CAF_CHECK_EQUAL(c.attempts, 0u);
  // A retried copy comes back with the queue's name as routing key; its type names it.
  d.routing_key = "orderd.commands";
  d.properties.type = "inventory.adjust";
  set(d.properties.headers, inbound_headers::attempts, int64_t{2});
  c = std::get<inbound_command>(identify(d));
  CAF_CHECK_EQUAL(c.command, "inventory.adjust");
  CAF_CHECK_EQUAL(c.attempts, 2u);
}

CAF_TEST(a message without id or with an unknown command is poison) {
  auto no_id = make_delivery("order.place", "{}", "");
  CAF_CHECK(error_of(identify(no_id)).find("message_id") != std::string::npos);
  auto unknown = make_delivery("order.explode", "{}");
  CAF_CHECK(error_of(identify(unknown)).find("unknown command") != std::string::npos);
  auto long_id = make_delivery("order.place", "{}", std::string(300, 'x'));
  CAF_CHECK(!error_of(identify(long_id)).empty());
}

CAF_TEST(inventory adjust bodies set or add and name what is wrong) {
  auto add = std::get<stock_command>(decode_inventory_adjust(R"({"sku":"A-1","delta":-3})"));
  CAF_CHECK_EQUAL(add.sku, "A-1");
  CAF_CHECK(!add.set);
  CAF_CHECK_EQUAL(add.amount, -3);
  auto set_to = std::get<stock_command>(decode_inventory_adjust(R"({"sku":"A-1","available":9})"));
  CAF_CHECK(set_to.set);
  CAF_CHECK_EQUAL(set_to.amount, 9);
  auto error = [](std::string_view body) {
    auto r = decode_inventory_adjust(body);
    auto e = std::get_if<std::string>(&r);
    return e ? *e : std::string{};
  };
  CAF_CHECK(error("nope").find("JSON object") != std::string::npos);
  CAF_CHECK(error(R"({"delta":1})").find("sku") != std::string::npos);
  CAF_CHECK(error(R"({"sku":"bad sku!","delta":1})").find("sku") != std::string::npos);
  CAF_CHECK(!error(R"({"sku":"A-1"})").empty());
  CAF_CHECK(!error(R"({"sku":"A-1","delta":1,"available":2})").empty());
  CAF_CHECK(!error(R"({"sku":"A-1","available":-1})").empty());
}

CAF_TEST(order place and cancel bodies are checked like the HTTP api) {
  auto ok = decode_order_place(
    R"({"customer_id":"c","customer_email":"c@example.com","items":[{"sku":"A","quantity":2}]})");
  CAF_REQUIRE(std::holds_alternative<order_request>(ok));
  CAF_CHECK_EQUAL(std::get<order_request>(ok).lines.size(), 1u);
  auto bad = decode_order_place(R"({"customer_id":"c","items":[{"sku":"A","quantity":0}]})");
  CAF_REQUIRE(std::holds_alternative<std::string>(bad));
  CAF_CHECK(std::get<std::string>(bad).find("items[0].quantity") != std::string::npos);
  auto cancel = decode_order_cancel(R"({"order_id":"0195f0c2-3b7a-7cc4-9a51-6f2b8f0e9a11"})");
  CAF_CHECK(std::holds_alternative<cancel_command>(cancel));
  CAF_CHECK(std::holds_alternative<std::string>(decode_order_cancel(R"({"order_id":"x"})")));
  CAF_CHECK(std::holds_alternative<std::string>(decode_order_cancel("[]")));
}

CAF_TEST(payment results name an order and succeeded or failed) {
  auto ok = decode_payment_result(
    R"({"order_id":"0195f0c2-3b7a-7cc4-9a51-6f2b8f0e9a11","status":"succeeded"})");
  CAF_REQUIRE(std::holds_alternative<payment_command>(ok));
  CAF_CHECK(std::get<payment_command>(ok).succeeded);
  auto failed = decode_payment_result(
    R"({"order_id":"0195f0c2-3b7a-7cc4-9a51-6f2b8f0e9a11","status":"failed","reason":"declined"})");
  CAF_REQUIRE(std::holds_alternative<payment_command>(failed));
  CAF_CHECK(!std::get<payment_command>(failed).succeeded);
  CAF_CHECK_EQUAL(std::get<payment_command>(failed).reason, "declined");
  auto bad = decode_payment_result(R"({"order_id":"x","status":"paid","reason":7})");
  CAF_REQUIRE(std::holds_alternative<std::string>(bad));
  auto why = std::get<std::string>(bad);
  CAF_CHECK(why.find("order_id") != std::string::npos);
  CAF_CHECK(why.find("status") != std::string::npos);
  CAF_CHECK(why.find("reason") != std::string::npos);
  CAF_CHECK(std::holds_alternative<std::string>(decode_payment_result("[]")));
  CAF_CHECK(dispose("payment.result", errc::illegal_transition) == disposition::ack);
  CAF_CHECK(dispose("payment.result", errc::not_found) == disposition::dead_letter);
}

CAF_TEST(only failures of the server are retried) {
  CAF_CHECK(dispose("order.place", errc::ok) == disposition::ack);
  for (auto code : {errc::unavailable, errc::storage_failure, errc::internal, errc::conflict})
    CAF_CHECK(dispose("inventory.adjust", code) == disposition::retry);
  for (auto code : {errc::not_found, errc::invalid_input, errc::insufficient_stock,
                    errc::unknown_sku})
    CAF_CHECK(dispose("inventory.adjust", code) == disposition::dead_letter);
  CAF_CHECK(dispose("order.cancel", errc::illegal_transition) == disposition::ack);
  CAF_CHECK(dispose("order.cancel", errc::not_found) == disposition::dead_letter);
}

CAF_TEST(retry delays follow the list and the last one repeats) {
  auto delays = parse_delays("1000,5000,30000");
  CAF_REQUIRE_EQUAL(delays.size(), 3u);
  CAF_CHECK_EQUAL(retry_delay(1, delays).count(), 1000);
  CAF_CHECK_EQUAL(retry_delay(2, delays).count(), 5000);
  CAF_CHECK_EQUAL(retry_delay(3, delays).count(), 30000);
  CAF_CHECK_EQUAL(retry_delay(9, delays).count(), 30000);
  for (auto bad : {"", "0", "1,,2", "1,x", "-5", "1,"}) {
    bool threw = false;
    try {
      parse_delays(bad);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    CAF_CHECK(threw);
  }
}

CAF_TEST(a retry copy goes to the delay queue with the attempt count) {
  auto d = make_delivery("order.cancel", R"({"order_id":"x"})");
  auto c = std::get<inbound_command>(identify(d));
  auto m = retry_copy(d, c, 2, "q.retry.5000ms", "unavailable: store down");
  CAF_CHECK_EQUAL(m.exchange, "");
  CAF_CHECK_EQUAL(m.routing_key, "q.retry.5000ms");
  CAF_CHECK_EQUAL(m.body, d.body);
  CAF_CHECK_EQUAL(m.properties.message_id, "m-1");
  CAF_CHECK_EQUAL(m.properties.type, "order.cancel");
  CAF_CHECK(m.properties.persistent);
  CAF_CHECK_EQUAL(get_int(m.properties.headers, inbound_headers::attempts).value_or(-1), 2);
  CAF_CHECK_EQUAL(get_string(m.properties.headers, inbound_headers::last_error).value_or(""),
                  "unavailable: store down");
  CAF_CHECK_EQUAL(get_string(m.properties.headers, inbound_headers::routing_key).value_or(""),
                  "order.cancel");
}

CAF_TEST(a dead letter carries its reason and is replayed as a fresh command) {
  auto d = make_delivery("inventory.adjust", R"({"sku":"A","delta":1})");
  auto dead = dead_letter_copy(d, "inventory.adjust", 5, "failed 5 attempts",
                               "unavailable: timeout", "q.dlx", "q", 1'700'000'000'000);
  CAF_CHECK_EQUAL(dead.exchange, "q.dlx");
  CAF_CHECK_EQUAL(dead.routing_key, "q");
  // What the DLQ listing shows of it, once it comes back from the queue.
  delivery stored;
  stored.routing_key = "q";
  stored.body = dead.body;
  stored.properties = dead.properties;
  auto info = describe(stored);
  CAF_CHECK_EQUAL(info.id, "m-1");
  CAF_CHECK_EQUAL(info.command, "inventory.adjust");
  CAF_CHECK_EQUAL(info.routing_key, "inventory.adjust");
  CAF_CHECK_EQUAL(info.reason, "failed 5 attempts");
  CAF_CHECK_EQUAL(info.attempts, 5u);
  CAF_CHECK_EQUAL(info.last_error, "unavailable: timeout");
  CAF_CHECK_EQUAL(info.dead_lettered_at, "2023-11-14T22:13:20.000Z");
  CAF_CHECK_EQUAL(info.correlation_id, "corr-1");
  auto replay = replay_copy(stored, "orderd.commands");
  CAF_CHECK_EQUAL(replay.exchange, "orderd.commands");
  CAF_CHECK_EQUAL(replay.routing_key, "inventory.adjust");
  CAF_CHECK_EQUAL(replay.properties.message_id, "m-1");
  CAF_CHECK(!find(replay.properties.headers, inbound_headers::attempts));
  CAF_CHECK(!find(replay.properties.headers, inbound_headers::reason));
  CAF_CHECK_EQUAL(get_int(replay.properties.headers, inbound_headers::replayed).value_or(0), 1);
  // Poison without an id gets one, so it can be listed and replayed.
  auto anonymous = make_delivery("order.place", "x", "");
  auto copy = dead_letter_copy(anonymous, "", 0, "no message_id", "", "q.dlx", "q", 0);
  CAF_CHECK(!copy.properties.message_id.empty());
}
