#define CAF_SUITE observability
#include <caf/test/dsl.hpp>

// The metrics registry and its Prometheus text format, and W3C trace context parsing.

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "observability/metrics.hpp"
#include "observability/trace.hpp"

using namespace orderd::observability;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

CAF_TEST(counters render with help type and labels) {
  registry reg;
  auto& f = reg.counters("demo_requests_total", "Requests handled.", {"route", "status"});
  f.with({"/a/{id}", "200"}).inc();
  f.with({"/a/{id}", "200"}).inc(2);
  f.with({"/b", "404"}).inc();
  auto text = reg.render();
  CAF_CHECK(contains(text, "# HELP demo_requests_total Requests handled.\n"
                           "# TYPE demo_requests_total counter\n"));
  CAF_CHECK(contains(text, "demo_requests_total{route=\"/a/{id}\",status=\"200\"} 3\n"));
  CAF_CHECK(contains(text, "demo_requests_total{route=\"/b\",status=\"404\"} 1\n"));
}

CAF_TEST(the same child is returned for the same labels) {
  registry reg;
  auto& f = reg.counters("x_total", "x", {"a"});
  CAF_CHECK_EQUAL(&f.with({"1"}), &f.with({"1"}));
  CAF_CHECK_NOT_EQUAL(&f.with({"1"}), &f.with({"2"}));
  // Registering again returns the first family; another type is a programming error.
  CAF_CHECK_EQUAL(&reg.counters("x_total", "other help", {"a"}), &f);
  bool threw = false;
  try {
    reg.gauges("x_total", "x");
  } catch (const std::logic_error&) {
    threw = true;
  }
  CAF_CHECK(threw);
}

CAF_TEST(gauges go up and down and may be exposed as counters) {
  registry reg;
  auto& g = reg.gauge_metric("demo_backlog", "Backlog.");
  g.set(5);
  g.add(-2);
  CAF_CHECK_EQUAL(g.value(), 3.0);
  reg.gauges("demo_restarts_total", "Restarts.", {"supervisor"}, metric_type::counter)
    .with({"root"})
    .set(4);
  auto text = reg.render();
  CAF_CHECK(contains(text, "# TYPE demo_backlog gauge\ndemo_backlog 3\n"));
  CAF_CHECK(contains(text, "# TYPE demo_restarts_total counter\n"
                           "demo_restarts_total{supervisor=\"root\"} 4\n"));
}

CAF_TEST(histograms render cumulative buckets sum and count) {
  registry reg;
  auto& h = reg.histogram_metric("demo_seconds", "Latency.", {0.1, 0.5, 1});
  h.observe(0.05);
  h.observe(0.1); // bounds are inclusive (le)
  h.observe(0.7);
  h.observe(3);
  auto text = reg.render();
  CAF_CHECK(contains(text, "# TYPE demo_seconds histogram\n"));
  CAF_CHECK(contains(text, "demo_seconds_bucket{le=\"0.1\"} 2\n"));
  CAF_CHECK(contains(text, "demo_seconds_bucket{le=\"0.5\"} 2\n"));
  CAF_CHECK(contains(text, "demo_seconds_bucket{le=\"1\"} 3\n"));
  CAF_CHECK(contains(text, "demo_seconds_bucket{le=\"+Inf\"} 4\n"));
  CAF_CHECK(contains(text, "demo_seconds_sum 3.85\n"));
  CAF_CHECK(contains(text, "demo_seconds_count 4\n"));
}

CAF_TEST(labelled histograms put le last) {
  registry reg;
  reg.histograms("demo_route_seconds", "By route.", {1}, {"route"}).with({"/x"}).observe(2);
  auto text = reg.render();
  CAF_CHECK(contains(text, "demo_route_seconds_bucket{route=\"/x\",le=\"1\"} 0\n"));
  CAF_CHECK(contains(text, "demo_route_seconds_bucket{route=\"/x\",le=\"+Inf\"} 1\n"));
  CAF_CHECK(contains(text, "demo_route_seconds_count{route=\"/x\"} 1\n"));
}

