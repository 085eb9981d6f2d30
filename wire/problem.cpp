#include "wire/problem.hpp"

#include <utility>

#include "util/name_table.hpp"

namespace orderd::wire {

namespace {

using ojson = nlohmann::ordered_json;

problem transport_problem(std::string_view slug, std::string_view title, int status,
                          std::string detail) {
  problem p;
  p.type = std::string{problem_type_prefix} + std::string{slug};
  p.title = title;
  p.status = status;
  p.detail = std::move(detail);
  return p;
}

bool is_standard_member(std::string_view key) {
  return key == "type" || key == "title" || key == "status" || key == "detail"
         || key == "errors";
}

} // namespace

int http_status(errc code) noexcept {
  switch (code) {
    case errc::ok:
      return 200;
    case errc::invalid_input:
      return 400;
    case errc::not_found:
      return 404;
    case errc::unknown_sku:
      return 422;
    case errc::insufficient_stock:
      return 409;
    case errc::conflict:
      return 409;
    case errc::illegal_transition:
      return 409;
    case errc::idempotency_mismatch:
      return 422;
    case errc::idempotency_in_flight:
      return 409;
    case errc::currency_mismatch:
      return 422;
    case errc::unavailable:
      return 503;
    case errc::storage_failure:
      return 500;
    case errc::internal:
      return 500;
  }
  return 500;
}

std::string_view problem_title(errc code) noexcept {
  static constexpr name_table names{
    errc::internal,
    {"OK", "Invalid input", "Not found", "Unknown SKU", "Insufficient stock", "Conflict",
     "Illegal status transition", "Idempotency key reused with a different request",
     "Request with this idempotency key still in progress", "Currency mismatch",
     "Service unavailable", "Storage failure", "Internal error"},
    "Internal error"};
  return names.name(code);
}

std::string problem_type(errc code) {
  std::string result{problem_type_prefix};
  result += to_string(code);
  return result;
}

problem make_problem(errc code, std::string detail) {
  if (code == errc::ok) // a caller bug: never report success as a problem
    code = errc::internal;
  problem p;
  p.type = problem_type(code);
  p.title = problem_title(code);
  p.status = http_status(code);
  p.detail = std::move(detail);
  return p;
}

problem invalid_input_problem(field_errors errors, std::string detail) {
  auto p = make_problem(errc::invalid_input, std::move(detail));
  p.errors = std::move(errors);
  return p;
}

problem insufficient_stock_problem(std::span<const short_line> lines, std::string detail) {
  ojson items(ojson::value_t::array);
  for (auto& line : lines)
    items.push_back(ojson{{"sku", line.sku},
                          {"requested", line.requested},
                          {"available", line.available}});
  if (detail.empty())
    detail = "Not enough stock for " + std::to_string(lines.size())
             + (lines.size() == 1 ? " item." : " items.");
  auto p = make_problem(errc::insufficient_stock, std::move(detail));
  p.extensions = ojson{{"short_items", std::move(items)}};
  return p;
}

problem unknown_sku_problem(std::span<const std::string> skus, std::string detail) {
  if (detail.empty()) {
    detail = "No product with SKU";
    for (size_t i = 0; i < skus.size(); ++i)
      detail += (i == 0 ? " " : ", ") + skus[i];
    detail += '.';
  }
  auto p = make_problem(errc::unknown_sku, std::move(detail));
  ojson list(ojson::value_t::array);
  for (auto& sku : skus)
    list.push_back(sku);
  p.extensions = ojson{{"unknown_skus", std::move(list)}};
  return p;
}

problem payload_too_large_problem(std::size_t limit_bytes) {
  auto p = transport_problem("payload-too-large", "Payload too large", 413,
                             "The request body exceeds " + std::to_string(limit_bytes)
                               + " bytes.");
  p.extensions = ojson{{"max_body_bytes", limit_bytes}};
  return p;
}

problem unsupported_media_type_problem(std::string_view content_type) {
  std::string detail = content_type.empty()
                         ? std::string{"The request has no Content-Type"}
                         : "Content-Type " + std::string{content_type} + " is not supported";
  detail += "; send application/json.";
  return transport_problem("unsupported-media-type", "Unsupported media type", 415,
                           std::move(detail));
}

problem unauthorized_problem() {
  return transport_problem("unauthorized", "Unauthorized", 401,
                           "This admin endpoint needs the header 'Authorization: Bearer <token>' "
                           "with the token orderd was started with (--admin-token).");
}

problem admin_disabled_problem() {
  return transport_problem("admin-disabled", "Admin endpoints disabled", 403,
                           "Admin endpoints are disabled: start orderd with --admin-token "
                           "(ORDERD_ADMIN_TOKEN) to enable them.");
}

problem no_route_problem(std::string_view method, std::string_view target) {
  return transport_problem("no-route", "No such resource", 404,
                           "Nothing serves " + std::string{method} + " " + std::string{target}
                             + ".");
}

problem method_not_allowed_problem(std::string_view method,
                                   std::span<const std::string_view> allowed) {
  std::string detail = "Method " + std::string{method} + " is not allowed here; use";
  ojson list(ojson::value_t::array);
  for (size_t i = 0; i < allowed.size(); ++i) {
    detail += (i == 0 ? " " : ", ") + std::string{allowed[i]};
    list.push_back(std::string{allowed[i]});
  }
  detail += '.';
  auto p = transport_problem("method-not-allowed", "Method not allowed", 405, std::move(detail));
  p.extensions = ojson{{"allowed", std::move(list)}};
  return p;
}

nlohmann::ordered_json to_json(const problem& p) {
  ojson j(ojson::value_t::object);
  auto& members = j.get_ref<ojson::object_t&>();
  members.reserve(5 + (p.extensions.is_object() ? p.extensions.size() : 0));
  members.emplace_back("type", p.type);
  members.emplace_back("title", p.title);
  members.emplace_back("status", p.status);
  members.emplace_back("detail", p.detail.empty() ? p.title : p.detail);
  if (!p.errors.empty()) {
    ojson errors(ojson::value_t::array);
    for (auto& e : p.errors)
      errors.push_back(ojson{{"field", e.field}, {"message", e.message}});
    members.emplace_back("errors", std::move(errors));
  }
  if (p.extensions.is_object())
    for (auto& member : p.extensions.items())
      if (!is_standard_member(member.key()))
        members.emplace_back(member.key(), member.value());
  return j;
}

std::string encode(const problem& p) {
  return to_json(p).dump(-1, ' ', false, ojson::error_handler_t::replace);
}

} // namespace orderd::wire
