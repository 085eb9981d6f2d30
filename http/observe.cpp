#include "http/observe.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "http/reply.hpp"
#include "observability/catalogue.hpp"
#include "observability/trace.hpp"

namespace orderd::http {

namespace cat = observability::catalogue;

namespace {

/// The methods a request-count label may name; anything else is "other" (bounded cardinality).
constexpr std::array<std::string_view, 8> method_labels{"GET",   "POST", "PUT",     "DELETE",
                                                        "PATCH", "HEAD", "OPTIONS", "other"};

size_t method_index(std::string_view method) {
  for (size_t i = 0; i + 1 < method_labels.size(); ++i)
    if (method == method_labels[i])
      return i;
  return method_labels.size() - 1;
}

} // namespace

struct route_metrics {
  /// `methods`: how many method slots to keep (1 for a route, every method for unmatched).
  route_metrics(std::string route, size_t first_method, size_t methods)
    : route_label(std::move(route)),
      first_method(first_method),
      duration(&cat::http_request_duration().with({route_label})),
      slots(methods * 500) {}

  std::string route_label;
  size_t first_method;
  observability::histogram* duration;
  /// orderd_http_requests_total{route, method, status}: a slot per method and status 100..599,
  /// filled on first use, so counting a request takes no lock.
  std::vector<std::atomic<observability::counter*>> slots;

  observability::counter& requests(int status, std::string_view method) {
    if (status < 100 || status > 599)
      status = 500; // what the server sends for an invalid status
    auto m = method_index(method);
    auto slot_method = m - first_method;
    if (m < first_method || (slot_method + 1) * 500 > slots.size())
      slot_method = 0; // a route only ever sees its own method
    auto& slot = slots[slot_method * 500 + static_cast<size_t>(status - 100)];
    auto* c = slot.load(std::memory_order_acquire);
    if (!c) {
      // Two threads may both look it up: the family returns the same child to both.
      c = &cat::http_requests().with(
        {route_label, std::string{method_labels[first_method + slot_method]},
         std::to_string(status)});
      slot.store(c, std::memory_order_release);
    }
    return *c;
  }
};

std::shared_ptr<route_metrics> metrics_of_route(std::string_view pattern,
                                                std::string_view method) {
  return std::make_shared<route_metrics>(std::string{pattern}, method_index(method), 1);
}

std::shared_ptr<route_metrics> metrics_of_unmatched() {
  return std::make_shared<route_metrics>("unmatched", 0, method_labels.size());
}

namespace {

/// The server side of the responder a route gets: adds the trace headers, records the request's
/// metrics and log line, then hands the response to the connection's responder. Thread: whichever
/// calls the responder (an I/O thread or a bridge actor).
class observed_reply final : public detail::reply_slot {
public:
  /// `request_id` empty: the trace id is the request id. `target` is kept for the debug log
  /// line only (empty when debug logging is off: one copy less per request).
  observed_reply(responder inner, std::shared_ptr<route_metrics> metrics, std::string_view method,
                 std::string target, observability::trace_context trace, std::string request_id)
    : inner_(std::move(inner)),
      metrics_(std::move(metrics)),
      method_(method),
      target_(std::move(target)),
      trace_(std::move(trace)),
      request_id_(std::move(request_id)) {}

  ~observed_reply() override {
    // Dropped unanswered: the server answers 500 when the last responder copy goes; count it.
    if (!completed())
      metrics_->requests(500, method_).inc();
  }

private:
  void send(response&& r) override {
    auto elapsed = std::chrono::steady_clock::now() - started_;
    auto seconds = std::chrono::duration<double>(elapsed).count();
    metrics_->duration->observe(seconds);
    metrics_->requests(r.status, method_).inc();
    const auto& request_id = request_id_.empty() ? trace_.trace_id : request_id_;
    r.headers.emplace_back("X-Request-Id", request_id);
    r.headers.emplace_back("traceparent", observability::format_traceparent(trace_));
    if (spdlog::should_log(spdlog::level::debug)) {
      observability::log_trace_scope scope{trace_.trace_id};
      spdlog::debug("http {} {} -> {} in {:.2f} ms (request id {})", method_, target_, r.status,
                    seconds * 1000.0, request_id);
    }
    inner_(std::move(r));
  }

  responder inner_;
  std::shared_ptr<route_metrics> metrics_;
  std::string method_;
  std::string target_;
  observability::trace_context trace_;
  std::string request_id_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

} // namespace

responder observe(request& req, std::shared_ptr<route_metrics> metrics, responder reply) {
  // A valid incoming traceparent is echoed (we join the caller's trace); an absent or invalid
  // one is replaced by a new trace (never a 4xx: tracing must not break requests).
  auto incoming = observability::parse_traceparent(req.header("traceparent").value_or(""));
  auto trace = incoming ? std::move(*incoming) : observability::make_trace_context();
  std::string request_id;
  if (auto given = given_correlation(req)) {
    request_id = std::string{*given};
  } else {
    // The trace id stands in for the correlation id the client did not give, so the events
    // this request causes carry it (correlation_of() finds it here).
    req.headers.emplace_back("x-correlation-id", trace.trace_id);
  }
  auto target = spdlog::should_log(spdlog::level::debug) ? req.target : std::string{};
  return responder{std::make_shared<observed_reply>(std::move(reply), std::move(metrics),
                                                    req.method, std::move(target),
                                                    std::move(trace), std::move(request_id))};
}

} // namespace orderd::http
