#define CAF_SUITE json_codec
#include <caf/test/dsl.hpp>

#include "wire/json_codec.hpp"
#include "samples.hpp"
#include "wire/problem.hpp"

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

using namespace orderd;
using namespace orderd::wire;
using namespace orderd::samples;
using json = nlohmann::json;

namespace {

std::string fields_of(const field_errors& errs) {
  std::string result;
  for (auto& e : errs)
    result += (result.empty() ? "" : ", ") + e.field + ": " + e.message;
  return result;
}

/// Checks that decoding failed with exactly these field paths (in any order).
template <class T>
void check_fields(const decoded<T>& r, std::vector<std::string> expected) {
  if (r.ok()) {
    CAF_FAIL("decoding succeeded, expected errors on " << expected.size() << " fields");
    return;
  }
  std::vector<std::string> got;
  for (auto& e : r.errors())
    got.push_back(e.field);
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  if (got != expected)
    CAF_FAIL("unexpected errors: " << fields_of(r.errors()));
  else
    CAF_CHECK(true);
}

/// The message of the error on `field`, or "" if none.
template <class T>
std::string message_of(const decoded<T>& r, const std::string& field) {
  if (r.ok())
    return "";
  for (auto& e : r.errors())
    if (e.field == field)
      return e.message;
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> keys_of(const nlohmann::ordered_json& j) {
  std::vector<std::string> result;
  for (auto& member : j.items())
    result.push_back(member.key());
  return result;
}

std::string order_body(const std::string& items) {
  return R"({"customer_id":"c1","customer_email":"c1@example.com","items":)" + items + "}";
}

} // namespace

// -- products ----------------------------------------------------------------------------------

CAF_TEST(a product encodes every field in spec order) {
  auto j = to_json(sample_product());
  CAF_CHECK_EQUAL(keys_of(j), (std::vector<std::string>{
                                "sku", "name", "description", "category", "price_cents",
                                "currency", "available", "reserved", "sold",
                                "low_stock_threshold", "version", "created_at", "updated_at"}));
  auto parsed = json::parse(encode(sample_product()));
  CAF_CHECK_EQUAL(parsed["price_cents"].get<int64_t>(), 1250);
  CAF_CHECK_EQUAL(parsed["reserved"].get<int64_t>(), 2);
  CAF_CHECK_EQUAL(parsed["description"].get<std::string>(), sample_product().description);
  CAF_CHECK_EQUAL(parsed["created_at"].get<std::string>(), "2026-11-21T23:49:07.123Z");
  CAF_CHECK_EQUAL(parsed["updated_at"].get<std::string>(), "2026-11-21T23:50:07.123Z");
}

CAF_TEST(a product survives encode then decode as a create body) {
  auto p = sample_product();
  auto r = decode_product_create(encode(p));
  CAF_REQUIRE(r.ok());
  // Server-owned fields are not taken from the body.
  p.reserved = 0;
  p.sold = 0;
  p.version = 0;
  p.created_at = 0;
  p.updated_at = 0;
  CAF_CHECK(r.value() == p);
}

CAF_TEST(a create body needs only sku name and price) {
  auto r = decode_product_create(R"({"sku":"A-1","name":"Thing","price_cents":100})");
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(r.value().description, "");
  CAF_CHECK_EQUAL(r.value().category, "");
  CAF_CHECK_EQUAL(r.value().currency, "USD");
  CAF_CHECK_EQUAL(r.value().available, 0);
  CAF_CHECK_EQUAL(r.value().low_stock_threshold, 0);
  check_fields(decode_product_create("{}"), {"sku", "name", "price_cents"});
  CAF_CHECK_EQUAL(message_of(decode_product_create("{}"), "name"), "is required");
}

CAF_TEST(a create body reports type and domain errors together) {
  auto r = decode_product_create(R"({"sku":"bad sku!","name":7,"price_cents":-1,
                                     "currency":"usd","available":-5,"description":null,
                                     "low_stock_threshold":1.5})");
  check_fields(r, {"sku", "name", "price_cents", "currency", "available", "description",
                   "low_stock_threshold"});
  CAF_CHECK_EQUAL(message_of(r, "name"), "must be a string");
  CAF_CHECK(contains(message_of(r, "description"), "null"));
  CAF_CHECK(contains(message_of(r, "low_stock_threshold"), "integer"));
}

