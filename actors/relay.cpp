#include "actors/relay.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <utility>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "events/catalogue.hpp"
#include "observability/catalogue.hpp"

namespace orderd {

namespace {

using relay_actor = caf::stateful_actor<relay_state>*;
using events_ptr = std::shared_ptr<const std::vector<event_record>>;

/// Mirrors the breaker's state into orderd_circuit_breaker_state{breaker="event-relay"}.
void show_breaker(relay_actor self) {
  static auto& g = observability::catalogue::circuit_breaker_state().with({"event-relay"});
  auto state = self->state.breaker->state_at(self->clock().now());
  g.set(observability::catalogue::breaker_state_value(to_string(state)));
}

/// Metrics of a confirmed prefix: count, lag from commit to confirm, low-stock events.
void observe_confirmed(const std::vector<event_record>& batch, size_t n, timestamp_ms now) {
  static auto& published = observability::catalogue::events_published();
  static auto& lag = observability::catalogue::event_publish_lag();
  static auto& low = observability::catalogue::low_stock_events();
  published.inc(n);
  for (size_t i = 0; i < n; ++i) {
    auto& e = batch[i];
    lag.observe(static_cast<double>(std::max<timestamp_ms>(0, now - e.occurred_at)) / 1000.0);
    if (e.type == events::types::inventory_low)
      low.inc();
  }
}

/// The cycle is over; start the next one at once if there is (or may be) more.
void finish(relay_actor self, bool more) {
  auto& st = self->state;
  st.busy = false;
  if (more || st.again) {
    st.again = false;
    self->send(self, retry_atom_v); // at once, but behind whatever waits in the mailbox
  }
}

void succeeded(relay_actor self, bool full_batch) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto was_failing = st.failures > 0 || st.breaker->state() != resilience::breaker_state::closed;
  st.breaker->record_success(now);
  if (was_failing)
    spdlog::info("event relay: publishing again after {} failed attempts (breaker {})",
                 st.failures, to_string(st.breaker->state()));
  st.failures = 0;
  st.last_error.clear();
  show_breaker(self);
  finish(self, full_batch);
}

void failed(relay_actor self, std::string why) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto was = st.breaker->state();
  st.breaker->record_failure(now);
  ++st.failures;
  caf::timespan wait = st.delays->next_delay(st.failures - 1);
  auto is = st.breaker->state();
  if (is == resilience::breaker_state::open)
    wait = std::max<caf::timespan>(wait, st.breaker->retry_at() - now);
  st.not_before = now + wait;
  auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait).count();
  if (is == resilience::breaker_state::open && was == resilience::breaker_state::closed)
    spdlog::warn("event relay: circuit breaker open after {} failed attempts ({}); events wait "
                 "in the outbox, next attempt in {} ms",
                 st.failures, why, wait_ms);
  else if (st.failures == 1)
    spdlog::warn("event relay: publishing failed ({}); retrying in {} ms", why, wait_ms);
  else
    spdlog::debug("event relay: attempt {} failed ({}); retrying in {} ms", st.failures, why,
                  wait_ms);
  st.last_error = std::move(why);
  show_breaker(self);
  st.busy = false;
  st.again = false; // the retry comes after the backoff, not before
  self->delayed_send(self, wait, retry_atom_v);
}

/// Marks the first `n` events published (n > 0). The batch is the oldest unpublished events in
/// seq order, so its confirmed prefix is the outbox's new published prefix: one cursor moves, no
/// row is rewritten. The mark joins the writer's next group commit, and the relay does not wait
/// for it: the next batch starts after `sent_through`, so reading, publishing and the commit of
/// the previous mark overlap. The writer applies marks in the order they were sent and the
/// cursor never moves back. A failed mark is not a broker failure: the relay starts over from the
/// store's cursor, so those events go out again (at least once).
void mark(relay_actor self, const services_ptr& svc, const events_ptr& batch, size_t n) {
  persistence::mark_events_published op;
  op.through = (*batch)[n - 1].seq;
  op.at = svc->now();
  self->state.sent_through = op.through;
  persistence::change_set cs;
  cs.ops.emplace_back(std::move(op));
  auto fail = [self](const std::string& why) {
    spdlog::warn("event relay: cannot mark events published ({}); they will be published again",
                 why);
    self->state.sent_through = 0;
  };
  self->request(svc->writer.get(), caf::infinite, write_atom_v, std::move(cs))
    .then(
      [fail](persistence::change_result& res) mutable {
        if (!res.ok())
          fail(res.detail);
      },
      [fail](caf::error& err) { fail(detail_of(err)); });
}

