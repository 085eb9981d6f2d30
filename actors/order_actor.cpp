#include "actors/order_actor.hpp"

#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/outbox.hpp"
#include "domain/ids.hpp"
#include "domain/validation.hpp"
#include "wire/order_format.hpp"
#include "observability/catalogue.hpp"
#include "observability/trace.hpp"

namespace orderd {

namespace {

using persistence::change_result;
using persistence::change_set;
using order_actor = caf::stateful_actor<order_state>*;

void add_stock_ops(change_set& cs, const std::vector<stock_change>& changes, timestamp_ms now) {
  for (auto& c : changes)
    cs.ops.emplace_back(persistence::adjust_stock{c.sku, c.available_delta, c.reserved_delta,
                                                  c.sold_delta, now});
}

/// Tells each stock actor the committed figures (through the registry: the live actor of each
/// SKU, if any, applies them).
void publish_levels(const services_ptr& svc, const std::vector<stock_level>& levels) {
  auto stocks = svc->stocks.get();
  for (auto& level : levels)
    caf::anon_send(stocks, commit_atom_v, level.sku, std::string{}, level);
}

/// A hold granted by one stock actor; settled (commit or release) with that same actor, even if
/// its registry has passivated it meanwhile.
struct granted_hold {
  reservation held;
  caf::actor granted_by;
};

/// The progress of one placement: replies from the stock actors, one per line.
struct placement {
  placement_request req;
  std::vector<requested_line> lines;
  size_t outstanding = 0;
  std::vector<granted_hold> granted;
  std::vector<short_line> shorts;
  caf::error unknown_sku;
  caf::error other_error;
  caf::typed_response_promise<placement_result> promise;
  events::origin origin; ///< this node and the request's correlation id
  std::string attempt_id; ///< the id the order gets (or would have got)
  std::string trace_id;  ///< of the correlation id, for the log lines about this placement
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

enum class outcome { placed, rejected, failed };

/// Records how long the placement took, by outcome: placed, rejected (stock) or failed.
void observe_placement(const placement& p, outcome what) {
  static auto& family = observability::catalogue::order_placement_duration();
  static auto& placed = family.with({"placed"});
  static auto& rejected = family.with({"rejected"});
  static auto& failed = family.with({"failed"});
  auto& h = what == outcome::placed ? placed : what == outcome::rejected ? rejected : failed;
  h.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - p.started).count());
}

void release_all(const std::string& order_id, const std::vector<granted_hold>& granted,
                 bool resync) {
  for (auto& g : granted) {
    caf::anon_send(g.granted_by, release_atom_v, g.held.sku, order_id);
    if (resync)
      caf::anon_send(g.granted_by, resync_atom_v, g.held.sku);
  }
}

/// True for the refusals an inbound `order.place` answers with order.rejected (the command was
/// handled: it must not be retried). Others (unavailable, storage) leave no trace: retried.
bool is_business_refusal(errc code) noexcept {
  return code == errc::unknown_sku || code == errc::insufficient_stock
         || code == errc::currency_mismatch || code == errc::invalid_input;
}

/// For an inbound placement refused for a business reason: the order.rejected event and the
/// processed-message record, to commit together before the refusal is answered.
void add_inbound_refusal(change_set& cs, const placement& p, const caf::error& refusal,
                         timestamp_ms now) {
  if (p.req.message_id.empty() || !is_business_refusal(code_of(refusal)))
    return;
  cs.ops.emplace_back(persistence::append_event{events::order_rejected(
    p.origin, p.attempt_id, p.req.request.customer_id, to_string(code_of(refusal)),
    detail_of(refusal), short_lines_of(refusal), now)});
  record_inbound(cs, p.req.message_id, "order.place", now);
}

/// Answers a placement with `refusal` (its holds are released already) and ends the actor. An
/// inbound placement's refusal commits its order.rejected event first; if that write fails the
/// command is answered `unavailable`, so the bridge retries it rather than losing the outcome.
void refuse(order_actor self, const services_ptr& svc, std::shared_ptr<placement> p,
            caf::error refusal) {
  change_set cs;
  add_inbound_refusal(cs, *p, refusal, svc->now());
  if (cs.ops.empty()) {
    p->promise.deliver(refusal);
    self->quit();
    return;
  }
  self->request(svc->writer.get(), caf::infinite, write_atom_v, std::move(cs))
    .then(
      [=](change_result& res) mutable {
        p->promise.deliver(res.ok() ? refusal : fail(res.code, res.detail));
        self->quit();
      },
      [=](caf::error& err) mutable {
        p->promise.deliver(fail(errc::unavailable, "order.rejected not written: "
                                                     + detail_of(err)));
        self->quit();
      });
}

/// Publishes what this actor committed for reads by id (see actors/order_views.hpp).
void publish_view(order_actor self, const services_ptr& svc) {
  if (self->state.current)
    svc->orders_read.publish(self->id(), *self->state.current);
}

void commit_placement(order_actor self, const services_ptr& svc, std::shared_ptr<placement> p) {
  auto& id = self->state.id;
  // Every line is held; build the order in request order with the captured prices.
  static auto& stages = observability::catalogue::order_placement_stage();
  static auto& holds_stage = stages.with({"holds"});
  static auto& store_stage = stages.with({"store"});
  auto holds_done = std::chrono::steady_clock::now();
  holds_stage.observe(std::chrono::duration<double>(holds_done - p->started).count());
  std::string currency = p->granted.front().held.currency;
  order o;
  o.id = id;
  o.customer_id = p->req.request.customer_id;
  o.customer_email = p->req.request.customer_email;
  o.status = order_status::pending;
  for (auto& line : p->lines) {
    auto g = std::find_if(p->granted.begin(), p->granted.end(),
                          [&](const granted_hold& x) { return x.held.sku == line.sku; });
    auto r = &g->held;
    if (r->currency != currency) {
      observe_placement(*p, outcome::failed);
      release_all(id, p->granted, false);
      refuse(self, svc, p,
             fail(errc::currency_mismatch, "an order cannot mix currencies: " + currency
                                             + " and " + r->currency + " (sku " + r->sku + ")"));
      return;
    }
    o.lines.push_back({line.sku, line.quantity, r->unit_price_cents});
  }
  o.total_cents = compute_total(o.lines);
  o.currency = currency;
  o.created_at = o.updated_at = svc->now();
  change_set cs;
  cs.ops.emplace_back(persistence::insert_order{o});
  add_stock_ops(cs, stock_changes_for_placement(o.lines), o.created_at);
  // Each stock move commits only while its SKU is still owned as it was when the hold was
  // granted (in a cluster; see reservation).
  for (auto& g : p->granted)
    if (g.held.owner_epoch > 0) {
      persistence::shard_fence f{g.held.shard, g.held.owner_node, g.held.owner_epoch};
      if (std::find(cs.fences.begin(), cs.fences.end(), f) == cs.fences.end())
        cs.fences.push_back(std::move(f));
    }
  // The events commit with the order or not at all (transactional outbox).
  cs.ops.emplace_back(persistence::append_event{events::order_created(p->origin, o)});
  cs.ops.emplace_back(append_stock_events_op(p->origin, o.created_at));
  record_inbound(cs, p->req.message_id, "order.place", o.created_at);
  if (p->req.cart_after)
    cs.ops.emplace_back(persistence::save_cart{*p->req.cart_after});
  if (!p->req.idempotency_key.empty()) {
    persistence::idempotency_record rec;
    rec.key = p->req.idempotency_key;
    rec.request_hash = p->req.request_hash;
    rec.status_code = 201;
    rec.response_body = wire::render_order(o, p->req.response_format);
    rec.created_at = o.created_at;
    cs.ops.emplace_back(persistence::save_idempotency{std::move(rec)});
  }
  auto sent = std::chrono::steady_clock::now();
  self->request(svc->writer.get(), caf::infinite, write_atom_v, std::move(cs))
    .await(
      [=](change_result& res) mutable {
        // Thread: a scheduler worker, running this reply handler to completion.
        observability::log_trace_scope trace{p->trace_id};
        store_stage.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count());
        if (!res.ok()) {
          // The store's guard refused (our view of stock was stale) or the key raced: undo.
          observe_placement(*p, outcome::failed);
          release_all(o.id, p->granted, true);
          p->promise.deliver(fail(res.code, res.detail));
          self->quit();
          return;
        }
        self->state.current = o;
        publish_view(self, svc); // before the answer: the client reads its own write
        // Each granting actor turns its hold into committed figures.
        for (auto& level : res.stock_after)
          for (auto& g : p->granted)
            if (g.held.sku == level.sku)
              caf::anon_send(g.granted_by, commit_atom_v, level.sku, o.id, level);
        observe_placement(*p, outcome::placed);
        spdlog::info("order {} placed: {} lines, total {} {}, status PENDING", o.id,
                     o.lines.size(), o.total_cents, o.currency);
        p->promise.deliver(placement_result{false, o, 0, {}});
      },
      [=](caf::error& err) mutable {
        // Unknown outcome (the writer restarted): the stock actors re-read the store.
        observability::log_trace_scope trace{p->trace_id};
        observe_placement(*p, outcome::failed);
        spdlog::warn("order {}: placement outcome unknown: {}", o.id, detail_of(err));
        release_all(o.id, p->granted, true);
        p->promise.deliver(err);
        self->quit();
      });
}

