#define CAF_SUITE api_observability
#include <caf/test/dsl.hpp>

// What api::handle adds to every request, checked without actors (empty service slots answer
// synchronously): trace headers, the trace id as correlation id, and the request metrics.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/api.hpp"
#include "observability/metrics.hpp"
#include "observability/trace.hpp"

using namespace orderd;
using namespace orderd::http;

namespace {

struct captured : detail::reply_slot {
  std::optional<response> got;
  void send(response&& r) override { got = std::move(r); }
};

api make_api() {
  auto svc = std::make_shared<services>(runtime_options{}, nullptr, [] { return timestamp_ms{0}; });
  return api{svc, api_options{}};
}

response call(api& a, std::string method, std::string path,
              std::vector<std::pair<std::string, std::string>> headers = {}) {
  request req;
  req.method = std::move(method);
  req.target = path;
  req.raw_path = path;
  req.path = std::move(path);
  req.headers = std::move(headers);
  auto slot = std::make_shared<captured>();
  a.handle(std::move(req), responder{slot});
  CAF_REQUIRE(slot->got.has_value());
  return *slot->got;
}

std::string header(const response& r, std::string_view name) {
  for (auto& [k, v] : r.headers)
    if (detail::iequals(k, name))
      return v;
  return {};
}

double sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

} // namespace

CAF_TEST(a valid traceparent is echoed and its trace id is the request id) {
  auto a = make_api();
  auto sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto r = call(a, "GET", "/health", {{"traceparent", sent}});
  CAF_CHECK_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(header(r, "traceparent"), sent);
  CAF_CHECK_EQUAL(header(r, "x-request-id"), "4bf92f3577b34da6a3ce929d0e0e4736");
}

CAF_TEST(a missing or malformed traceparent gets a new trace and never fails the request) {
  auto a = make_api();
  for (auto bad : {"", "nonsense", "00-zz-00f067aa0ba902b7-01"}) {
    std::vector<std::pair<std::string, std::string>> hs;
    if (*bad)
      hs.emplace_back("traceparent", bad);
    auto r = call(a, "GET", "/health", hs);
    CAF_CHECK_EQUAL(r.status, 200);
    auto tp = observability::parse_traceparent(header(r, "traceparent"));
    CAF_REQUIRE(tp.has_value());
    CAF_CHECK_EQUAL(header(r, "x-request-id"), tp->trace_id);
  }
}

CAF_TEST(an explicit correlation id is the request id) {
  auto a = make_api();
  auto r = call(a, "GET", "/health",
                {{"x-correlation-id", "batch-17"},
                 {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  CAF_CHECK_EQUAL(header(r, "x-request-id"), "batch-17");
  // Unusable ones (control characters, too long) are ignored.
  auto bad = call(a, "GET", "/health", {{"x-request-id", std::string(200, 'x')}});
  CAF_CHECK_EQUAL(header(bad, "x-request-id").size(), 32u);
}

CAF_TEST(requests are counted by route pattern method and status) {
  auto a = make_api();
  auto& reg = observability::registry::global();
  auto series = [](const char* route, const char* method, const char* status) {
    return std::string{"orderd_http_requests_total{route=\""} + route + "\",method=\"" + method
           + "\",status=\"" + status + "\"}";
  };
  auto before = sample(reg.render(), series("/api/v1/orders/{id}", "GET", "503"));
  call(a, "GET", "/api/v1/orders/00000000-0000-4000-8000-000000000000");
  call(a, "GET", "/api/v1/orders/00000000-0000-4000-8000-000000000001");
  call(a, "GET", "/no/such/route");
  call(a, "BREW", "/health");
  auto text = reg.render();
  CAF_CHECK_EQUAL(sample(text, series("/api/v1/orders/{id}", "GET", "503")),
                  std::max(before, 0.0) + 2);
  CAF_CHECK_GREATER_OR_EQUAL(sample(text, series("unmatched", "GET", "404")), 1);
  CAF_CHECK_GREATER_OR_EQUAL(sample(text, series("unmatched", "other", "405")), 1);
  CAF_CHECK(text.find("00000000-0000-4000-8000-000000000000") == std::string::npos);
}

CAF_TEST(metrics and the dashboard need no token and admin routes do) {
  auto a = make_api(); // no --admin-token: admin routes are disabled
  auto m = call(a, "GET", "/metrics");
  CAF_CHECK_EQUAL(m.status, 200);
  CAF_CHECK_EQUAL(m.content_type, "text/plain; version=0.0.4; charset=utf-8");
  auto d = call(a, "GET", "/dashboard");
  CAF_CHECK_EQUAL(d.status, 200);
  CAF_CHECK_EQUAL(d.content_type, "text/html; charset=utf-8");
  CAF_CHECK(d.body.find("/api/v1/admin/overview") != std::string::npos); // the script is inlined
  CAF_CHECK_EQUAL(call(a, "GET", "/api/v1/admin/actors").status, 403);
  CAF_CHECK_EQUAL(call(a, "GET", "/api/v1/admin/overview").status, 403);
}
