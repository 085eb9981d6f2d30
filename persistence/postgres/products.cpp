// Products and their stock figures: the catalogue reads and the stock primitives.

#include <map>
#include <set>

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
  return guarded("find_product", [&](connection& c) {
    static const auto sql = select(product_columns, "products WHERE sku = $1");
    return find_one(c, sql, sku, read_product);
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
  // The hot path (every placement). Queued: the moves of a change set go to the server as one
  // statement when their figures are first needed (detail::apply_batch asks for them before
  // the next operation of another kind).
  stock_moves_.push_back({op, std::nullopt});
  return detail::stock_pending{stock_moves_.size() - 1};
}

stock_outcome postgres_store::resolve_stock(detail::stock_pending pending) {
  if (pending.handle >= stock_moves_.size())
    throw store_error(errc::internal, "postgres: unknown pending stock move");
  if (!stock_moves_[pending.handle].outcome)
    send_stock_moves();
  return *stock_moves_[pending.handle].outcome;
}

void postgres_store::send_stock_moves() {
  // The guard against overselling is the WHERE clause, evaluated on each row as locked, so no
  // other session can slip in between; a row it leaves alone is a refusal, told apart below.
  // VALUES rather than unnest: the planner then knows how many rows join (an index lookup
  // each), also in the generic plan.
  static const row_insert moves{
    "UPDATE products p SET available = p.available + d.available, "
    "reserved = p.reserved + d.reserved, sold = p.sold + d.sold, version = p.version + 1, "
    "updated_at = orderd_ts(d.at) FROM (VALUES ",
    "(?::text, ?::bigint, ?::bigint, ?::bigint, ?::bigint)",
    ") AS d(sku, available, reserved, sold, at) "
    "WHERE p.sku = d.sku COLLATE \"C\" AND p.available + d.available >= 0 "
    "AND p.reserved + d.reserved >= 0 AND p.sold + d.sold >= 0 "
    "RETURNING p.sku, p.available, p.reserved, p.sold, p.version, p.low_stock_threshold"};
  constexpr size_t max_moves = 32; // keeps the distinct statements (one per count) few
  size_t first = 0;
  while (first < stock_moves_.size() && stock_moves_[first].outcome)
    ++first;
  while (first < stock_moves_.size()) {
    // A run of distinct SKUs: an UPDATE changes each row once, whatever joins to it twice.
    std::set<std::string> skus;
    size_t end = first;
    while (end < stock_moves_.size() && end - first < max_moves
           && skus.insert(stock_moves_[end].op.sku).second)
      ++end;
    args values;
    for (size_t i = first; i < end; ++i) {
      auto& op = stock_moves_[i].op;
      values.insert(values.end(), {op.sku, num(op.available_delta), num(op.reserved_delta),
                                   num(op.sold_delta), num(op.updated_at)});
    }
    auto r = tx().run(multi_row_sql(moves, end - first), values);
    std::map<std::string, int> row_of;
    for (int row = 0; row < r.rows(); ++row)
      row_of.emplace(r.text(row, 0), row);
    for (size_t i = first; i < end; ++i) {
      auto& move = stock_moves_[i];
      auto& op = move.op;
      auto hit = row_of.find(op.sku);
      if (hit == row_of.end()) {
        if (auto have = locked_snapshot(tx(), op.sku))
          move.outcome = detail::insufficient_stock(have->level, op);
        else
          move.outcome = detail::product_not_found(op.sku);
        continue;
      }
      stock_snapshot after{{op.sku, r.int64(hit->second, 1), r.int64(hit->second, 2),
                            r.int64(hit->second, 3), r.int64(hit->second, 4)},
                           r.int64(hit->second, 5)};
      auto before = after;
      before.level.available -= op.available_delta;
      before.level.reserved -= op.reserved_delta;
      before.level.sold -= op.sold_delta;
      before.level.version -= 1;
      move.outcome = stock_move{std::move(before), std::move(after)};
    }
    first = end;
  }
}

} // namespace orderd::persistence::postgres
