#include "actors/processor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "domain/ids.hpp"
#include "events/catalogue.hpp"
#include "observability/catalogue.hpp"

namespace orderd {

namespace {

using processor_actor = caf::stateful_actor<processor_state>*;

void schedule(processor_actor self, const services_ptr& svc) {
  self->delayed_send(self, svc->options.processor_interval, tick_atom_v);
}

void purge_if_due(processor_actor self, const services_ptr& svc, timestamp_ms now) {
  // Keys are kept at least the TTL; sweeping hourly is plenty.
  constexpr timestamp_ms hour_ms = 3600 * 1000;
  if (now - self->state.last_purge < hour_ms)
    return;
  self->state.last_purge = now;
  auto ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(svc->options.idempotency_ttl);
  caf::anon_send(svc->writer.get(), purge_atom_v, now - ttl_ms.count());
  auto retention_ms
    = std::chrono::duration_cast<std::chrono::milliseconds>(svc->options.outbox_retention);
  caf::anon_send(svc->writer.get(), purge_atom_v, outbox_atom_v, now - retention_ms.count());
  auto dedup_ms = std::chrono::duration_cast<std::chrono::milliseconds>(svc->options.inbound_dedup);
  caf::anon_send(svc->writer.get(), purge_atom_v, processed_atom_v, now - dedup_ms.count());
}

/// The saga's last step: the payment's outcome, applied by the order's actor.
void settle(processor_actor self, const services_ptr& svc, payment_result result) {
  auto id = result.order_id;
  bool succeeded = result.succeeded;
  self->request(svc->orders.get(), caf::infinite, settle_atom_v, std::move(result))
    .then(
      [=](const order& o) {
        self->state.charging.erase(id);
        if (succeeded)
          ++self->state.confirmed;
        else
          ++self->state.payment_failures;
        spdlog::debug("processor: order {} settled: {}", id, to_string(o.status));
      },
      [=](caf::error& err) {
        // Settled meanwhile (an external result, another node), or not written: the next
        // scan finds it still PROCESSING in the latter case and asks the payment again.
        self->state.charging.erase(id);
        spdlog::debug("processor: order {} not settled: {}", id, detail_of(err));
      });
}

/// Charges one PROCESSING order (at most one charge in flight per order on this node). A charge
/// that does not answer within --payment-timeout-ms counts as failed.
void charge(processor_actor self, const services_ptr& svc, const order& o,
            const std::string& correlation_id) {
  if (svc->options.external_payments || !self->state.charging.insert(o.id).second)
    return;
  auto id = o.id;
  self
    ->request(svc->payments.get(), svc->options.payment_timeout, charge_atom_v, o.id,
              o.total_cents, o.currency)
    .then(
      [=](payment_result& result) {
        static auto& succeeded = observability::catalogue::payments().with({"succeeded"});
        static auto& declined = observability::catalogue::payments().with({"failed"});
        (result.succeeded ? succeeded : declined).inc();
        result.correlation_id = correlation_id;
        settle(self, svc, std::move(result));
      },
      [=](caf::error& err) {
        static auto& timed_out = observability::catalogue::payments().with({"timed_out"});
        timed_out.inc();
        spdlog::warn("processor: payment of order {} failed: {}", id, detail_of(err));
        payment_result failed;
        failed.order_id = id;
        failed.reason = "payment timed out or failed: " + detail_of(err);
        failed.correlation_id = correlation_id;
        settle(self, svc, std::move(failed));
      });
}

/// Resumes sagas: charges PROCESSING orders that have no charge in flight (after a restart,
/// a lost reply, or a move made by another node).
void resume_payments(processor_actor self, const services_ptr& svc) {
  if (svc->options.external_payments)
    return;
  persistence::order_query q;
  q.status = order_status::processing;
  q.limit = svc->options.processor_batch;
  self->request(svc->readers.next(), svc->options.request_timeout, list_atom_v, std::move(q))
    .then(
      [=](persistence::page<order>& pg) {
        auto correlation_id = make_uuid();
        for (auto& o : pg.items)
          charge(self, svc, o, correlation_id);
      },
      [=](caf::error& err) {
        spdlog::warn("processor: cannot list PROCESSING orders: {}", detail_of(err));
      });
}

void done(processor_actor self, const services_ptr&, bool more) {
  self->state.busy = false;
  // A full batch: there may be more right away. A wake-up that came during the scan: look again.
  if (more || std::exchange(self->state.rescan, false))
    self->send(self, due_atom_v);
}

void scan(processor_actor self, const services_ptr& svc);

/// Scans now, or right after the scan under way (a wake-up is never lost, nor run twice at once).
void scan_or_defer(processor_actor self, const services_ptr& svc) {
  if (self->state.busy) {
    self->state.rescan = true;
    return;
  }
  scan(self, svc);
}

/// A wake-up at the end of a new order's grace period, so it moves on time rather than up to
/// one interval late. Only a hint: the scan decides what is due, and the periodic tick covers
/// orders this node never heard of (placed before a restart, or by another node). Due times are
/// rounded up to 100 ms and each rounded time gets one timer, so a burst of orders costs at most
/// ten scans a second.
void wake_when_due(processor_actor self, const services_ptr& svc,
                   const event_record& created) {
  constexpr timestamp_ms granularity = 100;
  auto due_at = created.occurred_at + svc->options.grace_period.count();
  auto wake_at = (due_at / granularity + 1) * granularity;
  if (!self->state.wake_ups.insert(wake_at).second)
    return;
  auto delay = std::max<int64_t>(wake_at - svc->now(), 0);
  self->delayed_send(self, std::chrono::milliseconds{delay}, due_atom_v, wake_at);
}

void scan(processor_actor self, const services_ptr& svc) {
  spdlog::trace("processor: scan");
  self->state.busy = true;
  auto now = svc->now();
  purge_if_due(self, svc, now);
  auto cutoff = now - svc->options.grace_period.count();
  auto batch = svc->options.processor_batch;
  self
    ->request(svc->readers.next(), svc->options.request_timeout, due_atom_v, cutoff, batch)
    .then(
      [=](std::vector<order>& due) {
        spdlog::trace("processor: {} orders due (created before {})", due.size(), cutoff);
        if (due.empty()) {
          done(self, svc, false);
          return;
        }
        auto remaining = std::make_shared<size_t>(due.size());
        bool full = due.size() >= batch;
        // One correlation id per batch: its events can be traced back to this tick.
        auto correlation_id = make_uuid();
        for (auto& o : due) {
          // In a cluster each node moves the orders of the shards it serves.
          if (svc->cluster
              && !svc->cluster->shards().serving_epoch(svc->cluster->shards().shard_of(o.id))) {
            if (--*remaining == 0)
              done(self, svc, full);
            continue;
          }
          self
            ->request(svc->orders.get(), svc->options.request_timeout, move_atom_v, o.id,
                      order_status::processing, correlation_id)
            .then(
              [=](const order& moved) {
                ++self->state.moved;
                charge(self, svc, moved, correlation_id);
                if (--*remaining == 0)
                  done(self, svc, full);
              },
              [=](caf::error& err) {
                // Cancelled meanwhile, or moved by another node: nothing to do.
                spdlog::debug("processor: order {} not moved: {}", o.id, detail_of(err));
                if (--*remaining == 0)
                  done(self, svc, full);
              });
        }
      },
      [=](caf::error& err) {
        spdlog::warn("processor: cannot list due orders: {}", detail_of(err));
        done(self, svc, false);
      });
}

} // namespace

caf::behavior processor_impl(caf::stateful_actor<processor_state>* self, services_ptr svc) {
  schedule(self, svc);
  // order.created from this node's in-process bus (which also gets every event RabbitMQ
  // confirmed): a timer per order. Consuming it from RabbitMQ instead would make every node
  // schedule every order; see README, "Why the processor scans the store".
  if (auto bus = svc->bus.get())
    self
      ->request(bus, caf::infinite, subscribe_atom_v, std::string{events::types::order_created},
                caf::actor_cast<caf::actor>(self))
      .then([](bool) {},
            [](caf::error& err) {
              spdlog::warn("processor: no order.created wake-ups (the periodic scan still "
                           "runs): {}",
                           detail_of(err));
            });
  return {
    // The periodic scan: re-armed first, so exactly one periodic timer exists whatever happens.
    [=](tick_atom) {
      schedule(self, svc);
      resume_payments(self, svc);
      scan_or_defer(self, svc);
    },
    // A full batch wants a follow-up, or a wake-up came during a scan.
    [=](due_atom) { scan_or_defer(self, svc); },
    // A new order's grace period ended.
    [=](due_atom, timestamp_ms wake_at) {
      self->state.wake_ups.erase(wake_at);
      scan_or_defer(self, svc);
    },
    [=](event_atom, const event_record& e) {
      if (e.type == events::types::order_created)
        wake_when_due(self, svc, e);
    },
  };
}

} // namespace orderd