/// Refuses a placement for insufficient stock: the holds go back at once, and the 409 is
/// answered once the `stock.rejected` event (a change set of its own) has committed.
void reject_for_stock(order_actor self, const services_ptr& svc, std::shared_ptr<placement> p) {
  auto& id = self->state.id;
  release_all(id, p->granted, false);
  change_set cs;
  auto now = svc->now();
  cs.ops.emplace_back(persistence::append_event{events::stock_rejected(
    p->origin, id, p->req.request.customer_id, p->shorts, now)});
  auto refusal = fail_short(p->shorts);
  add_inbound_refusal(cs, *p, refusal, now);
  observe_placement(*p, outcome::rejected);
  // Over HTTP the refusal stands whatever happened to its event. An inbound command's outcome
  // must be durable before it is acknowledged: a failed write is answered as such (retried).
  bool inbound = !p->req.message_id.empty();
  self->request(svc->writer.get(), caf::infinite, write_atom_v, std::move(cs))
    .then(
      [=](change_result& res) mutable {
        observability::log_trace_scope trace{p->trace_id};
        spdlog::debug("order {}: refused for insufficient stock ({} short lines)", id,
                     p->shorts.size());
        if (!res.ok()) {
          spdlog::warn("order {}: stock.rejected event not written: {}", id, res.detail);
          if (inbound)
            refusal = fail(res.code, res.detail);
        }
        p->promise.deliver(refusal);
        self->quit();
      },
      [=](caf::error& err) mutable {
        observability::log_trace_scope trace{p->trace_id};
        spdlog::warn("order {}: stock.rejected event not written: {}", id, detail_of(err));
        p->promise.deliver(inbound ? fail(errc::unavailable, detail_of(err)) : refusal);
        self->quit();
      });
}