CAF_TEST(an update body replaces the details and requires name and price) {
  auto r = decode_product_update(R"({"name":"New","price_cents":5,"sku":"ignored",
                                     "available":99})");
  CAF_REQUIRE(r.ok());
  CAF_CHECK(r.value() == (product_details{"New", "", "", 5, "USD", 0}));
  r = decode_product_update(R"({"name":"N","description":"d","category":"c","price_cents":5,
                                "currency":"EUR","low_stock_threshold":3})");
  CAF_REQUIRE(r.ok());
  CAF_CHECK(r.value() == (product_details{"N", "d", "c", 5, "EUR", 3}));
  check_fields(decode_product_update(R"({"description":"x"})"), {"name", "price_cents"});
}

CAF_TEST(a stock body sets or adjusts) {
  auto r = decode_stock_update(R"({"available":12})");
  CAF_REQUIRE(r.ok());
  CAF_CHECK(r.value() == (stock_update{stock_update::kind::set, 12}));
  r = decode_stock_update(R"({"delta":-3})");
  CAF_REQUIRE(r.ok());
  CAF_CHECK(r.value() == (stock_update{stock_update::kind::adjust, -3}));
  check_fields(decode_stock_update(R"({"available":1,"delta":1})"), {"body"});
  check_fields(decode_stock_update(R"({})"), {"body"});
  check_fields(decode_stock_update(R"({"available":-1})"), {"available"});
  check_fields(decode_stock_update(R"({"available":"5"})"), {"available"});
  check_fields(decode_stock_update(R"({"delta":2.5})"), {"delta"});
  check_fields(decode_stock_update(R"({"delta":null})"), {"delta"});
  check_fields(decode_stock_update(R"({"delta":-1000000000001})"), {"delta"});
}

CAF_TEST(a stock level encodes its figures) {
  auto j = json::parse(encode(stock_level{"S", 1, 2, 3, 4}));
  CAF_CHECK_EQUAL(j.dump(), R"({"available":1,"reserved":2,"sku":"S","sold":3,"version":4})");
}

// -- order requests ----------------------------------------------------------------------------

CAF_TEST(an order request decodes) {
  auto r = decode_order_request(order_body(R"([{"sku":"A","quantity":2},{"sku":"B",
                                                "quantity":1,"unit_price_cents":1}])"));
  CAF_REQUIRE(r.ok());
  CAF_CHECK(r.value() == (order_request{"c1", "c1@example.com", {{"A", 2}, {"B", 1}}}));
}

CAF_TEST(unknown members are ignored) {
  auto r = decode_order_request(R"({"customer_id":"c1","customer_email":"c1@example.com",
      "note":{"deep":[1,2]},"items":[{"sku":"A","quantity":1,"gift":true}]})");
  CAF_CHECK(r.ok());
}

CAF_TEST(malformed JSON is one body error with the position) {
  auto r = decode_order_request(R"({"customer_id": "c1",)");
  check_fields(r, {"body"});
  CAF_CHECK(contains(message_of(r, "body"), "line 1, column"));
  CAF_CHECK(contains(message_of(r, "body"), "malformed JSON"));
  check_fields(decode_order_request(""), {"body"});
  check_fields(decode_order_request("{\"a\":1} trailing"), {"body"});
  check_fields(decode_order_request("[1,2]"), {"body"});
  CAF_CHECK_EQUAL(message_of(decode_order_request("[1,2]"), "body"), "must be a JSON object");
  check_fields(decode_order_request("\"\xff\""), {"body"});
  // nlohmann refuses numbers beyond double range while parsing.
  check_fields(decode_order_request(order_body(R"([{"sku":"A","quantity":1e400}])")), {"body"});
}

