#include "persistence/memory/memory_store.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "persistence/detail/change_set_apply.hpp"
#include "persistence/detail/keyset.hpp"
#include "persistence/detail/store_common.hpp"

namespace orderd::persistence {

namespace detail {

/// Rows numbered in insertion order, like SQLite's rowid, and found by id too.
template <class T>
struct sequenced_rows {
  std::map<int64_t, T> by_seq;
  std::unordered_map<std::string, int64_t> seq_of; ///< id -> seq
  int64_t last_seq = 0;
};

/// The shared data. `std::map` orders skus bytewise, exactly like SQLite's BINARY collation.
struct memory_database {
  std::mutex mutex;
  using product_map = std::map<std::string, product>;
  product_map products;
  sequenced_rows<order> orders;
  std::map<std::string, idempotency_record> idempotency;
  std::map<std::string, processed_message> processed;
  std::map<std::string, payment_charge> charges;
  sequenced_rows<event_record> outbox;
  int64_t published_through = 0; ///< the outbox cursor: rows up to this seq are published
  std::map<std::string, customer> customers;                   ///< by id, like SQLite's order
  std::unordered_map<std::string, std::string> customer_emails; ///< email_key -> id
  std::map<std::string, cart> carts;                           ///< by customer id
  std::map<std::string, notification> notifications;           ///< by id, like SQLite's order
};

} // namespace detail

namespace {

using detail::cursor_kind;
using detail::keyset_page;
using detail::op_failure;
using detail::refusal;
using detail::stock_outcome;

/// Offers `page` the rows of [first, last) that `matches` keeps, keyed by their map key, until
/// it is full.
template <class Page, class Iterator, class Matches>
void fill(Page& page, Iterator first, Iterator last, Matches matches) {
  for (; first != last; ++first)
    if (matches(first->second) && !page.offer(first->first, first->second))
      break;
}

/// Where a listing by key resumes: just after the cursor's key, or at the start.
template <class Map, class Key>
auto resume_after(Map& rows, const std::optional<Key>& after) {
  return after ? rows.upper_bound(*after) : rows.begin();
}

/// A copy of the row stored under `key`, if any.
template <class Map>
std::optional<typename Map::mapped_type> copy_of(const Map& rows, const std::string& key) {
  if (auto i = rows.find(key); i != rows.end())
    return i->second;
  return std::nullopt;
}

/// Any row: for listings without a filter.
constexpr auto every_row = [](const auto&) { return true; };

/// The inverse of every mutation made so far in a batch, newest last. A savepoint is just a
/// position in it: rolling back to it undoes the newer entries.
class undo_log {
public:
  size_t mark() const noexcept { return entries_.size(); }

  /// Registers the inverse before the mutation happens, so a failing registration (bad_alloc)
  /// leaves nothing to undo; every inverse tolerates a mutation that never happened.
  void add(std::function<void()> inverse) { entries_.push_back(std::move(inverse)); }

  void roll_back_to(size_t mark) {
    while (entries_.size() > mark) {
      entries_.back()();
      entries_.pop_back();
    }
  }

  /// Keeps every mutation so far: there is nothing left to undo.
  void commit() noexcept { entries_.clear(); }

private:
  std::vector<std::function<void()>> entries_;
};

class memory_store final : public store, private detail::change_set_primitives {
public:
  explicit memory_store(std::shared_ptr<detail::memory_database> db) : db_(std::move(db)) {}

  std::vector<change_result> apply(const std::vector<change_set>& batch) override {
    // Only allocation can fail here; like a failed SQLite transaction, it commits nothing.
    return locked([&] {
      return detail::apply_batch(batch, *this, detail::savepoint_policy::per_change_set);
    });
  }

  std::optional<product> find_product(const std::string& sku) override {
    return locked([&] { return copy_of(db_->products, sku); });
  }

  page<product> list_products(const product_query& q) override {
    keyset_page<product, std::string> result{cursor_kind::product, q.cursor, q.limit};
    return locked([&] {
      auto& all = db_->products;
      fill(result, resume_after(all, result.after()), all.end(),
           [&](const product& p) { return q.category.empty() || p.category == q.category; });
      return std::move(result).take();
    });
  }

  std::vector<product> low_stock_products(size_t limit) override {
    return locked([&] {
      std::vector<product> result;
      for (auto& [sku, p] : db_->products) {
        if (result.size() == limit)
          break;
        if (p.is_low_on_stock())
          result.push_back(p);
      }
      return result;
    });
  }