void publish(relay_actor self, const services_ptr& svc, events_ptr batch) {
  auto publisher = svc->publisher.get();
  if (!publisher) {
    failed(self, "no publisher (restarting)");
    return;
  }
  self->request(publisher, svc->options.publish_timeout, publish_atom_v, *batch)
    .then(
      [=](publish_ack& ack) {
        auto n = std::min<size_t>(ack.confirmed, batch->size());
        if (n == 0) {
          failed(self, ack.error.empty() ? "no event confirmed" : ack.error);
          return;
        }
        auto& st = self->state;
        observe_confirmed(*batch, n, svc->now());
        st.published += n;
        ++st.batches;
        // Local subscribers see what the broker confirmed, when the bus is not the publisher.
        if (svc->spawn_publisher) {
          if (auto bus = svc->bus.get()) {
            auto confirmed = n == batch->size()
                               ? *batch
                               : std::vector<event_record>(batch->begin(), batch->begin() + n);
            caf::anon_send(bus, publish_atom_v, std::move(confirmed));
          }
        }
        auto all = n == batch->size();
        auto full = batch->size() >= svc->options.relay_batch;
        auto error = ack.error.empty() ? std::string{"event not confirmed"} : ack.error;
        mark(self, svc, batch, n);
        if (all)
          succeeded(self, full);
        else
          failed(self, error); // the rest waits, in order, for the retry
      },
      [=](caf::error& err) { failed(self, "publisher: " + detail_of(err)); });
}

void poll(relay_actor self, const services_ptr& svc) {
  auto& st = self->state;
  if (st.busy) {
    st.again = true;
    return;
  }
  if (svc->cluster && !svc->cluster->shards().serving_epoch(0)) {
    // In a cluster the node serving shard 0 relays (its marks are fenced on that shard); the
    // others read from the store's cursor again if they take over.
    st.sent_through = 0;
    return;
  }
  auto now = self->clock().now();
  if (now < st.not_before || !st.breaker->allow(now))
    return; // a retry is scheduled
  st.busy = true;
  st.again = false;
  static auto& mailbox = observability::catalogue::mailbox_messages().with({"event-relay"});
  mailbox.set(static_cast<double>(self->mailbox().size()));
  self->request(svc->readers.next(), caf::infinite, outbox_atom_v, svc->options.relay_batch,
                st.sent_through)
    .then(
      [=](std::vector<event_record>& events) {
        if (events.empty()) {
          finish(self, false);
          return;
        }
        publish(self, svc, std::make_shared<const std::vector<event_record>>(std::move(events)));
      },
      [=](caf::error& err) {
        // The store's trouble, not the broker's: try again on the next tick.
        spdlog::warn("event relay: cannot read the outbox: {}", detail_of(err));
        self->state.busy = false;
      });
}

} // namespace

caf::behavior relay_impl(caf::stateful_actor<relay_state>* self, services_ptr svc) {
  auto& o = svc->options;
  auto& st = self->state;
  st.breaker.emplace(resilience::breaker_config{std::max<uint32_t>(1, o.breaker_failures),
                                               o.breaker_cooldown, 1});
  resilience::backoff_policy policy;
  policy.base = std::max(std::chrono::milliseconds{1}, o.relay_backoff_base);
  policy.cap = std::max(policy.base, 2 * o.breaker_cooldown);
  policy.jitter = o.relay_jitter ? resilience::jitter_policy::full : resilience::jitter_policy::none;
  st.delays.emplace(policy);
  show_breaker(self);
  spdlog::debug("event relay: publishing through the {} publisher, {} events per batch",
                svc->publisher_name, o.relay_batch);
  // Look at once (events may wait from before a restart), then on every tick.
  self->send(self, tick_atom_v);
  return {
    [=](tick_atom) {
      poll(self, svc);
      self->delayed_send(self, svc->options.relay_interval, tick_atom_v);
    },
    [=](nudge_atom) {
      // Under load a nudge follows every group commit; lingering a moment lets one cycle (one
      // read, one publish, one mark) take the events of several commits.
      auto linger = svc->options.relay_linger;
      if (linger.count() <= 0)
        return poll(self, svc);
      if (std::exchange(self->state.lingering, true))
        return;
      self->delayed_send(self, linger, flush_atom_v);
    },
    [=](flush_atom) {
      self->state.lingering = false;
      poll(self, svc);
    },
    [=](retry_atom) { poll(self, svc); },
    [=](crash_atom) {
      spdlog::warn("fault injection: event relay crashing on request");
      throw std::runtime_error("injected fault in the event relay");
    },
    [=](status_atom) -> caf::result<relay_status> {
      auto& st = self->state;
      relay_status s;
      s.publisher = svc->publisher_name;
      s.state = std::string{to_string(st.breaker->state_at(self->clock().now()))};
      show_breaker(self);
      s.published = st.published;
      s.failures = st.failures;
      s.last_error = st.last_error;
      auto rp = self->make_response_promise<relay_status>();
      self->request(svc->readers.next(), caf::infinite, backlog_atom_v)
        .then(
          [=](int64_t backlog) mutable {
            s.backlog = backlog;
            rp.deliver(s);
          },
          [=](caf::error&) mutable { rp.deliver(s); });
      return rp;
    },
  };
}

} // namespace orderd
