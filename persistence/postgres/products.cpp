// Products and their stock figures: the catalogue reads and the stock primitives.

#include "persistence/postgres/internal.hpp"

namespace orderd::persistence::postgres {

namespace {

std::string returning_snapshot(std::string_view write) {
  return std::string{write} + " RETURNING " + std::string{snapshot_columns};
}

/// The stock figures of `sku`, locked for the rest of the transaction (FOR UPDATE: a writer on
/// another session cannot move them between this read and the write that follows), or nullopt.
std::optional<stock_snapshot> locked_snapshot(connection& c, const std::string& sku) {
  static const auto sql = select(snapshot_columns, "products WHERE sku = $1 FOR UPDATE");
  auto r = c.run(sql, {sku});
  if (r.rows() == 0)
    return std::nullopt;
  return read_snapshot(r, 0, sku);
}

} // namespace

std::optional<product> postgres_store::find_product(const std::string& sku) {
  return guarded("find_product", [&](connection& c) -> std::optional<product> {
    static const auto sql = select(product_columns, "products WHERE sku = $1");
    auto r = c.run(sql, {sku});
    if (r.rows() == 0)
      return std::nullopt;
    return read_product(r, 0);
  });
}

page<product> postgres_store::list_products(const product_query& pq) {
  keyset_page<product, std::string> listed{cursor_kind::product, pq.cursor, pq.limit};
  return guarded("list_products", [&](connection& c) {
    // Only fixed fragments vary, so there are at most four statements to prepare.
    args params;
    std::string where = "WHERE true";
    if (!pq.category.empty()) {
      params.emplace_back(pq.category);
      where += " AND category = $" + std::to_string(params.size());
    }
    if (listed.after()) {
      params.emplace_back(*listed.after());
      where += " AND sku > $" + std::to_string(params.size());
    }
    params.emplace_back(num(listed.fetch_limit()));
    auto sql = select(product_columns, "products " + where + " ORDER BY sku LIMIT $"
                                         + std::to_string(params.size()));
    return fill_page(listed, c.run(sql, params), read_product,
                     [](const product& p) { return p.sku; });
  });
}

std::vector<product> postgres_store::low_stock_products(size_t limit) {
  return guarded("low_stock_products", [&](connection& c) {
    static const auto sql = select(
      product_columns, "products WHERE available <= low_stock_threshold ORDER BY sku LIMIT $1");
    return read_all(c.run(sql, {num(detail::row_limit(limit))}), read_product);
  });
}

int64_t postgres_store::count_products() {
  return guarded("count_products", [](connection& c) {
    return c.run("SELECT count(*) FROM products", {}).int64(0, 0);
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

stock_outcome postgres_store::run(const insert_product& op) {
  auto& p = op.item;
  static const auto sql = returning_snapshot(
    "INSERT INTO products (sku, name, description, category, price_cents, currency, "
    "available, reserved, sold, low_stock_threshold, version, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, orderd_ts($12), orderd_ts($13)) "
    "ON CONFLICT (sku) DO NOTHING");
  auto r = tx().run(sql, {p.sku, p.name, p.description, p.category, num(p.price_cents),
                          p.currency, num(p.available), num(p.reserved), num(p.sold),
                          num(p.low_stock_threshold), num(p.version), num(p.created_at),
                          num(p.updated_at)});
  if (r.rows() == 0)
    return detail::product_exists(p.sku);
  return stock_move{std::nullopt, read_snapshot(r, 0, p.sku)};
}

stock_outcome postgres_store::run(const update_product& op) {
  auto& d = op.details;
  // The threshold may change: stock events need the one before (a rare, admin-paced write).
  auto before = locked_snapshot(tx(), op.sku);
  if (!before)
    return detail::product_not_found(op.sku);
  static const auto sql = returning_snapshot(
    "UPDATE products SET name = $2, description = $3, category = $4, price_cents = $5, "
    "currency = $6, low_stock_threshold = $7, updated_at = orderd_ts($8) WHERE sku = $1");
  auto r = tx().run(sql, {op.sku, d.name, d.description, d.category, num(d.price_cents),
                          d.currency, num(d.low_stock_threshold), num(op.updated_at)});
  return stock_move{std::move(before), read_snapshot(r, 0, op.sku)};
}

refusal postgres_store::run(const delete_product& op) {
  if (tx().run("DELETE FROM products WHERE sku = $1 AND reserved = 0", {op.sku}).affected() == 1)
    return std::nullopt;
  if (auto have = locked_snapshot(tx(), op.sku))
    return detail::product_reserved(op.sku, have->level.reserved);
  return detail::product_not_found(op.sku);
}

stock_outcome postgres_store::run(const set_available& op) {
  // An absolute value hides the old one: read it first (a rare, admin-paced write).
  auto before = locked_snapshot(tx(), op.sku);
  if (!before)
    return detail::product_not_found(op.sku);
  static const auto sql = returning_snapshot(
    "UPDATE products SET available = $2, version = version + 1, updated_at = orderd_ts($3) "
    "WHERE sku = $1");
  auto r = tx().run(sql, {op.sku, num(op.available), num(op.updated_at)});
  return stock_move{std::move(before), read_snapshot(r, 0, op.sku)};
}

stock_outcome postgres_store::run(const adjust_stock& op) {
  // The hot path (every placement), in one round trip: the guard against overselling is the
  // WHERE clause, evaluated on the row as locked, so no other session can slip in between.
  static const auto sql = returning_snapshot(
    "UPDATE products SET available = available + $2, reserved = reserved + $3, "
    "sold = sold + $4, version = version + 1, updated_at = orderd_ts($5) "
    "WHERE sku = $1 AND available + $2 >= 0 AND reserved + $3 >= 0 AND sold + $4 >= 0");
  auto r = tx().run(sql, {op.sku, num(op.available_delta), num(op.reserved_delta),
                          num(op.sold_delta), num(op.updated_at)});
  if (r.rows() == 0) {
    if (auto have = locked_snapshot(tx(), op.sku))
      return detail::insufficient_stock(have->level, op);
    return detail::product_not_found(op.sku);
  }
  auto after = read_snapshot(r, 0, op.sku);
  auto before = after;
  before.level.available -= op.available_delta;
  before.level.reserved -= op.reserved_delta;
  before.level.sold -= op.sold_delta;
  before.level.version -= 1;
  return stock_move{std::move(before), std::move(after)};
}

} // namespace orderd::persistence::postgres
