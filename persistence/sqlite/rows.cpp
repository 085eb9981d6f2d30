#include "persistence/sqlite/rows.hpp"

#include <unordered_map>

namespace orderd::persistence::sqlite {

namespace {

/// Reads `available, reserved, sold, version` starting at `column`.
stock_level read_stock(const query& q, std::string sku, int column) {
  return {std::move(sku), q.int64(column), q.int64(column + 1), q.int64(column + 2),
          q.int64(column + 3)};
}

} // namespace

std::string select(std::string_view columns, std::string_view from) {
  std::string sql = "SELECT ";
  sql += columns;
  sql += " FROM ";
  sql += from;
  return sql;
}

product read_product(const query& q) {
  product p;
  p.sku = q.text(0);
  p.name = q.text(1);
  p.description = q.text(2);
  p.category = q.text(3);
  p.price_cents = q.int64(4);
  p.currency = q.text(5);
  p.available = q.int64(6);
  p.reserved = q.int64(7);
  p.sold = q.int64(8);
  p.low_stock_threshold = q.int64(9);
  p.version = q.int64(10);
  p.created_at = q.int64(11);
  p.updated_at = q.int64(12);
  return p;
}

stock_snapshot read_snapshot(const query& q, std::string sku, int column) {
  return {read_stock(q, std::move(sku), column), q.int64(column + 4)};
}

order_status read_status(const query& q, int column, const std::string& order_id) {
  auto text = q.text(column);
  if (auto status = parse_order_status(text))
    return *status;
  throw store_error(errc::storage_failure,
                    "order " + order_id + " has an unknown status '" + text + "'");
}

std::pair<int64_t, order> read_order(const query& q) {
  order o;
  o.id = q.text(1);
  o.customer_id = q.text(2);
  o.customer_email = q.text(3);
  o.status = read_status(q, 4, o.id);
  o.total_cents = q.int64(5);
  o.currency = q.text(6);
  o.created_at = q.int64(7);
  o.updated_at = q.int64(8);
  o.cancel_reason = q.text(9);
  return {q.int64(0), std::move(o)};
}

void attach_lines(query& lines, std::vector<order>& orders, const std::vector<int64_t>& seqs) {
  std::unordered_map<int64_t, size_t> index;
  for (size_t i = 0; i < seqs.size(); ++i)
    index.emplace(seqs[i], i);
  while (lines.step()) {
    auto i = index.find(lines.int64(0));
    if (i != index.end())
      orders[i->second].lines.push_back({lines.text(1), lines.int64(2), lines.int64(3)});
  }
}

void bind_line(query& q, const order_line& line) {
  q.bind(":sku", line.sku).bind(":quantity", line.quantity);
  q.bind(":unit_price", line.unit_price_cents);
}

void bind_line(query& q, const requested_line& line) {
  q.bind(":sku", line.sku).bind(":quantity", line.quantity);
}

void bind_line(query& q, const short_line& line) {
  q.bind(":sku", line.sku).bind(":requested", line.requested);
  q.bind(":available", line.available);
}

customer read_customer(const query& q) {
  customer c;
  c.id = q.text(0);
  c.details.name = q.text(1);
  c.details.email = q.text(2);
  c.details.phone = q.text(3);
  c.details.address = q.text(4);
  c.version = q.int64(5);
  c.created_at = q.int64(6);
  c.updated_at = q.int64(7);
  return c;
}

notification read_notification(const query& q) {
  notification n;
  n.id = q.text(0);
  n.channel = parse_notification_channel(q.text(1)).value_or(notification_channel::email);
  n.recipient = q.text(2);
  n.subject = q.text(3);
  n.body = q.text(4);
  n.status = parse_notification_status(q.text(5)).value_or(notification_status::pending);
  n.attempts = q.int64(6);
  n.last_error = q.text(7);
  n.customer_id = q.text(8);
  n.event_id = q.text(9);
  n.event_type = q.text(10);
  n.created_at = q.int64(11);
  n.updated_at = q.int64(12);
  return n;
}

event_record read_event(const query& q) {
  event_record e;
  e.seq = q.int64(0);
  e.id = q.text(1);
  e.type = q.text(2);
  e.aggregate = q.text(3);
  e.occurred_at = q.int64(4);
  e.correlation_id = q.text(5);
  e.payload = q.text(6);
  return e;
}

idempotency_record read_idempotency(const query& q) {
  return {q.text(0), q.text(1), static_cast<int>(q.int64(2)), q.text(3), q.int64(4)};
}

processed_message read_processed_message(const query& q) {
  return {q.text(0), q.text(1), q.int64(2)};
}

} // namespace orderd::persistence::sqlite
