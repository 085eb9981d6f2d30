#include "actors/payment_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace orderd {

namespace {

using payment_actor = payment_service::stateful_pointer<payment_state>;

payment_result result_of(const persistence::payment_charge& c) {
  payment_result r;
  r.order_id = c.order_id;
  r.succeeded = c.succeeded;
  r.reason = c.reason;
  return r;
}

/// Answers everyone waiting for `order_id` and remembers the outcome.
void answer(payment_actor self, const std::string& order_id, const payment_result& result) {
  auto& st = self->state;
  st.pending.erase(order_id);
  st.charged.emplace(order_id, result);
  if (auto waiting = st.in_flight.extract(order_id); !waiting.empty())
    for (auto& rp : waiting.mapped())
      rp.deliver(result);
}

/// Fails everyone waiting for `order_id`: the outcome could not be read or recorded, so nothing
/// was charged; the saga asks again later.
void give_up(payment_actor self, const std::string& order_id, const caf::error& why) {
  auto& st = self->state;
  st.pending.erase(order_id);
  if (auto waiting = st.in_flight.extract(order_id); !waiting.empty())
    for (auto& rp : waiting.mapped())
      rp.deliver(why);
}

/// The outcome recorded in the store (by this node or another), for a charge that lost the race
/// to record it.
void read_back(payment_actor self, const services_ptr& svc, const std::string& order_id) {
  self->request(svc->readers.next(), svc->options.request_timeout, charge_atom_v, order_id)
    .then([=](persistence::payment_charge& c) { answer(self, order_id, result_of(c)); },
          [=](caf::error& err) { give_up(self, order_id, err); });
}

} // namespace

payment_service::behavior_type payment_impl(payment_actor self, services_ptr svc) {
  self->state.random.seed(svc->options.payment_seed);
  return {
    [=](charge_atom, const std::string& order_id, int64_t amount_cents,
        const std::string& currency) -> caf::result<payment_result> {
      auto& st = self->state;
      if (auto i = st.charged.find(order_id); i != st.charged.end())
        return i->second; // asked again: the recorded outcome, no second charge
      auto rp = self->make_response_promise<payment_result>();
      auto [waiting, first] = st.in_flight.try_emplace(order_id);
      waiting->second.push_back(rp);
      if (!first)
        return rp;
      st.pending[order_id] = {amount_cents, currency};
      // The store first: an order charged before (by this node before a restart, or by the
      // node that owned the order before a takeover) keeps that outcome.
      self->request(svc->readers.next(), svc->options.request_timeout, charge_atom_v, order_id)
        .then(
          [=](persistence::payment_charge& c) {
            spdlog::info("payments: order {} was {} already", order_id,
                         c.succeeded ? "charged" : "declined");
            answer(self, order_id, result_of(c));
          },
          [=](caf::error& err) {
            if (code_of(err) != errc::not_found) {
              give_up(self, order_id, err);
              return;
            }
            spdlog::debug("payments: charging order {} {} {}", order_id, amount_cents, currency);
            self->delayed_send(self, svc->options.payment_latency, tick_atom_v, order_id);
          });
      return rp;
    },
    [=](tick_atom, const std::string& order_id) {
      auto& st = self->state;
      auto pending = st.pending.find(order_id);
      if (pending == st.pending.end())
        return;
      // Drawn when the charge completes, so the outcomes follow the order of completion:
      // with a fixed seed and latency a test sees the same sequence every run.
      std::uniform_real_distribution<double> draw{0.0, 1.0};
      persistence::payment_charge charge;
      charge.order_id = order_id;
      charge.succeeded = draw(st.random) < svc->options.payment_success_rate;
      if (!charge.succeeded)
        charge.reason = "declined by the mock payment service";
      charge.amount_cents = pending->second.amount_cents;
      charge.currency = pending->second.currency;
      charge.charged_at = svc->now();
      // Recorded before anyone hears of it: the first record of an order wins, on every node.
      persistence::change_set cs;
      cs.ops.emplace_back(persistence::record_charge{charge});
      self->request(svc->writer.get(), caf::infinite, write_atom_v, std::move(cs))
        .then(
          [=](persistence::change_result& res) {
            if (res.code == errc::conflict) {
              read_back(self, svc, order_id); // decided elsewhere first
              return;
            }
            if (!res.ok()) {
              give_up(self, order_id, fail(res.code, res.detail));
              return;
            }
            ++self->state.charges;
            spdlog::info("payments: order {} {}", order_id,
                         charge.succeeded ? "charged" : "declined");
            answer(self, order_id, result_of(charge));
          },
          [=](caf::error& err) { give_up(self, order_id, err); });
    },
  };
}

} // namespace orderd
