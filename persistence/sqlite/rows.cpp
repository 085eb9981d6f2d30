#include "persistence/sqlite/rows.hpp"

#include <unordered_map>

namespace orderd::persistence::sqlite {

namespace {

/// Reads `available, reserved, sold, version` starting at `column`.
stock_level read_stock(const query& q, std::string sku, int column) {
  return {std::move(sku), q.int64(column), q.int64(column + 1), q.int64(column + 2),
          q.int64(column + 3)};
}

void read_column(const query& q, int column, std::string& out) {
  out = q.text(column);
}

void read_column(const query& q, int column, int64_t& out) {
  out = q.int64(column);
}

/// Reads the row's columns, from the first, into `fields` in their order (by their type).
template <class... Fields>
void read_columns(const query& q, Fields&... fields) {
  int column = 0;
  (read_column(q, column++, fields), ...);
}

order_status status_of(const std::string& order_id, const std::string& text) {
  if (auto status = parse_order_status(text))
    return *status;
  throw store_error(errc::storage_failure,
                    "order " + order_id + " has an unknown status '" + text + "'");
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
  read_columns(q, p.sku, p.name, p.description, p.category, p.price_cents, p.currency,
               p.available, p.reserved, p.sold, p.low_stock_threshold, p.version, p.created_at,
               p.updated_at);
  return p;
}

stock_snapshot read_snapshot(const query& q, std::string sku, int column) {
  return {read_stock(q, std::move(sku), column), q.int64(column + 4)};
}

order_status read_status(const query& q, int column, const std::string& order_id) {
  return status_of(order_id, q.text(column));
}

std::pair<int64_t, order> read_order(const query& q) {
  int64_t seq = 0;
  order o;
  std::string status;
  read_columns(q, seq, o.id, o.customer_id, o.customer_email, status, o.total_cents,
               o.currency, o.created_at, o.updated_at, o.cancel_reason);
  o.status = status_of(o.id, status);
  return {seq, std::move(o)};
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
  read_columns(q, c.id, c.details.name, c.details.email, c.details.phone, c.details.address,
               c.version, c.created_at, c.updated_at);
  return c;
}

notification read_notification(const query& q) {
  notification n;
  std::string channel;
  std::string status;
  read_columns(q, n.id, channel, n.recipient, n.subject, n.body, status, n.attempts,
               n.last_error, n.customer_id, n.event_id, n.event_type, n.created_at,
               n.updated_at);
  n.channel = parse_notification_channel(channel).value_or(notification_channel::email);
  n.status = parse_notification_status(status).value_or(notification_status::pending);
  return n;
}

event_record read_event(const query& q) {
  event_record e;
  read_columns(q, e.seq, e.id, e.type, e.aggregate, e.occurred_at, e.correlation_id, e.payload);
  return e;
}

idempotency_record read_idempotency(const query& q) {
  return {q.text(0), q.text(1), static_cast<int>(q.int64(2)), q.text(3), q.int64(4)};
}

processed_message read_processed_message(const query& q) {
  return {q.text(0), q.text(1), q.int64(2)};
}

payment_charge read_payment_charge(const query& q) {
  return {q.text(0), q.int64(1) != 0, q.text(2), q.int64(3), q.text(4), q.int64(5)};
}

} // namespace orderd::persistence::sqlite
