#pragma once

// What the API adds to every request, matched or not: the trace context (traceparent and
// X-Request-Id on the response), the request metrics and the debug log line.

#include <memory>
#include <string_view>

#include "http/server_types.hpp"

namespace orderd::http {

/// The metrics of one route (or of all unmatched requests), looked up once so recording a
/// request takes no lock: the duration histogram, and a counter per status code created on
/// first use.
struct route_metrics;

/// The metrics of the route `method pattern`.
std::shared_ptr<route_metrics> metrics_of_route(std::string_view pattern, std::string_view method);

/// The metrics of the requests no route matched (route label "unmatched", any method).
std::shared_ptr<route_metrics> metrics_of_unmatched();

/// Wraps `reply` so the response carries X-Request-Id and traceparent, is counted and timed
/// under `metrics`, and is logged with the request's trace id. Adds the trace id to `req` as
/// X-Correlation-Id when the client gave no correlation id.
responder observe(request& req, std::shared_ptr<route_metrics> metrics, responder reply);

} // namespace orderd::http
