#include "actors/stock_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/outbox.hpp"
#include "observability/catalogue.hpp"
#include "observability/trace.hpp"

namespace orderd {

namespace {

using persistence::change_result;
using persistence::change_set;
using stock_actor = caf::stateful_actor<stock_state>*;

/// Applies committed figures unless we already know newer ones.
void apply_level(stock_actor self, const stock_level& level) {
  auto& item = self->state.item;
  if (item && level.version >= item->version)
    item->apply(level);
}

void apply_levels(stock_actor self, const std::vector<stock_level>& levels) {
  for (auto& level : levels)
    if (level.sku == self->state.sku)
      apply_level(self, level);
}

/// Settles a hold (committed or released). Each order actor holds at most one hold per SKU,
/// so its monitor goes too: an order that lives on after placing must not cost us a reload
/// when it passivates.
void drop_hold(stock_actor self, const std::string& order_id) {
  auto& st = self->state;
  if (auto i = st.holds.find(order_id); i != st.holds.end()) {
    st.held -= i->second.quantity;
    auto holder = i->second.holder;
    st.holds.erase(i);
    if (st.watched.erase(holder) > 0)
      self->demonitor(holder);
  }
  if (st.retiring && st.holds.empty())
    self->quit();
}

/// Reads the committed product from the store; newer figures win, a deleted product goes.
/// The actor waits for the answer before it handles anything else.
template <class Done>
void load(stock_actor self, const services_ptr& svc, Done done) {
  self->request(svc->readers.next(), caf::infinite, get_atom_v, product_tag{},
                self->state.sku)
    .await(
      [=](product& p) {
        auto& item = self->state.item;
        if (!item || p.version >= item->version)
          item = std::move(p);
        done();
      },
      [=](caf::error& err) {
        if (code_of(err) == errc::not_found) {
          self->state.item.reset();
          done();
          return;
        }
        // Without the store we cannot know the stock: fail, and let the supervisor retry.
        spdlog::error("stock {}: cannot load from store: {}", self->state.sku, detail_of(err));
        self->quit(err);
      });
}

/// Sends a change set to the writer; `on_ok` runs with the committed result. Other messages
/// wait meanwhile, so writes for one SKU never overtake each other.
template <class T, class OnOk>
caf::typed_response_promise<T> write(stock_actor self, const services_ptr& svc, change_set cs,
                                     OnOk on_ok) {
  auto rp = self->make_response_promise<T>();
  self->request(svc->writer.get(), caf::infinite, write_atom_v, std::move(cs))
    .await(
      [=](change_result& res) mutable {
        if (!res.ok()) {
          rp.deliver(fail(res.code, res.detail));
          return;
        }
        apply_levels(self, res.stock_after);
        rp.deliver(on_ok());
      },
      [=](caf::error& err) mutable {
        // The outcome is unknown (writer restarting): re-read before serving anyone else.
        rp.deliver(err);
        load(self, svc, [] {});
      });
  return rp;
}

/// Appends the stock events of the change set (inventory.updated, inventory.low) after its ops,
/// with the caller's correlation id (a new one when it gave none).
void add_stock_events(change_set& cs, const services_ptr& svc, timestamp_ms now,
                      const std::string& correlation_id) {
  cs.ops.emplace_back(append_stock_events_op(origin_of(*svc, correlation_id), now));
}

/// The trace id log lines about a change carry (empty: none).
std::string trace_of(const change_origin& from) {
  return from.correlation_id.empty()
           ? std::string{}
           : observability::trace_id_of_correlation(from.correlation_id);
}

/// A hold for `sku`, stamped with the ownership it is granted under (see reservation); an
/// error while this node does not serve the SKU's shard: the registry routed the request here
/// just before the shard left, and the caller retries against the new owner.
caf::result<reservation> hold_for(const stock_state& st, const services_ptr& svc,
                                  const std::string& sku, int64_t quantity) {
  reservation r;
  r.sku = sku;
  r.quantity = quantity;
  r.unit_price_cents = st.item->price_cents;
  r.currency = st.item->currency;
  if (!svc->cluster)
    return r;
  auto& table = svc->cluster->shards();
  auto shard = table.shard_of(sku);
  auto epoch = table.serving_epoch(shard);
  if (!epoch)
    return shard_moving(shard);
  r.shard = static_cast<int32_t>(shard);
  r.owner_node = table.self();
  r.owner_epoch = *epoch;
  return r;
}

caf::error no_product(const std::string& sku) {
  return fail(errc::not_found, "no product with sku " + sku);
}

/// Sets `available` (HTTP PUT .../stock, or an inbound inventory.adjust with "available").
caf::result<product> set_stock(stock_actor self, const services_ptr& svc, const std::string& sku,
                               int64_t available, const change_origin& from) {
  if (!self->state.item)
    return no_product(sku);
  if (available < 0)
    return fail(errc::invalid_input, "available must not be negative");
  auto now = svc->now();
  change_set cs;
  cs.ops.emplace_back(persistence::set_available{sku, available, now});
  add_stock_events(cs, svc, now, from.correlation_id);
  record_inbound(cs, from.message_id, "inventory.adjust", now);
  return write<product>(self, svc, std::move(cs), [self, trace = trace_of(from)] {
    observability::log_trace_scope scope{trace};
    spdlog::info("stock {} set: {} available", self->state.sku, self->state.item->available);
    return *self->state.item;
  });
}

/// Adds `delta` to `available`, never below zero.
caf::result<product> adjust_stock(stock_actor self, const services_ptr& svc,
                                  const std::string& sku, int64_t delta,
                                  const change_origin& from) {
  auto& st = self->state;
  if (!st.item)
    return no_product(sku);
  if (st.item->available + delta < 0)
    return fail(errc::insufficient_stock,
                "adjusting " + sku + " by " + std::to_string(delta) + " would leave "
                  + std::to_string(st.item->available + delta)
                  + " available; stock never goes below zero");
  auto now = svc->now();
  change_set cs;
  cs.ops.emplace_back(persistence::adjust_stock{sku, delta, 0, 0, now});
  add_stock_events(cs, svc, now, from.correlation_id);
  record_inbound(cs, from.message_id, "inventory.adjust", now);
  return write<product>(self, svc, std::move(cs), [self, delta, trace = trace_of(from)] {
    observability::log_trace_scope scope{trace};
    spdlog::info("stock {} adjusted by {}: {} available", self->state.sku, delta,
                 self->state.item->available);
    return *self->state.item;
  });
}

caf::result<product> create_product(stock_actor self, const services_ptr& svc,
                                    const std::string& sku, product p,
                                    const change_origin& from) {
  if (self->state.item)
    return fail(errc::conflict, "a product with sku " + sku + " exists already");
  p.sku = sku;
  p.reserved = 0;
  p.sold = 0;
  p.version = 1;
  p.created_at = p.updated_at = svc->now();
  change_set cs;
  cs.ops.emplace_back(persistence::insert_product{p});
  add_stock_events(cs, svc, p.created_at, from.correlation_id);
  return write<product>(self, svc, std::move(cs), [self, p, trace = trace_of(from)]() mutable {
    observability::log_trace_scope scope{trace};
    if (!self->state.item)
      self->state.item = p;
    spdlog::info("product {} created with {} available", p.sku, p.available);
    return *self->state.item;
  });
}

caf::result<product> update_product(stock_actor self, const services_ptr& svc,
                                    const std::string& sku, const product_details& details,
                                    const change_origin& from) {
  if (!self->state.item)
    return no_product(sku);
  auto now = svc->now();
  change_set cs;
  cs.ops.emplace_back(persistence::update_product{sku, details, now});
  add_stock_events(cs, svc, now, from.correlation_id); // a new threshold may make the sku low
  return write<product>(self, svc, std::move(cs), [self, details, now, trace = trace_of(from)] {
    observability::log_trace_scope scope{trace};
    auto& p = *self->state.item;
    p.name = details.name;
    p.description = details.description;
    p.category = details.category;
    p.price_cents = details.price_cents;
    p.currency = details.currency;
    p.low_stock_threshold = details.low_stock_threshold;
    p.updated_at = now;
    spdlog::debug("product {} updated", p.sku);
    return p;
  });
}

caf::result<bool> delete_product(stock_actor self, const services_ptr& svc,
                                 const std::string& sku, const change_origin& from) {
  auto& st = self->state;
  if (!st.item)
    return no_product(sku);
  if (st.held > 0 || st.item->reserved > 0)
    return fail(errc::conflict, "product " + sku + " has "
                                  + std::to_string(st.item->reserved + st.held)
                                  + " units reserved by open orders");
  change_set cs;
  cs.ops.emplace_back(persistence::delete_product{sku});
  return write<bool>(self, svc, std::move(cs), [self, sku, trace = trace_of(from)] {
    observability::log_trace_scope scope{trace};
    self->state.item.reset();
    spdlog::info("product {} deleted", sku);
    return true;
  });
}

void touch(stock_actor self, const services_ptr& svc) {
  note_activity(self, svc->options.stock_idle_timeout);
}

caf::behavior running(stock_actor self, services_ptr svc) {
  auto& st = self->state;
  touch(self, svc);
  self->set_down_handler([self, svc](caf::down_msg& dm) {
    // A holder died before committing or releasing: its holds go, and the store tells us
    // whether its write made it.
    auto& st = self->state;
    st.watched.erase(dm.source);
    bool dropped = false;
    for (auto i = st.holds.begin(); i != st.holds.end();) {
      if (i->second.holder == dm.source) {
        st.held -= i->second.quantity;
        i = st.holds.erase(i);
        dropped = true;
      } else {
        ++i;
      }
    }
    if (st.retiring && st.holds.empty())
      self->quit();
    else if (dropped)
      load(self, svc, [] {});
  });
  (void) st;
  return {
    [=](reserve_atom, const std::string& sku, const std::string& order_id,
        int64_t quantity) -> caf::result<reservation> {
      touch(self, svc);
      auto& st = self->state;
      if (!st.item)
        return fail(errc::unknown_sku, "unknown sku " + sku);
      if (quantity <= 0)
        return fail(errc::invalid_input, "quantity must be positive");
      if (auto i = st.holds.find(order_id); i != st.holds.end())
        return hold_for(st, svc, sku, i->second.quantity);
      if (svc->cluster
          && !svc->cluster->shards().serving_epoch(svc->cluster->shards().shard_of(sku)))
        return shard_moving(svc->cluster->shards().shard_of(sku));
      static auto& accepted = observability::catalogue::stock_reservations().with({"accepted"});
      static auto& rejected = observability::catalogue::stock_reservations().with({"rejected"});
      auto free = st.free_units();
      if (free < quantity) {
        rejected.inc();
        return fail_short({{sku, quantity, std::max<int64_t>(free, 0)}});
      }
      accepted.inc();
      auto holder = caf::actor_cast<caf::actor>(self->current_sender());
      st.holds.emplace(order_id, stock_state::hold{quantity, holder.address()});
      st.held += quantity;
      if (holder && st.watched.insert(holder.address()).second)
        self->monitor(holder);
      return hold_for(st, svc, sku, quantity);
    },
    [=](release_atom, const std::string&, const std::string& order_id) {
      drop_hold(self, order_id);
    },
    [=](commit_atom, const std::string&, const std::string& order_id, const stock_level& level) {
      drop_hold(self, order_id);
      apply_level(self, level);
    },
    [=](resync_atom, const std::string&) { load(self, svc, [] {}); },
    [=](get_atom, const std::string& sku) -> caf::result<product> {
      touch(self, svc);
      if (!self->state.item)
        return no_product(sku);
      return *self->state.item;
    },
    [=](create_atom, const std::string& sku, product& p) -> caf::result<product> {
      return create_product(self, svc, sku, std::move(p), {});
    },
    [=](create_atom, const std::string& sku, product& p,
        const change_origin& from) -> caf::result<product> {
      return create_product(self, svc, sku, std::move(p), from);
    },
    [=](update_atom, const std::string& sku,
        const product_details& details) -> caf::result<product> {
      return update_product(self, svc, sku, details, {});
    },
    [=](update_atom, const std::string& sku, const product_details& details,
        const change_origin& from) -> caf::result<product> {
      return update_product(self, svc, sku, details, from);
    },
    [=](delete_atom, const std::string& sku) -> caf::result<bool> {
      return delete_product(self, svc, sku, {});
    },
    [=](delete_atom, const std::string& sku, const change_origin& from) -> caf::result<bool> {
      return delete_product(self, svc, sku, from);
    },
    [=](set_atom, const std::string& sku, int64_t available) -> caf::result<product> {
      return set_stock(self, svc, sku, available, {});
    },
    [=](set_atom, const std::string& sku, int64_t available,
        const change_origin& from) -> caf::result<product> {
      return set_stock(self, svc, sku, available, from);
    },
    [=](adjust_atom, const std::string& sku, int64_t delta) -> caf::result<product> {
      return adjust_stock(self, svc, sku, delta, {});
    },
    [=](adjust_atom, const std::string& sku, int64_t delta,
        const change_origin& from) -> caf::result<product> {
      return adjust_stock(self, svc, sku, delta, from);
    },
    [=](crash_atom, const std::string& sku) {
      spdlog::warn("fault injection: stock actor {} crashing on request", sku);
      throw std::runtime_error("injected fault in stock actor " + sku);
    },
    // The registry agreed that we passivate: it routes nothing to us any more. A reservation
    // it routed before agreeing may have arrived meanwhile; its holder settles with us
    // directly, so we stay until then.
    [=](idle_atom) {
      auto& st = self->state;
      if (st.holds.empty()) {
        self->quit();
      } else if (!st.retiring) {
        // Ask to be taken back, so new reservations keep seeing these holds.
        st.retiring = true;
        caf::anon_send(svc->stocks.get(), stay_atom_v, st.sku, self->address());
      }
    },
    // The registry took us back.
    [=](stay_atom) { self->state.retiring = false; },
    [=](tick_atom) {
      auto& st = self->state;
      // Holds belong to orders still being placed: stay until they are settled.
      on_idle_tick(self, svc->options.stock_idle_timeout, !st.holds.empty() || st.retiring,
                   svc->stocks.get(), st.sku);
    },
  };
}

} // namespace

caf::behavior stock_impl(caf::stateful_actor<stock_state>* self, services_ptr svc,
                         std::string sku, caf::timespan start_delay) {
  self->state.sku = std::move(sku);
  // Until the product is loaded, requests wait in the mailbox.
  return load_after(self, start_delay, [self, svc] {
    load(self, svc, [self, svc] { serve(self, running(self, svc)); });
  });
}

// -- the inventory supervisor ---------------------------------------------------------------

namespace {

using registry_actor = caf::stateful_actor<stock_registry_state>*;

caf::actor spawn_child(registry_actor self, const services_ptr& svc, const std::string& sku,
                       caf::timespan delay) {
  auto child = self->spawn<caf::monitored>(stock_impl, svc, sku, delay);
  self->state.core.add(sku, child);
  return child;
}

caf::actor child_for(registry_actor self, const services_ptr& svc, const std::string& sku) {
  if (auto child = self->state.core.live(sku))
    return child;
  return spawn_child(self, svc, sku, caf::timespan{0});
}

} // namespace

caf::behavior stock_registry_impl(caf::stateful_actor<stock_registry_state>* self,
                                  services_ptr svc) {
  if (svc->cluster)
    self->state.core.shed_with(svc->cluster);
  supervise_children(self, svc->options.restarts, restart_mode::eager,
                     [self, svc](const std::string& sku, caf::timespan backoff) {
                       spawn_child(self, svc, sku, backoff);
                     });
  auto live = [self](const std::string& sku) { return self->state.core.live(sku); };
  auto route = [self, svc](const std::string& sku) { return child_for(self, svc, sku); };
  // Every message below is addressed by SKU: hand it to that SKU's actor, which answers the
  // original sender directly; on a cluster node, to the registry of the node that serves the
  // SKU's shard when that is another (see actors/cluster_link.hpp).
  auto dispatch = [=](const std::string& sku, auto&&... xs) {
    dispatch_keyed(
      self, svc->cluster.get(), sku, cluster_interface::stock, [&] { return route(sku); },
      std::forward<decltype(xs)>(xs)...);
  };
  // One-way messages (a hold's end, committed figures) go to the SKU's owner, or nowhere while
  // its shard moves: the next owner reads the committed figures from the store.
  auto tell = [=](const std::string& sku, auto&&... xs) {
    auto where = route_key(svc->cluster.get(), sku, cluster_interface::stock,
                           from_another_node(self));
    if (where.remote) {
      count_forward(cluster_interface::stock);
      self->send(where.remote, std::forward<decltype(xs)>(xs)...);
    } else if (!where.refusal) {
      if (auto child = live(sku))
        self->send(child, std::forward<decltype(xs)>(xs)...);
    }
  };
  return keyed_registry(
    self, route,
    [=](reserve_atom a, const std::string& sku, const std::string& order_id, int64_t qty) {
      dispatch(sku, a, sku, order_id, qty);
    },
    [=](release_atom a, const std::string& sku, const std::string& order_id) {
      tell(sku, a, sku, order_id);
    },
    [=](commit_atom a, const std::string& sku, const std::string& order_id,
        const stock_level& level) {
      // A passivated or never-loaded SKU will read these figures from the store anyway.
      tell(sku, a, sku, order_id, level);
    },
    [=](resync_atom a, const std::string& sku) { tell(sku, a, sku); },
    [=](get_atom a, const std::string& sku) -> caf::delegated<caf::message> {
      if (auto child = live(sku))
        return self->delegate(child, a, sku);
      // Not live: the store has the committed figures; no need to wake an actor.
      return self->delegate(svc->readers.next(), a, product_tag{}, sku);
    },
    [=](stay_atom a, const std::string& sku, const caf::actor_addr& who) {
      // A passivating actor got a reservation we routed before letting it go. Take it back
      // unless a new incarnation exists already; then it retires once its holds settle (and the
      // store's guard covers the short overlap).
      auto child = caf::actor_cast<caf::actor>(who);
      if (!child)
        return;
      auto& cluster = svc->cluster;
      bool served_here
        = !cluster || cluster->shards().serving_epoch(cluster->shards().shard_of(sku));
      if (served_here && self->state.core.take_back(sku, child))
        self->send(child, a);
      else
        self->send(child, idle_atom_v);
    },
    [=](create_atom a, const std::string& sku, const product& p) {
      dispatch(sku, a, sku, p);
    },
    [=](update_atom a, const std::string& sku, const product_details& d) {
      dispatch(sku, a, sku, d);
    },
    [=](delete_atom a, const std::string& sku) { dispatch(sku, a, sku); },
    [=](set_atom a, const std::string& sku, int64_t available) {
      dispatch(sku, a, sku, available);
    },
    [=](adjust_atom a, const std::string& sku, int64_t delta) {
      dispatch(sku, a, sku, delta);
    },
    [=](create_atom a, const std::string& sku, const product& p, const change_origin& from) {
      dispatch(sku, a, sku, p, from);
    },
    [=](update_atom a, const std::string& sku, const product_details& d,
        const change_origin& from) {
      dispatch(sku, a, sku, d, from);
    },
    [=](delete_atom a, const std::string& sku, const change_origin& from) {
      dispatch(sku, a, sku, from);
    },
    [=](set_atom a, const std::string& sku, int64_t available, const change_origin& from) {
      dispatch(sku, a, sku, available, from);
    },
    [=](adjust_atom a, const std::string& sku, int64_t delta, const change_origin& from) {
      dispatch(sku, a, sku, delta, from);
    });
}

} // namespace orderd
