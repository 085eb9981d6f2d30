#include "actors/notifier.hpp"

#include <algorithm>
#include <cstdlib>
#include <type_traits>
#include <memory>
#include <utility>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/cluster_link.hpp"
#include "domain/ids.hpp"
#include "events/catalogue.hpp"
#include "observability/catalogue.hpp"

namespace orderd {

namespace {

using nlohmann::json;

std::string text_of(const json& data, const char* key) {
  if (data.is_object())
    if (auto i = data.find(key); i != data.end() && i->is_string())
      return i->get<std::string>();
  return {};
}

json data_of(const event_record& e) {
  auto envelope = json::parse(e.payload, nullptr, false);
  if (envelope.is_object() && envelope.contains("data"))
    return envelope["data"];
  return json::object();
}

std::string money(const json& data) {
  if (!data.contains("total_cents") || !data["total_cents"].is_number_integer())
    return {};
  auto cents = data["total_cents"].get<int64_t>();
  auto whole = std::to_string(cents / 100);
  auto frac = std::to_string(std::abs(cents % 100));
  if (frac.size() < 2)
    frac.insert(0, "0");
  return whole + "." + frac + " " + text_of(data, "currency");
}

std::string item_lines(const json& data) {
  std::string out;
  if (!data.contains("items") || !data["items"].is_array())
    return out;
  for (auto& item : data["items"]) {
    out += "  - " + text_of(item, "sku");
    if (item.contains("quantity"))
      out += " x " + item["quantity"].dump();
    if (item.contains("requested"))
      out += ": requested " + item["requested"].dump() + ", available "
             + item.value("available", json(0)).dump();
    out += "\n";
  }
  return out;
}

/// Subject and text of the message for the customer (or the stock manager).
std::pair<std::string, std::string> message_for(const event_record& e, const json& data,
                                                const notification_audience& who) {
  const auto& order = who.order_id;
  if (e.type == events::types::inventory_low) {
    auto sku = text_of(data, "sku");
    return {"Low stock: " + sku,
            "SKU " + sku + " is low on stock: " + data.value("available", json(0)).dump()
              + " available (threshold " + data.value("low_stock_threshold", json(0)).dump()
              + ").\n"};
  }
  if (e.type == events::types::order_created)
    return {"Order " + order + " received",
            "Thank you for your order " + order + ".\nTotal: " + money(data) + "\n"
              + item_lines(data)};
  if (e.type == "order.confirmed")
    return {"Order " + order + " confirmed", "Your order " + order + " is confirmed.\n"};
  if (e.type == events::types::order_cancelled)
    return {"Order " + order + " cancelled", "Your order " + order + " was cancelled.\n"};
  // stock.rejected, order.rejected
  auto reason = text_of(data, "detail");
  return {"Your order could not be placed",
          "We could not place your order" + (reason.empty() ? "" : ": " + reason)
            + ".\n" + item_lines(data)};
}

void count_attempt(notification_channel ch, const char* outcome) {
  observability::catalogue::notification_attempts()
    .with({std::string{to_string(ch)}, outcome})
    .inc();
}

} // namespace

const std::vector<std::string>& notified_event_types() {
  static const std::vector<std::string> types{
    std::string{events::types::order_created},  "order.confirmed",
    std::string{events::types::order_cancelled}, std::string{events::types::stock_rejected},
    std::string{events::types::order_rejected},  std::string{events::types::inventory_low}};
  return types;
}

notification_audience audience_of(const event_record& e) {
  auto data = data_of(e);
  notification_audience who;
  who.email = text_of(data, "customer_email");
  who.customer_id = text_of(data, "customer_id");
  if (e.type.starts_with("order.") && e.type != events::types::order_rejected)
    who.order_id = text_of(data, "id").empty() ? e.aggregate : text_of(data, "id");
  return who;
}

std::vector<notification> render_notifications(const event_record& e,
                                               const notification_audience& who,
                                               const notify_options& opts) {
  std::vector<notification> out;
  auto data = data_of(e);
  auto [subject, text] = message_for(e, data, who);
  auto base = [&](notification_channel ch, std::string recipient) {
    notification n;
    n.channel = ch;
    n.recipient = std::move(recipient);
    n.subject = subject;
    n.body = text;
    n.customer_id = who.customer_id;
    n.event_id = e.id;
    n.event_type = e.type;
    return n;
  };
  if (e.type == events::types::inventory_low) {
    if (!opts.stock_manager_email.empty())
      out.push_back(base(notification_channel::email, opts.stock_manager_email));
  } else {
    if (!who.email.empty())
      out.push_back(base(notification_channel::email, who.email));
    if (!who.customer_id.empty())
      out.push_back(base(notification_channel::push, who.customer_id));
  }
  for (auto& url : opts.webhook_urls) {
    auto hook = base(notification_channel::webhook, url);
    hook.body = e.payload; // the event envelope, as published
    out.push_back(std::move(hook));
  }
  return out;
}

// -- transport ----------------------------------------------------------------------------------

caf::behavior transport_impl(caf::stateful_actor<transport_state>* self, delivery_function fn) {
  return batch_transport_impl(self, std::move(fn), {});
}

caf::behavior batch_transport_impl(caf::stateful_actor<transport_state>* self,
                                   delivery_function fn, batch_delivery_function batch) {
  self->state.deliver = std::move(fn);
  self->state.deliver_batch = std::move(batch);
  return {
    [=](deliver_atom, const std::vector<notification>& group) -> std::vector<std::string> {
      auto& st = self->state;
      if (st.deliver_batch) {
        try {
          auto reasons = st.deliver_batch(group);
          if (reasons.size() == group.size())
            return reasons;
          return std::vector<std::string>(group.size(), "the transport answered for "
                                          + std::to_string(reasons.size()) + " of "
                                          + std::to_string(group.size()));
        } catch (const std::exception& ex) {
          return std::vector<std::string>(group.size(), ex.what());
        }
      }
      std::vector<std::string> reasons;
      for (auto& n : group) {
        try {
          reasons.push_back(st.deliver(n));
        } catch (const std::exception& ex) {
          reasons.emplace_back(ex.what());
        }
      }
      return reasons;
    },
    [=](deliver_atom, const notification& n) -> caf::result<bool> {
      // Thread: a detached transport's own thread in production; blocking is fine here.
      std::string why;
      try {
        why = self->state.deliver(n);
      } catch (const std::exception& ex) {
        why = ex.what();
      }
      if (why.empty())
        return true;
      return fail(errc::unavailable, why);
    },
  };
}

// -- channel ------------------------------------------------------------------------------------

namespace {

using channel_actor = caf::stateful_actor<channel_state>*;

void pump(channel_actor self, const services_ptr& svc);

/// In a cluster each notification belongs to the shard of its id, and only the node serving
/// that shard delivers it: a PENDING record left by a node that died is found by the shard's
/// next owner (read_pending), and two nodes never both work through one record. A single node
/// serves everything.
bool delivered_here(const services_ptr& svc, const std::string& id) {
  auto* link = svc->cluster.get();
  if (!link)
    return true;
  auto& table = link->shards();
  return table.serving_epoch(table.shard_of(id)).has_value();
}

/// How often a clustered channel looks in the store for PENDING records of shards it took over.
constexpr auto takeover_scan = std::chrono::seconds{2};

/// Mirrors the breaker into orderd_circuit_breaker_state{breaker="notify-<channel>"} and logs
/// every change of state, so an open channel is visible in both.
void show_breaker(channel_actor self) {
  auto& st = self->state;
  auto state = st.breaker->state_at(self->clock().now());
  observability::catalogue::circuit_breaker_state()
    .with({"notify-" + std::string{to_string(st.channel)}})
    .set(observability::catalogue::breaker_state_value(to_string(state)));
  if (state != st.shown) {
    spdlog::warn("notification channel {}: circuit breaker {}", to_string(st.channel),
                 to_string(state));
    st.shown = state;
  }
}

/// Writes the outcomes gathered so far in one change set; when it has committed, writes those
/// gathered meanwhile. A failed write is logged (the records stay as they were, so a restart
/// delivers them again: at-least-once).
void flush_outcomes(channel_actor self, const services_ptr& svc) {
  auto& st = self->state;
  auto writer = svc->writer.get();
  if (st.recording || st.unrecorded.empty() || !writer)
    return;
  persistence::change_set cs;
  for (auto& op : st.unrecorded)
    cs.ops.emplace_back(std::move(op));
  auto count = st.unrecorded.size();
  st.unrecorded.clear();
  auto settled = std::move(st.settling);
  st.settling.clear();
  st.recording = true;
  auto written = [self, svc, settled](const std::string& failure, size_t n) {
    auto& st = self->state;
    if (!failure.empty())
      spdlog::warn("notifications: recording {} attempts failed: {}", n, failure);
    // Settled now (or, if the write failed, PENDING again for a later resume: at-least-once).
    for (auto& id : settled) {
      st.known.erase(id);
      if (st.reading)
        st.settled_while_reading.insert(id);
    }
    st.recording = false;
    flush_outcomes(self, svc);
    pump(self, svc);
  };
  self->request(writer, caf::infinite, write_atom_v, std::move(cs))
    .then([written, count](const persistence::change_result& r) {
            written(r.ok() ? std::string{} : r.detail, count);
          },
          [written, count](caf::error& err) { written(detail_of(err), count); });
}

/// Queues the attempt's outcome for the store (see flush_outcomes).
void record(channel_actor self, const services_ptr& svc, const notification& n,
            timestamp_ms at) {
  auto& st = self->state;
  st.unrecorded.push_back(
    persistence::update_notification{n.id, n.status, n.attempts, n.last_error, at});
  if (n.status != notification_status::pending)
    st.settling.push_back(n.id);
  flush_outcomes(self, svc);
}

void delivered(channel_actor self, const services_ptr& svc, notification n) {
  auto& st = self->state;
  st.breaker->record_success(self->clock().now());
  show_breaker(self);
  n.status = notification_status::sent;
  n.last_error.clear();
  record(self, svc, n, svc->now());
  ++st.sent;
  count_attempt(st.channel, "sent");
  spdlog::debug("notification {} sent by {} to {} (attempt {})", n.id, to_string(st.channel),
                n.recipient, n.attempts);
}

void failed(channel_actor self, const services_ptr& svc, notification n, std::string why) {
  auto& st = self->state;
  st.breaker->record_failure(self->clock().now());
  show_breaker(self);
  n.last_error = std::move(why);
  if (n.attempts >= static_cast<int64_t>(st.max_attempts)) {
    n.status = notification_status::failed;
    record(self, svc, n, svc->now());
    ++st.dead_lettered;
    count_attempt(st.channel, "dead_lettered");
    spdlog::error("notification {} ({} to {}) FAILED after {} attempts, dead-lettered: {}", n.id,
                  to_string(st.channel), n.recipient, n.attempts, n.last_error);
    return;
  }
  record(self, svc, n, svc->now());
  count_attempt(st.channel, "failed");
  auto delay = st.retry_delays->next_delay(static_cast<uint32_t>(n.attempts - 1));
  spdlog::warn("notification {} ({} to {}): attempt {} failed ({}); retrying in {} ms", n.id,
               to_string(st.channel), n.recipient, n.attempts, n.last_error, delay.count());
  self->delayed_send(self, delay, retry_atom_v, std::move(n));
}

void pump(channel_actor self, const services_ptr& svc);

/// Reads this channel's oldest PENDING records from the store into the queue, when some may
/// wait there and not in memory (at start; after the queue turned records away).
void read_pending(channel_actor self, const services_ptr& svc) {
  auto& st = self->state;
  auto limit = svc->options.notify.channel_queue_limit;
  auto reader = svc->readers.next();
  if (!st.maybe_pending || st.reading || st.known.size() >= limit
      || self->clock().now() < st.read_not_before)
    return;
  if (!reader) { // the readers are (re)starting
    st.read_not_before = self->clock().now() + std::chrono::milliseconds{100};
    self->delayed_send(self, std::chrono::milliseconds{100}, tick_atom_v);
    return;
  }
  st.reading = true;
  auto batch = std::max<size_t>(1, svc->options.notify.resume_batch);
  self->request(reader, caf::infinite, due_atom_v, notification_tag{}, st.channel, batch)
    .then(
      [self, svc, batch, limit](std::vector<notification>& pending) {
        auto& st = self->state;
        st.reading = false;
        size_t fresh = 0;
        for (auto& n : pending)
          if (st.known.size() < limit && !st.settled_while_reading.contains(n.id)
              && delivered_here(svc, n.id) && st.known.insert(n.id).second) {
            st.ready.push_back(std::move(n));
            ++fresh;
          }
        st.settled_while_reading.clear();
        if (fresh > 0)
          spdlog::info("notification channel {}: resumed {} PENDING notifications from the store",
                       to_string(st.channel), fresh);
        // A full read may have left more behind. If all of it was in memory already (waiting
        // for a retry), look again a little later rather than at once.
        st.maybe_pending = pending.size() >= batch;
        if (st.maybe_pending && fresh == 0) {
          st.read_not_before = self->clock().now() + std::chrono::seconds{1};
          self->delayed_send(self, std::chrono::seconds{1}, tick_atom_v);
        }
        pump(self, svc);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.reading = false;
        st.settled_while_reading.clear();
        spdlog::warn("notification channel {}: reading PENDING notifications failed: {}",
                     to_string(st.channel), detail_of(err));
        st.read_not_before = self->clock().now() + std::chrono::seconds{1};
        self->delayed_send(self, std::chrono::seconds{1}, tick_atom_v);
      });
}

/// Hands `first` and up to batch - 1 more ready notifications to the transport in one call
/// (the maildir then syncs once for all of them); each outcome is then handled as a single
/// attempt's would be. The breaker was asked once, for the group.
void attempt_group(channel_actor self, const services_ptr& svc, notification first) {
  auto& st = self->state;
  std::vector<notification> group;
  ++first.attempts;
  group.push_back(std::move(first));
  while (group.size() < st.batch && !st.ready.empty()) {
    auto n = std::move(st.ready.front());
    st.ready.pop_front();
    if (!delivered_here(svc, n.id)) {
      st.known.erase(n.id);
      continue;
    }
    ++n.attempts;
    group.push_back(std::move(n));
  }
  st.busy = true;
  self->request(st.transport, caf::infinite, deliver_atom_v, group)
    .then(
      [self, svc, group](const std::vector<std::string>& reasons) {
        self->state.busy = false;
        for (size_t i = 0; i < group.size(); ++i) {
          if (i < reasons.size() && reasons[i].empty())
            delivered(self, svc, group[i]);
          else
            failed(self, svc, group[i],
                   i < reasons.size() ? reasons[i] : std::string{"no answer"});
        }
        pump(self, svc);
      },
      [self, svc, group](caf::error& err) {
        self->state.busy = false;
        for (auto& n : group)
          failed(self, svc, n, detail_of(err));
        pump(self, svc);
      });
}

void pump(channel_actor self, const services_ptr& svc) {
  auto& st = self->state;
  if (st.busy)
    return;
  if (st.ready.empty())
    return read_pending(self, svc);
  auto now = self->clock().now();
  if (!st.breaker->allow(now)) {
    // Open: nothing is attempted (nor counted) until the cooldown has passed.
    show_breaker(self);
    if (!st.wake_scheduled) {
      st.wake_scheduled = true;
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(st.breaker->retry_at()
                                                                        - now);
      self->delayed_send(self, std::max(wait, std::chrono::milliseconds{1}), tick_atom_v);
    }
    return;
  }
  auto n = std::move(st.ready.front());
  st.ready.pop_front();
  if (!delivered_here(svc, n.id)) {
    // Its shard moved to another node, whose channel delivers it from the store from now on.
    st.known.erase(n.id);
    self->send(self, tick_atom_v);
    return;
  }
  if (st.batch > 1 && st.transport && !st.ready.empty())
    return attempt_group(self, svc, std::move(n));
  ++n.attempts;
  if (!st.transport) {
    delivered(self, svc, std::move(n));
    self->send(self, tick_atom_v); // the next one behind whatever waits in the mailbox
    return;
  }
  st.busy = true;
  self->request(st.transport, caf::infinite, deliver_atom_v, n)
    .then(
      [self, svc, n](bool) {
        self->state.busy = false;
        delivered(self, svc, n);
        pump(self, svc);
      },
      [self, svc, n](caf::error& err) {
        self->state.busy = false;
        failed(self, svc, n, detail_of(err));
        pump(self, svc);
      });
}

} // namespace

caf::behavior channel_impl(caf::stateful_actor<channel_state>* self, services_ptr svc,
                           notification_channel channel, caf::actor transport) {
  auto& st = self->state;
  auto& opts = svc->options.notify;
  st.channel = channel;
  st.transport = std::move(transport);
  st.max_attempts = std::max<uint32_t>(1, opts.max_attempts);
  if (svc->transport_batch && st.transport)
    st.batch = std::max<size_t>(1, svc->transport_batch(channel));
  st.breaker.emplace(resilience::breaker_config{std::max<uint32_t>(1, opts.breaker_failures),
                                               opts.breaker_cooldown, 1});
  st.retry_delays.emplace(resilience::backoff_policy{
    opts.backoff_base, std::max(opts.backoff_base, opts.backoff_cap), 2.0,
    opts.jitter ? resilience::jitter_policy::equal : resilience::jitter_policy::none});
  show_breaker(self);
  self->send(self, tick_atom_v); // resume what a previous run left PENDING
  if (svc->cluster)
    self->delayed_send(self, takeover_scan, due_atom_v);
  return {
    [=](notify_atom, notification& n) {
      auto& st = self->state;
      if (n.status != notification_status::pending || st.known.contains(n.id))
        return; // the live path and a resume may both hand over a record: once is enough
      if (st.known.size() >= svc->options.notify.channel_queue_limit) {
        // Full: the record is durable and PENDING, so it waits in the store (read_pending).
        if (!st.maybe_pending)
          spdlog::warn("notification channel {}: {} notifications in memory; the next ones "
                       "wait in the store until the queue runs empty",
                       to_string(st.channel), st.known.size());
        st.maybe_pending = true;
        return;
      }
      st.known.insert(n.id);
      st.ready.push_back(std::move(n));
      pump(self, svc);
    },
    [=](retry_atom, notification& n) {
      self->state.ready.push_back(std::move(n));
      pump(self, svc);
    },
    [=](due_atom) {
      // Clustered: shards this node took over may hold PENDING records of another node.
      self->state.maybe_pending = true;
      pump(self, svc);
      self->delayed_send(self, takeover_scan, due_atom_v);
    },
    [=](tick_atom) {
      self->state.wake_scheduled = false;
      pump(self, svc);
    },
  };
}

// -- the notification supervisor ------------------------------------------------------------------

namespace {

using notifier_actor = caf::stateful_actor<notifier_state>*;

void dispatch(notifier_actor self, std::vector<notification> records) {
  for (auto& n : records)
    if (auto i = self->state.channels.find(n.channel); i != self->state.channels.end())
      self->send(i->second, notify_atom_v, std::move(n));
}

/// Writes the records PENDING in one change set, then hands them to their channels. `done`
/// learns the outcome (the ad-hoc route answers with it).
template <class Done>
void write_and_dispatch(notifier_actor self, const services_ptr& svc,
                        std::vector<notification> records, Done done) {
  auto now = svc->now();
  persistence::change_set cs;
  for (auto& n : records) {
    // Time-ordered ids: each record lands at the right edge of the primary key instead of on a
    // random page of it (as order ids do), and listing by id is listing by age.
    // In a cluster, in a shard this node serves, so its own channel delivers it (see
    // delivered_here); serving none, any id: the shard's owner finds it in the store.
    if (n.id.empty())
      n.id = make_local_id(svc->cluster.get(), [&] { return make_time_ordered_uuid(now); })
               .value_or(make_time_ordered_uuid(now));
    n.status = notification_status::pending;
    n.attempts = 0;
    n.created_at = n.updated_at = now;
    cs.ops.push_back(persistence::insert_notification{n});
  }
  auto writer = svc->writer.get();
  if (!writer) {
    done(fail(errc::unavailable, "the store writer is restarting; retry"));
    return;
  }
  self->request(writer, caf::infinite, write_atom_v, std::move(cs))
    .then(
      [self, records, done](const persistence::change_result& r) mutable {
        if (!r.ok()) {
          spdlog::error("notifications: writing {} records failed: {}", records.size(), r.detail);
          done(fail(r.code, r.detail));
          return;
        }
        for (auto& n : records)
          observability::catalogue::notifications_created()
            .with({std::string{to_string(n.channel)}})
            .inc();
        done(records);
        dispatch(self, std::move(records));
      },
      [done](caf::error& err) mutable {
        spdlog::error("notifications: writing records failed: {}", detail_of(err));
        done(std::move(err));
      });
}

/// Writes the records gathered for events so far; when they have committed (and gone to their
/// channels), writes those gathered meanwhile.
void flush_records(notifier_actor self, const services_ptr& svc) {
  auto& st = self->state;
  if (st.writing || st.unwritten.empty())
    return;
  st.writing = true;
  auto records = std::move(st.unwritten);
  st.unwritten.clear();
  write_and_dispatch(self, svc, std::move(records), [self, svc](auto&&) {
    self->state.writing = false;
    flush_records(self, svc);
  });
}

void write_for_event(notifier_actor self, const services_ptr& svc, const event_record& e,
                     const notification_audience& who) {
  auto records = render_notifications(e, who, svc->options.notify);
  auto& unwritten = self->state.unwritten;
  unwritten.insert(unwritten.end(), std::make_move_iterator(records.begin()),
                   std::make_move_iterator(records.end()));
  flush_records(self, svc);
}

/// The payload may not name the e-mail (order.confirmed carries the order id only; rejections
/// the customer id): the store fills in what it knows, then the records are written.
void on_event(notifier_actor self, const services_ptr& svc, const event_record& e) {
  ++self->state.events_seen;
  auto who = audience_of(e);
  auto reader = svc->readers.next();
  if (!who.email.empty() || !reader || e.type == events::types::inventory_low) {
    write_for_event(self, svc, e, who);
    return;
  }
  auto by_customer = [self, svc, e](notification_audience who) {
    auto reader = svc->readers.next();
    if (!who.email.empty() || who.customer_id.empty() || !is_uuid(who.customer_id) || !reader) {
      write_for_event(self, svc, e, who);
      return;
    }
    self->request(reader, caf::infinite, get_atom_v, customer_tag{}, who.customer_id)
      .then(
        [self, svc, e, who](const customer& c) mutable {
          who.email = c.details.email;
          write_for_event(self, svc, e, who);
        },
        [self, svc, e, who](caf::error&) { write_for_event(self, svc, e, who); });
  };
  if (who.order_id.empty()) {
    by_customer(who);
    return;
  }
  self->request(reader, caf::infinite, get_atom_v, order_tag{}, who.order_id)
    .then(
      [by_customer, who](const order& o) mutable {
        who.email = o.customer_email;
        if (who.customer_id.empty())
          who.customer_id = o.customer_id;
        by_customer(who);
      },
      [by_customer, who](caf::error&) { by_customer(who); });
}

void subscribe(notifier_actor self) {
  auto bus = self->state.bus;
  if (!bus)
    return;
  auto handle = caf::actor_cast<caf::actor>(bus);
  for (auto& type : notified_event_types())
    self->request(handle, caf::infinite, subscribe_atom_v, type, caf::actor_cast<caf::actor>(self))
      .then([](bool) {},
            [type](caf::error& err) {
              spdlog::warn("notifications: subscribing to {} failed: {}", type, detail_of(err));
            });
}

/// Subscribes to the current bus and watches it: a restarted bus has forgotten us.
void watch_bus(notifier_actor self, const services_ptr& svc) {
  auto bus = svc->bus.get();
  if (!bus || bus.address() == self->state.bus) {
    self->delayed_send(self, std::chrono::milliseconds{100}, subscribe_atom_v);
    return;
  }
  self->state.bus = bus.address();
  self->monitor(bus);
  subscribe(self);
}

} // namespace

caf::behavior notifier_impl(caf::stateful_actor<notifier_state>* self, services_ptr svc) {
  for (auto ch : {notification_channel::email, notification_channel::webhook,
                  notification_channel::push}) {
    caf::actor transport;
    if (svc->spawn_transport)
      transport = svc->spawn_transport(self, ch);
    self->state.channels[ch] = self->spawn<caf::linked>(channel_impl, svc, ch, transport);
  }
  self->set_down_handler([self, svc](caf::down_msg& dm) {
    if (dm.source == self->state.bus) {
      self->state.bus = caf::actor_addr{};
      self->delayed_send(self, std::chrono::milliseconds{100}, subscribe_atom_v);
    }
  });
  watch_bus(self, svc);
  return {
    [=](event_atom, const event_record& e) {
      try {
        on_event(self, svc, e);
      } catch (const std::exception& ex) {
        spdlog::error("notifications: event {} ({}) not notified: {}", e.id, e.type, ex.what());
      }
    },
    [=](subscribe_atom) {
      if (!self->state.bus)
        watch_bus(self, svc);
    },
    [=](notify_atom, notification& n) -> caf::result<notification> {
      auto rp = self->make_response_promise<notification>();
      std::vector<notification> records{std::move(n)};
      records.front().id.clear();
      write_and_dispatch(self, svc, std::move(records), [rp](auto&& outcome) mutable {
        using T = std::decay_t<decltype(outcome)>;
        if constexpr (std::is_same_v<T, caf::error>)
          rp.deliver(std::move(outcome));
        else
          rp.deliver(outcome.front());
      });
      return rp;
    },
  };
}

} // namespace orderd
