#include "http/api.hpp"

#include "http/observe.hpp"
#include "http/reply.hpp"

namespace orderd::http {

api::api(services_ptr svc, api_options opts)
  : router_(std::make_shared<const context>(context{std::move(svc), std::move(opts)})),
    unmatched_metrics_(metrics_of_unmatched()) {
  add_probe_routes(router_);
  add_product_routes(router_);
  add_order_routes(router_);
  add_customer_routes(router_);
  add_notification_routes(router_);
  add_cart_routes(router_);
  add_legacy_routes(router_);
  add_admin_routes(router_);
}

std::vector<std::string> api::route_list() const {
  return router_.list();
}

std::optional<response> api::admin_refusal(const request& req) const {
  auto& admin_token = router_.ctx().opts.admin_token;
  if (admin_token.empty())
    return problem_response(wire::admin_disabled_problem());
  auto given = req.header("authorization").value_or("");
  constexpr std::string_view scheme = "Bearer ";
  bool ok = given.size() > scheme.size() && detail::iequals(given.substr(0, scheme.size()), scheme);
  if (ok) {
    auto token = given.substr(scheme.size());
    // Compare every byte whatever the first mismatch, so timing reveals nothing of the token.
    unsigned char diff = token.size() == admin_token.size() ? 0 : 1;
    for (size_t i = 0; i < token.size(); ++i)
      diff |= static_cast<unsigned char>(token[i])
              ^ static_cast<unsigned char>(admin_token[i % admin_token.size()]);
    ok = diff == 0;
  }
  if (ok)
    return std::nullopt;
  auto r = problem_response(wire::unauthorized_problem());
  r.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="orderd-admin")");
  return r;
}

void api::handle(request&& req, responder raw_reply) {
  // Thread: Beast I/O thread. Everything here is quick; actor work is asynchronous.
  auto hit = router_.find(req.method, req.raw_path);
  auto reply = observe(req, hit.found ? hit.found->metrics : unmatched_metrics_,
                       std::move(raw_reply));
  if (!hit.found)
    return reply(router::not_routed(req, hit.allowed));
  auto& r = *hit.found;
  if (auto refusal = router::media_type_refusal(r, req))
    return reply(std::move(*refusal));
  if (r.needs & route_needs::admin_token) {
    if (auto refusal = admin_refusal(req))
      return reply(std::move(*refusal));
  }
  router_.run(r, std::move(req), reply, hit.params);
}

} // namespace orderd::http
