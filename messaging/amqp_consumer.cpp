#include "messaging/amqp_consumer.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messaging/inbound.hpp"
#include "observability/catalogue.hpp"
#include "observability/metrics.hpp"
#include "messaging/topology.hpp"

namespace orderd::messaging {

namespace {

using consumer_actor = caf::stateful_actor<amqp_consumer_state>*;
using delivery_ptr = std::shared_ptr<const delivery>;
using std::chrono::milliseconds;

constexpr milliseconds confirm_timeout{10000};
/// How often the depth of the dead-letter queue is read for the metrics.
constexpr std::chrono::seconds dlq_depth_interval{5};

/// Counts what became of one command (`command` empty: unidentified poison).
void count(std::string_view command, std::string_view outcome) {
  observability::catalogue::inbound_commands()
    .with({command.empty() ? std::string{"unknown"} : std::string{command}, std::string{outcome}})
    .inc();
}

topology command_topology(const amqp_consumer_options& o) {
  work_queue_spec spec;
  spec.exchange = o.exchange;
  spec.queue = o.queue;
  spec.binding_keys.clear();
  for (auto name : commands::all)
    spec.binding_keys.emplace_back(name);
  std::set<milliseconds> delays(o.retry_delays.begin(), o.retry_delays.end());
  spec.retry_delays.assign(delays.begin(), delays.end());
  return make_work_queue_topology(spec);
}

bool connect(consumer_actor self, const amqp_consumer_options& o) {
  auto& st = self->state;
  try {
    amqp_connection c{o.connection};
    c.declare(command_topology(o));
    c.qos(o.prefetch);
    c.consume(o.queue);
    st.connection.emplace(std::move(c));
    ++st.generation;
    st.status.connected = true;
    st.status.last_error.clear();
    spdlog::info("command consumer: consuming {} (exchange {}, prefetch {})", o.queue, o.exchange,
                 o.prefetch);
    return true;
  } catch (const std::exception& e) {
    if (st.status.last_error != e.what())
      spdlog::warn("command consumer: cannot reach the broker: {}", e.what());
    st.status.connected = false;
    st.status.last_error = e.what();
    return false;
  }
}

/// Drops the connection; the broker redelivers what we did not acknowledge.
void lose(consumer_actor self, const std::exception& e) {
  auto& st = self->state;
  st.connection.reset();
  st.status.connected = false;
  st.status.last_error = e.what();
  spdlog::warn("command consumer: lost the broker: {}", e.what());
}

void handle(consumer_actor self, const services_ptr& svc, const amqp_consumer_options& o,
            uint64_t generation, delivery_ptr d, bool seen_before);

/// The delivery is finished with (acknowledged, moved, or its connection is gone): copies of
/// the same message id that waited for it go on, checking the processed records first.
void release(consumer_actor self, const services_ptr& svc, const amqp_consumer_options& o,
             const delivery& d) {
  auto& st = self->state;
  auto i = st.busy.find(d.properties.message_id);
  if (i == st.busy.end())
    return;
  auto parked = std::move(i->second);
  st.busy.erase(i);
  for (auto& [generation, copy] : parked)
    if (generation == st.generation) // else the broker delivers it again on the new connection
      handle(self, svc, o, generation, copy, true);
}

/// The connection the delivery came on, if it is still the current one.
amqp_connection* live(consumer_actor self, uint64_t generation) {
  auto& st = self->state;
  if (st.generation != generation || !st.connection || !st.connection->is_open())
    return nullptr;
  return &*st.connection;
}

void ack(consumer_actor self, const services_ptr& svc, const amqp_consumer_options& o,
         uint64_t generation, const delivery& d) {
  // Without its connection: redelivered on the new one, then found in the processed records.
  if (auto c = live(self, generation)) {
    try {
      c->ack(d.delivery_tag);
      ++self->state.status.acked;
      count(d.properties.type.empty() ? d.routing_key : d.properties.type, "acked");
    } catch (const std::exception& e) {
      lose(self, e);
    }
  }
  release(self, svc, o, d);
}

/// Publishes `copy`, waits for its confirm, then acknowledges `d`: the message is in exactly one
/// queue at every moment, or (after a crash in between) in two, which its id makes harmless.
bool move_to(consumer_actor self, const services_ptr& svc, const amqp_consumer_options& o,
             uint64_t generation, const delivery& d, const outgoing_message& copy) {
  bool moved = false;
  if (auto c = live(self, generation)) {
    try {
      auto result = c->publish_batch({copy}, confirm_timeout).front();
      if (!result.ok())
        throw amqp_error("publish to "
                           + (copy.exchange.empty() ? copy.routing_key : copy.exchange),
                         std::string{to_string(result.status)} + " " + result.detail);
      c->ack(d.delivery_tag);
      moved = true;
    } catch (const std::exception& e) {
      lose(self, e);
    }
  }
  release(self, svc, o, d);
  return moved;
}

void send_to_dlq(consumer_actor self, const services_ptr& svc, const amqp_consumer_options& o,
                 uint64_t generation, const delivery& d, std::string_view command,
                 uint32_t attempts, const std::string& reason, const std::string& last_error) {
  auto copy = dead_letter_copy(d, command, attempts, reason, last_error,
                               dead_letter_exchange_name({o.exchange, o.queue}), o.queue,
                               svc->now());
  if (!move_to(self, svc, o, generation, d, copy))
    return;
  ++self->state.status.dead_lettered;
  count(command, "dead_lettered");
  spdlog::warn("command consumer: {} {} dead-lettered to {}: {}",
               command.empty() ? "message" : command, copy.properties.message_id,
               dead_letter_queue_name(o.queue), reason);
}

void retry_later(consumer_actor self, const services_ptr& svc, const amqp_consumer_options& o,
                 uint64_t generation, const delivery& d, const inbound_command& cmd,
                 const std::string& error) {
  auto attempts = cmd.attempts + 1;
  if (attempts >= o.max_attempts)
    return send_to_dlq(self, svc, o, generation, d, cmd.command, attempts,
                       "failed " + std::to_string(attempts) + " attempts", error);
  auto delay = retry_delay(attempts, o.retry_delays);
  auto copy = retry_copy(d, cmd, attempts, retry_queue_name(o.queue, delay), error);
  if (!move_to(self, svc, o, generation, d, copy))
    return;
  ++self->state.status.retried;
  count(cmd.command, "retried");
  spdlog::info("command consumer: {} {} failed (attempt {} of {}): {}; retrying in {} ms",
               cmd.command, cmd.message_id, attempts, o.max_attempts, error, delay.count());
}

void decide(consumer_actor self, const services_ptr& svc, const amqp_consumer_options& o,
            uint64_t generation, const delivery_ptr& d, const inbound_command& cmd, errc code,
            const std::string& detail) {
  switch (dispose(cmd.command, code)) {
    case disposition::ack:
      if (code != errc::ok)
        spdlog::info("command consumer: {} {}: nothing to do ({})", cmd.command, cmd.message_id,
                     detail);
      ack(self, svc, o, generation, *d);
      return;
    case disposition::retry:
      retry_later(self, svc, o, generation, *d, cmd,
                  std::string{orderd::to_string(code)} + ": " + detail);
      return;
    case disposition::dead_letter:
      send_to_dlq(self, svc, o, generation, *d, cmd.command, cmd.attempts,
                  std::string{orderd::to_string(code)} + ": " + detail, "");
      return;
  }
}

/// Fault injection (--enable-fault-injection): the command's effect is durable and its ack not
/// sent, the worst moment for a node to die. The broker redelivers the message to another
/// consumer, which must find it processed. Exits at once, as kill -9 would: no clean-up runs.
[[noreturn]] void exit_before_ack(const inbound_command& cmd) {
  spdlog::critical("fault injection: exiting after {} {} committed, before its ack", cmd.command,
                   cmd.message_id);
  spdlog::default_logger()->flush();
  std::fflush(nullptr);
  std::_Exit(70);
}

/// The actors answered. A failure may still have committed (a lost reply, or a redelivered copy
/// that lost the race to its twin): the processed record decides before anything is retried.
void settle(consumer_actor self, const services_ptr& svc, const amqp_consumer_options& o,
            uint64_t generation, delivery_ptr d, inbound_command cmd, errc code,
            std::string detail) {
  --self->state.status.in_flight;
  if (code == errc::ok && self->state.exit_after_commit)
    exit_before_ack(cmd);
  if (code == errc::ok)
    return ack(self, svc, o, generation, *d);
  self->request(svc->readers.next(), o.command_timeout, processed_atom_v, cmd.message_id)
    .then(
      [=](bool done) {
        if (done)
          return ack(self, svc, o, generation, *d);
        decide(self, svc, o, generation, d, cmd, code, detail);
      },
      [=](caf::error& err) {
        decide(self, svc, o, generation, d, cmd, errc::unavailable,
               detail + " (and the processed records could not be read: " + detail_of(err) + ")");
      });
}

void dispatch(consumer_actor self, const services_ptr& svc, const amqp_consumer_options& o,
              uint64_t generation, delivery_ptr d, inbound_command cmd) {
  auto on_error = [=](caf::error& err) {
    settle(self, svc, o, generation, d, cmd, code_of(err), detail_of(err));
  };
  auto invalid = [&](const std::string& why) {
    send_to_dlq(self, svc, o, generation, *d, cmd.command, cmd.attempts,
                "invalid " + cmd.command + ": " + why, "");
  };
  auto& st = self->state;
  if (st.failures_to_inject > 0) {
    --st.failures_to_inject;
    ++st.status.in_flight;
    return settle(self, svc, o, generation, d, cmd, errc::unavailable, "injected failure");
  }
  if (cmd.command == commands::inventory_adjust) {
    auto decoded = decode_inventory_adjust(d->body);
    if (auto why = std::get_if<std::string>(&decoded))
      return invalid(*why);
    auto& c = std::get<stock_command>(decoded);
    ++st.status.in_flight;
    auto done = [=](const product&) {
      settle(self, svc, o, generation, d, cmd, errc::ok, {});
    };
    if (c.set)
      self->request(svc->stocks.get(), o.command_timeout, set_atom_v, c.sku, c.amount,
                    change_origin{cmd.correlation_id, cmd.message_id})
        .then(done, on_error);
    else
      self->request(svc->stocks.get(), o.command_timeout, adjust_atom_v, c.sku, c.amount,
                    change_origin{cmd.correlation_id, cmd.message_id})
        .then(done, on_error);
  } else if (cmd.command == commands::order_place) {
    auto decoded = decode_order_place(d->body);
    if (auto why = std::get_if<std::string>(&decoded))
      return invalid(*why);
    placement_request pr;
    pr.request = std::move(std::get<order_request>(decoded));
    pr.correlation_id = cmd.correlation_id;
    pr.message_id = cmd.message_id;
    ++st.status.in_flight;
    self->request(svc->orders.get(), o.command_timeout, place_atom_v, std::move(pr))
      .then(
        [=](const placement_result&) { settle(self, svc, o, generation, d, cmd, errc::ok, {}); },
        on_error);
  } else if (cmd.command == commands::payment_result) {
    auto decoded = decode_payment_result(d->body);
    if (auto why = std::get_if<std::string>(&decoded))
      return invalid(*why);
    auto& c = std::get<payment_command>(decoded);
    payment_result result{c.order_id, c.succeeded, c.reason, cmd.correlation_id, cmd.message_id};
    ++st.status.in_flight;
    self->request(svc->orders.get(), o.command_timeout, settle_atom_v, std::move(result))
      .then([=](const order&) { settle(self, svc, o, generation, d, cmd, errc::ok, {}); },
            on_error);
  } else {
    auto decoded = decode_order_cancel(d->body);
    if (auto why = std::get_if<std::string>(&decoded))
      return invalid(*why);
    auto id = std::get<cancel_command>(decoded).order_id;
    ++st.status.in_flight;
    self->request(svc->orders.get(), o.command_timeout, cancel_atom_v, id, cmd.correlation_id,
                  cmd.message_id)
      .then([=](const order&) { settle(self, svc, o, generation, d, cmd, errc::ok, {}); },
            on_error);
  }
}

void handle(consumer_actor self, const services_ptr& svc, const amqp_consumer_options& o,
            uint64_t generation, delivery_ptr d, bool seen_before) {
  auto& st = self->state;
  auto identified = identify(*d);
  if (auto why = std::get_if<std::string>(&identified))
    return send_to_dlq(self, svc, o, generation, *d, {}, 0, *why, "");
  auto cmd = std::get<inbound_command>(std::move(identified));
  if (auto i = st.busy.find(cmd.message_id); i != st.busy.end()) {
    i->second.emplace_back(generation, d); // after the copy being handled (see release)
    return;
  }
  st.busy.emplace(cmd.message_id, std::vector<std::pair<uint64_t, delivery_ptr>>{});
  if (!seen_before && !d->redelivered && cmd.attempts == 0)
    return dispatch(self, svc, o, generation, d, cmd);
  // Seen before: it may have been applied, and only its ack was lost.
  ++st.status.in_flight;
  self->request(svc->readers.next(), o.command_timeout, processed_atom_v, cmd.message_id)
    .then(
      [=](bool done) {
        --self->state.status.in_flight;
        if (done) {
          spdlog::info("command consumer: {} {} was processed already", cmd.command,
                       cmd.message_id);
          return ack(self, svc, o, generation, *d);
        }
        dispatch(self, svc, o, generation, d, cmd);
      },
      [=](caf::error&) {
        // The record commits with the change: a duplicate is refused by the store anyway.
        --self->state.status.in_flight;
        dispatch(self, svc, o, generation, d, cmd);
      });
}

} // namespace

caf::behavior amqp_consumer_impl(caf::stateful_actor<amqp_consumer_state>* self,
                                 services_ptr svc, amqp_consumer_options opts) {
  // Thread: this actor's own (detached); its connections never leave it.
  resilience::backoff_policy policy;
  policy.base = milliseconds{200};
  policy.cap = milliseconds{10000};
  self->state.reconnect.emplace(policy);
  self->state.status.queue = opts.queue;
  self->send(self, tick_atom_v);
  auto dlq = dead_letter_queue_name(opts.queue);
  return {
    [=](tick_atom) {
      auto& st = self->state;
      if (!st.connection) {
        if (!connect(self, opts)) {
          self->delayed_send(self, st.reconnect->next_delay(st.connect_failures++), tick_atom_v);
          return;
        }
        st.connect_failures = 0;
      }
      try {
        if (auto now = std::chrono::steady_clock::now(); now >= st.next_dlq_depth) {
          st.next_dlq_depth = now + dlq_depth_interval;
          observability::dlq_messages().set(
            static_cast<double>(st.connection->inspect_queue(dlq).message_count));
        }
        static auto& mailbox
          = observability::catalogue::mailbox_messages().with({"command-consumer"});
        mailbox.set(static_cast<double>(self->mailbox().size()));
        // Short waits while answers are due: they queue behind this handler.
        auto wait = st.status.in_flight > 0 ? milliseconds{5} : milliseconds{200};
        for (size_t n = 0; n < opts.prefetch && st.connection; ++n) {
          auto d = st.connection->next_delivery(n == 0 ? wait : milliseconds{0});
          if (!d)
            break;
          ++st.status.received;
          handle(self, svc, opts, st.generation,
                 std::make_shared<const delivery>(std::move(*d)), false);
        }
      } catch (const std::exception& e) {
        lose(self, e);
      }
      self->send(self, tick_atom_v); // after the answers already in the mailbox
    },
    [=](status_atom) { return self->state.status; },
    [=](crash_atom, commit_atom) {
      spdlog::warn("fault injection: the process exits after the next command commits");
      self->state.exit_after_commit = true;
      return true;
    },
    [=](crash_atom, uint32_t failures) {
      spdlog::warn("fault injection: the next {} commands fail", failures);
      self->state.failures_to_inject = failures;
      return true;
    },
    [=](list_atom, dlq_atom, size_t limit) -> caf::result<std::vector<dead_letter>> {
      try {
        // A connection of its own: what it fetches stays unacknowledged, and closing it puts
        // every message back where it was.
        amqp_connection c{opts.connection};
        std::vector<dead_letter> out;
        while (out.size() < limit) {
          auto d = c.get(dlq);
          if (!d)
            break;
          out.push_back(describe(*d));
        }
        return out;
      } catch (const std::exception& e) {
        return fail(errc::unavailable, "cannot read " + dlq + ": " + e.what());
      }
    },
    [=](replay_atom, dlq_atom, const std::string& id) -> caf::result<dead_letter> {
      try {
        amqp_connection c{opts.connection};
        for (size_t i = 0; i < opts.replay_scan_limit; ++i) {
          auto d = c.get(dlq);
          if (!d)
            break;
          if (d->properties.message_id != id)
            continue; // back in the queue when `c` closes
          auto copy = replay_copy(*d, opts.exchange);
          copy.mandatory = true; // a command nobody routes must stay in the DLQ
          auto result = c.publish_batch({copy}, confirm_timeout).front();
          if (!result.ok())
            return fail(errc::unavailable, "the broker did not take the replay of " + id + ": "
                                             + std::string{to_string(result.status)} + " "
                                             + result.detail);
          c.ack(d->delivery_tag);
          spdlog::info("command consumer: replayed {} {} from {}", copy.routing_key, id, dlq);
          return describe(*d);
        }
        return fail(errc::not_found, "no message with id " + id + " in " + dlq);
      } catch (const std::exception& e) {
        return fail(errc::unavailable, "cannot read " + dlq + ": " + e.what());
      }
    },
  };
}

} // namespace orderd::messaging
