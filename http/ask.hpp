#pragma once

// How a route asks the actors. A route runs on a Beast I/O thread and may not wait, so every
// question goes through an HTTP bridge actor (actors/bridge.hpp): the route enqueues a
// continuation there, the bridge makes the request, and the reply handler calls the responder.
//
// A bridge that stops (a crash, then the root supervisor's restart) drops what it holds
// unrun: the calls still in its mailbox and the reply handlers it waits on. Each of them owns
// the request's responder, so the client would get the server's lost-reply 500; a guard in
// each answers the documented 503 (safe to retry) instead.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <caf/all.hpp>

#include "actors/protocol.hpp"
#include "http/context.hpp"
#include "http/reply.hpp"
#include "wire/json_codec.hpp"

namespace orderd::http {

/// Calls its fallback when the last copy goes without disarm() having been called: held by a
/// bridge continuation and its reply handlers, it answers for them when CAF drops them.
/// Thread: any (the last owner's); disarm() happens-before the destructor through the
/// shared_ptr's reference count.
class dropped_call_guard {
public:
  explicit dropped_call_guard(std::function<void()> fallback) : fallback_(std::move(fallback)) {}
  dropped_call_guard(const dropped_call_guard&) = delete;
  dropped_call_guard& operator=(const dropped_call_guard&) = delete;

  ~dropped_call_guard() {
    if (!fallback_)
      return;
    try {
      fallback_();
    } catch (...) { // runs inside CAF's message clean-up: nothing may escape
    }
  }

  /// A reply handler ran: what happens to the request is its business from now on.
  void disarm() noexcept {
    fallback_ = nullptr;
  }

private:
  std::function<void()> fallback_;
};

using guard_ptr = std::shared_ptr<dropped_call_guard>;

/// Runs `fn(self, guard)` on an HTTP bridge actor (picked round robin). `fn` keeps `guard` in
/// its reply handlers and disarms it when one runs. `unavailable` runs instead when no bridge is
/// running, or when the bridge stops before that.
template <class Fn>
void on_bridge(const services_ptr& svc, Fn fn, std::function<void()> unavailable) {
  auto bridge = svc->bridges.next();
  if (!bridge)
    return unavailable();
  auto guard = std::make_shared<dropped_call_guard>(std::move(unavailable));
  // Thread: the caller's (Beast I/O thread or a bridge actor) -> the bridge's mailbox, a
  // non-blocking enqueue. A stopped bridge drops the call at once, and the guard answers.
  caf::anon_send(bridge, call_atom_v,
                 bridge_call{[fn = std::move(fn), guard](caf::event_based_actor* self) mutable {
                   fn(self, guard);
                 }});
}

/// Sends `xs...` to `target` from a bridge actor; `on_ok(T&)` or `on_error(caf::error&)` runs
/// there with the outcome; `timeout` is a std::chrono duration or caf::infinite. 503 at once
/// when `target` is not running (it is restarting).
template <class T, class Timeout, class OnOk, class OnError, class... Ts>
void request_on_bridge(const services_ptr& svc, responder reply, const caf::actor& target,
                       Timeout timeout, OnOk on_ok, OnError on_error, Ts... xs) {
  if (!target)
    return reply(unavailable_response());
  on_bridge(
    svc,
    [=](caf::event_based_actor* self, const guard_ptr& guard) {
      // Thread: the bridge actor. The reply handlers run here too.
      self->request(target, timeout, xs...)
        .then(
          [=](T& value) mutable {
            guard->disarm();
            on_ok(value);
          },
          [=](caf::error& err) mutable {
            guard->disarm();
            on_error(err);
          });
    },
    [reply] { reply(unavailable_response()); });
}

/// Asks `target` and hands the reply to `on_ok` (on the bridge's thread); an error becomes its
/// problem response. The wait is bounded by the connection's deadline, moved to `within` (503
/// when it passes), not by a CAF request timeout (see responder::answer_within).
template <class T, class OnOk, class... Ts>
void ask_within(const services_ptr& svc, std::chrono::milliseconds within, responder reply,
                const caf::actor& target, OnOk on_ok, Ts... xs) {
  if (target)
    reply.answer_within(within);
  request_on_bridge<T>(
    svc, reply, target, caf::infinite, std::move(on_ok),
    [reply](caf::error& err) { reply(error_response(err)); }, std::move(xs)...);
}

/// ask_within() bounded by --request-timeout-ms.
template <class T, class OnOk, class... Ts>
void ask(const context& c, responder reply, const caf::actor& target, OnOk on_ok, Ts... xs) {
  ask_within<T>(c.svc, c.opts.request_timeout, std::move(reply), target, std::move(on_ok),
                std::move(xs)...);
}

/// Asks `target` and answers 200 with the reply's JSON (wire::encode).
template <class T, class... Ts>
void ask_json(const context& c, responder reply, const caf::actor& target, Ts... xs) {
  ask<T>(
    c, reply, target, [reply](const T& value) { reply(json_response(200, wire::encode(value))); },
    std::move(xs)...);
}

/// Asks a store reader for one page of `query` and answers 200 with
/// `encode(items, next_cursor)`.
template <class T, class Query, class Encode>
void ask_page(const context& c, responder reply, Query query, Encode encode) {
  ask<persistence::page<T>>(
    c, reply, c.svc->readers.next(),
    [reply, encode](const persistence::page<T>& pg) {
      reply(json_response(200, encode(pg.items, cursor_or_null(pg.next_cursor))));
    },
    list_atom_v, std::move(query));
}

/// Runs `then()` (on a bridge actor) once a store reader found customer `id`; its error (404
/// for an unknown customer) otherwise.
template <class Then>
void after_customer_found(const context& c, responder reply, const std::string& id, Then then) {
  ask<customer>(
    c, reply, c.svc->readers.next(), [then](const customer&) mutable { then(); }, get_atom_v,
    customer_tag{}, id);
}

/// Asks for a placement (an order, or a cart's checkout) and answers placement_response().
/// A placement may take twice --request-timeout-ms: it reserves stock and then commits.
template <class... Ts>
void ask_placement(const context& c, responder reply, const caf::actor& target,
                   order_format format, Ts... xs) {
  ask_within<placement_result>(
    c.svc, c.opts.request_timeout * 2, reply, target,
    [reply, format](const placement_result& res) { reply(placement_response(res, format)); },
    std::move(xs)...);
}

// -- fan-out: /ready, /metrics and the admin overview -------------------------------------------

/// How long /ready, /metrics and the admin overview wait for each actor they ask.
inline constexpr std::chrono::milliseconds status_wait{2000};

/// The requests of one gather(), made at once from one bridge actor. Thread: that actor only
/// (the reply handlers run there too), so nothing here locks.
class fan_out {
public:
  /// Asks `target` within `timeout` (a std::chrono duration or caf::infinite);
  /// `on_reply(caf::expected<T>&)` gets the answer or the error. An actor that is not running
  /// (restarting) is not asked: there is nothing to wait for.
  template <class T, class Timeout, class OnReply, class... Ts>
  void ask(const caf::actor& target, Timeout timeout, OnReply on_reply, Ts... xs) {
    if (!target)
      return;
    ++state_->pending;
    self_->request(target, timeout, xs...)
      .then(
        [st = state_, on_reply](T& value) mutable {
          caf::expected<T> answer{std::move(value)};
          on_reply(answer);
          st->finish_one();
        },
        [st = state_, on_reply](caf::error& err) mutable {
          caf::expected<T> answer{std::move(err)};
          on_reply(answer);
          st->finish_one();
        });
  }

