#include "http/router.hpp"

#include <algorithm>
#include <exception>

#include <spdlog/spdlog.h>

#include "domain/canonical_id.hpp"
#include "http/observe.hpp"
#include "http/reply.hpp"
#include "wire/url.hpp"

namespace orderd::http {

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    auto end = path.find('/', pos);
    if (end == std::string_view::npos)
      end = path.size();
    out.emplace_back(path.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

bool match(const std::vector<std::string>& pattern, const std::vector<std::string>& segs,
           params_t& params) {
  if (pattern.size() != segs.size())
    return false;
  params.clear();
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "{id}")
      params.push_back(canonical_id(segs[i])); // entity ids: UUIDs in any case are one id
    else if (!pattern[i].empty() && pattern[i].front() == '{')
      params.push_back(segs[i]);
    else if (pattern[i] != segs[i])
      return false;
  }
  return true;
}

} // namespace

router::router(std::shared_ptr<const context> ctx) : ctx_(std::move(ctx)) {}

void router::add(std::string method, std::string pattern, route_handler handler,
                 unsigned needs) {
  route r;
  r.segments = split_path(pattern);
  r.metrics = metrics_of_route(pattern, method);
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.needs = needs;
  r.handler = handler;
  routes_.push_back(std::move(r));
}

path_routes& path_routes::add(std::string method, route_handler h, unsigned needs) {
  router_.add(std::move(method), pattern_, h, needs);
  return *this;
}

path_routes& path_routes::get(route_handler h, unsigned needs) {
  return add("GET", h, needs);
}

path_routes& path_routes::post(route_handler h, unsigned needs) {
  return add("POST", h, needs);
}

path_routes& path_routes::put(route_handler h, unsigned needs) {
  return add("PUT", h, needs);
}

path_routes& path_routes::del(route_handler h, unsigned needs) {
  return add("DELETE", h, needs);
}

router::lookup router::find(std::string_view method, std::string_view path) const {
  lookup out;
  // Split first, decode each segment after: %2F is a character of a segment (a SKU cannot
  // contain one anyway), never a way to reach another route.
  auto segs = split_path(path);
  for (auto& seg : segs)
    seg = wire::percent_decode(seg);
  // HEAD is GET without the body (the server drops it): every GET route answers HEAD.
  std::string_view wanted = method == "HEAD" ? std::string_view{"GET"} : method;
  auto allow = [&](std::string_view m) {
    if (std::find(out.allowed.begin(), out.allowed.end(), m) == out.allowed.end())
      out.allowed.emplace_back(m);
  };
  for (auto& r : routes_) {
    if (!match(r.segments, segs, out.params))
      continue;
    if (r.method != wanted) {
      allow(r.method); // HEAD stays implicit beside GET, as the OpenAPI document has it
      continue;
    }
    out.found = &r;
    break;
  }
  return out;
}

std::optional<response> router::media_type_refusal(const route& r, const request& req) {
  if ((r.needs & route_needs::json_body) == 0)
    return std::nullopt;
  auto ct = req.header("content-type").value_or("");
  auto media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ')
    media.remove_suffix(1);
  if (detail::iequals(media, "application/json"))
    return std::nullopt;
  return problem_response(wire::unsupported_media_type_problem(ct));
}

void router::run(const route& r, request&& req, responder reply, const params_t& params) const {
  try {
    r.handler(*ctx_, std::move(req), reply, params);
  } catch (const std::exception& ex) {
    spdlog::error("handler for {} {} failed: {}", r.method, r.pattern, ex.what());
    reply(problem_response(errc::internal, "internal error"));
  }
}

response router::not_routed(const request& req, const std::vector<std::string_view>& allowed) {
  if (allowed.empty())
    return problem_response(wire::no_route_problem(req.method, req.target));
  auto r = problem_response(wire::method_not_allowed_problem(req.method, allowed));
  std::string allow;
  for (auto m : allowed)
    allow += (allow.empty() ? "" : ", ") + std::string{m};
  r.headers.emplace_back("Allow", allow);
  return r;
}

std::vector<std::string> router::list() const {
  std::vector<std::string> out;
  for (auto& r : routes_)
    out.push_back(r.method + " " + r.pattern);
  return out;
}

} // namespace orderd::http
