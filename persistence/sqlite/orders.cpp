// Orders with their lines.

#include "persistence/sqlite/internal.hpp"

namespace orderd::persistence::sqlite {

namespace {

std::string select_orders(const std::string& rest) {
  return select(order_columns, "orders o " + rest);
}

} // namespace

std::optional<order> sqlite_store::find_order(const std::string& id) {
  return translate_errors("find_order", [&]() -> std::optional<order> {
    read_transaction snapshot{*c_};
    std::optional<order> result;
    {
      auto q = c_->prepare(select_orders("WHERE o.id = :id"));
      q.bind(":id", id);
      if (!q.step())
        return std::nullopt;
      result = read_order(q).second;
    }
    auto lines = c_->prepare("SELECT sku, quantity, unit_price_cents FROM order_lines "
                             "WHERE order_id = :id ORDER BY line_no");
    lines.bind(":id", id);
    while (lines.step())
      result->lines.push_back({lines.text(0), lines.int64(1), lines.int64(2)});
    return result;
  });
}

page<order> sqlite_store::list_orders(const order_query& oq) {
  keyset_page<order, int64_t> listed{cursor_kind::order, oq.cursor, oq.limit};
  return translate_errors("list_orders", [&] {
    std::string filter;
    if (oq.status)
      filter += " AND o.status = :status";
    if (!oq.customer_id.empty())
      filter += " AND o.customer_id = :customer";
    auto bind_filter = [&](query& q) {
      if (oq.status)
        q.bind(":status", to_string(*oq.status));
      if (!oq.customer_id.empty())
        q.bind(":customer", oq.customer_id);
    };
    read_transaction snapshot{*c_};
    std::vector<int64_t> seqs; // of the page's orders, for their lines
    {
      // Newest first: the page starts just below the cursor's seq.
      auto q = c_->prepare(select_orders("WHERE 1 = 1" + filter
                                         + (listed.after() ? " AND o.seq < :before" : "")
                                         + " ORDER BY o.seq DESC LIMIT :limit"));
      bind_filter(q);
      if (listed.after())
        q.bind(":before", *listed.after());
      q.bind(":limit", listed.fetch_limit());
      while (q.step()) {
        auto [seq, o] = read_order(q);
        if (!listed.offer(seq, std::move(o)))
          break;
        seqs.push_back(seq);
      }
    }
    auto result = std::move(listed).take();
    if (result.items.empty())
      return result;
    // One query for the lines of the whole page: the same filter over the page's seq range
    // selects exactly the page's orders (within this snapshot).
    auto lines = c_->prepare("SELECT o.seq, l.sku, l.quantity, l.unit_price_cents "
                             "FROM orders o JOIN order_lines l ON l.order_id = o.id "
                             "WHERE o.seq BETWEEN :lowest AND :highest"
                             + filter + " ORDER BY o.seq DESC, l.line_no");
    bind_filter(lines);
    lines.bind(":lowest", seqs.back()).bind(":highest", seqs.front());
    attach_lines(lines, result.items, seqs);
    return result;
  });
}

std::vector<order> sqlite_store::due_pending_orders(timestamp_ms created_before, size_t limit) {
  return translate_errors("due_pending_orders", [&] {
    auto pending = to_string(order_status::pending);
    read_transaction snapshot{*c_};
    std::vector<order> result;
    std::vector<int64_t> seqs;
    {
      auto q = c_->prepare(select_orders("WHERE o.status = :pending AND o.created_at <= :cutoff "
                                         "ORDER BY o.created_at, o.seq LIMIT :limit"));
      q.bind(":pending", pending).bind(":cutoff", created_before);
      q.bind(":limit", detail::row_limit(limit));
      while (q.step()) {
        auto [seq, o] = read_order(q);
        seqs.push_back(seq);
        result.push_back(std::move(o));
      }
    }
    if (result.empty())
      return result;
    // The batch is a prefix of (created_at, seq) order: bound the lines query by its last row.
    auto lines = c_->prepare(
      "SELECT o.seq, l.sku, l.quantity, l.unit_price_cents "
      "FROM orders o JOIN order_lines l ON l.order_id = o.id "
      "WHERE o.status = :pending AND o.created_at <= :cutoff "
      "AND (o.created_at, o.seq) <= (:last_created, :last_seq) "
      "ORDER BY o.created_at, o.seq, l.line_no");
    lines.bind(":pending", pending).bind(":cutoff", created_before);
    lines.bind(":last_created", result.back().created_at).bind(":last_seq", seqs.back());
    attach_lines(lines, result, seqs);
    return result;
  });
}

int64_t sqlite_store::count_orders() {
  return translate_errors("count_orders", [&] { return count_rows(*c_, "orders"); });
}

std::vector<std::pair<order_status, int64_t>> sqlite_store::count_orders_by_status() {
  return translate_errors("count_orders_by_status", [&] {
    // Walks the orders_status_seq index only.
    std::vector<std::pair<order_status, int64_t>> out;
    auto q = c_->prepare("SELECT status, count(*) FROM orders GROUP BY status");
    while (q.step())
      if (auto s = parse_order_status(q.text(0)))
        out.emplace_back(*s, q.int64(1));
    return out;
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

refusal sqlite_store::run(const insert_order& op) {
  auto& o = op.item;
  if (write(*c_,
            "INSERT INTO orders (id, customer_id, customer_email, status, total_cents, currency, "
            "created_at, updated_at) VALUES (:id, :customer, :email, :status, :total, :currency, "
            ":created_at, :updated_at) ON CONFLICT (id) DO NOTHING",
            {{":id", o.id}, {":customer", o.customer_id}, {":email", o.customer_email},
             {":status", to_string(o.status)}, {":total", o.total_cents},
             {":currency", o.currency}, {":created_at", o.created_at},
             {":updated_at", o.updated_at}})
      == 0)
    return detail::order_exists(o.id);
  insert_lines(*c_,
               "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents) "
               "VALUES (:owner, :line_no, :sku, :quantity, :unit_price)",
               o.id, o.lines);
  return std::nullopt;
}

refusal sqlite_store::run(const transition_order& op) {
  if (write(*c_,
            "UPDATE orders SET status = :to, updated_at = :updated_at, "
            "cancel_reason = :reason WHERE id = :id AND status = :from",
            {{":to", to_string(op.to)}, {":updated_at", op.updated_at},
             {":reason", op.to == order_status::cancelled ? op.cancel_reason : std::string{}},
             {":id", op.order_id}, {":from", to_string(op.from)}})
      == 1)
    return std::nullopt;
  auto q = c_->prepare("SELECT status FROM orders WHERE id = :id");
  q.bind(":id", op.order_id);
  if (!q.step())
    return detail::order_not_found(op.order_id);
  return detail::wrong_order_status(op.order_id, read_status(q, 0, op.order_id), op.from);
}

} // namespace orderd::persistence::sqlite
