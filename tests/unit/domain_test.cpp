// The plain C++ domain: order state machine, stock arithmetic, validation, ids and time.

#define CAF_SUITE domain
#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "domain/cart.hpp"
#include "domain/customer.hpp"
#include "domain/ids.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/time.hpp"
#include "domain/validation.hpp"
#include "domain/shard.hpp"

using namespace orderd;

namespace {

using s = order_status;

const std::vector<order_status> all_statuses = {s::pending,  s::processing, s::confirmed,
                                                s::shipped,  s::delivered,  s::cancelled};

std::string name(order_status x) {
  return std::string{to_string(x)};
}

/// Field names of the errors, in order.
std::vector<std::string> fields(const field_errors& errs) {
  std::vector<std::string> out;
  for (auto& e : errs)
    out.push_back(e.field);
  return out;
}

bool has_field(const field_errors& errs, const std::string& field) {
  for (auto& e : errs)
    if (e.field == field)
      return true;
  return false;
}

order_request valid_request() {
  order_request req;
  req.customer_id = "customer-1";
  req.customer_email = "jane@example.com";
  req.lines = {{"SKU-1", 2}, {"sku_2.b", 1}};
  return req;
}

product valid_product() {
  product p;
  p.sku = "SKU-1";
  p.name = "Widget";
  p.description = "A widget";
  p.category = "tools";
  p.price_cents = 1999;
  p.currency = "EUR";
  p.available = 10;
  p.low_stock_threshold = 2;
  return p;
}

} // namespace

// -- state machine ---------------------------------------------------------------------------

CAF_TEST(the state machine allows exactly the documented transitions) {
  const std::set<std::pair<order_status, order_status>> legal = {
    {s::pending, s::processing}, {s::pending, s::cancelled},  {s::processing, s::confirmed},
    {s::processing, s::cancelled}, {s::confirmed, s::shipped},  {s::shipped, s::delivered},
  };
  for (auto from : all_statuses)
    for (auto to : all_statuses) {
      bool expected = legal.count({from, to}) > 0;
      CAF_CHECK_EQUAL(can_transition(from, to), expected);
      if (can_transition(from, to) != expected)
        CAF_MESSAGE("wrong answer for " << name(from) << " -> " << name(to));
    }
}

CAF_TEST(a sample of illegal transitions is refused) {
  CAF_CHECK(can_transition(s::processing, s::cancelled)); // a failed payment (compensation)
  CAF_CHECK(customer_may_cancel(s::pending));
  CAF_CHECK(!customer_may_cancel(s::processing)); // only the payment decides then
  CAF_CHECK(is_fulfilment_status(s::shipped) && is_fulfilment_status(s::delivered));
  CAF_CHECK(!is_fulfilment_status(s::confirmed) && !is_fulfilment_status(s::cancelled));
  CAF_CHECK_EQUAL(status_after_payment(true), s::confirmed);
  CAF_CHECK_EQUAL(status_after_payment(false), s::cancelled);
  CAF_CHECK(!can_transition(s::confirmed, s::cancelled));
  CAF_CHECK(!can_transition(s::pending, s::confirmed));    // no skipping
  CAF_CHECK(!can_transition(s::pending, s::delivered));
  CAF_CHECK(!can_transition(s::delivered, s::pending));    // no going back
  CAF_CHECK(!can_transition(s::shipped, s::processing));
  CAF_CHECK(!can_transition(s::cancelled, s::pending));
  CAF_CHECK(!can_transition(s::pending, s::pending));      // no self loops
  CAF_CHECK(!can_transition(s::cancelled, s::cancelled));
}

CAF_TEST(only delivered and cancelled are final and final states have no way out) {
  for (auto x : all_statuses) {
    bool expected = x == s::delivered || x == s::cancelled;
    CAF_CHECK_EQUAL(is_final(x), expected);
    if (is_final(x))
      for (auto to : all_statuses)
        CAF_CHECK(!can_transition(x, to));
  }
}