  std::optional<order> find_order(const std::string& id) override {
    return locked([&]() -> std::optional<order> {
      if (auto i = db_->orders.seq_of.find(id); i != db_->orders.seq_of.end())
        return db_->orders.by_seq.at(i->second);
      return std::nullopt;
    });
  }

  page<order> list_orders(const order_query& q) override {
    keyset_page<order, int64_t> result{cursor_kind::order, q.cursor, q.limit};
    return locked([&] {
      auto& all = db_->orders.by_seq;
      // Newest first: walk backwards from just below the cursor.
      auto end = result.after() ? all.lower_bound(*result.after()) : all.end();
      fill(result, std::make_reverse_iterator(end), all.rend(), [&](const order& o) {
        return (!q.status || o.status == *q.status)
               && (q.customer_id.empty() || o.customer_id == q.customer_id);
      });
      return std::move(result).take();
    });
  }

  std::vector<order> due_pending_orders(timestamp_ms created_before, size_t limit) override {
    return locked([&] {
      std::vector<const order*> due; // in seq order, so a stable sort yields (created_at, seq)
      for (auto& [seq, o] : db_->orders.by_seq)
        if (o.status == order_status::pending && o.created_at <= created_before)
          due.push_back(&o);
      std::stable_sort(due.begin(), due.end(), [](const order* a, const order* b) {
        return a->created_at < b->created_at;
      });
      std::vector<order> result;
      for (size_t i = 0; i < due.size() && i < limit; ++i)
        result.push_back(*due[i]);
      return result;
    });
  }

  std::optional<idempotency_record> find_idempotency(const std::string& key) override {
    return locked([&] { return copy_of(db_->idempotency, key); });
  }

  std::optional<processed_message> find_processed_message(const std::string& id) override {
    return locked([&] { return copy_of(db_->processed, id); });
  }

  std::optional<payment_charge> find_charge(const std::string& order_id) override {
    return locked([&] { return copy_of(db_->charges, order_id); });
  }

  size_t purge_processed_messages(timestamp_ms cutoff) override {
    return locked([&] {
      return std::erase_if(db_->processed,
                           [&](const auto& entry) { return entry.second.processed_at < cutoff; });
    });
  }

  size_t purge_idempotency(timestamp_ms cutoff) override {
    return locked([&] {
      return std::erase_if(db_->idempotency,
                           [&](const auto& entry) { return entry.second.created_at < cutoff; });
    });
  }

  std::optional<customer> find_customer(const std::string& id) override {
    return locked([&] { return copy_of(db_->customers, id); });
  }

  page<customer> list_customers(const customer_query& q) override {
    keyset_page<customer, std::string> result{cursor_kind::customer, q.cursor, q.limit};
    return locked([&] {
      auto& all = db_->customers;
      fill(result, resume_after(all, result.after()), all.end(), every_row);
      return std::move(result).take();
    });
  }

  std::optional<cart> find_cart(const std::string& customer_id) override {
    return locked([&] { return copy_of(db_->carts, customer_id); });
  }

  std::optional<notification> find_notification(const std::string& id) override {
    return locked([&] { return copy_of(db_->notifications, id); });
  }

  page<notification> list_notifications(const notification_query& q) override {
    keyset_page<notification, std::string> result{cursor_kind::notification, q.cursor,
                                                  q.limit};
    return locked([&] {
      auto& all = db_->notifications;
      fill(result, resume_after(all, result.after()), all.end(), [&](const notification& n) {
        return (!q.status || n.status == *q.status) && (!q.channel || n.channel == *q.channel)
               && (q.customer_id.empty() || n.customer_id == q.customer_id);
      });
      return std::move(result).take();
    });
  }

  std::vector<notification> pending_notifications(notification_channel channel,
                                                  size_t limit) override {
    return locked([&] {
      std::vector<notification> result;
      for (auto& [id, n] : db_->notifications)
        if (n.status == notification_status::pending && n.channel == channel)
          result.push_back(n);
      std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) {
        return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
      });
      if (result.size() > limit)
        result.resize(limit);
      return result;
    });
  }

  int64_t count_products() override {
    return locked([&] { return static_cast<int64_t>(db_->products.size()); });
  }

  int64_t count_orders() override {
    return locked([&] { return static_cast<int64_t>(db_->orders.by_seq.size()); });
  }

  std::vector<std::pair<order_status, int64_t>> count_orders_by_status() override {
    return locked([&] {
      std::map<order_status, int64_t> counts;
      for (auto& [seq, o] : db_->orders.by_seq)
        ++counts[o.status];
      return std::vector<std::pair<order_status, int64_t>>(counts.begin(), counts.end());
    });
  }

