// Notifications (email, webhook, push): /api/v1/notifications, and a customer's push
// notifications. ?status=FAILED lists the dead letters. New ones go to the notification
// supervisor; reads to a store reader.

#include "http/ask.hpp"
#include "http/router.hpp"
#include "wire/json_codec.hpp"

namespace orderd::http {

namespace {

/// ?status=, ?channel=, ?limit= and ?cursor= of the notification listings (400 for unknown
/// values).
bool read_notification_filters(const request& req, persistence::notification_query& q,
                               responder& reply) {
  if (auto text = req.query_param("status"); text && !text->empty()) {
    q.status = parse_notification_status(*text);
    if (!q.status) {
      reply(bad_param("status", "must be one of PENDING, SENT, FAILED"));
      return false;
    }
  }
  if (auto text = req.query_param("channel"); text && !text->empty()) {
    q.channel = parse_notification_channel(*text);
    if (!q.channel) {
      reply(bad_param("channel", "must be one of email, webhook, push"));
      return false;
    }
  }
  if (!read_limit(req, "limit", 50, 500, q.limit, reply))
    return false;
  q.cursor = query_or_empty(req, "cursor");
  return true;
}

/// GET /api/v1/notifications: every notification by id; ?status=FAILED is the dead-letter list.
void list_notifications(const context& c, request&& req, responder reply, const params_t&) {
  persistence::notification_query q;
  if (!read_notification_filters(req, q, reply))
    return;
  ask_page<notification>(c, reply, std::move(q), wire::encode_notifications);
}

void get_notification(const context& c, request&&, responder reply, const params_t& p) {
  if (!require_uuid("notification", p[0], reply))
    return;
  ask_json<notification>(c, reply, c.svc->readers.next(), get_atom_v, notification_tag{}, p[0]);
}

/// POST /api/v1/notifications: an ad-hoc notification. 202 once the PENDING record is durable;
/// delivery happens afterwards (poll GET /api/v1/notifications/{id}).
void create_notification(const context& c, request&& req, responder reply, const params_t&) {
  auto r = read_body(wire::decode_notification_request(req.body), reply);
  if (!r)
    return;
  notification n;
  n.channel = *parse_notification_channel(r->channel);
  n.recipient = r->recipient;
  n.subject = r->subject;
  n.body = r->body;
  if (n.channel == notification_channel::webhook && c.opts.webhook_refusal)
    if (auto why = c.opts.webhook_refusal(n.recipient))
      return reply(bad_param("recipient", *why)); // orderd calls no URL it was not allowed to
  if (!c.svc->notifier.get())
    return reply(problem_response(errc::unavailable, "notifications are not running; retry"));
  auto accepted = [reply](const notification& created) {
    reply(created_response(202, wire::encode(created), "/api/v1/notifications/" + created.id));
  };
  if (n.channel != notification_channel::push)
    return ask<notification>(c, reply, c.svc->notifier.get(), accepted, notify_atom_v, n);
  // Push goes to a customer: it must exist, or nobody could ever list it (400, not 404: the
  // route exists, the recipient in the body is what is wrong).
  n.customer_id = n.recipient;
  request_on_bridge<customer>(
    c.svc, reply, c.svc->readers.next(), c.opts.request_timeout,
    [ctx = c, reply, accepted, n](const customer&) {
      // Thread: a bridge actor; the notifier is asked through a bridge as well.
      ask<notification>(ctx, reply, ctx.svc->notifier.get(), accepted, notify_atom_v, n);
    },
    [reply](caf::error& err) {
      if (code_of(err) == errc::not_found)
        reply(bad_param("recipient", "no customer with this id"));
      else
        reply(error_response(err));
    },
    get_atom_v, customer_tag{}, n.recipient);
}

/// GET /api/v1/customers/{id}/push: the push notifications of a customer (404 if unknown).
void list_customer_push(const context& c, request&& req, responder reply, const params_t& p) {
  if (!require_uuid("customer", p[0], reply))
    return;
  persistence::notification_query q;
  if (!read_notification_filters(req, q, reply))
    return;
  q.channel = notification_channel::push;
  q.customer_id = p[0];
  after_customer_found(c, reply, p[0], [ctx = c, reply, q] {
    ask_page<notification>(ctx, reply, q, wire::encode_notifications);
  });
}

} // namespace

void add_notification_routes(router& r) {
  r.on("/api/v1/notifications")
    .get(list_notifications)
    .post(create_notification, route_needs::json_body);
  r.on("/api/v1/notifications/{id}").get(get_notification);
  r.on("/api/v1/customers/{id}/push").get(list_customer_push);
}

} // namespace orderd::http