CAF_TEST(statuses print upper case and parse case insensitively) {
  CAF_CHECK_EQUAL(name(s::pending), "PENDING");
  CAF_CHECK_EQUAL(name(s::processing), "PROCESSING");
  CAF_CHECK_EQUAL(name(s::confirmed), "CONFIRMED");
  CAF_CHECK_EQUAL(name(s::shipped), "SHIPPED");
  CAF_CHECK_EQUAL(name(s::delivered), "DELIVERED");
  CAF_CHECK_EQUAL(name(s::cancelled), "CANCELLED");
  for (auto x : all_statuses) {
    auto parsed = parse_order_status(to_string(x));
    CAF_REQUIRE(parsed.has_value());
    CAF_CHECK(*parsed == x);
  }
  CAF_CHECK(parse_order_status("pending") == s::pending);
  CAF_CHECK(parse_order_status("Processing") == s::processing);
  CAF_CHECK(parse_order_status("cAnCeLlEd") == s::cancelled);
  CAF_CHECK(!parse_order_status(""));
  CAF_CHECK(!parse_order_status("PEND"));
  CAF_CHECK(!parse_order_status("PENDINGX"));
  CAF_CHECK(!parse_order_status(" PENDING"));
  CAF_CHECK(!parse_order_status("CANCELED")); // the wire name has two Ls
}

// -- stock arithmetic and totals -------------------------------------------------------------

CAF_TEST(placement moves each line from available to reserved) {
  std::vector<order_line> lines = {{"A", 2, 100}, {"B", 5, 30}};
  auto changes = stock_changes_for_placement(lines);
  CAF_REQUIRE_EQUAL(changes.size(), 2u);
  CAF_CHECK(changes[0] == (stock_change{"A", -2, 2, 0}));
  CAF_CHECK(changes[1] == (stock_change{"B", -5, 5, 0}));
  CAF_CHECK(stock_changes_for_placement({}).empty());
}

CAF_TEST(transitions move stock only on cancel and confirm) {
  std::vector<order_line> lines = {{"A", 2, 100}, {"B", 5, 30}};
  auto cancel = stock_changes_for_transition(s::pending, s::cancelled, lines);
  CAF_REQUIRE_EQUAL(cancel.size(), 2u);
  CAF_CHECK(cancel[0] == (stock_change{"A", 2, -2, 0}));
  CAF_CHECK(cancel[1] == (stock_change{"B", 5, -5, 0}));
  // A failed payment gives the reservation back like a customer's cancel.
  auto compensate = stock_changes_for_transition(s::processing, s::cancelled, lines);
  CAF_REQUIRE_EQUAL(compensate.size(), 2u);
  CAF_CHECK(compensate[0] == (stock_change{"A", 2, -2, 0}));
  auto confirm = stock_changes_for_transition(s::processing, s::confirmed, lines);
  CAF_REQUIRE_EQUAL(confirm.size(), 2u);
  CAF_CHECK(confirm[0] == (stock_change{"A", 0, -2, 2}));
  CAF_CHECK(confirm[1] == (stock_change{"B", 0, -5, 5}));
  CAF_CHECK(stock_changes_for_transition(s::pending, s::processing, lines).empty());
  CAF_CHECK(stock_changes_for_transition(s::confirmed, s::shipped, lines).empty());
  CAF_CHECK(stock_changes_for_transition(s::shipped, s::delivered, lines).empty());
  // A cancelled order holds nothing, so "cancelling" it again must not give stock back twice.
  CAF_CHECK(stock_changes_for_transition(s::cancelled, s::cancelled, lines).empty());
  CAF_CHECK(stock_changes_for_transition(s::delivered, s::cancelled, lines).empty());
}

CAF_TEST(placing then cancelling restores the stock figures) {
  std::vector<order_line> lines = {{"A", 3, 100}};
  stock_level level{"A", 10, 0, 0, 1};
  auto apply = [&](const std::vector<stock_change>& cs) {
    for (auto& c : cs) {
      level.available += c.available_delta;
      level.reserved += c.reserved_delta;
      level.sold += c.sold_delta;
    }
  };
  apply(stock_changes_for_placement(lines));
  CAF_CHECK_EQUAL(level.available, 7);
  CAF_CHECK_EQUAL(level.reserved, 3);
  apply(stock_changes_for_transition(s::pending, s::cancelled, lines));
  CAF_CHECK_EQUAL(level.available, 10);
  CAF_CHECK_EQUAL(level.reserved, 0);
  apply(stock_changes_for_placement(lines));
  apply(stock_changes_for_transition(s::pending, s::processing, lines));
  apply(stock_changes_for_transition(s::processing, s::confirmed, lines));
  CAF_CHECK_EQUAL(level.available, 7);
  CAF_CHECK_EQUAL(level.reserved, 0);
  CAF_CHECK_EQUAL(level.sold, 3);
}

