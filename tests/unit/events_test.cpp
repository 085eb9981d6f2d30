// events/catalogue.hpp (the envelope and the event catalogue, topic patterns) and the mapping of
// an outbox event onto an AMQP message (messaging/amqp_publisher.hpp). No broker, no actors.

#define CAF_SUITE events.wire
#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "domain/time.hpp"
#include "messaging/amqp_publisher.hpp"
#include "messaging/amqp_table.hpp"
#include "events/catalogue.hpp"
#include "observability/trace.hpp"

using namespace orderd;
using json = nlohmann::ordered_json;

namespace {

const events::origin from{"node-1", "corr-1"};
constexpr timestamp_ms at = 1'750'000'000'123;

order sample_order() {
  order o;
  o.id = "0b1c5f0e-8d6f-4f7e-9b44-0d2a7c2b6a10";
  o.customer_id = "cust \"quoted\" \xc3\xa9";
  o.customer_email = "c@example.com";
  o.lines = {{"SKU-A", 2, 150}, {"SKU-B", 1, 300}};
  o.total_cents = 600;
  o.currency = "EUR";
  o.created_at = at;
  o.updated_at = at;
  return o;
}

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> out;
  for (auto& [k, v] : j.items())
    out.insert(k);
  return out;
}

} // namespace

CAF_TEST(every event has the same envelope) {
  auto e = events::order_created(from, sample_order());
  auto j = json::parse(e.payload);
  CAF_CHECK((keys_of(j)
             == std::set<std::string>{"id", "type", "occurred_at", "source", "correlation_id",
                                      "data"}));
  CAF_CHECK(is_uuid(e.id));
  CAF_CHECK_EQUAL(j["id"].get<std::string>(), e.id);
  CAF_CHECK_EQUAL(j["type"].get<std::string>(), "order.created");
  CAF_CHECK_EQUAL(j["occurred_at"].get<std::string>(), format_rfc3339(at));
  CAF_CHECK_EQUAL(j["source"].get<std::string>(), "node-1");
  CAF_CHECK_EQUAL(j["correlation_id"].get<std::string>(), "corr-1");
  // The row's columns repeat what consumers and the relay need without parsing.
  CAF_CHECK_EQUAL(e.type, "order.created");
  CAF_CHECK_EQUAL(e.aggregate, sample_order().id);
  CAF_CHECK_EQUAL(e.occurred_at, at);
  CAF_CHECK_EQUAL(e.correlation_id, "corr-1");
  // Member order is fixed: the envelope starts with its id.
  CAF_CHECK(e.payload.rfind(R"({"id":")" + e.id + R"(","type":"order.created")", 0) == 0);
}

CAF_TEST(order created carries the whole order and escapes text) {
  auto j = json::parse(events::order_created(from, sample_order()).payload)["data"];
  CAF_CHECK_EQUAL(j["customer_id"].get<std::string>(), "cust \"quoted\" \xc3\xa9");
  CAF_CHECK_EQUAL(j["status"].get<std::string>(), "PENDING");
  CAF_CHECK_EQUAL(j["total_cents"].get<int64_t>(), 600);
  CAF_CHECK_EQUAL(j["items"].dump(),
                  R"([{"sku":"SKU-A","quantity":2,"unit_price_cents":150},)"
                  R"({"sku":"SKU-B","quantity":1,"unit_price_cents":300}])");
  CAF_CHECK_EQUAL(j["created_at"].get<std::string>(), format_rfc3339(at));
}

CAF_TEST(every event gets its own id) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i)
    ids.insert(events::order_created(from, sample_order()).id);
  CAF_CHECK_EQUAL(ids.size(), 1000u);
}

CAF_TEST(transitions rejections and stock events have the documented data) {
  auto changed = json::parse(events::order_status_changed(from, "o-1", order_status::pending,
                                                          order_status::cancelled, at)
                               .payload);
  CAF_CHECK_EQUAL(changed["type"].get<std::string>(), "order.status_changed");
  CAF_CHECK_EQUAL(changed["data"].dump(), R"({"id":"o-1","from":"PENDING","to":"CANCELLED"})");
  auto processing = events::order_processing(from, "o-1", order_status::pending,
                                             order_status::processing, at);
  CAF_CHECK_EQUAL(processing.type, "order.processing");
  CAF_CHECK_EQUAL(json::parse(processing.payload)["data"]["to"].get<std::string>(), "PROCESSING");
  for (auto [to, type] : {std::pair{order_status::confirmed, "order.confirmed"},
                          std::pair{order_status::shipped, "order.shipped"},
                          std::pair{order_status::delivered, "order.delivered"}}) {
    auto milestone = events::order_milestone(from, "o-1", order_status::processing, to, at);
    CAF_CHECK_EQUAL(milestone.type, type);
    CAF_CHECK_EQUAL(json::parse(milestone.payload)["data"]["to"].get<std::string>(),
                    std::string{to_string(to)});
  }
  auto failed = sample_order();
  failed.status = order_status::cancelled;
  failed.cancel_reason = "payment_failed";
  auto cancelled = json::parse(events::order_cancelled(from, failed).payload)["data"];
  CAF_CHECK_EQUAL(cancelled["cancel_reason"].get<std::string>(), "payment_failed");
  CAF_CHECK(!json::parse(events::order_created(from, sample_order()).payload)["data"].contains(
    "cancel_reason"));
  auto rejected = events::stock_rejected(from, "attempt-1", "cust-1",
                                         {{"SKU-A", 5, 2}, {"SKU-B", 3, 0}}, at);
  CAF_CHECK_EQUAL(rejected.aggregate, "attempt-1");
  CAF_CHECK_EQUAL(json::parse(rejected.payload)["data"].dump(),
                  R"({"customer_id":"cust-1","correlation_id":"corr-1","items":[)"
                  R"({"sku":"SKU-A","requested":5,"available":2},)"
                  R"({"sku":"SKU-B","requested":3,"available":0}]})");
  stock_snapshot s{{"SKU-A", 3, 7, 11, 42}, 5};
  auto updated = events::inventory_updated(from, s, at);
  CAF_CHECK_EQUAL(updated.aggregate, "SKU-A");
  CAF_CHECK_EQUAL(json::parse(updated.payload)["data"].dump(),
                  R"({"sku":"SKU-A","available":3,"reserved":7,"sold":11,"version":42})");
  auto low = events::inventory_low(from, s, at);
  CAF_CHECK_EQUAL(low.type, "inventory.low");
  CAF_CHECK_EQUAL(json::parse(low.payload)["data"].dump(),
                  R"({"sku":"SKU-A","available":3,"reserved":7,"low_stock_threshold":5,)"
                  R"("version":42})");
}

