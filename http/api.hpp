#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/context.hpp"
#include "http/router.hpp"
#include "http/server_types.hpp"

namespace orderd::http {

/// The REST API: routes each request to a handler that decodes it, asks an actor through an HTTP
/// bridge actor, and encodes the reply. It decides nothing: every rule lives in the actors and
/// the domain. The routes live in http/routes/, one file per resource. Thread: `handle` runs on
/// a Beast I/O thread and never blocks; replies are sent from a bridge actor's thread through
/// the responder.
class api {
public:
  api(services_ptr svc, api_options opts);

  /// The Beast server's handler.
  void handle(request&& req, responder reply);

  /// Every "METHOD /path/pattern" the API serves (for docs and tests).
  std::vector<std::string> route_list() const;

  /// Why `req` may not use an admin route (401 or 403 problem), or nothing when it may.
  std::optional<response> admin_refusal(const request& req) const;

private:
  router router_;
  std::shared_ptr<route_metrics> unmatched_metrics_;
};

} // namespace orderd::http