// -- low stock ------------------------------------------------------------------------------

namespace {

stock_snapshot figures(int64_t available, int64_t threshold, int64_t version = 1) {
  return {{"SKU", available, 0, 0, version}, threshold};
}

} // namespace

CAF_TEST(running low is crossing from above the threshold to at or below it) {
  CAF_CHECK(crossed_into_low_stock(figures(6, 5), figures(5, 5))); // at the threshold
  CAF_CHECK(crossed_into_low_stock(figures(10, 5), figures(0, 5)));
  CAF_CHECK(!crossed_into_low_stock(figures(10, 5), figures(6, 5))); // still above
  CAF_CHECK(!crossed_into_low_stock(figures(5, 5), figures(4, 5)));  // low already: once per dip
  CAF_CHECK(!crossed_into_low_stock(figures(4, 5), figures(8, 5)));  // restocked
  CAF_CHECK(!crossed_into_low_stock(figures(3, 5), figures(3, 5)));
  // A threshold of 0 reports selling out.
  CAF_CHECK(crossed_into_low_stock(figures(1, 0), figures(0, 0)));
  CAF_CHECK(!crossed_into_low_stock(figures(2, 0), figures(1, 0)));
  // Raising the threshold over the available units crosses it too; lowering it never does.
  CAF_CHECK(crossed_into_low_stock(figures(8, 2), figures(8, 10)));
  CAF_CHECK(!crossed_into_low_stock(figures(8, 10), figures(8, 2)));
}

CAF_TEST(stock figures changed when the version moved) {
  CAF_CHECK(stock_figures_changed(figures(5, 5, 1), figures(5, 5, 2)));
  CAF_CHECK(!stock_figures_changed(figures(5, 5, 3), figures(5, 9, 3))); // threshold only
}

CAF_TEST(the total is the sum of quantity times unit price) {
  CAF_CHECK_EQUAL(compute_total({}), 0);
  CAF_CHECK_EQUAL(compute_total({{"A", 3, 199}}), 597);
  CAF_CHECK_EQUAL(compute_total({{"A", 2, 150}, {"B", 1, 250}, {"C", 4, 0}}), 550);
  // The largest single line the limits allow still fits.
  CAF_CHECK_EQUAL(compute_total({{"A", limits::max_quantity_per_line, limits::max_price_cents}}),
                  limits::max_quantity_per_line * limits::max_price_cents);
}

CAF_TEST(a product is low on stock at or below its threshold) {
  auto p = valid_product();
  p.low_stock_threshold = 3;
  p.available = 4;
  CAF_CHECK(!p.is_low_on_stock());
  p.available = 3;
  CAF_CHECK(p.is_low_on_stock());
  p.apply({"SKU-1", 1, 2, 3, 9});
  CAF_CHECK_EQUAL(p.available, 1);
  CAF_CHECK_EQUAL(p.reserved, 2);
  CAF_CHECK_EQUAL(p.sold, 3);
  CAF_CHECK_EQUAL(p.version, 9);
  CAF_CHECK(p.stock() == (stock_level{"SKU-1", 1, 2, 3, 9}));
}

// -- validation: order requests --------------------------------------------------------------

CAF_TEST(a valid order request passes) {
  CAF_CHECK(validate(valid_request()).empty());
  auto legacy = valid_request();
  legacy.customer_email.clear();
  CAF_CHECK(validate(legacy, false).empty()); // the legacy API may omit the e-mail
  CAF_CHECK(has_field(validate(legacy, true), "customer_email"));
}

CAF_TEST(an order request needs items) {
  auto req = valid_request();
  req.lines.clear();
  CAF_CHECK_EQUAL(fields(validate(req)), std::vector<std::string>{"items"});
}