CAF_TEST(invalid utf8 in a header value never breaks rendering) {
  events::origin odd{"node", std::string{"bad \xff\xfe id"}};
  auto e = events::inventory_updated(odd, stock_snapshot{{"SKU-A", 1, 0, 0, 1}, 0}, at);
  auto j = json::parse(e.payload); // valid JSON: the bytes were replaced
  CAF_CHECK(j["correlation_id"].get<std::string>().find("bad") == 0);
}

CAF_TEST(topic patterns match like rabbitmq topic exchanges) {
  using events::topic_matches;
  CAF_CHECK(topic_matches("#", "order.created"));
  CAF_CHECK(topic_matches("#", ""));
  CAF_CHECK(topic_matches("order.*", "order.created"));
  CAF_CHECK(!topic_matches("order.*", "order.created.late"));
  CAF_CHECK(!topic_matches("order.*", "order"));
  CAF_CHECK(topic_matches("order.#", "order"));
  CAF_CHECK(topic_matches("order.#", "order.created.late"));
  CAF_CHECK(topic_matches("*.created", "order.created"));
  CAF_CHECK(!topic_matches("*.created", "order.cancelled"));
  CAF_CHECK(topic_matches("#.low", "inventory.low"));
  CAF_CHECK(topic_matches("#.low", "low"));
  CAF_CHECK(!topic_matches("#.low", "inventory.lower"));
  CAF_CHECK(topic_matches("a.#.z", "a.z"));
  CAF_CHECK(topic_matches("a.#.z", "a.b.c.z"));
  CAF_CHECK(!topic_matches("a.#.z", "a.b.c"));
  CAF_CHECK(topic_matches("inventory.updated", "inventory.updated"));
  CAF_CHECK(!topic_matches("inventory.updated", "inventory"));
  CAF_CHECK(!topic_matches("inventory", "inventory.updated"));
  CAF_CHECK(topic_matches("*", "order"));
  CAF_CHECK(!topic_matches("*", "order.created"));
}

CAF_TEST(an outbox event becomes a persistent amqp message keyed by its type) {
  auto e = events::order_created(from, sample_order());
  auto m = messaging::to_message(e, "orderd.events");
  CAF_CHECK_EQUAL(m.exchange, "orderd.events");
  CAF_CHECK_EQUAL(m.routing_key, "order.created");
  CAF_CHECK_EQUAL(m.body, e.payload);
  CAF_CHECK_EQUAL(m.properties.message_id, e.id);
  CAF_CHECK_EQUAL(m.properties.correlation_id, "corr-1");
  CAF_CHECK_EQUAL(m.properties.type, "order.created");
  CAF_CHECK_EQUAL(m.properties.content_type, "application/json");
  CAF_CHECK(m.properties.persistent);
  CAF_REQUIRE(m.properties.timestamp.has_value());
  CAF_CHECK_EQUAL(*m.properties.timestamp, at / 1000);
  CAF_CHECK(!m.mandatory);
}

CAF_TEST(an amqp message carries the trace of its correlation id as traceparent) {
  events::origin traced{"node-a", "4bf92f3577b34da6a3ce929d0e0e4736"};
  auto e = events::order_created(traced, sample_order());
  auto m = messaging::to_message(e, "orderd.events");
  auto header = messaging::get_string(m.properties.headers, "traceparent");
  CAF_REQUIRE(header.has_value());
  auto parsed = observability::parse_traceparent(*header);
  CAF_REQUIRE(parsed.has_value());
  CAF_CHECK_EQUAL(parsed->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  auto id_digits = e.id;
  id_digits.erase(std::remove(id_digits.begin(), id_digits.end(), '-'), id_digits.end());
  CAF_CHECK_EQUAL(parsed->span_id, id_digits.substr(16));
  // Any other correlation id maps to a stable trace id.
  auto other = messaging::to_message(events::order_created(from, sample_order()), "x");
  auto again = messaging::to_message(events::order_created(from, sample_order()), "x");
  auto a = observability::parse_traceparent(*messaging::get_string(other.properties.headers,
                                                                   "traceparent"));
  auto b = observability::parse_traceparent(*messaging::get_string(again.properties.headers,
                                                                   "traceparent"));
  CAF_REQUIRE(a && b);
  CAF_CHECK_EQUAL(a->trace_id, b->trace_id);
  CAF_CHECK_NOT_EQUAL(a->span_id, b->span_id);
}
