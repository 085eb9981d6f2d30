#include "actors/store_actors.hpp"

#include <chrono>
#include <stdexcept>
#include <utility>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/outbox.hpp"
#include "observability/catalogue.hpp"

namespace orderd {

namespace {

using persistence::change_result;
using persistence::change_set;

/// The error a store failure becomes for the caller: an unreachable database stays
/// `unavailable` (503 with Retry-After: retry later), anything else is a storage failure.
caf::error store_failure(const std::exception& ex, std::string_view doing) {
  auto code = errc::storage_failure;
  if (auto err = dynamic_cast<const persistence::store_error*>(&ex))
    code = err->code() == errc::unavailable ? errc::unavailable : errc::storage_failure;
  return fail(code, std::string{doing} + ex.what());
}

void flush(caf::stateful_actor<writer_state>* self, const services_ptr& svc) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.batch.empty())
    return;
  auto batch = std::move(st.batch);
  auto waiting = std::move(st.waiting);
  auto arrived = std::move(st.arrived);
  auto appended_events = std::exchange(st.appended_events, false);
  st.batch.clear();
  st.waiting.clear();
  st.arrived.clear();
  std::vector<change_result> results;
  static auto& batch_sizes = observability::catalogue::store_batch_size();
  static auto& commit_time = observability::catalogue::store_commit_duration();
  static auto& backlog = observability::catalogue::mailbox_messages().with({"store-writer"});
  batch_sizes.observe(static_cast<double>(batch.size()));
  // What queued behind this batch (the next one, mostly): grows when commits fall behind.
  backlog.set(static_cast<double>(self->mailbox().size()));
  auto started = std::chrono::steady_clock::now();
  try {
    results = st.db->apply(batch);
    commit_time.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  } catch (const std::exception& ex) {
    // Nothing of this batch was committed: every caller learns so and may retry.
    spdlog::error("store writer: batch of {} change sets failed: {}", batch.size(), ex.what());
    for (auto& rp : waiting)
      rp.deliver(store_failure(ex, "store write failed: "));
    return;
  }
  ++st.batches;
  st.change_sets += batch.size();
  // Each change set's time in the writer: the batch it waited to join, then its commit.
  static auto& in_writer = observability::catalogue::store_writer_wait();
  auto committed = std::chrono::steady_clock::now();
  for (auto& t : arrived)
    in_writer.observe(std::chrono::duration<double>(committed - t).count());
  // The relay learns of new events before anyone hears of the change: it reads them from the
  // store (committed now), so nothing depends on which message arrives first.
  if (appended_events)
    if (auto relay = svc->relay.get())
      self->send(relay, nudge_atom_v);
  static auto& fenced = observability::catalogue::cluster_fenced_writes();
  for (size_t i = 0; i < waiting.size(); ++i) {
    if (results[i].code == errc::unavailable && results[i].detail.rfind("fenced:", 0) == 0) {
      fenced.inc();
      spdlog::warn("store writer: change set refused by its fence: {}", results[i].detail);
    }
    waiting[i].deliver(std::move(results[i]));
  }
}

} // namespace

caf::behavior writer_impl(caf::stateful_actor<writer_state>* self, services_ptr svc) {
  self->state.db = svc->store->open();
  self->state.max_batch = std::max<size_t>(1, svc->options.writer_max_batch);
  return {
    [=](write_atom, change_set& cs) -> caf::response_promise {
      auto& st = self->state;
      if (svc->cluster) {
        // Fenced at the epochs of now: a change set for a shard that is changing hands is
        // refused before it is sent (503), and the database refuses one whose lease moved on.
        if (auto refused = add_fences(*svc->cluster, cs)) {
          static auto& fenced = observability::catalogue::cluster_fenced_writes();
          fenced.inc();
          auto rp = self->make_response_promise();
          rp.deliver(std::move(*refused));
          return rp;
        }
      }
      if (!st.appended_events && appends_events(cs))
        st.appended_events = true;
      st.batch.push_back(std::move(cs));
      st.waiting.push_back(self->make_response_promise());
      st.arrived.push_back(std::chrono::steady_clock::now());
      auto rp = st.waiting.back();
      if (st.batch.size() >= st.max_batch) {
        flush(self, svc);
      } else if (!st.flush_scheduled) {
        // The flush message queues behind every write already in the mailbox: they all join
        // this batch. Under load the mailbox fills while we fsync, so batches grow by themselves.
        st.flush_scheduled = true;
        self->send(self, flush_atom_v);
      }
      return rp;
    },
    [=](flush_atom) { flush(self, svc); },
    [=](purge_atom, timestamp_ms cutoff) -> size_t {
      flush(self, svc);
      auto removed = self->state.db->purge_idempotency(cutoff);
      if (removed > 0)
        spdlog::info("purged {} expired idempotency keys", removed);
      return removed;
    },
    [=](purge_atom, outbox_atom, timestamp_ms cutoff) -> size_t {
      flush(self, svc);
      try {
        auto removed = self->state.db->purge_published(cutoff);
        if (removed > 0)
          spdlog::info("purged {} published events from the outbox", removed);
        return removed;
      } catch (const std::exception& ex) {
        spdlog::warn("store writer: purging published events failed: {}", ex.what());
        return 0;
      }
    },
    [=](purge_atom, processed_atom, timestamp_ms cutoff) -> size_t {
      flush(self, svc);
      try {
        auto removed = self->state.db->purge_processed_messages(cutoff);
        if (removed > 0)
          spdlog::info("purged {} processed-message records", removed);
        return removed;
      } catch (const std::exception& ex) {
        spdlog::warn("store writer: purging processed-message records failed: {}", ex.what());
        return 0;
      }
    },
    [=](crash_atom) {
      spdlog::warn("fault injection: store writer crashing on request");
      throw std::runtime_error("injected fault in store writer");
    },
  };
}