CAF_TEST(an order request needs a customer id) {
  auto req = valid_request();
  req.customer_id.clear();
  CAF_CHECK_EQUAL(fields(validate(req)), std::vector<std::string>{"customer_id"});
  req.customer_id = std::string(limits::max_id_length + 1, 'x');
  CAF_CHECK_EQUAL(fields(validate(req)), std::vector<std::string>{"customer_id"});
  req.customer_id = std::string(limits::max_id_length, 'x');
  CAF_CHECK(validate(req).empty());
  req.customer_id = "bad\x01id";
  CAF_CHECK_EQUAL(fields(validate(req)), std::vector<std::string>{"customer_id"});
}

CAF_TEST(quantities must be between one and the per line maximum) {
  auto req = valid_request();
  req.lines[1].quantity = 0;
  CAF_CHECK_EQUAL(fields(validate(req)), std::vector<std::string>{"items[1].quantity"});
  req.lines[1].quantity = -3;
  CAF_CHECK_EQUAL(fields(validate(req)), std::vector<std::string>{"items[1].quantity"});
  req.lines[1].quantity = limits::max_quantity_per_line + 1;
  CAF_CHECK_EQUAL(fields(validate(req)), std::vector<std::string>{"items[1].quantity"});
  req.lines[1].quantity = limits::max_quantity_per_line;
  CAF_CHECK(validate(req).empty());
  req.lines[0].quantity = 1;
  CAF_CHECK(validate(req).empty());
}

CAF_TEST(duplicate lines may not exceed the per line maximum together) {
  order_request req = valid_request();
  req.lines = {{"A", limits::max_quantity_per_line}, {"A", 1}};
  CAF_CHECK_EQUAL(fields(validate(req)), std::vector<std::string>{"items"});
  req.lines = {{"A", limits::max_quantity_per_line - 1}, {"A", 1}};
  CAF_CHECK(validate(req).empty());
}

CAF_TEST(an order request has at most one hundred lines) {
  auto req = valid_request();
  req.lines.clear();
  for (size_t i = 0; i < limits::max_lines_per_order; ++i)
    req.lines.push_back({"SKU-" + std::to_string(i), 1});
  CAF_CHECK(validate(req).empty());
  req.lines.push_back({"SKU-extra", 1});
  CAF_CHECK_EQUAL(fields(validate(req)), std::vector<std::string>{"items"});
}

CAF_TEST(skus are letters digits dash underscore and dot) {
  CAF_CHECK(is_valid_sku("A"));
  CAF_CHECK(is_valid_sku("sku-1_b.C9"));
  CAF_CHECK(is_valid_sku(std::string(limits::max_sku_length, 'a')));
  CAF_CHECK(!is_valid_sku(""));
  CAF_CHECK(!is_valid_sku(std::string(limits::max_sku_length + 1, 'a')));
  for (auto bad : {"a b", "a/b", "a?b", "ä", "a\nb", "a;b", "a'b", "a%20", ".", ".."})
    CAF_CHECK(!is_valid_sku(bad));
  auto req = valid_request();
  req.lines[0].sku = "bad sku";
  CAF_CHECK_EQUAL(fields(validate(req)), std::vector<std::string>{"items[0].sku"});
}

CAF_TEST(emails need one at sign with a dotted domain and no spaces) {
  CAF_CHECK(is_valid_email("jane@example.com"));
  CAF_CHECK(is_valid_email("j.doe+tag@mail.example.org"));
  for (auto bad : {"", "a@", "@example.com", "jane.example.com", "jane@example", "ja ne@example.com",
                   "jane@@example.com", "jane@exa@mple.com", "jane@example.com\n"})
    CAF_CHECK(!is_valid_email(bad));
  CAF_CHECK(!is_valid_email(std::string(250, 'a') + "@b.cd")); // 255 characters
  auto req = valid_request();
  req.customer_email = "not-an-email";
  CAF_CHECK_EQUAL(fields(validate(req)), std::vector<std::string>{"customer_email"});
}

CAF_TEST(currencies are three upper case letters) {
  CAF_CHECK(is_valid_currency("USD"));
  CAF_CHECK(is_valid_currency("EUR"));
  for (auto bad : {"", "US", "USDD", "usd", "Usd", "U1D", "US "})
    CAF_CHECK(!is_valid_currency(bad));
}

