#include "actors/root_supervisor.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/bridge.hpp"
#include "actors/cart_actor.hpp"
#include "actors/event_bus.hpp"
#include "actors/notifier.hpp"
#include "actors/order_actor.hpp"
#include "actors/payment_actor.hpp"
#include "actors/processor.hpp"
#include "actors/relay.hpp"
#include "actors/stock_actor.hpp"
#include "actors/store_actors.hpp"

namespace orderd {

namespace {

using root_actor = caf::stateful_actor<root_state>*;

void start_child(root_actor self, const std::string& name) {
  auto& st = self->state;
  auto handle = st.children.at(name).spawn();
  st.names[handle.address()] = name;
  st.stats.live_children = static_cast<int64_t>(st.names.size());
}

void add_child(root_actor self, std::string name, std::function<caf::actor()> spawn) {
  self->state.children.emplace(name, root_state::child{std::move(spawn), {}});
  start_child(self, name);
}

/// Spawns a blocking actor on its own thread in production, on the scheduler in tests.
template <class Impl>
caf::actor spawn_blocking(root_actor self, const services_ptr& svc, Impl impl) {
  if (svc->options.detach_blocking_actors)
    return self->spawn<caf::detached + caf::linked>(impl, svc);
  return self->spawn<caf::linked>(impl, svc);
}

} // namespace

caf::behavior root_supervisor_impl(caf::stateful_actor<root_state>* self, services_ptr svc) {
  // Order matters: the store actors come first, because the others talk to them at once.
  add_child(self, "store-writer", [self, svc] {
    auto a = spawn_blocking(self, svc, writer_impl);
    svc->writer.set(a);
    return a;
  });
  for (size_t i = 0; i < svc->readers.size(); ++i)
    add_child(self, "store-reader-" + std::to_string(i), [self, svc, i] {
      auto a = spawn_blocking(self, svc, reader_impl);
      svc->readers[i].set(a);
      return a;
    });
  // Events: the bus, the publisher (RabbitMQ when main supplies one, else the bus), the relay.
  add_child(self, "event-bus", [self, svc] {
    auto a = self->spawn<caf::linked>(event_bus_impl);
    svc->bus.set(a);
    if (!svc->spawn_publisher)
      svc->publisher.set(a);
    return a;
  });
  if (svc->spawn_publisher)
    add_child(self, "event-publisher", [self, svc] {
      auto a = svc->spawn_publisher(self);
      svc->publisher.set(a);
      return a;
    });
  add_child(self, "event-relay", [self, svc] {
    auto a = self->spawn<caf::linked>(relay_impl, svc);
    svc->relay.set(a);
    return a;
  });
  add_child(self, "inventory-supervisor", [self, svc] {
    auto a = self->spawn<caf::linked>(stock_registry_impl, svc);
    svc->stocks.set(a);
    return a;
  });
  add_child(self, "order-supervisor", [self, svc] {
    auto a = self->spawn<caf::linked>(order_registry_impl, svc);
    svc->orders.set(a);
    return a;
  });
  if (svc->spawn_consumer)
    add_child(self, "command-consumer", [self, svc] {
      auto a = svc->spawn_consumer(self, svc);
      svc->consumer.set(a);
      return a;
    });
  add_child(self, "cart-supervisor", [self, svc] {
    auto a = self->spawn<caf::linked>(cart_registry_impl, svc);
    svc->carts.set(a);
    return a;
  });
  // Notifications after the bus, the store and the registries: it subscribes at once and reads
  // the PENDING records to resume.
  if (svc->options.notify.enabled)
    add_child(self, "notification-supervisor", [self, svc] {
      auto a = self->spawn<caf::linked>(notifier_impl, svc);
      svc->notifier.set(a);
      return a;
    });
  // Before the processor, which charges through it. Spawned with external payments too: it is
  // idle then, and the tree keeps one shape.
  add_child(self, "payments", [self, svc] {
    auto a = self->spawn<caf::linked>(payment_impl, svc);
    svc->payments.set(a);
    return caf::actor_cast<caf::actor>(a);
  });
  add_child(self, "processor", [self, svc] {
    auto a = self->spawn<caf::linked>(processor_impl, svc);
    svc->processor.set(a);
    return a;
  });
  for (size_t i = 0; i < svc->bridges.size(); ++i)
    add_child(self, "http-bridge-" + std::to_string(i), [self, svc, i] {
      auto a = self->spawn<caf::linked>(bridge_impl);
      svc->bridges[i].set(a);
      return a;
    });
  self->set_exit_handler([self, svc](caf::exit_msg& msg) {
    auto& st = self->state;
    auto i = st.names.find(msg.source);
    if (i == st.names.end()) {
      // From outside the tree (main shutting us down): take the children with us.
      self->quit(msg.reason);
      return;
    }
    auto name = i->second;
    st.names.erase(i);
    st.stats.live_children = static_cast<int64_t>(st.names.size());
    auto decision = st.children.at(name).tracker.on_crash(self->clock().now(),
                                                          svc->options.restarts);
    if (decision.escalate) {
      ++st.stats.escalations;
      spdlog::critical("root supervisor: {} exceeded its restart budget ({} in {} ms); giving up",
                       name, svc->options.restarts.max_restarts,
                       svc->options.restarts.window.count());
      self->quit(caf::exit_reason::unhandled_exception);
      return;
    }
    ++st.stats.restarts;
    spdlog::warn("root supervisor: {} stopped ({}); restarting in {} ms", name,
                 caf::to_string(msg.reason), decision.backoff.count());
    if (decision.backoff.count() == 0)
      start_child(self, name);
    else
      self->delayed_send(self, decision.backoff, respawn_atom_v, name);
  });
  return {
    [=](respawn_atom, const std::string& name) { start_child(self, name); },
    [=](stats_atom) -> caf::result<std::vector<supervisor_stats>> {
      auto rp = self->make_response_promise<std::vector<supervisor_stats>>();
      auto out = std::make_shared<std::vector<supervisor_stats>>();
      auto mine = self->state.stats;
      for (auto& [addr, name] : self->state.names)
        mine.children.push_back(name);
      std::sort(mine.children.begin(), mine.children.end());
      out->push_back(std::move(mine));
      auto pending = std::make_shared<int>(3);
      auto collect = [=](std::vector<supervisor_stats>& xs) mutable {
        out->insert(out->end(), xs.begin(), xs.end());
        if (--*pending == 0)
          rp.deliver(*out);
      };
      auto skip = [=](caf::error&) mutable {
        if (--*pending == 0)
          rp.deliver(*out);
      };
      self->request(svc->stocks.get(), svc->options.request_timeout, stats_atom_v)
        .then(collect, skip);
      self->request(svc->orders.get(), svc->options.request_timeout, stats_atom_v)
        .then(collect, skip);
      self->request(svc->carts.get(), svc->options.request_timeout, stats_atom_v)
        .then(collect, skip);
      return rp;
    },
  };
}

} // namespace orderd
