// Orders with their lines. Lines never change once written, so an order read in one statement
// and its lines in the next always match.

#include <unordered_map>

#include "persistence/postgres/internal.hpp"

namespace orderd::persistence::postgres {

namespace {

/// Attaches the lines of `orders` (one query for all of them).
void attach_lines(connection& c, std::vector<order>& orders) {
  if (orders.empty())
    return;
  std::vector<std::string> ids;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < orders.size(); ++i) {
    ids.push_back(orders[i].id);
    index.emplace(orders[i].id, i);
  }
  auto r = c.run("SELECT order_id, sku, quantity, unit_price_cents FROM order_lines "
                 "WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, line_no",
                 {array_literal(ids)});
  for (int row = 0; row < r.rows(); ++row)
    if (auto i = index.find(r.text(row, 0)); i != index.end())
      orders[i->second].lines.push_back({r.text(row, 1), r.int64(row, 2), r.int64(row, 3)});
}

} // namespace

std::optional<order> postgres_store::find_order(const std::string& id) {
  if (!uuid_shaped(id))
    return std::nullopt;
  return guarded("find_order", [&](connection& c) -> std::optional<order> {
    static const auto sql = "SELECT " + std::string{order_columns}
                            + ", l.sku, l.quantity, l.unit_price_cents FROM orders o "
                              "LEFT JOIN order_lines l ON l.order_id = o.id "
                              "WHERE o.id = $1 ORDER BY l.line_no";
    auto r = c.run(sql, {id});
    if (r.rows() == 0)
      return std::nullopt;
    auto found = read_order(r, 0).second;
    constexpr int line_column = 10; // after the order's columns
    for (int row = 0; row < r.rows(); ++row)
      if (!r.is_null(row, line_column))
        found.lines.push_back({r.text(row, line_column), r.int64(row, line_column + 1),
                               r.int64(row, line_column + 2)});
    return found;
  });
}

page<order> postgres_store::list_orders(const order_query& oq) {
  keyset_page<order, int64_t> listed{cursor_kind::order, oq.cursor, oq.limit};
  return guarded("list_orders", [&](connection& c) {
    args params;
    std::string where = "WHERE true";
    if (oq.status) {
      params.emplace_back(text_of(to_string(*oq.status)));
      where += " AND o.status = $" + std::to_string(params.size());
    }
    if (!oq.customer_id.empty()) {
      params.emplace_back(oq.customer_id);
      where += " AND o.customer_id = $" + std::to_string(params.size());
    }
    if (listed.after()) {
      // Newest first: the page starts just below the cursor's seq.
      params.emplace_back(num(*listed.after()));
      where += " AND o.seq < $" + std::to_string(params.size());
    }
    params.emplace_back(num(listed.fetch_limit()));
    auto sql = select(order_columns, "orders o " + where + " ORDER BY o.seq DESC LIMIT $"
                                       + std::to_string(params.size()));
    auto r = c.run(sql, params);
    for (int row = 0; row < r.rows(); ++row) {
      auto [seq, o] = read_order(r, row);
      if (!listed.offer(seq, std::move(o)))
        break;
    }
    auto result = std::move(listed).take();
    attach_lines(c, result.items);
    return result;
  });
}

std::vector<order> postgres_store::due_pending_orders(timestamp_ms created_before,
                                                      size_t limit) {
  return guarded("due_pending_orders", [&](connection& c) {
    static const auto sql = select(order_columns,
                                   "orders o WHERE o.status = 'PENDING' "
                                   "AND o.created_at <= orderd_ts($1) "
                                   "ORDER BY o.created_at, o.seq LIMIT $2");
    auto due = read_all(c.run(sql, {num(created_before), num(detail::row_limit(limit))}),
                        [](const result& r, int row) { return read_order(r, row).second; });
    attach_lines(c, due);
    return due;
  });
}

int64_t postgres_store::count_orders() {
  return guarded("count_orders", [](connection& c) {
    return c.run("SELECT count(*) FROM orders", {}).int64(0, 0);
  });
}

std::vector<std::pair<order_status, int64_t>> postgres_store::count_orders_by_status() {
  return guarded("count_orders_by_status", [](connection& c) {
    std::vector<std::pair<order_status, int64_t>> out;
    auto r = c.run("SELECT status, count(*) FROM orders GROUP BY status", {});
    for (int row = 0; row < r.rows(); ++row)
      if (auto s = parse_order_status(r.text(row, 0)))
        out.emplace_back(*s, r.int64(row, 1));
    return out;
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

refusal postgres_store::run(const insert_order& op) {
  auto& o = op.item;
  // The order and its lines in one statement: the lines are inserted only with a new order,
  // and the count says whether the order was new.
  std::vector<std::string> skus;
  std::vector<int64_t> quantities;
  std::vector<int64_t> prices;
  for (auto& line : o.lines) {
    skus.push_back(line.sku);
    quantities.push_back(line.quantity);
    prices.push_back(line.unit_price_cents);
  }
  std::string id = o.id;
  return deferred(
    "WITH new_order AS ("
    "  INSERT INTO orders (id, customer_id, customer_email, status, total_cents, currency, "
    "  created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, orderd_ts($7), orderd_ts($8)) "
    "  ON CONFLICT (id) DO NOTHING RETURNING id), "
    "lines AS ("
    "  INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents) "
    "  SELECT new_order.id, l.n, l.sku, l.quantity, l.price FROM new_order, "
    "  unnest($9::text[], $10::bigint[], $11::bigint[]) WITH ORDINALITY "
    "    AS l(sku, quantity, price, n)) "
    "SELECT count(*) FROM new_order",
    {o.id, o.customer_id, o.customer_email, text_of(to_string(o.status)), num(o.total_cents),
     o.currency, num(o.created_at), num(o.updated_at), array_literal(skus),
     array_literal(quantities), array_literal(prices)},
    [id](const result& r) -> refusal {
      if (r.int64(0, 0) == 0)
        return detail::order_exists(id);
      return std::nullopt;
    });
}

refusal postgres_store::run(const transition_order& op) {
  if (!uuid_shaped(op.order_id))
    return detail::order_not_found(op.order_id);
  return deferred("UPDATE orders SET status = $2, updated_at = orderd_ts($3), "
                  "cancel_reason = $4 WHERE id = $1 AND status = $5",
                  {op.order_id, text_of(to_string(op.to)), num(op.updated_at),
                   op.to == order_status::cancelled ? op.cancel_reason : std::string{},
                   text_of(to_string(op.from))},
                  [this, id = op.order_id, from = op.from](const result& changed) -> refusal {
                    if (changed.affected() == 1)
                      return std::nullopt;
                    // Why not: a second look (rare: the actors check first).
                    auto r = tx().run("SELECT status FROM orders WHERE id = $1", {id});
                    if (r.rows() == 0)
                      return detail::order_not_found(id);
                    return detail::wrong_order_status(id, read_status(r, 0, 0, id), from);
                  });
}

} // namespace orderd::persistence::postgres
