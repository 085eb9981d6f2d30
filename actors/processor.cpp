#include "actors/processor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "domain/ids.hpp"

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

void done(processor_actor self, const services_ptr& svc, bool more) {
  self->state.busy = false;
  if (more)
    self->send(self, tick_atom_v); // a full batch: there may be more right away
  else
    schedule(self, svc);
}

} // namespace

caf::behavior processor_impl(caf::stateful_actor<processor_state>* self, services_ptr svc) {
  schedule(self, svc);
  return {
    [=](tick_atom) {
      spdlog::trace("processor: tick (busy={})", self->state.busy);
      if (self->state.busy)
        return;
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
              self
                ->request(svc->orders.get(), svc->options.request_timeout, move_atom_v, o.id,
                          order_status::processing, correlation_id)
                .then(
                  [=](const order&) {
                    ++self->state.moved;
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
    },
  };
}

caf::behavior bridge_impl(caf::event_based_actor* self) {
  return {
    [=](call_atom, bridge_call& call) { call.run(self); },
  };
}

} // namespace orderd