  std::vector<event_record> unpublished_events_after(int64_t after, size_t limit) override {
    return locked([&] {
      std::vector<event_record> result;
      auto& outbox = db_->outbox.by_seq;
      for (auto i = outbox.upper_bound(std::max(after, db_->published_through));
           i != outbox.end() && result.size() < limit; ++i)
        result.push_back(i->second);
      return result;
    });
  }

  size_t mark_published(int64_t through, timestamp_ms at) override {
    return locked([&] {
      auto marked = mark(through, at);
      undo_.commit(); // not part of a batch: nothing to roll back
      return marked;
    });
  }

  int64_t count_unpublished() override {
    return locked([&] {
      auto& outbox = db_->outbox.by_seq;
      auto first = outbox.upper_bound(db_->published_through);
      return static_cast<int64_t>(std::distance(first, outbox.end()));
    });
  }

  size_t purge_published(timestamp_ms cutoff) override {
    return locked([&] {
      size_t removed = 0;
      auto& outbox = db_->outbox.by_seq;
      while (outbox.size() > 1) { // the newest row stays
        auto i = outbox.begin();
        if (i->first > db_->published_through || i->second.occurred_at >= cutoff)
          break;
        db_->outbox.seq_of.erase(i->second.id);
        outbox.erase(i);
        ++removed;
      }
      return removed;
    });
  }

  bool ping() override { return true; }

private:
  /// Runs `f` under the database lock. Like the SQLite store, lets nothing but store_error
  /// escape (here only allocation can fail).
  template <class F>
  auto locked(F&& f) -> decltype(f()) {
    try {
      std::lock_guard guard{db_->mutex};
      return f();
    } catch (const store_error&) {
      throw;
    } catch (const std::exception& e) {
      throw store_error(errc::storage_failure, std::string{"memory store: "} + e.what());
    }
  }

  // -- the transaction (change_set_primitives): the undo log, under the database lock

  void begin() override {}

  void commit() override { undo_.commit(); }

  void roll_back() override { undo_.roll_back_to(0); }

  void savepoint() override { savepoint_ = undo_.mark(); }

  void roll_back_to_savepoint() override { undo_.roll_back_to(savepoint_); }

  void release_savepoint() override {}

  // -- the operations (change_set_primitives): each registers the inverse of what it changes

  /// Appends `row` as `id` under the next sequence number unless the id is taken (then
  /// nullopt). Like SQLite's rowid, a rolled-back append gives its number back.
  template <class T>
  std::optional<int64_t> append_new(detail::sequenced_rows<T>& rows, const std::string& id,
                                    const T& row) {
    if (rows.seq_of.contains(id))
      return std::nullopt;
    auto seq = rows.last_seq + 1;
    undo_.add([&rows, seq, id] {
      rows.by_seq.erase(seq);
      rows.seq_of.erase(id);
      rows.last_seq = seq - 1;
    });
    rows.by_seq.emplace(seq, row);
    rows.seq_of.emplace(id, seq);
    rows.last_seq = seq;
    return seq;
  }

  /// Stores `row` under `key` unless the key is taken (then false).
  template <class Map>
  bool insert_new(Map& rows, const std::string& key, const typename Map::mapped_type& row) {
    if (rows.contains(key))
      return false;
    undo_.add([&rows, key] { rows.erase(key); });
    rows.emplace(key, row);
    return true;
  }

  stock_outcome run(const insert_product& op) override {
    if (!insert_new(db_->products, op.item.sku, op.item))
      return detail::product_exists(op.item.sku);
    return stock_move{std::nullopt, detail::snapshot_of(op.item)};
  }

  stock_outcome run(const update_product& op) override {
    auto i = db_->products.find(op.sku);
    if (i == db_->products.end())
      return detail::product_not_found(op.sku);
    auto& p = i->second;
    undo_.add([&p, before = p] { p = before; });
    auto before = detail::snapshot_of(p);
    p.name = op.details.name;
    p.description = op.details.description;
    p.category = op.details.category;
    p.price_cents = op.details.price_cents;
    p.currency = op.details.currency;
    p.low_stock_threshold = op.details.low_stock_threshold;
    p.updated_at = op.updated_at;
    return stock_move{std::move(before), detail::snapshot_of(p)};
  }

