#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/services.hpp"
#include "http/server_types.hpp"

namespace orderd::http {

struct api_options {
  bool enable_fault_injection = false;
  /// Bearer token of the admin routes; empty answers them 403 (disabled).
  std::string admin_token;
  /// How long a route waits for the actors before answering 503.
  std::chrono::milliseconds request_timeout{10000};
  std::string store_backend = "sqlite";
};

/// The REST API: routes each request to a handler that decodes it, asks an actor through an HTTP
/// bridge actor, and encodes the reply. It decides nothing: every rule lives in the actors and
/// the domain. Thread: `handle` runs on a Beast I/O thread and never blocks; replies are sent
/// from a bridge actor's thread through the responder.
class api {
public:
  api(services_ptr svc, api_options opts);

  /// The Beast server's handler.
  void handle(request&& req, responder reply);

  /// Every "METHOD /path/pattern" the API serves (for docs and tests).
  std::vector<std::string> route_list() const;

  /// Why `req` may not use an admin route (401 or 403 problem), or nothing when it may.
  std::optional<response> admin_refusal(const request& req) const;

  /// The metrics of one route (or of all unmatched requests), looked up once so recording a
  /// request takes no lock: the duration histogram, and a counter per status code created on
  /// first use.
  struct route_metrics;

  /// One entry of the routing table: method, path pattern ({x} matches one segment), handler.
  struct route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    bool json_body = false; ///< requires Content-Type: application/json
    bool admin = false;     ///< requires the admin bearer token
    std::function<void(request&&, responder, const std::vector<std::string>&)> run;
    std::shared_ptr<route_metrics> metrics;
  };

private:
  /// Wraps `reply` so the response carries X-Request-Id and traceparent, is counted and timed
  /// under the matched route's metrics (nullptr: unmatched), and logged with the request's trace
  /// id. Adds the trace id to `req` as X-Correlation-Id when the client gave no correlation id.
  responder observe(request& req, const route* matched, responder reply);

  services_ptr svc_;
  api_options opts_;
  std::vector<route> routes_;
  std::shared_ptr<route_metrics> unmatched_metrics_;
};

} // namespace orderd::http