CAF_TEST(a quantity must be an exact int64 integer) {
  for (auto bad : {R"("2")", "1.5", "1.0", "1e3", "true", "null", "9223372036854775808",
                   "18446744073709551616", "-9223372036854775809", "[1]"}) {
    auto r = decode_order_request(
      order_body(std::string{R"([{"sku":"A","quantity":1},{"sku":"B","quantity":)"} + bad
                 + "}]"));
    CAF_MESSAGE("quantity " << bad);
    check_fields(r, {"items[1].quantity"});
  }
}

CAF_TEST(domain validation runs in the same call) {
  auto r = decode_order_request(R"({"customer_id":"","customer_email":"nope",
      "items":[{"sku":"A","quantity":0},{"sku":"bad sku","quantity":-2},{"quantity":1}]})");
  check_fields(r, {"customer_id", "customer_email", "items[0].quantity", "items[1].sku",
                   "items[1].quantity", "items[2].sku"});
  CAF_CHECK_EQUAL(message_of(r, "items[2].sku"), "is required");
}

CAF_TEST(missing and mistyped structure names the path) {
  check_fields(decode_order_request(R"({})"), {"customer_id", "customer_email", "items"});
  check_fields(decode_order_request(order_body("{}")), {"items"});
  check_fields(decode_order_request(order_body("null")), {"items"});
  check_fields(decode_order_request(order_body("[]")), {"items"});
  check_fields(decode_order_request(order_body(R"([{"sku":"A","quantity":1}, 5])")),
               {"items[1]"});
  check_fields(decode_order_request(
                 R"({"customer_id":null,"customer_email":"a@b.c","items":[{"sku":"A","quantity":1}]})"),
               {"customer_id"});
}

CAF_TEST(too many lines is one error) {
  std::string items = "[";
  for (int i = 0; i < 101; ++i)
    items += std::string{i == 0 ? "" : ","} + R"({"sku":"A","quantity":"x"})";
  items += "]";
  auto r = decode_order_request(order_body(items));
  check_fields(r, {"items"});
  CAF_CHECK(contains(message_of(r, "items"), "at most 100"));
}

// -- orders ------------------------------------------------------------------------------------

CAF_TEST(an order encodes in the v1 format) {
  auto j = to_json(sample_order());
  CAF_CHECK_EQUAL(keys_of(j), (std::vector<std::string>{
                                "id", "customer_id", "customer_email", "status", "items",
                                "total_cents", "currency", "created_at", "updated_at"}));
  CAF_CHECK_EQUAL(
    encode(sample_order()),
    R"({"id":"ord_1","customer_id":"cust-7","customer_email":"a@example.com",)"
    R"("status":"PROCESSING","items":[{"sku":"SKU-1","quantity":2,"unit_price_cents":1250},)"
    R"({"sku":"SKU-2","quantity":1,"unit_price_cents":1999}],"total_cents":4499,)"
    R"("currency":"USD","created_at":"2026-11-21T23:49:07.123Z",)"
    R"("updated_at":"2026-11-21T23:50:07.123Z"})");
  auto parsed = json::parse(encode(sample_order()));
  CAF_CHECK_EQUAL(parse_rfc3339(parsed["created_at"].get<std::string>()).value_or(0), t1);
}

CAF_TEST(the hand rendered order is byte for byte what nlohmann renders) {
  // encode(order) and the order events skip the nlohmann tree; dump(to_json(o)) is the reference.
  std::vector<order> cases;
  cases.push_back(sample_order());
  auto odd = sample_order();
  odd.customer_id = "cust \"quoted\" back\\slash \t tab \x01 ctl \xc3\xa9 \xe2\x82\xac";
  odd.customer_email = "bad utf-8 \xff\xfe here";
  odd.lines.front().sku = "SKU/\u00e9?";
  odd.cancel_reason = "payment_failed";
  odd.status = order_status::cancelled;
  odd.total_cents = -1;
  odd.created_at = -1;
  cases.push_back(odd);
  auto empty = sample_order();
  empty.lines.clear();
  empty.id.clear();
  empty.customer_email.clear();
  cases.push_back(empty);
  for (auto& o : cases)
    CAF_CHECK_EQUAL(encode(o), dump(to_json(o)));
}