  refusal run(const delete_product& op) override {
    auto& products = db_->products;
    auto i = products.find(op.sku);
    if (i == products.end())
      return detail::product_not_found(op.sku);
    if (i->second.reserved > 0)
      return detail::product_reserved(op.sku, i->second.reserved);
    // Keep the node itself, so undoing the delete allocates nothing.
    auto node = std::make_shared<detail::memory_database::product_map::node_type>();
    undo_.add([&products, node] {
      if (!node->empty())
        products.insert(std::move(*node));
    });
    *node = products.extract(i);
    return std::nullopt;
  }

  stock_outcome run(const set_available& op) override {
    auto i = db_->products.find(op.sku);
    if (i == db_->products.end())
      return detail::product_not_found(op.sku);
    auto& p = i->second;
    undo_.add([&p, before = p.stock(), updated_at = p.updated_at] {
      p.apply(before);
      p.updated_at = updated_at;
    });
    auto before = detail::snapshot_of(p);
    p.available = op.available;
    ++p.version;
    p.updated_at = op.updated_at;
    return stock_move{std::move(before), detail::snapshot_of(p)};
  }

  stock_outcome run(const adjust_stock& op) override {
    auto i = db_->products.find(op.sku);
    if (i == db_->products.end())
      return detail::product_not_found(op.sku);
    auto& p = i->second;
    int64_t available = 0;
    int64_t reserved = 0;
    int64_t sold = 0;
    if (__builtin_add_overflow(p.available, op.available_delta, &available)
        || __builtin_add_overflow(p.reserved, op.reserved_delta, &reserved)
        || __builtin_add_overflow(p.sold, op.sold_delta, &sold))
      return op_failure{errc::invalid_input, "product " + op.sku + ": stock out of range"};
    if (available < 0 || reserved < 0 || sold < 0)
      return detail::insufficient_stock(p.stock(), op);
    undo_.add([&p, before = p.stock(), updated_at = p.updated_at] {
      p.apply(before);
      p.updated_at = updated_at;
    });
    auto before = detail::snapshot_of(p);
    p.available = available;
    p.reserved = reserved;
    p.sold = sold;
    ++p.version;
    p.updated_at = op.updated_at;
    return stock_move{std::move(before), detail::snapshot_of(p)};
  }

  refusal run(const insert_order& op) override {
    if (!append_new(db_->orders, op.item.id, op.item))
      return detail::order_exists(op.item.id);
    return std::nullopt;
  }

  refusal run(const transition_order& op) override {
    auto i = db_->orders.seq_of.find(op.order_id);
    if (i == db_->orders.seq_of.end())
      return detail::order_not_found(op.order_id);
    auto& o = db_->orders.by_seq.at(i->second);
    if (o.status != op.from)
      return detail::wrong_order_status(op.order_id, o.status, op.from);
    undo_.add([&o, status = o.status, updated_at = o.updated_at, reason = o.cancel_reason] {
      o.status = status;
      o.updated_at = updated_at;
      o.cancel_reason = reason;
    });
    o.status = op.to;
    o.updated_at = op.updated_at;
    o.cancel_reason = op.to == order_status::cancelled ? op.cancel_reason : std::string{};
    return std::nullopt;
  }

  refusal run(const save_idempotency& op) override {
    if (!insert_new(db_->idempotency, op.record.key, op.record))
      return detail::idempotency_key_exists(op.record.key);
    return std::nullopt;
  }

  refusal run(const record_message& op) override {
    if (!insert_new(db_->processed, op.message.message_id, op.message))
      return detail::message_processed_already(op.message.message_id);
    return std::nullopt;
  }

  refusal run(const record_charge& op) override {
    if (!insert_new(db_->charges, op.charge.order_id, op.charge))
      return detail::charged_already(op.charge.order_id);
    return std::nullopt;
  }

  refusal run(const append_event& op) override {
    auto seq = append_new(db_->outbox, op.event.id, op.event);
    if (!seq)
      return detail::event_exists(op.event.id);
    db_->outbox.by_seq.at(*seq).seq = *seq; // an outbox row knows its seq, as in SQLite
    return std::nullopt;
  }

  void run(const mark_events_published& op) override { mark(op.through, op.at); }

  refusal run(const insert_customer& op) override {
    auto& db = *db_;
    auto& c = op.item;
    if (db.customers.contains(c.id))
      return detail::customer_exists(c.id);
    auto key = email_key(c.details.email);
    if (db.customer_emails.contains(key))
      return detail::email_taken(c.details.email);
    undo_.add([&db, id = c.id, key] {
      db.customers.erase(id);
      db.customer_emails.erase(key);
    });
    db.customers.emplace(c.id, c);
    db.customer_emails.emplace(key, c.id);
    return std::nullopt;
  }