CAF_TEST(every broken field of a request is reported) {
  order_request req;
  req.customer_email = "nope";
  req.lines = {{"", 0}};
  CAF_CHECK_EQUAL(fields(validate(req)),
                  (std::vector<std::string>{"customer_id", "customer_email", "items[0].sku",
                                            "items[0].quantity"}));
}

// -- validation: products --------------------------------------------------------------------

CAF_TEST(a valid product passes) {
  CAF_CHECK(validate(valid_product()).empty());
  auto p = valid_product();
  p.description.clear();
  p.category.clear();
  p.price_cents = 0;
  p.available = 0;
  p.low_stock_threshold = 0;
  CAF_CHECK(validate(p).empty());
}

CAF_TEST(a product needs a name of at most two hundred characters) {
  auto p = valid_product();
  p.name.clear();
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"name"});
  p.name = std::string(limits::max_name_length + 1, 'n');
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"name"});
  p.name = std::string(limits::max_name_length, 'n');
  CAF_CHECK(validate(p).empty());
  p.name = "tab\tis fine";
  CAF_CHECK(validate(p).empty());
  p.name = "bell\a is not";
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"name"});
}

CAF_TEST(product text fields have length limits) {
  auto p = valid_product();
  p.description = std::string(limits::max_description_length + 1, 'd');
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"description"});
  p = valid_product();
  p.category = std::string(limits::max_category_length + 1, 'c');
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"category"});
}

CAF_TEST(prices stock and thresholds may not be negative or huge) {
  auto p = valid_product();
  p.price_cents = -1;
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"price_cents"});
  p.price_cents = limits::max_price_cents + 1;
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"price_cents"});
  p = valid_product();
  p.available = -1;
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"available"});
  p.available = limits::max_stock + 1;
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"available"});
  p.available = limits::max_stock;
  CAF_CHECK(validate(p).empty());
  p = valid_product();
  p.low_stock_threshold = -1;
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"low_stock_threshold"});
  p = valid_product();
  p.currency = "eur";
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"currency"});
  p = valid_product();
  p.sku = "no spaces";
  CAF_CHECK_EQUAL(fields(validate(p)), std::vector<std::string>{"sku"});
}

CAF_TEST(product details follow the same rules without sku and stock) {
  product_details d{"Widget", "", "", 100, "USD", 0};
  CAF_CHECK(validate(d).empty());
  d.name.clear();
  d.price_cents = -5;
  d.currency = "dollars";
  d.low_stock_threshold = -1;
  CAF_CHECK_EQUAL(fields(validate(d)), (std::vector<std::string>{"name", "price_cents", "currency",
                                                                 "low_stock_threshold"}));
}

// -- merge_lines -----------------------------------------------------------------------------

CAF_TEST(merge lines adds up quantities per sku in first seen order) {
  std::vector<requested_line> lines = {{"B", 1}, {"A", 2}, {"B", 3}, {"C", 1}, {"A", 4}};
  auto merged = merge_lines(lines);
  CAF_CHECK(merged == (std::vector<requested_line>{{"B", 4}, {"A", 6}, {"C", 1}}));
  CAF_CHECK(merge_lines({}).empty());
  CAF_CHECK(merge_lines({{"X", 7}}) == (std::vector<requested_line>{{"X", 7}}));
  // Case matters: skus are compared bytewise.
  CAF_CHECK_EQUAL(merge_lines({{"a", 1}, {"A", 1}}).size(), 2u);
}

// -- ids -------------------------------------------------------------------------------------

CAF_TEST(time ordered uuids are version 7 and sort by their millisecond) {
  std::set<std::string> seen;
  std::string previous;
  for (int64_t ms = 1'700'000'000'000; ms < 1'700'000'000'500; ++ms) {
    auto id = make_time_ordered_uuid(ms);
    CAF_CHECK(is_uuid(id));
    CAF_CHECK_EQUAL(id[14], '7');                                  // version
    CAF_CHECK(std::string{"89ab"}.find(id[19]) != std::string::npos); // RFC 9562 variant
    CAF_CHECK_LESS(previous, id); // later milliseconds sort after: index inserts append
    previous = id;
    seen.insert(id);
  }
  CAF_CHECK_EQUAL(seen.size(), 500u);
  // The first 12 hex digits are the milliseconds.
  CAF_CHECK_EQUAL(make_time_ordered_uuid(0x0123456789ab).substr(0, 13), "01234567-89ab");
}