void finish_placement(order_actor self, const services_ptr& svc, std::shared_ptr<placement> p) {
  auto& id = self->state.id;
  caf::error refusal;
  if (p->unknown_sku)
    refusal = p->unknown_sku;
  else if (p->other_error)
    refusal = p->other_error;
  else if (!p->shorts.empty())
    return reject_for_stock(self, svc, std::move(p));
  if (refusal) {
    // All or nothing: give back what was held.
    observe_placement(*p, outcome::failed);
    release_all(id, p->granted, false);
    refuse(self, svc, std::move(p), std::move(refusal));
    return;
  }
  commit_placement(self, svc, std::move(p));
}

caf::result<placement_result> place(order_actor self, const services_ptr& svc,
                                    placement_request& req) {
  if (self->state.current)
    return fail(errc::conflict, "order " + self->state.id + " was placed already");
  auto p = std::make_shared<placement>();
  p->lines = merge_lines(req.request.lines);
  if (p->lines.empty())
    return fail(errc::invalid_input, "an order needs at least one item");
  p->req = std::move(req);
  p->origin = origin_of(*svc, p->req.correlation_id);
  p->attempt_id = self->state.id;
  p->trace_id = observability::trace_id_of_correlation(p->origin.correlation_id);
  p->promise = self->make_response_promise<placement_result>();
  p->outstanding = p->lines.size();
  auto rp = p->promise;
  auto stocks = svc->stocks.get();
  for (auto& line : p->lines) {
    // Ask every SKU at once; each stock actor decides for its own line.
    self->request(stocks, caf::infinite, reserve_atom_v, line.sku, self->state.id,
                  line.quantity)
      .then(
        [=](reservation& r) {
          // The sender of this reply is the stock actor that holds the units for us.
          auto granted_by = caf::actor_cast<caf::actor>(self->current_sender());
          p->granted.push_back(granted_hold{std::move(r), std::move(granted_by)});
          if (--p->outstanding == 0)
            finish_placement(self, svc, p);
        },
        [=](caf::error& err) {
          switch (code_of(err)) {
            case errc::insufficient_stock:
              for (auto& s : short_lines_of(err))
                p->shorts.push_back(s);
              break;
            case errc::unknown_sku:
              if (!p->unknown_sku)
                p->unknown_sku = err;
              break;
            default:
              if (!p->other_error)
                p->other_error = err;
          }
          if (--p->outstanding == 0)
            finish_placement(self, svc, p);
        });
  }
  return rp;
}