CAF_TEST(a legacy order uses product_id and prices in currency units) {
  auto j = json::parse(encode_legacy(sample_order()));
  CAF_CHECK_EQUAL(j["id"].get<std::string>(), "ord_1");
  CAF_CHECK_EQUAL(j["status"].get<std::string>(), "PROCESSING");
  auto& item = j["items"][0];
  CAF_CHECK_EQUAL(item["product_id"].get<std::string>(), "SKU-1");
  CAF_CHECK_EQUAL(item["quantity"].get<int64_t>(), 2);
  CAF_CHECK_EQUAL(item["price"].get<double>(), 12.5);
  CAF_CHECK(!item.contains("sku"));
  CAF_CHECK(contains(encode_legacy(sample_order()), R"("price":19.99)"));
  CAF_CHECK_EQUAL(j["total"].get<double>(), 44.99);
  CAF_CHECK_EQUAL(j["created_at"].get<std::string>(), "2026-11-21T23:49:07.123Z");
  CAF_CHECK(j.contains("updated_at"));
  CAF_CHECK(j.contains("customer_id"));
}

CAF_TEST(a legacy create body maps product_id and ignores price) {
  auto r = decode_legacy_order_request(R"({"customer_id":"c1","items":[
      {"product_id":"A","quantity":2,"price":0.01},{"sku":"B","quantity":1}]})");
  CAF_REQUIRE(r.ok());
  CAF_CHECK(r.value() == (order_request{"c1", "", {{"A", 2}, {"B", 1}}}));
  r = decode_legacy_order_request(R"({"customer_id":"c1","customer_email":"c@d.ef",
      "items":[{"product_id":"A","quantity":1}]})");
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(r.value().customer_email, "c@d.ef");
}

CAF_TEST(legacy errors name the member the client used) {
  auto r = decode_legacy_order_request(R"({"customer_id":"c1","items":[
      {"product_id":"bad id","quantity":1},{"sku":"bad sku","quantity":1},{"quantity":1},
      {"product_id":"A","quantity":1.5}]})");
  check_fields(r, {"items[0].product_id", "items[1].sku", "items[2].product_id",
                   "items[3].quantity"});
  check_fields(decode_legacy_order_request(R"({"customer_id":"c1","customer_email":"x",
      "items":[{"product_id":"A","quantity":1}]})"), {"customer_email"});
}

CAF_TEST(lists carry a cursor or null) {
  std::vector<product> products{sample_product()};
  auto j = json::parse(encode_products(products, std::string{"abc"}));
  CAF_CHECK_EQUAL(j["items"].size(), 1u);
  CAF_CHECK_EQUAL(j["next_cursor"].get<std::string>(), "abc");
  std::vector<order> orders{sample_order(), sample_order()};
  j = json::parse(encode_orders(orders, std::nullopt));
  CAF_CHECK_EQUAL(j["items"].size(), 2u);
  CAF_CHECK(j["next_cursor"].is_null());
  CAF_CHECK_EQUAL(j["items"][0]["total_cents"].get<int64_t>(), 4499);
  j = json::parse(encode_legacy_orders(orders, std::string{"n"}));
  CAF_CHECK_EQUAL(j["orders"].size(), 2u);
  CAF_CHECK_EQUAL(j["orders"][1]["items"][0]["price"].get<double>(), 12.5);
  CAF_CHECK_EQUAL(j["next_cursor"].get<std::string>(), "n");
  CAF_CHECK_EQUAL(encode_orders({}, std::nullopt), R"({"items":[],"next_cursor":null})");
}