  /// Asks `target` within `timeout` and keeps the answer in `(*into).*field`, which stays
  /// empty when the actor fails or does not answer in time.
  template <class State, class T, class... Ts>
  void ask_into(const caf::actor& target, std::chrono::milliseconds timeout,
                std::shared_ptr<State> into, std::optional<T> State::*field, Ts... xs) {
    ask<T>(
      target, timeout,
      [into, field](caf::expected<T>& answer) {
        if (answer)
          (*into).*field = std::move(*answer);
      },
      std::move(xs)...);
  }

private:
  template <class Asks>
  friend void gather(const services_ptr&, Asks, std::function<void()>, std::function<void()>);

  struct state {
    int pending = 1; // the starter's own share, released once every request is sent
    std::function<void()> done;
    void finish_one() {
      if (--pending == 0)
        done();
    }
  };

  fan_out(caf::event_based_actor* self, std::function<void()> done)
    : self_(self), state_(std::make_shared<state>()) {
    state_->done = std::move(done);
  }

  caf::event_based_actor* self_;
  std::shared_ptr<state> state_;
};

/// Asks several actors at once: `asks(fan)` makes the requests on a bridge actor, and `done()`
/// runs there after the last answer, error or timeout. `unavailable` runs instead when no
/// bridge is running or the bridge stops first.
template <class Asks>
void gather(const services_ptr& svc, Asks asks, std::function<void()> done,
            std::function<void()> unavailable) {
  on_bridge(
    svc,
    [asks, done](caf::event_based_actor* self, const guard_ptr& guard) mutable {
      // Thread: the bridge actor; every reply handler and `done` run here too.
      fan_out fan{self, [guard, done] {
                    guard->disarm();
                    done();
                  }};
      asks(fan);
      fan.state_->finish_one();
    },
    std::move(unavailable));
}

} // namespace orderd::http