caf::error no_order(const std::string& id) {
  return fail(errc::not_found, "no order with id " + id);
}

/// What else a status change carries besides its target: why (for a cancel), which inbound
/// command caused it (its processed record commits with the change), and that command's name.
struct move_context {
  std::string cancel_reason;
  std::string message_id;
  std::string_view command;
};

caf::result<order> move_to(order_actor self, const services_ptr& svc, order_status to,
                           std::string correlation_id, const move_context& ctx = {}) {
  auto& st = self->state;
  if (!st.current)
    return no_order(st.id);
  auto from = st.current->status;
  if (!can_transition(from, to)) {
    std::string why = "order " + st.id + " is " + std::string{to_string(from)} + " and cannot move to "
                      + std::string{to_string(to)};
    return fail(errc::illegal_transition, std::move(why));
  }
  auto now = svc->now();
  auto origin = origin_of(*svc, std::move(correlation_id));
  auto trace_id = observability::trace_id_of_correlation(origin.correlation_id);
  auto reason = to == order_status::cancelled ? ctx.cancel_reason : std::string{};
  change_set cs;
  cs.ops.emplace_back(persistence::transition_order{st.id, from, to, now, reason});
  auto stock = stock_changes_for_transition(from, to, st.current->lines);
  add_stock_ops(cs, stock, now);
  // Every transition: order.status_changed; then the event named after the new state.
  cs.ops.emplace_back(
    persistence::append_event{events::order_status_changed(origin, st.id, from, to, now)});
  if (to == order_status::cancelled) {
    auto after = *st.current;
    after.status = to;
    after.updated_at = now;
    after.cancel_reason = reason;
    cs.ops.emplace_back(persistence::append_event{events::order_cancelled(origin, after)});
  } else if (to != order_status::pending) {
    cs.ops.emplace_back(
      persistence::append_event{events::order_milestone(origin, st.id, from, to, now)});
  }
  if (!stock.empty())
    cs.ops.emplace_back(append_stock_events_op(origin, now));
  record_inbound(cs, ctx.message_id, ctx.command, now);
  auto rp = self->make_response_promise<order>();
  self->request(svc->writer.get(), caf::infinite, write_atom_v, std::move(cs))
    .await(
      [=](change_result& res) mutable {
        observability::log_trace_scope trace{trace_id};
        auto& st = self->state;
        if (!res.ok()) {
          rp.deliver(fail(res.code, res.detail));
          // Someone else moved it (another node, or a previous incarnation): re-read.
          self->quit();
          return;
        }
        st.current->status = to;
        st.current->updated_at = now;
        st.current->cancel_reason = reason;
        publish_view(self, svc);
        publish_levels(svc, res.stock_after);
        spdlog::info("order {} {} -> {}", st.id, to_string(from), to_string(to));
        rp.deliver(*st.current);
      },
      [=](caf::error& err) mutable {
        rp.deliver(err);
        self->quit(); // outcome unknown: the next request rebuilds us from the store
      });
  return rp;
}

