#pragma once

// The routing table: each route file adds its routes here (http/routes/*.cpp), all with the
// one handler signature below; the API looks a request up and runs the route it finds.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/context.hpp"
#include "http/server_types.hpp"

namespace orderd::http {

struct route_metrics;

/// Every route's handler. It runs on a Beast I/O thread and must not block: it answers through
/// `reply` at once, or later from a bridge actor (http/ask.hpp). `params` holds the values of
/// the pattern's {placeholders}.
using route_handler = void (*)(const context& c, request&& req, responder reply,
                               const params_t& params);

/// What a route requires before its handler runs (flags, combined with |).
namespace route_needs {
inline constexpr unsigned nothing = 0;
inline constexpr unsigned json_body = 1u << 0;   ///< Content-Type: application/json (else 415)
inline constexpr unsigned admin_token = 1u << 1; ///< the admin bearer token (else 401 or 403)
} // namespace route_needs

struct route {
  std::string method;
  std::string pattern; ///< e.g. "/api/v1/orders/{id}": {x} matches one path segment
  std::vector<std::string> segments;
  unsigned needs = route_needs::nothing;
  route_handler handler = nullptr;
  std::shared_ptr<route_metrics> metrics;
};

class router;

/// The methods of one path pattern, added in the order called:
/// `r.on("/api/v1/orders").post(place, route_needs::json_body).get(list);`
class path_routes {
public:
  path_routes(router& r, std::string pattern) : router_(r), pattern_(std::move(pattern)) {}

  path_routes& get(route_handler h, unsigned needs = route_needs::nothing);
  path_routes& post(route_handler h, unsigned needs = route_needs::nothing);
  path_routes& put(route_handler h, unsigned needs = route_needs::nothing);
  path_routes& del(route_handler h, unsigned needs = route_needs::nothing);

private:
  path_routes& add(std::string method, route_handler h, unsigned needs);

  router& router_;
  std::string pattern_;
};

class router {
public:
  explicit router(std::shared_ptr<const context> ctx);

  /// What the handlers are given.
  const context& ctx() const noexcept {
    return *ctx_;
  }

  /// Adds a route. Routes match in the order added, so add a static segment ("low-stock")
  /// before a placeholder ({sku}) in the same position.
  void add(std::string method, std::string pattern, route_handler handler,
           unsigned needs = route_needs::nothing);

  /// Adds the routes of one path pattern, method by method (see path_routes).
  path_routes on(std::string pattern) {
    return path_routes{*this, std::move(pattern)};
  }

  /// The outcome of looking a request up.
  struct lookup {
    const route* found = nullptr;
    params_t params;
    /// When nothing was found: the methods the path does allow (405), in table order.
    std::vector<std::string_view> allowed;
  };

  lookup find(std::string_view method, std::string_view path) const;

  /// 415 when `r` takes a JSON body and `req` does not declare one.
  static std::optional<response> media_type_refusal(const route& r, const request& req);

  /// Runs the route's handler; an exception it throws becomes a 500 problem.
  void run(const route& r, request&& req, responder reply, const params_t& params) const;

  /// The answer when nothing was found: 405 with Allow, or 404.
  static response not_routed(const request& req, const std::vector<std::string_view>& allowed);

  /// Every "METHOD /path/pattern", in table order.
  std::vector<std::string> list() const;

private:
  std::shared_ptr<const context> ctx_;
  std::vector<route> routes_;
};

/// Each resource's routes (http/routes/<resource>.cpp).
void add_probe_routes(router& r);
void add_product_routes(router& r);
void add_order_routes(router& r);
void add_legacy_routes(router& r);
void add_customer_routes(router& r);
void add_notification_routes(router& r);
void add_cart_routes(router& r);
void add_admin_routes(router& r);

} // namespace orderd::http
