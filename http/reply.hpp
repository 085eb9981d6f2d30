#pragma once

// The shapes of the routes' answers and the request readers they share: every route answers
// through these, so a status code or a problem document is written in one place.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "actors/protocol.hpp"
#include "domain/errc.hpp"
#include "domain/order.hpp"
#include "domain/validation.hpp"
#include "http/server_types.hpp"
#include "wire/json_codec.hpp"
#include "wire/problem.hpp"

namespace orderd::http {

// -- responses -----------------------------------------------------------------------------------

/// `status` with a JSON body.
response json_response(int status, std::string body);

/// `status` with a JSON body and a Location header (201 and 202 of a created resource).
response created_response(int status, std::string body, std::string location);

/// 204 without a body.
response no_content_response();

response problem_response(const wire::problem& p);
response problem_response(errc code, std::string detail);

/// The one place an actor error becomes an HTTP problem.
response error_response(const caf::error& err);

/// 503 while an actor (or the bridge to it) is starting or restarting: safe to retry.
response unavailable_response();

/// 400 listing every field error.
response invalid(field_errors errors);

/// 400 for one field, parameter or header.
response bad_param(std::string field, std::string message);

// -- request readers: each answers 400 (or 404) through `reply` and returns false when the
// -- request cannot go on

/// The decoded body, or nothing once `reply` answered 400 with every field error.
template <class T>
std::optional<T> read_body(wire::decoded<T>&& decoded, responder& reply) {
  if (decoded)
    return std::move(decoded).value();
  reply(invalid(decoded.errors()));
  return std::nullopt;
}

/// read_body() after a check of the path's id, which answered 404 itself when it failed
/// (`path_ok` false): nothing then, without a second answer.
template <class T>
std::optional<T> read_body(bool path_ok, wire::decoded<T>&& decoded, responder& reply) {
  if (!path_ok)
    return std::nullopt;
  return read_body(std::move(decoded), reply);
}

/// An optional positive integer query parameter within [1, max]; `fallback` when absent.
bool read_limit(const request& req, std::string_view name, size_t fallback, size_t max,
                size_t& out, responder& reply);

/// The optional ?status= filter of order listings.
bool read_status(const request& req, std::optional<order_status>& out, responder& reply);

/// 404 "no <what> with id <id>" unless `id` is a UUID (no other id can exist).
bool require_uuid(std::string_view what, const std::string& id, responder& reply);

/// A query parameter's value, or "" when absent (how the store queries spell "any" and "first
/// page").
std::string query_or_empty(const request& req, std::string_view name);

/// A page's next cursor as the codec wants it (null when this is the last page).
std::optional<std::string> cursor_or_null(const std::string& cursor);

/// The correlation id the client gave (X-Correlation-Id, else X-Request-Id), if usable (1-128
/// printable ASCII characters).
std::optional<std::string_view> given_correlation(const request& req);

/// The request's correlation id, carried into the events it causes: the one the client gave,
/// else the request's trace id (observe() adds it as X-Correlation-Id when none was given),
/// else a new UUID.
std::string correlation_of(const request& req);

// -- placements (POST /api/v1/orders, the legacy POST /order and the cart's checkout) ------------

/// How an order is rendered: the v1 API, or the seed service's format.
using wire::order_format;

/// The JSON of `o` in `format`.
std::string encode_order(const order& o, order_format format);

/// Binds an Idempotency-Key header, if any, to `pr`: the key, a fingerprint of `route` and
/// `fingerprinted` (the fields that must match on a replay), and the renderer of the stored
/// answer. A malformed key answers 400 and returns false.
bool read_idempotency_key(const request& req, std::string_view route,
                          const order_request& fingerprinted, order_format format,
                          placement_request& pr, responder& reply);

/// The answer to a placement: the first answer again (Idempotent-Replayed: true) when the key
/// was used before, else 201 with the order (and its Location, in the v1 API).
response placement_response(const placement_result& res, order_format format);

} // namespace orderd::http