  refusal run(const update_customer& op) override {
    auto& db = *db_;
    auto i = db.customers.find(op.item.id);
    if (i == db.customers.end())
      return detail::customer_not_found(op.item.id);
    auto& stored = i->second;
    if (stored.version != op.expected_version)
      return detail::customer_changed(stored.id, op.expected_version, stored.version);
    auto old_key = email_key(stored.details.email);
    auto new_key = email_key(op.item.details.email);
    if (new_key != old_key) {
      if (db.customer_emails.contains(new_key))
        return detail::email_taken(op.item.details.email);
      undo_.add([&db, old_key, new_key, id = stored.id] {
        db.customer_emails.erase(new_key);
        db.customer_emails[old_key] = id;
      });
      db.customer_emails.erase(old_key);
      db.customer_emails.emplace(new_key, stored.id);
    }
    undo_.add([&stored, before = stored] { stored = before; });
    auto created_at = stored.created_at; // never replaced
    stored = op.item;
    stored.created_at = created_at;
    return std::nullopt;
  }

  refusal run(const delete_customer& op) override {
    auto& db = *db_;
    auto i = db.customers.find(op.id);
    if (i == db.customers.end())
      return detail::customer_not_found(op.id);
    auto before = i->second;
    auto key = email_key(before.details.email);
    std::optional<cart> cart_before;
    if (auto c = db.carts.find(op.id); c != db.carts.end())
      cart_before = c->second;
    undo_.add([&db, before, key, cart_before] {
      db.customers[before.id] = before;
      db.customer_emails[key] = before.id;
      if (cart_before)
        db.carts[before.id] = *cart_before;
    });
    db.customers.erase(i);
    db.customer_emails.erase(key);
    db.carts.erase(op.id);
    return std::nullopt;
  }

  refusal run(const save_cart& op) override {
    auto& db = *db_;
    auto& c = op.item;
    if (!db.customers.contains(c.customer_id))
      return detail::customer_not_found(c.customer_id);
    auto i = db.carts.find(c.customer_id);
    int64_t stored_version = i == db.carts.end() ? 0 : i->second.version;
    if (stored_version != c.version - 1)
      return detail::cart_changed(c.customer_id, c.version - 1, stored_version);
    std::optional<cart> before;
    if (i != db.carts.end())
      before = i->second;
    undo_.add([&db, id = c.customer_id, before] {
      if (before)
        db.carts[id] = *before;
      else
        db.carts.erase(id);
    });
    auto created_at = before ? before->created_at : c.created_at;
    auto& stored = db.carts[c.customer_id];
    stored = c;
    stored.created_at = created_at;
    return std::nullopt;
  }

  refusal run(const insert_notification& op) override {
    if (!insert_new(db_->notifications, op.item.id, op.item))
      return detail::notification_exists(op.item.id);
    return std::nullopt;
  }

  refusal run(const update_notification& op) override {
    auto i = db_->notifications.find(op.id);
    if (i == db_->notifications.end())
      return detail::notification_not_found(op.id);
    auto& n = i->second;
    undo_.add([&n, before = n] { n = before; });
    n.status = op.status;
    n.attempts = op.attempts;
    n.last_error = op.last_error;
    n.updated_at = op.updated_at;
    return std::nullopt;
  }

  /// Moves the published cursor to `through` (never back, never past the newest event);
  /// returns how many events that newly covers.
  size_t mark(int64_t through, timestamp_ms) {
    auto& db = *db_;
    auto& outbox = db.outbox.by_seq;
    through = std::min(through, outbox.empty() ? int64_t{0} : outbox.rbegin()->first);
    if (through <= db.published_through)
      return 0;
    auto marked = std::distance(outbox.upper_bound(db.published_through),
                                outbox.upper_bound(through));
    undo_.add([&db, before = db.published_through] { db.published_through = before; });
    db.published_through = through;
    return static_cast<size_t>(marked);
  }

  std::shared_ptr<detail::memory_database> db_;
  undo_log undo_;       // of the batch being applied
  size_t savepoint_ = 0; // in undo_
};

} // namespace

memory_store_factory::memory_store_factory()
  : db_(std::make_shared<detail::memory_database>()) {
}

memory_store_factory::~memory_store_factory() = default;

std::unique_ptr<store> memory_store_factory::open() {
  return std::make_unique<memory_store>(db_);
}

} // namespace orderd::persistence