CAF_TEST(uuids are canonical version 4 and unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = make_uuid();
    CAF_REQUIRE_EQUAL(id.size(), 36u);
    CAF_CHECK(is_uuid(id));
    CAF_CHECK_EQUAL(id[8], '-');
    CAF_CHECK_EQUAL(id[13], '-');
    CAF_CHECK_EQUAL(id[18], '-');
    CAF_CHECK_EQUAL(id[23], '-');
    CAF_CHECK_EQUAL(id[14], '4');                                  // version
    CAF_CHECK(std::string{"89ab"}.find(id[19]) != std::string::npos); // RFC 4122 variant
    CAF_CHECK(std::all_of(id.begin(), id.end(), [](char c) {
      return c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }));
    seen.insert(id);
  }
  CAF_CHECK_EQUAL(seen.size(), 1000u);
}

CAF_TEST(is_uuid accepts the canonical form in any case only) {
  CAF_CHECK(is_uuid("123e4567-e89b-42d3-a456-426614174000"));
  CAF_CHECK(is_uuid("123E4567-E89B-42D3-A456-426614174000"));
  CAF_CHECK(!is_uuid(""));
  CAF_CHECK(!is_uuid("123e4567e89b42d3a456426614174000"));       // no dashes
  CAF_CHECK(!is_uuid("123e4567-e89b-42d3-a456-42661417400"));    // too short
  CAF_CHECK(!is_uuid("123e4567-e89b-42d3-a456-4266141740000"));  // too long
  CAF_CHECK(!is_uuid("123e4567-e89b-42d3-a456_426614174000"));   // wrong separator
  CAF_CHECK(!is_uuid("123e4567-e89b-42d3-a456-42661417400g"));   // not hex
  CAF_CHECK(!is_uuid("{123e4567-e89b-42d3-a456-426614174000}")); // braces
  CAF_CHECK(!is_uuid("123e4567-e89b-42d3-a4564-26614174000"));   // dash misplaced
}

// -- time ------------------------------------------------------------------------------------