CAF_TEST(encoding never throws on invalid UTF-8) {
  auto p = sample_product();
  p.name = "bad \xff\xfe byte";
  std::string out;
  try {
    out = encode(p);
  } catch (...) {
    CAF_FAIL("encode threw");
  }
  CAF_CHECK(contains(out, "bad \xEF\xBF\xBD"));
}

// -- problems ----------------------------------------------------------------------------------

CAF_TEST(the status map covers every code) {
  CAF_CHECK_EQUAL(http_status(errc::invalid_input), 400);
  CAF_CHECK_EQUAL(http_status(errc::not_found), 404);
  CAF_CHECK_EQUAL(http_status(errc::unknown_sku), 422);
  CAF_CHECK_EQUAL(http_status(errc::insufficient_stock), 409);
  CAF_CHECK_EQUAL(http_status(errc::conflict), 409);
  CAF_CHECK_EQUAL(http_status(errc::illegal_transition), 409);
  CAF_CHECK_EQUAL(http_status(errc::idempotency_mismatch), 422);
  CAF_CHECK_EQUAL(http_status(errc::idempotency_in_flight), 409);
  CAF_CHECK_EQUAL(http_status(errc::currency_mismatch), 422);
  CAF_CHECK_EQUAL(http_status(errc::unavailable), 503);
  CAF_CHECK_EQUAL(http_status(errc::storage_failure), 500);
  CAF_CHECK_EQUAL(http_status(errc::internal), 500);
}

