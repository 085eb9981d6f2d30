#pragma once

// RFC 9457 problem documents (`application/problem+json`) and the one mapping from `errc` to an
// HTTP status. Pure functions: no CAF, no Beast.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "domain/errc.hpp"
#include "domain/order.hpp"
#include "domain/validation.hpp"

namespace orderd::wire {

/// The Content-Type of every error response.
inline constexpr std::string_view problem_media_type = "application/problem+json";

/// Problem `type` URIs are this prefix followed by a stable slug, e.g. `insufficient-stock`.
inline constexpr std::string_view problem_type_prefix = "https://orderd.dev/problems/";

/// The HTTP status for a business or infrastructure failure code:
/// invalid_input 400, not_found 404, unknown_sku 422, insufficient_stock 409, conflict 409,
/// illegal_transition 409, idempotency_mismatch 422, idempotency_in_flight 409,
/// currency_mismatch 422, unavailable 503, storage_failure 500, internal 500 (ok: 200).
int http_status(errc code) noexcept;

/// A short human-readable summary of a code, the same for every occurrence
/// (e.g. "Insufficient stock").
std::string_view problem_title(errc code) noexcept;

/// `problem_type_prefix` + `to_string(code)`.
std::string problem_type(errc code);

/// One problem document. Render with `to_json` or `encode`; send with `status` and
/// `problem_media_type`.
struct problem {
  std::string type;   ///< URI identifying the problem type
  std::string title;  ///< summary of the type
  int status = 500;   ///< HTTP status, repeated in the body
  std::string detail; ///< this occurrence, for humans; the title when empty
  field_errors errors; ///< `"errors":[{"field","message"}]`, omitted when empty
  /// Extension members (an object, or null for none), appended after the standard ones; an
  /// extension named like a standard member is ignored.
  nlohmann::ordered_json extensions;
};

/// A problem for a failure code; `errc::ok` is a caller bug and yields an `internal` problem.
problem make_problem(errc code, std::string detail = {});

/// 400 with one entry per field error (what the JSON decoders return).
problem invalid_input_problem(field_errors errors,
                              std::string detail = "The request is not valid.");

/// 409 with `"short_items":[{"sku","requested","available"}]`.
problem insufficient_stock_problem(std::span<const short_line> lines, std::string detail = {});

/// 422 with `"unknown_skus":["..."]`.
problem unknown_sku_problem(std::span<const std::string> skus, std::string detail = {});

// -- transport-level problems (detected before any route runs)

/// 413, type `payload-too-large`, with `"max_body_bytes"`.
problem payload_too_large_problem(std::size_t limit_bytes);

/// 415, type `unsupported-media-type`; `content_type` is what the client sent (may be empty).
problem unsupported_media_type_problem(std::string_view content_type);

/// 401, type `unauthorized`: an admin route without the right bearer token.
problem unauthorized_problem();

/// 403, type `admin-disabled`: admin routes answer nothing until a token is configured.
problem admin_disabled_problem();

/// 404, type `no-route`: nothing serves this path.
problem no_route_problem(std::string_view method, std::string_view target);

/// 405, type `method-not-allowed`, with `"allowed":[...]` (also send them in an Allow header).
problem method_not_allowed_problem(std::string_view method,
                                   std::span<const std::string_view> allowed);

/// `{"type","title","status","detail"}`, then `"errors"` if any, then the extensions.
nlohmann::ordered_json to_json(const problem& p);

/// The serialised body. Never throws.
std::string encode(const problem& p);

} // namespace orderd::wire