/// A cancel asked for by the customer (HTTP, or an inbound order.cancel): only while PENDING.
caf::result<order> cancel_by_customer(order_actor self, const services_ptr& svc,
                                      std::string correlation_id, const std::string& message_id) {
  auto& st = self->state;
  if (st.current && !customer_may_cancel(st.current->status))
    return fail(errc::illegal_transition,
                "order " + st.id + " is " + std::string{to_string(st.current->status)}
                  + " and cannot move to CANCELLED; only PENDING orders can be cancelled");
  move_context ctx{std::string{cancel_reasons::customer}, message_id, "order.cancel"};
  return move_to(self, svc, order_status::cancelled, std::move(correlation_id), ctx);
}

void touch(order_actor self, const services_ptr& svc) {
  note_activity(self, svc->options.order_idle_timeout);
}

caf::behavior running(order_actor self, services_ptr svc) {
  touch(self, svc);
  return {
    [=](place_atom, placement_request& req) {
      touch(self, svc);
      return place(self, svc, req);
    },
    [=](get_atom, const std::string&) -> caf::result<order> {
      touch(self, svc);
      if (!self->state.current)
        return no_order(self->state.id);
      return *self->state.current;
    },
    [=](cancel_atom, const std::string&, std::string& correlation_id) {
      touch(self, svc);
      return cancel_by_customer(self, svc, std::move(correlation_id), {});
    },
    [=](cancel_atom, const std::string&, std::string& correlation_id,
        const std::string& message_id) {
      touch(self, svc);
      return cancel_by_customer(self, svc, std::move(correlation_id), message_id);
    },
    [=](settle_atom, payment_result& result) -> caf::result<order> {
      touch(self, svc);
      auto& st = self->state;
      if (st.current && st.current->status == order_status::pending) {
        // Only processors move orders to PROCESSING, and this node's went through us: another
        // node's did. Our copy is stale; answer "try again" and let the next request reload.
        auto rp = self->make_response_promise<order>();
        rp.deliver(fail(errc::unavailable, "order " + st.id
                                             + " changed elsewhere; reloading it, try again"));
        self->quit();
        return rp;
      }
      if (st.current && st.current->status != order_status::processing)
        return fail(errc::illegal_transition,
                    "order " + st.id + " is " + std::string{to_string(st.current->status)}
                      + ", not PROCESSING: its payment was settled already");
      if (!result.succeeded)
        spdlog::info("order {}: payment failed: {}", st.id,
                     result.reason.empty() ? std::string{"no reason given"} : result.reason);
      move_context ctx{std::string{cancel_reasons::payment_failed}, result.message_id,
                       "payment.result"};
      return move_to(self, svc, status_after_payment(result.succeeded),
                     std::move(result.correlation_id), ctx);
    },
    [=](ship_atom, const std::string&, order_status to,
        std::string& correlation_id) -> caf::result<order> {
      touch(self, svc);
      if (!is_fulfilment_status(to))
        return fail(errc::invalid_input, "status must be SHIPPED or DELIVERED, not "
                                           + std::string{to_string(to)});
      return move_to(self, svc, to, std::move(correlation_id));
    },
    [=](move_atom, const std::string&, order_status to, std::string& correlation_id) {
      touch(self, svc);
      return move_to(self, svc, to, std::move(correlation_id));
    },
    [=](crash_atom, const std::string& id) {
      spdlog::warn("fault injection: order actor {} crashing on request", id);
      throw std::runtime_error("injected fault in order actor " + id);
    },
    // The registry agreed that we passivate: nothing can reach us any more. What we committed
    // stays readable (the next actor for this order publishes again before it changes it).
    [=](idle_atom) {
      svc->orders_read.retire(self->id(), self->state.id);
      self->quit();
    },
    [=](tick_atom) {
      on_idle_tick(self, svc->options.order_idle_timeout, false, svc->orders.get(),
                   self->state.id);
    },
  };
}

} // namespace