CAF_TEST(a problem body has type title status and detail) {
  auto j = json::parse(encode(make_problem(errc::not_found, "order ord_9 does not exist")));
  CAF_CHECK_EQUAL(j.dump(), R"({"detail":"order ord_9 does not exist","status":404,)"
                            R"("title":"Not found","type":"https://orderd.dev/problems/not-found"})");
  CAF_CHECK_EQUAL(to_json(make_problem(errc::conflict)).at("detail").get<std::string>(),
                  "Conflict");
  CAF_CHECK_EQUAL(problem_type(errc::insufficient_stock),
                  "https://orderd.dev/problems/insufficient-stock");
  CAF_CHECK_EQUAL(make_problem(errc::ok).status, 500);
  CAF_CHECK_EQUAL(std::string{problem_media_type}, "application/problem+json");
}

CAF_TEST(an invalid input problem lists the field errors) {
  auto r = decode_order_request(order_body(R"([{"sku":"A","quantity":"2"}])"));
  CAF_REQUIRE(!r.ok());
  auto j = to_json(invalid_input_problem(r.errors()));
  CAF_CHECK_EQUAL(keys_of(j),
                  (std::vector<std::string>{"type", "title", "status", "detail", "errors"}));
  CAF_CHECK_EQUAL(j["status"].get<int>(), 400);
  CAF_CHECK_EQUAL(j["errors"][0]["field"].get<std::string>(), "items[0].quantity");
  CAF_CHECK_EQUAL(j["errors"][0]["message"].get<std::string>(), "must be an integer");
}

CAF_TEST(an insufficient stock problem lists the short items) {
  std::vector<short_line> lines{{"A", 5, 2}};
  auto p = insufficient_stock_problem(lines);
  CAF_CHECK_EQUAL(p.status, 409);
  auto j = json::parse(encode(p));
  CAF_CHECK_EQUAL(j["type"].get<std::string>(), "https://orderd.dev/problems/insufficient-stock");
  CAF_CHECK_EQUAL(j["short_items"].dump(), R"([{"available":2,"requested":5,"sku":"A"}])");
  std::vector<std::string> skus{"X", "Y"};
  j = json::parse(encode(unknown_sku_problem(skus)));
  CAF_CHECK_EQUAL(j["status"].get<int>(), 422);
  CAF_CHECK_EQUAL(j["unknown_skus"].dump(), R"(["X","Y"])");
}

CAF_TEST(extensions cannot override standard members) {
  auto p = make_problem(errc::conflict, "d");
  p.extensions = nlohmann::ordered_json{{"status", 200}, {"retry", true}};
  auto j = to_json(p);
  CAF_CHECK_EQUAL(j["status"].get<int>(), 409);
  CAF_CHECK(j["retry"].get<bool>());
}

CAF_TEST(transport problems have their own types and statuses) {
  auto j = to_json(payload_too_large_problem(1024));
  CAF_CHECK_EQUAL(j["status"].get<int>(), 413);
  CAF_CHECK_EQUAL(j["type"].get<std::string>(), "https://orderd.dev/problems/payload-too-large");
  CAF_CHECK_EQUAL(j["max_body_bytes"].get<size_t>(), 1024u);
  j = to_json(unsupported_media_type_problem("text/plain"));
  CAF_CHECK_EQUAL(j["status"].get<int>(), 415);
  CAF_CHECK(contains(j["detail"].get<std::string>(), "text/plain"));
  j = to_json(no_route_problem("GET", "/nope"));
  CAF_CHECK_EQUAL(j["status"].get<int>(), 404);
  CAF_CHECK_EQUAL(j["type"].get<std::string>(), "https://orderd.dev/problems/no-route");
  std::vector<std::string_view> allowed{"GET", "POST"};
  j = to_json(method_not_allowed_problem("DELETE", allowed));
  CAF_CHECK_EQUAL(j["status"].get<int>(), 405);
  CAF_CHECK_EQUAL(j["allowed"].dump(), R"(["GET","POST"])");
}

// -- customers and carts ------------------------------------------------------------------------

CAF_TEST(a customer body needs a name and an e-mail and defaults the rest) {
  auto ok = decode_customer(R"({"name":"Ada","email":"ada@example.com","id":"ignored"})");
  CAF_REQUIRE(ok.ok());
  CAF_CHECK(ok.value() == (customer_details{"Ada", "ada@example.com", "", ""}));
  auto full = decode_customer(
    R"({"name":"Ada","email":"ada@example.com","phone":"+1 555 0100","address":"1 Main St"})");
  CAF_REQUIRE(full.ok());
  CAF_CHECK_EQUAL(full.value().phone, "+1 555 0100");
  check_fields(decode_customer("{}"), {"name", "email"});
  check_fields(decode_customer(R"({"name":42,"email":"nope","phone":null})"),
               {"name", "email", "phone"});
  check_fields(decode_customer(R"({"name":"Ada","email":"a@b.co","phone":"call"})"), {"phone"});
  check_fields(decode_customer("[1]"), {"body"});
  check_fields(decode_customer(R"({"name":)"), {"body"});
}

CAF_TEST(a customer encodes every field in spec order) {
  customer c;
  c.id = "5d2c1c9e-4a7b-4f1e-9a51-0c7e3b2d8f44";
  c.details = {"Ada", "ada@example.com", "", "1 Main St"};
  c.version = 2;
  c.created_at = t1;
  c.updated_at = t2;
  auto j = to_json(c);
  CAF_CHECK(keys_of(j) == (std::vector<std::string>{"id", "name", "email", "phone", "address",
                                                     "version", "created_at", "updated_at"}));
  CAF_CHECK_EQUAL(j["phone"].get<std::string>(), "");
  CAF_CHECK_EQUAL(j["created_at"].get<std::string>(), "2026-11-21T23:49:07.123Z");
  auto list = json::parse(encode_customers(std::vector<customer>{c}, std::nullopt));
  CAF_CHECK(list["next_cursor"].is_null());
  CAF_CHECK_EQUAL(list["items"].size(), 1u);
}

CAF_TEST(a cart item body needs a valid sku and quantity) {
  auto ok = decode_cart_item(R"({"sku":"MUG-1","quantity":3})");
  CAF_REQUIRE(ok.ok());
  CAF_CHECK(ok.value() == (requested_line{"MUG-1", 3}));
  check_fields(decode_cart_item("{}"), {"sku", "quantity"});
  check_fields(decode_cart_item(R"({"sku":"bad sku","quantity":0})"), {"sku", "quantity"});
  check_fields(decode_cart_item(R"({"sku":"A","quantity":1000001})"), {"quantity"});
  check_fields(decode_cart_item(R"({"sku":"A","quantity":1.5})"), {"quantity"});
  check_fields(decode_cart_item(R"({"sku":"A","quantity":"2"})"), {"quantity"});
}

CAF_TEST(a priced cart shows unknown prices and totals as null) {
  auto c = sample_cart();
  auto j = to_json(price_cart(c, false, {{"A", 150, "USD"}, {"GONE", std::nullopt, ""}}));
  CAF_CHECK(keys_of(j) == (std::vector<std::string>{"customer_id", "status", "items",
                                                     "total_cents", "currency", "short_items",
                                                     "version", "created_at", "updated_at"}));
  CAF_CHECK_EQUAL(j["status"].get<std::string>(), "stock_unavailable");
  CAF_CHECK_EQUAL(j["items"][0]["line_total_cents"].get<int64_t>(), 300);
  CAF_CHECK(j["items"][1]["unit_price_cents"].is_null());
  CAF_CHECK(j["total_cents"].is_null());
  CAF_CHECK_EQUAL(j["short_items"].dump(), R"([{"sku":"A","requested":2,"available":1}])");
  auto locked = to_json(price_cart(c, true, {}));
  CAF_CHECK_EQUAL(locked["status"].get<std::string>(), "locked");
}

// -- notifications ------------------------------------------------------------------------------

CAF_TEST(a notification body is checked against its channel) {
  auto ok = decode_notification_request(
    R"({"channel":"email","recipient":"ada@example.com","subject":"Hi","body":"Hello"})");
  CAF_REQUIRE(ok.ok());
  CAF_CHECK_EQUAL(ok.value().channel, "email");
  CAF_CHECK(decode_notification_request(
              R"({"channel":"webhook","recipient":"http://h.example/x","subject":"Hi"})")
              .ok());
  check_fields(decode_notification_request("{}"), {"channel", "recipient", "subject"});
  check_fields(decode_notification_request(
                 R"({"channel":"fax","recipient":"ada@example.com","subject":"Hi"})"),
               {"channel"});
  check_fields(decode_notification_request(
                 R"({"channel":"email","recipient":"http://x","subject":"Hi"})"),
               {"recipient"});
  check_fields(decode_notification_request(
                 R"({"channel":"push","recipient":"cust-1","subject":"Hi"})"),
               {"recipient"});
  check_fields(decode_notification_request(
                 R"({"channel":"email","recipient":"a@b.co","subject":"a\nb","body":7})"),
               {"subject", "body"});
  check_fields(decode_notification_request("[1]"), {"body"});
}

CAF_TEST(a notification encodes every field in spec order with nulls for the unset ones) {
  notification n;
  n.id = "5d2c1c9e-4a7b-4f1e-9a51-0c7e3b2d8f44";
  n.channel = notification_channel::webhook;
  n.recipient = "http://h.example/x";
  n.subject = "Hi";
  n.status = notification_status::failed;
  n.attempts = 5;
  n.last_error = "webhook answered HTTP 500";
  n.created_at = t1;
  n.updated_at = t2;
  auto j = to_json(n);
  CAF_CHECK(keys_of(j) == (std::vector<std::string>{"id", "channel", "recipient", "subject",
                                                     "body", "status", "attempts", "last_error",
                                                     "customer_id", "event_id", "event_type",
                                                     "created_at", "updated_at"}));
  CAF_CHECK_EQUAL(j["channel"].get<std::string>(), "webhook");
  CAF_CHECK_EQUAL(j["status"].get<std::string>(), "FAILED");
  CAF_CHECK(j["event_id"].is_null());
  CAF_CHECK(j["customer_id"].is_null());
  auto list = json::parse(encode_notifications(std::vector<notification>{n}, "abc"));
  CAF_CHECK_EQUAL(list["next_cursor"].get<std::string>(), "abc");
}
