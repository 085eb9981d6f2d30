#include "http/reply.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>

#include "domain/ids.hpp"
#include "wire/json_codec.hpp"

namespace orderd::http {

response json_response(int status, std::string body) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

response created_response(int status, std::string body, std::string location) {
  auto r = json_response(status, std::move(body));
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

response no_content_response() {
  response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

response problem_response(const wire::problem& p) {
  response r;
  r.status = p.status;
  r.content_type = std::string{wire::problem_media_type};
  r.body = wire::encode(p);
  // Every 503 is temporary (an actor restarting, the store or a deadline): say when to retry.
  if (r.status == 503)
    r.headers.emplace_back("Retry-After", "1");
  return r;
}

response problem_response(errc code, std::string detail) {
  return problem_response(wire::make_problem(code, std::move(detail)));
}

response error_response(const caf::error& err) {
  auto code = code_of(err);
  if (code == errc::insufficient_stock) {
    auto lines = short_lines_of(err);
    return problem_response(wire::insufficient_stock_problem(lines, detail_of(err)));
  }
  return problem_response(code, detail_of(err));
}

response unavailable_response() {
  return problem_response(errc::unavailable, "the server is starting or restarting; retry");
}

response invalid(field_errors errors) {
  return problem_response(wire::invalid_input_problem(std::move(errors)));
}

response bad_param(std::string field, std::string message) {
  return invalid({{std::move(field), std::move(message)}});
}

bool read_limit(const request& req, std::string_view name, size_t fallback, size_t max,
                size_t& out, responder& reply) {
  out = fallback;
  auto text = req.query_param(name);
  if (!text)
    return true;
  size_t value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || ptr != text->data() + text->size() || value < 1 || value > max) {
    reply(bad_param(std::string{name}, "must be an integer between 1 and " + std::to_string(max)));
    return false;
  }
  out = value;
  return true;
}

bool read_status(const request& req, std::optional<order_status>& out, responder& reply) {
  auto text = req.query_param("status");
  if (!text || text->empty())
    return true;
  out = parse_order_status(*text);
  if (!out) {
    reply(bad_param("status", "must be one of PENDING, PROCESSING, CONFIRMED, SHIPPED, "
                              "DELIVERED, CANCELLED"));
    return false;
  }
  return true;
}

bool require_uuid(std::string_view what, const std::string& id, responder& reply) {
  if (is_uuid(id))
    return true;
  reply(problem_response(errc::not_found, "no " + std::string{what} + " with id " + id));
  return false;
}

std::string query_or_empty(const request& req, std::string_view name) {
  return std::string{req.query_param(name).value_or("")};
}

std::optional<std::string> cursor_or_null(const std::string& cursor) {
  if (cursor.empty())
    return std::nullopt;
  return cursor;
}

std::optional<std::string_view> given_correlation(const request& req) {
  for (auto name : {"x-correlation-id", "x-request-id"}) {
    auto v = req.header(name);
    if (v && !v->empty() && v->size() <= 128
        && std::all_of(v->begin(), v->end(), [](char ch) { return ch > 0x20 && ch < 0x7f; }))
      return v;
  }
  return std::nullopt;
}

std::string correlation_of(const request& req) {
  if (auto given = given_correlation(req))
    return std::string{*given};
  return make_uuid();
}

// -- placements ----------------------------------------------------------------------------------

namespace {

/// A stable fingerprint of a placement (FNV-1a 64 over its canonical fields), so an
/// Idempotency-Key replay is recognised whatever the JSON's whitespace or member order.
std::string fingerprint(std::string_view route, const order_request& r) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff; // field separator
    h *= 1099511628211ULL;
  };
  mix(route);
  mix(r.customer_id);
  mix(r.customer_email);
  for (auto& l : r.lines) {
    mix(l.sku);
    mix(std::to_string(l.quantity));
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

} // namespace

std::string encode_order(const order& o, order_format format) {
  return wire::render_order(o, format);
}

bool read_idempotency_key(const request& req, std::string_view route,
                          const order_request& fingerprinted, order_format format,
                          placement_request& pr, responder& reply) {
  auto key = req.header("idempotency-key");
  if (!key)
    return true;
  if (key->empty() || key->size() > 255) {
    reply(bad_param("Idempotency-Key", "must be 1-255 characters"));
    return false;
  }
  pr.idempotency_key = std::string{*key};
  pr.request_hash = fingerprint(route, fingerprinted);
  pr.response_format = format;
  return true;
}

response placement_response(const placement_result& res, order_format format) {
  if (res.replayed) {
    auto r = json_response(res.replay_status, res.replay_body);
    r.headers.emplace_back("Idempotent-Replayed", "true");
    return r;
  }
  auto body = encode_order(res.placed, format);
  // The seed service never sent a Location; its clients get what they always got.
  if (format == order_format::legacy)
    return json_response(201, std::move(body));
  return created_response(201, std::move(body), "/api/v1/orders/" + res.placed.id);
}

} // namespace orderd::http