caf::behavior order_impl(caf::stateful_actor<order_state>* self, services_ptr svc,
                         std::string id, bool is_new, caf::timespan start_delay) {
  self->state.id = std::move(id);
  // However this incarnation ends (passivation, a crash, an unknown outcome), its view goes.
  self->attach_functor([svc, owner = self->id(), id = self->state.id] {
    svc->orders_read.withdraw(owner, id);
  });
  if (is_new)
    return running(self, svc);
  return load_after(self, start_delay, [self, svc] {
    self->request(svc->readers.next(), caf::infinite, get_atom_v, order_tag{},
                  self->state.id)
      .await(
        [=](order& o) {
          self->state.current = std::move(o);
          publish_view(self, svc);
          serve(self, running(self, svc));
        },
        [=](caf::error& err) {
          if (code_of(err) == errc::not_found)
            return serve(self, running(self, svc));
          spdlog::error("order {}: cannot load from store: {}", self->state.id, detail_of(err));
          self->quit(err);
        });
  });
}

// -- the order supervisor -------------------------------------------------------------------

namespace {

using registry_actor = caf::stateful_actor<order_registry_state>*;

caf::actor spawn_child(registry_actor self, const services_ptr& svc, const std::string& id,
                       bool is_new) {
  return self->state.core.spawn_reloading(
    id, self->clock().now(), svc->options.restarts, [&](caf::timespan delay) {
      return self->spawn<caf::monitored>(order_impl, svc, id, is_new, delay);
    });
}

caf::actor child_for(registry_actor self, const services_ptr& svc, const std::string& id) {
  if (auto child = self->state.core.live(id))
    return child;
  return spawn_child(self, svc, id, false);
}

void start_placement(registry_actor self, const services_ptr& svc, placement_request req,
                     caf::typed_response_promise<placement_result> rp) {
  auto key = req.idempotency_key;
  // Time-ordered: order ids are a unique index the writer appends to with every placement.
  // On a cluster node, in a shard this node serves, so the order's actor starts here.
  auto id = make_local_id(svc->cluster.get(), [&] { return make_time_ordered_uuid(svc->now()); });
  if (!id) {
    self->state.in_flight.erase(key);
    rp.deliver(fail(errc::unavailable, "this node serves no shard right now; retry shortly"));
    return;
  }
  auto child = spawn_child(self, svc, *id, true);
  self->request(child, caf::infinite, place_atom_v, std::move(req))
    .then(
      [=](placement_result& res) mutable {
        self->state.in_flight.erase(key);
        rp.deliver(std::move(res));
      },
      [=](caf::error& err) mutable {
        self->state.in_flight.erase(key);
        rp.deliver(err);
      });
}

/// The order registry of a connected peer that serves shards, when this node serves none and
/// the placement came from a client here (never passed on twice); null otherwise.
caf::actor placing_peer(registry_actor self, const services_ptr& svc) {
  auto* link = svc->cluster.get();
  if (!link || !link->shards().serving().empty() || from_another_node(self))
    return {};
  // A random key's shard names a random owner; a few tries find a connected one.
  for (int attempt = 0; attempt < 8; ++attempt)
    if (auto where = route_key(link, make_uuid(), cluster_interface::orders, false); where.remote)
      return where.remote;
  return {};
}

} // namespace