namespace {

template <class F>
auto guarded(F&& query) -> caf::result<decltype(query())> {
  try {
    return query();
  } catch (const persistence::store_error& err) {
    return fail(err.code(), err.what());
  } catch (const std::exception& ex) {
    return store_failure(ex, "store read failed: ");
  }
}

} // namespace

caf::behavior reader_impl(caf::stateful_actor<reader_state>* self, services_ptr svc) {
  self->state.db = svc->store->open();
  auto db = [self]() -> persistence::store& { return *self->state.db; };
  return {
    [=](get_atom, product_tag, const std::string& sku) -> caf::result<product> {
      try {
        if (auto p = db().find_product(sku))
          return std::move(*p);
        return fail(errc::not_found, "no product with sku " + sku);
      } catch (const std::exception& ex) {
        return store_failure(ex, "");
      }
    },
    [=](list_atom, const persistence::product_query& q) {
      return guarded([&] { return db().list_products(q); });
    },
    [=](low_atom, size_t limit) { return guarded([&] { return db().low_stock_products(limit); }); },
    [=](get_atom, order_tag, const std::string& id) -> caf::result<order> {
      try {
        if (auto o = db().find_order(id))
          return std::move(*o);
        return fail(errc::not_found, "no order with id " + id);
      } catch (const std::exception& ex) {
        return store_failure(ex, "");
      }
    },
    [=](list_atom, const persistence::order_query& q) {
      return guarded([&] { return db().list_orders(q); });
    },
    [=](due_atom, timestamp_ms before, size_t limit) {
      return guarded([&] { return db().due_pending_orders(before, limit); });
    },
    [=](idem_atom, const std::string& key) -> caf::result<persistence::idempotency_record> {
      try {
        if (auto r = db().find_idempotency(key))
          return std::move(*r);
        return fail(errc::not_found, "no idempotency record");
      } catch (const std::exception& ex) {
        return store_failure(ex, "");
      }
    },
    [=](get_atom, customer_tag, const std::string& id) -> caf::result<customer> {
      try {
        if (auto c = db().find_customer(id))
          return std::move(*c);
        return fail(errc::not_found, "no customer with id " + id);
      } catch (const std::exception& ex) {
        return store_failure(ex, "");
      }
    },
    [=](list_atom, const persistence::customer_query& q) {
      return guarded([&] { return db().list_customers(q); });
    },
    [=](get_atom, cart_tag, const std::string& customer_id) -> caf::result<cart> {
      try {
        if (auto c = db().find_cart(customer_id))
          return std::move(*c);
        return fail(errc::not_found, "customer " + customer_id + " has no cart");
      } catch (const std::exception& ex) {
        return store_failure(ex, "");
      }
    },
    [=](outbox_atom, size_t limit, int64_t after) {
      return guarded([&] { return db().unpublished_events_after(after, limit); });
    },
    [=](backlog_atom) { return guarded([&] { return db().count_unpublished(); }); },
    [=](processed_atom, const std::string& message_id) {
      return guarded([&] { return db().find_processed_message(message_id).has_value(); });
    },
    [=](charge_atom, const std::string& order_id) -> caf::result<persistence::payment_charge> {
      try {
        if (auto c = db().find_charge(order_id))
          return std::move(*c);
        return fail(errc::not_found, "order " + order_id + " was not charged");
      } catch (const std::exception& ex) {
        return store_failure(ex, "");
      }
    },
    [=](count_atom, order_tag) -> caf::result<order_status_counts> {
      return guarded([&] { return db().count_orders_by_status(); });
    },
    [=](get_atom, notification_tag, const std::string& id) -> caf::result<notification> {
      try {
        if (auto n = db().find_notification(id))
          return std::move(*n);
        return fail(errc::not_found, "no notification with id " + id);
      } catch (const std::exception& ex) {
        return store_failure(ex, "");
      }
    },
    [=](list_atom, const persistence::notification_query& q) {
      return guarded([&] { return db().list_notifications(q); });
    },
    [=](due_atom, notification_tag, notification_channel channel, size_t limit) {
      return guarded([&] { return db().pending_notifications(channel, limit); });
    },
    [=](ping_atom) -> bool {
      try {
        return db().ping();
      } catch (...) {
        return false;
      }
    },
  };
}

} // namespace orderd
