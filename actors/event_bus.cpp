#include "actors/event_bus.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "events/catalogue.hpp"

namespace orderd {

namespace {

using bus_actor = caf::stateful_actor<event_bus_state>*;

bool subscribe(bus_actor self, std::string pattern, caf::actor who) {
  if (!who || pattern.empty())
    return false;
  auto& subs = self->state.subscriptions;
  auto known = std::any_of(subs.begin(), subs.end(),
                           [&](const auto& s) { return s.subscriber == who; });
  auto same = std::any_of(subs.begin(), subs.end(), [&](const auto& s) {
    return s.subscriber == who && s.pattern == pattern;
  });
  if (same)
    return true;
  if (!known)
    self->monitor(who);
  subs.push_back({std::move(pattern), std::move(who)});
  return true;
}

} // namespace

caf::behavior event_bus_impl(caf::stateful_actor<event_bus_state>* self) {
  self->set_down_handler([self](caf::down_msg& dm) {
    std::erase_if(self->state.subscriptions,
                  [&](const auto& s) { return s.subscriber.address() == dm.source; });
  });
  return {
    [=](subscribe_atom, std::string& pattern) {
      return subscribe(self, std::move(pattern),
                       caf::actor_cast<caf::actor>(self->current_sender()));
    },
    [=](subscribe_atom, std::string& pattern, caf::actor& who) {
      return subscribe(self, std::move(pattern), std::move(who));
    },
    [=](unsub_atom, const std::string& pattern) {
      auto who = self->current_sender();
      return std::erase_if(self->state.subscriptions, [&](const auto& s) {
               return s.subscriber.address() == who && s.pattern == pattern;
             })
             > 0;
    },
    [=](publish_atom, const std::vector<event_record>& batch) {
      auto& st = self->state;
      std::vector<const caf::actor*> sent; // one copy per subscriber, however many patterns match
      for (auto& e : batch) {
        sent.clear();
        for (auto& s : st.subscriptions) {
          if (!events::topic_matches(s.pattern, e.type))
            continue;
          auto dup = std::any_of(sent.begin(), sent.end(),
                                 [&](const caf::actor* x) { return *x == s.subscriber; });
          if (dup)
            continue;
          sent.push_back(&s.subscriber);
          self->send(s.subscriber, event_atom_v, e);
          ++st.delivered;
        }
      }
      return publish_ack{batch.size(), {}};
    },
  };
}

} // namespace orderd
