#include "actors/payment_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace orderd {

payment_service::behavior_type
payment_impl(payment_service::stateful_pointer<payment_state> self, services_ptr svc) {
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
      if (first) {
        spdlog::debug("payments: charging order {} {} {}", order_id, amount_cents, currency);
        self->delayed_send(self, svc->options.payment_latency, tick_atom_v, order_id);
      }
      return rp;
    },
    [=](tick_atom, const std::string& order_id) {
      auto& st = self->state;
      auto waiting = st.in_flight.extract(order_id);
      if (waiting.empty())
        return;
      // Drawn when the charge completes, so the outcomes follow the order of completion:
      // with a fixed seed and latency a test sees the same sequence every run.
      std::uniform_real_distribution<double> draw{0.0, 1.0};
      payment_result result;
      result.order_id = order_id;
      result.succeeded = draw(st.random) < svc->options.payment_success_rate;
      if (!result.succeeded)
        result.reason = "declined by the mock payment service";
      st.charged.emplace(order_id, result);
      ++st.charges;
      spdlog::info("payments: order {} {}", order_id,
                   result.succeeded ? "charged" : "declined");
      for (auto& rp : waiting.mapped())
        rp.deliver(result);
    },
  };
}

} // namespace orderd