CAF_TEST(rfc3339 formatting agrees with gmtime across centuries and leap days) {
  // The formatter computes the civil date itself; gmtime_r is the reference.
  auto reference = [](timestamp_ms t) {
    auto secs = t / 1000;
    auto millis = t % 1000;
    if (millis < 0) {
      millis += 1000;
      --secs;
    }
    std::time_t whole = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&whole, &tm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
    return std::string{buf};
  };
  size_t mismatches = 0;
  // Every day from 1600 to 2400 at a varying time of day, plus the edges of each day.
  constexpr timestamp_ms day = 86'400'000;
  for (timestamp_ms t = -11'676'096'000'000; t < 13'569'465'600'000; t += day + 3'723'001) {
    for (auto x : {t, t - t % day, t - t % day - 1}) {
      if (format_rfc3339(x) != reference(x) && mismatches++ < 5)
        CAF_MESSAGE("mismatch at " << x << ": " << format_rfc3339(x) << " vs " << reference(x));
    }
  }
  CAF_CHECK_EQUAL(mismatches, 0u);
  CAF_CHECK_EQUAL(format_rfc3339(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
  CAF_CHECK_EQUAL(format_rfc3339(-62'167'219'200'000), "0000-01-01T00:00:00.000Z");
}

CAF_TEST(rfc3339 formats utc with milliseconds) {
  CAF_CHECK_EQUAL(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
  CAF_CHECK_EQUAL(format_rfc3339(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  CAF_CHECK_EQUAL(format_rfc3339(951'782'400'007), "2000-02-29T00:00:00.007Z"); // leap day
  CAF_CHECK_EQUAL(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
}

CAF_TEST(rfc3339 parses what it prints and round trips) {
  for (timestamp_ms t : {timestamp_ms{0}, timestamp_ms{1}, timestamp_ms{999},
                         timestamp_ms{1'700'000'000'123}, timestamp_ms{951'782'400'007},
                         timestamp_ms{4'102'444'799'999}, timestamp_ms{-86'400'000}}) {
    auto text = format_rfc3339(t);
    CAF_CHECK_EQUAL(parse_rfc3339(text).value_or(-1), t);
  }
}

CAF_TEST(rfc3339 accepts missing or shorter fractions and rejects other forms) {
  CAF_CHECK_EQUAL(parse_rfc3339("2023-11-14T22:13:20Z").value_or(-1), timestamp_ms{1'700'000'000'000});
  CAF_CHECK_EQUAL(parse_rfc3339("2023-11-14T22:13:20.1Z").value_or(-1), timestamp_ms{1'700'000'000'100});
  CAF_CHECK_EQUAL(parse_rfc3339("2023-11-14T22:13:20.12Z").value_or(-1), timestamp_ms{1'700'000'000'120});
  CAF_CHECK_EQUAL(parse_rfc3339("2023-11-14T22:13:20.123456Z").value_or(-1), timestamp_ms{1'700'000'000'123});
  CAF_CHECK(!parse_rfc3339(""));
  CAF_CHECK(!parse_rfc3339("2023-11-14"));
  CAF_CHECK(!parse_rfc3339("2023-11-14T22:13:20"));       // no zone
  CAF_CHECK(!parse_rfc3339("2023-11-14T22:13:20.123"));   // no zone
  CAF_CHECK(!parse_rfc3339("2023-11-14T22:13:20+01:00")); // only UTC
  CAF_CHECK(!parse_rfc3339("2023-11-14 22:13:20Z"));
  CAF_CHECK(!parse_rfc3339("2023-11-14T22:13:20Zjunk"));
  CAF_CHECK(!parse_rfc3339("yesterday"));
}

// -- customers and carts ------------------------------------------------------------------------

CAF_TEST(customer details need a name and a valid e-mail and check the optional fields) {
  CAF_CHECK(validate(customer_details{"Ada", "ada@example.com", "", ""}).empty());
  CAF_CHECK(validate(customer_details{"Ada", "ada@example.com", "+44 (20) 7946-0000", "1 St\nX"})
              .empty());
  auto fields = [](const field_errors& errs) {
    std::vector<std::string> out;
    for (auto& e : errs)
      out.push_back(e.field);
    return out;
  };
  CAF_CHECK(fields(validate(customer_details{"", "nope", "", ""}))
            == (std::vector<std::string>{"name", "email"}));
  CAF_CHECK(fields(validate(customer_details{"Ada", "a@b.co", "call me", ""}))
            == (std::vector<std::string>{"phone"}));
  CAF_CHECK(fields(validate(customer_details{"Ada", "a@b.co", "12", ""}))
            == (std::vector<std::string>{"phone"}));
  CAF_CHECK(fields(validate(customer_details{"Ada", "a@b.co", "", std::string(501, 'x')}))
            == (std::vector<std::string>{"address"}));
  CAF_CHECK(fields(validate(customer_details{"A\x01", "a@b.co", "", "x\x02"}))
            == (std::vector<std::string>{"name", "address"}));
  CAF_CHECK_EQUAL(email_key("Ada.King@Example.COM"), "ada.king@example.com");
}

CAF_TEST(adding a sku the cart holds adds to its line within the limits) {
  cart c;
  CAF_CHECK(!add_to_cart(c, "A", 2));
  CAF_CHECK(!add_to_cart(c, "B", 1));
  CAF_CHECK(!add_to_cart(c, "A", 3));
  CAF_CHECK(c.lines == (std::vector<requested_line>{{"A", 5}, {"B", 1}}));
  CAF_CHECK(add_to_cart(c, "A", 0).code == errc::invalid_input);
  CAF_CHECK(add_to_cart(c, "A", limits::max_quantity_per_line - 4).code == errc::invalid_input);
  CAF_CHECK(!add_to_cart(c, "A", limits::max_quantity_per_line - 5));
  for (size_t i = c.lines.size(); i < limits::max_lines_per_order; ++i)
    CAF_CHECK(!add_to_cart(c, "S-" + std::to_string(i), 1));
  CAF_CHECK(add_to_cart(c, "ONE-TOO-MANY", 1).code == errc::invalid_input);
  CAF_CHECK_EQUAL(c.lines.size(), limits::max_lines_per_order);
}

CAF_TEST(any change clears the stock unavailable mark and removing needs the line) {
  cart c;
  c.lines = {{"A", 5}};
  c.status = cart_status::stock_unavailable;
  c.short_lines = {{"A", 5, 2}};
  CAF_CHECK(remove_from_cart(c, "B").code == errc::not_found);
  CAF_CHECK(c.status == cart_status::stock_unavailable); // a refusal changes nothing
  CAF_CHECK(!remove_from_cart(c, "A"));
  CAF_CHECK(c.status == cart_status::open);
  CAF_CHECK(c.short_lines.empty());
  c.status = cart_status::stock_unavailable;
  CAF_CHECK(!add_to_cart(c, "A", 2));
  CAF_CHECK(c.status == cart_status::open);
  CAF_CHECK_EQUAL(to_string(cart_status::stock_unavailable), "stock_unavailable");
  CAF_CHECK(parse_cart_status("open") == cart_status::open);
  CAF_CHECK(!parse_cart_status("locked"));
}

CAF_TEST(a cart is priced at the given prices and totals only what it can) {
  cart c;
  c.lines = {{"A", 2}, {"B", 3}};
  auto priced = price_cart(c, false, {{"B", 100, "USD"}, {"A", 250, "USD"}});
  CAF_REQUIRE_EQUAL(priced.lines.size(), 2u);
  CAF_CHECK(priced.lines[0].line_total_cents == std::optional<int64_t>{500});
  CAF_CHECK(priced.lines[1].unit_price_cents == std::optional<int64_t>{100});
  CAF_CHECK(priced.total_cents == std::optional<int64_t>{800});
  CAF_CHECK(priced.currency == std::optional<std::string>{"USD"});
  // A product gone: that line has no price, and there is no total.
  auto gone = price_cart(c, true, {{"A", 250, "USD"}, {"B", std::nullopt, ""}});
  CAF_CHECK(!gone.lines[1].unit_price_cents);
  CAF_CHECK(!gone.total_cents);
  CAF_CHECK(gone.locked);
  // Mixed currencies: lines priced, no total.
  auto mixed = price_cart(c, false, {{"A", 250, "USD"}, {"B", 100, "EUR"}});
  CAF_CHECK(mixed.lines[1].currency == std::optional<std::string>{"EUR"});
  CAF_CHECK(!mixed.total_cents);
  CAF_CHECK(!mixed.currency);
  // Empty: zero in no currency.
  auto empty = price_cart(cart{}, false, {});
  CAF_CHECK(empty.total_cents == std::optional<int64_t>{0});
  CAF_CHECK(!empty.currency);
}

CAF_TEST(keys map to shards stably and owners by rendezvous) {
  // Fixed values: a key's shard must never change between builds or nodes.
  CAF_CHECK_EQUAL(shard_of("MUG-001", 64), shard_of("MUG-001", 64));
  CAF_CHECK_EQUAL(stable_hash(""), stable_hash(""));
  CAF_CHECK_NOT_EQUAL(stable_hash("MUG-001"), stable_hash("MUG-002"));
  std::vector<int> per_shard(64, 0);
  for (int i = 0; i < 6400; ++i)
    ++per_shard[shard_of("SKU-" + std::to_string(i), 64)];
  for (auto n : per_shard) {
    CAF_CHECK_GREATER(n, 50); // about 100 each
    CAF_CHECK_LESS(n, 150);
  }
  std::vector<std::string> three{"node-1", "node-2", "node-3"};
  std::vector<std::string> two{"node-1", "node-3"};
  int moved = 0;
  int owned_by_2 = 0;
  for (uint32_t shard = 0; shard < 64; ++shard) {
    auto before = rendezvous_owner(shard, three);
    auto after = rendezvous_owner(shard, two);
    CAF_CHECK_EQUAL(before, rendezvous_owner(shard, {"node-3", "node-2", "node-1"}));
    if (before == "node-2")
      ++owned_by_2;
    else
      CAF_CHECK_EQUAL(before, after); // only the leaver's shards move
    if (before != after)
      ++moved;
  }
  CAF_CHECK_EQUAL(moved, owned_by_2);
  CAF_CHECK_GREATER(owned_by_2, 10); // about a third of 64
  CAF_CHECK_LESS(owned_by_2, 32);
  CAF_CHECK_EQUAL(rendezvous_owner(0, {}), "");
}
