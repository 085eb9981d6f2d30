#pragma once

// What every route handler is given: the actors to ask and the API's options.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/services.hpp"
#include "http/status_json.hpp"

namespace orderd::http {

struct api_options {
  bool enable_fault_injection = false;
  /// Bearer token of the admin routes; empty answers them 403 (disabled).
  std::string admin_token;
  /// How long a route waits for the actors before answering 503.
  std::chrono::milliseconds request_timeout{10000};
  std::string store_backend = "sqlite";
  /// This node's view of the cluster, for /ready; empty outside a cluster.
  std::function<cluster_report()> cluster;
  /// Why a webhook recipient may not be called (--webhook-allow); nullopt: it may. Empty: any.
  std::function<std::optional<std::string>(std::string_view url)> webhook_refusal;
};

/// Shared by all routes for the API's lifetime; handlers copy what their continuations need.
struct context {
  services_ptr svc;
  api_options opts;
};

/// The values of a route pattern's {placeholders}, in pattern order.
using params_t = std::vector<std::string>;

} // namespace orderd::http