CAF_TEST(label values and help text are escaped) {
  registry reg;
  reg.counters("esc_total", "Line one\nback\\slash", {"v"}).with({"a\"b\\c\nd"}).inc();
  auto text = reg.render();
  CAF_CHECK(contains(text, "# HELP esc_total Line one\\nback\\\\slash\n"));
  CAF_CHECK(contains(text, "esc_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

CAF_TEST(values are formatted the prometheus way) {
  CAF_CHECK_EQUAL(format_value(0), "0");
  CAF_CHECK_EQUAL(format_value(42), "42");
  CAF_CHECK_EQUAL(format_value(-3), "-3");
  CAF_CHECK_EQUAL(format_value(0.25), "0.25");
  CAF_CHECK_EQUAL(format_value(0.0005), "0.0005");
  CAF_CHECK_EQUAL(format_value(2.5e-9), "2.5e-09");
  CAF_CHECK_EQUAL(format_value(1.0 / 0.0), "+Inf");
  CAF_CHECK_EQUAL(format_value(-1.0 / 0.0), "-Inf");
  CAF_CHECK_EQUAL(format_value(0.0 / 0.0), "NaN");
}

CAF_TEST(families render sorted by name) {
  registry reg;
  reg.counter_metric("b_total", "b").inc();
  reg.counter_metric("a_total", "a").inc();
  auto text = reg.render();
  CAF_CHECK_LESS(text.find("a_total"), text.find("b_total"));
}

CAF_TEST(concurrent increments are not lost) {
  registry reg;
  auto& c = reg.counter_metric("race_total", "r");
  auto& h = reg.histogram_metric("race_seconds", "r", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(0.5);
      }
    });
  for (auto& t : threads)
    t.join();
  CAF_CHECK_EQUAL(c.value(), 40000u);
  CAF_CHECK_EQUAL(h.read().count, 40000u);
  CAF_CHECK_EQUAL(h.read().sum, 20000.0);
}

CAF_TEST(the dlq gauge is registered at zero) {
  CAF_CHECK_EQUAL(dlq_messages().value(), 0.0);
  CAF_CHECK(contains(registry::global().render(), "\norderd_dlq_messages 0\n"));
}

// -- trace context

CAF_TEST(a valid traceparent is parsed) {
  auto c = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  CAF_REQUIRE(c.has_value());
  CAF_CHECK_EQUAL(c->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  CAF_CHECK_EQUAL(c->span_id, "00f067aa0ba902b7");
  CAF_CHECK_EQUAL(c->flags, 1);
  CAF_CHECK_EQUAL(format_traceparent(*c),
                  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  // A later version may append fields.
  CAF_CHECK(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
}

CAF_TEST(malformed traceparents are refused) {
  for (auto bad : {"", "garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                   "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                   "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                   "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                   "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                   "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
                   "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    CAF_CHECK(!parse_traceparent(bad));
}

CAF_TEST(new trace contexts are valid and distinct) {
  auto a = make_trace_context();
  auto b = make_trace_context();
  CAF_CHECK(is_trace_id(a.trace_id));
  CAF_CHECK_NOT_EQUAL(a.trace_id, b.trace_id);
  CAF_CHECK(parse_traceparent(format_traceparent(a)).has_value());
}

CAF_TEST(correlation ids map to stable trace ids) {
  CAF_CHECK_EQUAL(trace_id_of_correlation("4bf92f3577b34da6a3ce929d0e0e4736"),
                  "4bf92f3577b34da6a3ce929d0e0e4736");
  CAF_CHECK_EQUAL(trace_id_of_correlation("0192F3A4-1B2C-7D3E-8F40-123456789ABC"),
                  "0192f3a41b2c7d3e8f40123456789abc");
  auto hashed = trace_id_of_correlation("order-batch-17");
  CAF_CHECK(is_trace_id(hashed));
  CAF_CHECK_EQUAL(hashed, trace_id_of_correlation("order-batch-17"));
  CAF_CHECK_NOT_EQUAL(hashed, trace_id_of_correlation("order-batch-18"));
  CAF_CHECK_EQUAL(trace_id_of_correlation(""), "");
}

CAF_TEST(log trace scopes nest per thread) {
  CAF_CHECK_EQUAL(current_log_trace_id(), "");
  {
    log_trace_scope outer{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    CAF_CHECK_EQUAL(current_log_trace_id(), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    {
      log_trace_scope inner{"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"};
      CAF_CHECK_EQUAL(current_log_trace_id(), "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
      std::string other;
      std::thread{[&] { other = std::string{current_log_trace_id()}; }}.join();
      CAF_CHECK_EQUAL(other, "");
    }
    CAF_CHECK_EQUAL(current_log_trace_id(), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  }
  CAF_CHECK_EQUAL(current_log_trace_id(), "");
}
