// Products and their stock figures: the catalogue reads and the stock primitives.

#include "persistence/sqlite/internal.hpp"

namespace orderd::persistence::sqlite {

namespace {

/// `write` returning the columns read_snapshot reads. Each caller keeps the result in a static:
/// the text is built once, not per statement run.
std::string returning_snapshot(std::string_view write) {
  return std::string{write} + " RETURNING " + std::string{snapshot_columns};
}

std::string select_products(const std::string& rest) {
  return select(product_columns, "products " + rest);
}

/// The stock figures and threshold of `sku`, or nullopt if there is no such product.
std::optional<stock_snapshot> current_snapshot(connection& c, const std::string& sku) {
  static const auto sql = select(snapshot_columns, "products WHERE sku = :sku");
  auto q = c.prepare(sql);
  q.bind(":sku", sku);
  if (!q.step())
    return std::nullopt;
  return read_snapshot(q, sku);
}

/// The stock figures of `sku`, or nullopt if there is no such product.
std::optional<stock_level> current_stock(connection& c, const std::string& sku) {
  if (auto s = current_snapshot(c, sku))
    return std::move(s->level);
  return std::nullopt;
}

} // namespace

std::optional<product> sqlite_store::find_product(const std::string& sku) {
  return translate_errors("find_product", [&] {
    return find_one(*c_, select_products("WHERE sku = :key"), sku, read_product);
  });
}

page<product> sqlite_store::list_products(const product_query& pq) {
  keyset_page<product, std::string> result{cursor_kind::product, pq.cursor, pq.limit};
  return translate_errors("list_products", [&] {
    // Only fixed fragments vary, so there are at most four statements to cache.
    std::string where = "WHERE 1 = 1";
    if (!pq.category.empty())
      where += " AND category = :category";
    if (result.after())
      where += " AND sku > :after";
    auto q = c_->prepare(select_products(where + " ORDER BY sku LIMIT :limit"));
    if (!pq.category.empty())
      q.bind(":category", pq.category);
    return read_page(result, q, read_product, &product::sku);
  });
}

std::vector<product> sqlite_store::low_stock_products(size_t limit) {
  return translate_errors("low_stock_products", [&] {
    auto q = c_->prepare(
      select_products("WHERE available <= low_stock_threshold ORDER BY sku LIMIT :limit"));
    q.bind(":limit", detail::row_limit(limit));
    std::vector<product> result;
    while (q.step())
      result.push_back(read_product(q));
    return result;
  });
}

int64_t sqlite_store::count_products() {
  return translate_errors("count_products", [&] { return count_rows(*c_, "products"); });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

stock_outcome sqlite_store::run(const insert_product& op) {
  auto& p = op.item;
  static const auto sql = returning_snapshot(
    "INSERT INTO products (sku, name, description, category, price_cents, currency, "
    "available, reserved, sold, low_stock_threshold, version, created_at, updated_at) "
    "VALUES (:sku, :name, :description, :category, :price, :currency, :available, "
    ":reserved, :sold, :threshold, :version, :created_at, :updated_at) "
    "ON CONFLICT (sku) DO NOTHING");
  auto q = c_->prepare(sql);
  q.bind(":sku", p.sku).bind(":name", p.name).bind(":description", p.description);
  q.bind(":category", p.category).bind(":price", p.price_cents).bind(":currency", p.currency);
  q.bind(":available", p.available).bind(":reserved", p.reserved).bind(":sold", p.sold);
  q.bind(":threshold", p.low_stock_threshold).bind(":version", p.version);
  q.bind(":created_at", p.created_at).bind(":updated_at", p.updated_at);
  if (!q.step())
    return detail::product_exists(p.sku);
  return stock_move{std::nullopt, read_snapshot(q, p.sku)};
}

stock_outcome sqlite_store::run(const update_product& op) {
  auto& d = op.details;
  // The threshold may change: stock events need the one before (a rare, admin-paced write).
  auto before = current_snapshot(*c_, op.sku);
  if (!before)
    return detail::product_not_found(op.sku);
  static const auto sql = returning_snapshot(
    "UPDATE products SET name = :name, description = :description, category = :category, "
    "price_cents = :price, currency = :currency, low_stock_threshold = :threshold, "
    "updated_at = :updated_at WHERE sku = :sku");
  auto q = c_->prepare(sql);
  q.bind(":name", d.name).bind(":description", d.description).bind(":category", d.category);
  q.bind(":price", d.price_cents).bind(":currency", d.currency);
  q.bind(":threshold", d.low_stock_threshold).bind(":updated_at", op.updated_at);
  q.bind(":sku", op.sku);
  if (!q.step())
    return detail::product_not_found(op.sku);
  return stock_move{std::move(before), read_snapshot(q, op.sku)};
}

refusal sqlite_store::run(const delete_product& op) {
  {
    auto q = c_->prepare("DELETE FROM products WHERE sku = :sku AND reserved = 0 RETURNING 1");
    q.bind(":sku", op.sku);
    if (q.step())
      return std::nullopt;
  }
  if (auto have = current_stock(*c_, op.sku))
    return detail::product_reserved(op.sku, have->reserved);
  return detail::product_not_found(op.sku);
}

stock_outcome sqlite_store::run(const set_available& op) {
  // An absolute value hides the old one: read it first (a rare, admin-paced write).
  auto before = current_snapshot(*c_, op.sku);
  if (!before)
    return detail::product_not_found(op.sku);
  static const auto sql
    = returning_snapshot("UPDATE products SET available = :available, version = version + 1, "
                         "updated_at = :updated_at WHERE sku = :sku");
  auto q = c_->prepare(sql);
  q.bind(":available", op.available).bind(":updated_at", op.updated_at).bind(":sku", op.sku);
  if (!q.step())
    return detail::product_not_found(op.sku);
  return stock_move{std::move(before), read_snapshot(q, op.sku)};
}

stock_outcome sqlite_store::run(const adjust_stock& op) {
  // The hot path (every placement): read the figures, apply the deltas here, write them back.
  // The writer holds the database's write lock for the whole transaction, so nothing changes
  // between the read and the write; the version in the WHERE clause checks that anyway.
  auto before = current_snapshot(*c_, op.sku);
  if (!before)
    return detail::product_not_found(op.sku);
  auto after = *before;
  after.level.available += op.available_delta;
  after.level.reserved += op.reserved_delta;
  after.level.sold += op.sold_delta;
  after.level.version += 1;
  // The guard against overselling: no figure may drop below zero.
  if (after.level.available < 0 || after.level.reserved < 0 || after.level.sold < 0)
    return detail::insufficient_stock(before->level, op);
  auto q = c_->prepare("UPDATE products SET available = :available, reserved = :reserved, "
                       "sold = :sold, version = :version, updated_at = :updated_at "
                       "WHERE sku = :sku AND version = :seen_version");
  q.bind(":available", after.level.available).bind(":reserved", after.level.reserved);
  q.bind(":sold", after.level.sold).bind(":version", after.level.version);
  q.bind(":updated_at", op.updated_at).bind(":sku", op.sku);
  q.bind(":seen_version", before->level.version);
  if (q.changed_rows() != 1)
    throw sqlite_failure(SQLITE_INTERNAL, "products row " + op.sku
                                            + " changed under the writer's lock");
  return stock_move{std::move(*before), std::move(after)};
}

} // namespace orderd::persistence::sqlite
