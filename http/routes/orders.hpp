#pragma once

// The order operations that the v1 routes (orders.cpp) and the seed service's routes
// (legacy.cpp) share; `format` picks the wire format of the bodies.

#include <string>

#include "http/context.hpp"
#include "http/reply.hpp"

namespace orderd::http {

/// Decodes a placement, binds its Idempotency-Key and asks the order supervisor.
void place_order(const context& c, request&& req, responder reply, order_format format);

/// Answers one order by id (404 for a malformed id).
void answer_order(const context& c, const std::string& id, responder reply, order_format format);

/// Answers a page of orders filtered by ?status= and ?customer_id=; the v1 API pages by ?limit=
/// (default 50), the legacy one by ?pageSize= (default 10).
void answer_order_list(const context& c, request&& req, responder reply, order_format format);

/// Cancels an order on its customer's behalf (the order actor decides whether it still may).
void cancel_order(const context& c, const std::string& id, std::string correlation_id,
                  responder reply, order_format format);

} // namespace orderd::http
