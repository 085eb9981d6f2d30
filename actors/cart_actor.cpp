#include "actors/cart_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "domain/ids.hpp"

namespace orderd {

namespace {

using persistence::change_result;
using persistence::change_set;
using cart_actor = caf::stateful_actor<cart_state>*;

caf::error no_customer(const std::string& id) {
  return fail(errc::not_found, "no customer with id " + id);
}

caf::error locked_cart() {
  return fail(errc::conflict, "a checkout of this cart is in progress; retry when it is done");
}

/// Looks up the current price of every line (one read each, in parallel) and delivers the
/// priced cart. Prices are read, not held: a cart shows what checking out would cost now.
void deliver_priced(cart_actor self, const services_ptr& svc, cart c,
                    caf::typed_response_promise<priced_cart> rp) {
  auto locked = self->state.locked;
  if (c.lines.empty()) {
    rp.deliver(price_cart(c, locked, {}));
    return;
  }
  auto prices = std::make_shared<std::vector<sku_price>>();
  auto outstanding = std::make_shared<size_t>(c.lines.size());
  auto content = std::make_shared<cart>(std::move(c));
  auto done = [=]() mutable {
    if (--*outstanding == 0)
      rp.deliver(price_cart(*content, locked, *prices));
  };
  for (auto& line : content->lines) {
    auto sku = line.sku;
    self->request(svc->readers.next(), caf::infinite, get_atom_v, product_tag{}, sku)
      .then(
        [=](product& p) mutable {
          prices->push_back({sku, p.price_cents, p.currency});
          done();
        },
        [=](caf::error& err) mutable {
          if (code_of(err) != errc::not_found) {
            // A view without a price is still a view; the checkout decides for real.
            spdlog::warn("cart {}: price of {} unknown: {}", content->customer_id, sku,
                         detail_of(err));
          }
          prices->push_back({sku, std::nullopt, {}});
          done();
        });
  }
}

/// The cart as it is now, or a new, empty one.
cart working_copy(cart_actor self) {
  auto& st = self->state;
  if (st.current)
    return *st.current;
  cart c;
  c.customer_id = st.customer_id;
  return c;
}

/// Saves `next` (one version up) and, once it is durable, adopts it and answers with its view.
void save_and_reply(cart_actor self, const services_ptr& svc, cart next,
                    caf::typed_response_promise<priced_cart> rp) {
  next.version += 1;
  next.updated_at = svc->now();
  if (next.version == 1)
    next.created_at = next.updated_at;
  change_set cs;
  cs.ops.emplace_back(persistence::save_cart{next});
  // await: no other change may start before this one is settled.
  self->request(svc->writer.get(), caf::infinite, write_atom_v, std::move(cs))
    .await(
      [=](change_result& res) mutable {
        if (!res.ok()) {
          rp.deliver(fail(res.code, res.detail));
          // Our view is stale (another incarnation wrote, or the customer is gone): reload.
          self->quit();
          return;
        }
        self->state.current = next;
        deliver_priced(self, svc, next, rp);
      },
      [=](caf::error& err) mutable {
        rp.deliver(err);
        self->quit(); // outcome unknown: the next request rebuilds us from the store
      });
}

caf::result<priced_cart> add_item(cart_actor self, const services_ptr& svc, std::string sku,
                                  int64_t quantity) {
  auto& st = self->state;
  if (!st.owner)
    return no_customer(st.customer_id);
  if (st.locked)
    return locked_cart();
  // Check the rules before asking anyone, so bad input costs nothing.
  auto next = working_copy(self);
  if (auto refusal = add_to_cart(next, sku, quantity))
    return fail(refusal.code, refusal.detail);
  auto rp = self->make_response_promise<priced_cart>();
  self->request(svc->readers.next(), caf::infinite, get_atom_v, product_tag{}, sku)
    .await(
      [=](product&) mutable { save_and_reply(self, svc, next, rp); },
      [=](caf::error& err) mutable {
        if (code_of(err) == errc::not_found)
          rp.deliver(fail(errc::unknown_sku, "no product with sku " + sku));
        else
          rp.deliver(err);
      });
  return rp;
}

caf::result<priced_cart> remove_item(cart_actor self, const services_ptr& svc,
                                     const std::string& sku) {
  auto& st = self->state;
  if (!st.owner)
    return no_customer(st.customer_id);
  if (st.locked)
    return locked_cart();
  if (!st.current)
    return fail(errc::not_found, "customer " + st.customer_id + " has no cart");
  auto next = *st.current;
  if (auto refusal = remove_from_cart(next, sku))
    return fail(refusal.code, refusal.detail);
  auto rp = self->make_response_promise<priced_cart>();
  save_and_reply(self, svc, std::move(next), rp);
  return rp;
}

caf::result<priced_cart> view(cart_actor self, const services_ptr& svc) {
  auto& st = self->state;
  if (!st.owner)
    return no_customer(st.customer_id);
  if (!st.current)
    return fail(errc::not_found, "customer " + st.customer_id + " has no cart");
  auto rp = self->make_response_promise<priced_cart>();
  deliver_priced(self, svc, *st.current, rp);
  return rp;
}

/// After a stock refusal: the cart keeps its lines, is marked with the short ones, and the
/// refusal is answered once the mark is durable (or failed to be: the refusal stands).
void mark_unavailable(cart_actor self, const services_ptr& svc, caf::error refusal,
                      caf::typed_response_promise<placement_result> rp) {
  auto& st = self->state;
  auto marked = *st.current;
  marked.status = cart_status::stock_unavailable;
  marked.short_lines = short_lines_of(refusal);
  marked.version += 1;
  marked.updated_at = svc->now();
  change_set cs;
  cs.ops.emplace_back(persistence::save_cart{marked});
  self->request(svc->writer.get(), caf::infinite, write_atom_v, std::move(cs))
    .then(
      [=](change_result& res) mutable {
        self->state.locked = false;
        if (res.ok())
          self->state.current = marked;
        else
          spdlog::warn("cart {}: stock_unavailable mark not saved: {}", marked.customer_id,
                       res.detail);
        rp.deliver(refusal);
      },
      [=](caf::error& err) mutable {
        self->state.locked = false;
        spdlog::warn("cart {}: stock_unavailable mark not saved: {}", marked.customer_id,
                     detail_of(err));
        rp.deliver(refusal);
        self->quit(); // outcome unknown: reload from the store
      });
}

caf::result<placement_result> checkout(cart_actor self, const services_ptr& svc,
                                       placement_request req) {
  auto& st = self->state;
  if (!st.owner)
    return no_customer(st.customer_id);
  if (st.locked)
    return locked_cart();
  bool empty = !st.current || st.current->lines.empty();
  // With an Idempotency-Key the order registry may still replay an earlier checkout that
  // emptied this cart; without one an empty cart has nothing to place.
  if (empty && req.idempotency_key.empty())
    return fail(errc::conflict, "the cart is empty");
  req.request.customer_id = st.customer_id;
  req.request.customer_email = st.owner->details.email;
  if (!empty) {
    req.request.lines = st.current->lines;
    // The order and the emptied cart commit together: no order without an empty cart after.
    auto emptied = *st.current;
    emptied.lines.clear();
    emptied.status = cart_status::open;
    emptied.short_lines.clear();
    emptied.version += 1;
    emptied.updated_at = svc->now();
    req.cart_after = std::move(emptied);
  }
  st.locked = true;
  auto emptied = req.cart_after;
  auto rp = self->make_response_promise<placement_result>();
  // then, not await: while the order is placed, other requests are answered (409 locked).
  self->request(svc->orders.get(), caf::infinite, place_atom_v, std::move(req))
    .then(
      [=](placement_result& res) mutable {
        auto& st = self->state;
        if (!res.replayed && emptied) {
          st.current = *emptied;
          spdlog::info("cart {} checked out: order {}", st.customer_id, res.placed.id);
        }
        st.locked = false;
        rp.deliver(std::move(res));
      },
      [=](caf::error& err) mutable {
        auto& st = self->state;
        if (code_of(err) == errc::insufficient_stock && st.current && !empty) {
          mark_unavailable(self, svc, err, rp);
          return;
        }
        st.locked = false;
        if (empty && code_of(err) == errc::invalid_input)
          rp.deliver(fail(errc::conflict, "the cart is empty"));
        else
          rp.deliver(err);
      });
  return rp;
}

void touch(cart_actor self, const services_ptr& svc) {
  note_activity(self, svc->options.cart_idle_timeout);
}

caf::behavior running(cart_actor self, services_ptr svc) {
  touch(self, svc);
  return {
    [=](get_atom, const std::string&) {
      touch(self, svc);
      return view(self, svc);
    },
    [=](add_atom, const std::string&, std::string& sku, int64_t quantity) {
      touch(self, svc);
      return add_item(self, svc, std::move(sku), quantity);
    },
    [=](remove_atom, const std::string&, const std::string& sku) {
      touch(self, svc);
      return remove_item(self, svc, sku);
    },
    [=](checkout_atom, const std::string&, placement_request& req) {
      touch(self, svc);
      return checkout(self, svc, std::move(req));
    },
    // The registry saved new customer details (the e-mail goes into orders).
    [=](update_atom, customer& updated) { self->state.owner = std::move(updated); },
    [=](crash_atom, const std::string& id) {
      spdlog::warn("fault injection: cart actor {} crashing on request", id);
      throw std::runtime_error("injected fault in cart actor " + id);
    },
    // The registry agreed that we passivate (or deleted our customer).
    [=](idle_atom) { self->quit(); },
    [=](tick_atom) {
      // A locked cart is being checked out: it stays until the order is placed.
      on_idle_tick(self, svc->options.cart_idle_timeout, self->state.locked, svc->carts.get(),
                   self->state.customer_id);
    },
  };
}

void start_running(cart_actor self, const services_ptr& svc) {
  serve(self, running(self, svc));
  // No such customer: answer what is queued (not_found) and passivate at once, so requests
  // naming random ids cost no memory. The registry's answer queues behind what it routed to us.
  if (!self->state.owner)
    caf::anon_send(svc->carts.get(), idle_atom_v, self->state.customer_id, self->address());
}

} // namespace

caf::behavior cart_impl(caf::stateful_actor<cart_state>* self, services_ptr svc,
                        std::string customer_id, caf::timespan start_delay) {
  self->state.customer_id = std::move(customer_id);
  // Requests wait in the mailbox until the customer and the cart are loaded.
  auto load_cart = [self, svc] {
    self->request(svc->readers.next(), caf::infinite, get_atom_v, cart_tag{},
                  self->state.customer_id)
      .await(
        [=](cart& c) {
          self->state.current = std::move(c);
          start_running(self, svc);
        },
        [=](caf::error& err) {
          if (code_of(err) == errc::not_found)
            return start_running(self, svc);
          spdlog::error("cart {}: cannot load from store: {}", self->state.customer_id,
                        detail_of(err));
          self->quit(err);
        });
  };
  return load_after(self, start_delay, [self, svc, load_cart] {
    self->request(svc->readers.next(), caf::infinite, get_atom_v, customer_tag{},
                  self->state.customer_id)
      .await(
        [=](customer& c) {
          self->state.owner = std::move(c);
          load_cart();
        },
        [=](caf::error& err) {
          // No such customer: every request is answered not_found until we passivate.
          if (code_of(err) == errc::not_found)
            return start_running(self, svc);
          spdlog::error("cart {}: cannot load the customer: {}", self->state.customer_id,
                        detail_of(err));
          self->quit(err);
        });
  });
}

// -- the cart supervisor --------------------------------------------------------------------

namespace {

using registry_actor = caf::stateful_actor<cart_registry_state>*;

caf::actor spawn_child(registry_actor self, const services_ptr& svc, const std::string& id) {
  return self->state.core.spawn_reloading(
    id, self->clock().now(), svc->options.restarts, [&](caf::timespan delay) {
      return self->spawn<caf::monitored>(cart_impl, svc, id, delay);
    });
}

caf::actor child_for(registry_actor self, const services_ptr& svc, const std::string& id) {
  if (auto child = self->state.core.live(id))
    return child;
  return spawn_child(self, svc, id);
}

/// Lets the live cart actor of `id` go (after its customer was deleted).
void release_child(registry_actor self, const std::string& id) {
  if (auto child = self->state.core.release(id))
    self->send(child, idle_atom_v);
}

/// Commits `cs`; the answer is then what `on_ok` returns, or the store's refusal or error.
template <class T, class OnOk>
void commit_then(registry_actor self, const services_ptr& svc, change_set cs,
                 caf::typed_response_promise<T> rp, OnOk on_ok) {
  self->request(svc->writer.get(), caf::infinite, write_atom_v, std::move(cs))
    .then(
      [=](change_result& res) mutable {
        if (!res.ok()) {
          rp.deliver(fail(res.code, res.detail));
          return;
        }
        rp.deliver(on_ok());
      },
      [=](caf::error& err) mutable { rp.deliver(err); });
}

caf::result<customer> create_customer(registry_actor self, const services_ptr& svc,
                                      customer_details details) {
  auto id = make_local_id(svc->cluster.get(), [] { return make_uuid(); });
  if (!id)
    return fail(errc::unavailable, "this node serves no shard right now; retry shortly");
  customer c;
  c.id = std::move(*id);
  c.details = std::move(details);
  c.version = 1;
  c.created_at = c.updated_at = svc->now();
  change_set cs;
  cs.ops.emplace_back(persistence::insert_customer{c});
  auto rp = self->make_response_promise<customer>();
  commit_then(self, svc, std::move(cs), rp, [c] {
    spdlog::info("customer {} created", c.id);
    return c;
  });
  return rp;
}

caf::result<customer> update_customer(registry_actor self, const services_ptr& svc,
                                      std::string id, customer_details details) {
  auto rp = self->make_response_promise<customer>();
  // Read, then write guarded by the version read: a concurrent update makes this one 409.
  self->request(svc->readers.next(), caf::infinite, get_atom_v, customer_tag{}, id)
    .then(
      [=](customer& before) mutable {
        auto next = before;
        next.details = details;
        next.version = before.version + 1;
        next.updated_at = svc->now();
        change_set cs;
        cs.ops.emplace_back(persistence::update_customer{next, before.version});
        commit_then(self, svc, std::move(cs), rp, [self, id, next] {
          if (auto child = self->state.core.live(id))
            self->send(child, update_atom_v, next);
          return next;
        });
      },
      [=](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

caf::result<bool> delete_customer(registry_actor self, const services_ptr& svc, std::string id) {
  change_set cs;
  cs.ops.emplace_back(persistence::delete_customer{id});
  auto rp = self->make_response_promise<bool>();
  commit_then(self, svc, std::move(cs), rp, [self, id] {
    release_child(self, id);
    spdlog::info("customer {} deleted", id);
    return true;
  });
  return rp;
}

} // namespace

caf::behavior cart_registry_impl(caf::stateful_actor<cart_registry_state>* self,
                                 services_ptr svc) {
  if (svc->cluster)
    self->state.core.shed_with(svc->cluster);
  supervise_children_lazily(self, svc->options.restarts);
  // A customer's messages go to its cart actor: here, or on the node that serves the
  // customer's shard (see actors/cluster_link.hpp).
  auto dispatch = [=](const std::string& id, auto&&... xs) {
    dispatch_keyed(
      self, svc->cluster.get(), id, cluster_interface::carts,
      [&] { return child_for(self, svc, id); }, std::forward<decltype(xs)>(xs)...);
  };
  // Customer writes are the registry's own; on a cluster node, the owner's registry's.
  auto elsewhere = [=](const std::string& id) {
    return route_key(svc->cluster.get(), id, cluster_interface::carts, from_another_node(self));
  };
  return keyed_registry(
    self, [self, svc](const std::string& id) { return child_for(self, svc, id); },
    [=](create_atom, customer_details& details) {
      return create_customer(self, svc, std::move(details));
    },
    [=](update_atom a, std::string& id, customer_details& details) -> caf::result<customer> {
      auto where = elsewhere(id);
      if (where.refusal)
        return *where.refusal;
      if (where.remote) {
        count_forward(cluster_interface::carts);
        self->delegate(where.remote, a, std::move(id), std::move(details));
        return caf::delegated<customer>{};
      }
      return update_customer(self, svc, std::move(id), std::move(details));
    },
    [=](delete_atom a, std::string& id) -> caf::result<bool> {
      auto where = elsewhere(id);
      if (where.refusal)
        return *where.refusal;
      if (where.remote) {
        count_forward(cluster_interface::carts);
        self->delegate(where.remote, a, std::move(id));
        return caf::delegated<bool>{};
      }
      return delete_customer(self, svc, std::move(id));
    },
    [=](get_atom a, const std::string& id) { dispatch(id, a, id); },
    [=](add_atom a, const std::string& id, const std::string& sku, int64_t quantity) {
      dispatch(id, a, id, sku, quantity);
    },
    [=](remove_atom a, const std::string& id, const std::string& sku) {
      dispatch(id, a, id, sku);
    },
    [=](checkout_atom a, const std::string& id, placement_request& req) {
      dispatch(id, a, id, std::move(req));
    });
}

} // namespace orderd