caf::behavior order_registry_impl(caf::stateful_actor<order_registry_state>* self,
                                  services_ptr svc) {
  if (svc->cluster)
    self->state.core.shed_with(svc->cluster);
  supervise_children_lazily(self, svc->options.restarts);
  // Messages for one order go to its actor: here, or on the node that serves the order's shard.
  auto dispatch = [=](const std::string& id, auto&&... xs) {
    dispatch_keyed(
      self, svc->cluster.get(), id, cluster_interface::orders,
      [&] { return child_for(self, svc, id); }, std::forward<decltype(xs)>(xs)...);
  };
  return keyed_registry(
    self, [self, svc](const std::string& id) { return child_for(self, svc, id); },
    [=](place_atom, placement_request& req) -> caf::result<placement_result> {
      // Note: once a response promise exists, a returned value no longer reaches the sender,
      // so every early refusal below comes before make_response_promise().
      auto& st = self->state;
      if (req.idempotency_key.empty()) {
        if (auto peer = placing_peer(self, svc)) {
          // This node serves no shard yet (it just started, or all of its shards are moving):
          // a node that does makes the order, in one of its own shards.
          count_forward(cluster_interface::orders);
          self->delegate(peer, place_atom_v, std::move(req));
          return caf::delegated<placement_result>{};
        }
        auto rp = self->make_response_promise<placement_result>();
        start_placement(self, svc, std::move(req), rp);
        return rp;
      }
      auto key = req.idempotency_key;
      // A key is placed by the node that serves its shard, so a retry that lands on another
      // node replays, and one racing the first gets 409 there.
      auto where = route_key(svc->cluster.get(), key, cluster_interface::orders,
                             from_another_node(self));
      if (where.refusal)
        return *where.refusal;
      if (where.remote) {
        count_forward(cluster_interface::orders);
        self->delegate(where.remote, place_atom_v, std::move(req));
        return caf::delegated<placement_result>{};
      }
      if (auto i = st.in_flight.find(key); i != st.in_flight.end()) {
        if (i->second != req.request_hash)
          return fail(errc::idempotency_mismatch,
                      "Idempotency-Key " + key + " was used with a different request");
        return fail(errc::idempotency_in_flight,
                    "a request with Idempotency-Key " + key + " is still being processed");
      }
      st.in_flight.emplace(key, req.request_hash);
      auto rp = self->make_response_promise<placement_result>();
      self->request(svc->readers.next(), caf::infinite, idem_atom_v, key)
        .then(
          [=](persistence::idempotency_record& rec) mutable {
            self->state.in_flight.erase(key);
            if (rec.request_hash != req.request_hash) {
              rp.deliver(fail(errc::idempotency_mismatch,
                              "Idempotency-Key " + key + " was used with a different request"));
              return;
            }
            rp.deliver(placement_result{true, {}, rec.status_code, std::move(rec.response_body)});
          },
          [=](caf::error& err) mutable {
            if (code_of(err) == errc::not_found) {
              start_placement(self, svc, std::move(req), rp);
              return;
            }
            self->state.in_flight.erase(key);
            rp.deliver(err);
          });
      return rp;
    },
    [=](get_atom a, const std::string& id) -> caf::delegated<caf::message> {
      if (auto child = self->state.core.live(id))
        return self->delegate(child, a, id);
      // Not live: read it without waking an actor.
      return self->delegate(svc->readers.next(), a, order_tag{}, id);
    },
    [=](cancel_atom a, const std::string& id, const std::string& correlation_id) {
      dispatch(id, a, id, correlation_id);
    },
    [=](cancel_atom a, const std::string& id, const std::string& correlation_id,
        const std::string& message_id) {
      dispatch(id, a, id, correlation_id, message_id);
    },
    [=](move_atom a, const std::string& id, order_status to, const std::string& correlation_id) {
      dispatch(id, a, id, to, correlation_id);
    },
    [=](settle_atom a, const payment_result& result) {
      dispatch(result.order_id, a, result);
    },
    [=](ship_atom a, const std::string& id, order_status to, const std::string& correlation_id) {
      dispatch(id, a, id, to, correlation_id);
    });
}

} // namespace orderd
