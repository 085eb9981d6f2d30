// How each table's rows map to the domain's structs (the column lists are in internal.hpp).

#include "persistence/postgres/internal.hpp"

namespace orderd::persistence::postgres {

namespace {

void read_column(const result& r, int row, int col, std::string& out) {
  out = r.text(row, col);
}

void read_column(const result& r, int row, int col, int64_t& out) {
  out = r.int64(row, col);
}

/// Reads the row's columns, from the first, into `fields` in their order (by their type).
template <class... Fields>
void read_columns(const result& r, int row, Fields&... fields) {
  int col = 0;
  (read_column(r, row, col++, fields), ...);
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

product read_product(const result& r, int row) {
  product p;
  read_columns(r, row, p.sku, p.name, p.description, p.category, p.price_cents, p.currency,
               p.available, p.reserved, p.sold, p.low_stock_threshold, p.version, p.created_at,
               p.updated_at);
  return p;
}

stock_snapshot read_snapshot(const result& r, int row, std::string sku) {
  return {{std::move(sku), r.int64(row, 0), r.int64(row, 1), r.int64(row, 2), r.int64(row, 3)},
          r.int64(row, 4)};
}

std::pair<int64_t, order> read_order(const result& r, int row) {
  int64_t seq = 0;
  order o;
  std::string status;
  read_columns(r, row, seq, o.id, o.customer_id, o.customer_email, status, o.total_cents,
               o.currency, o.created_at, o.updated_at, o.cancel_reason);
  o.status = status_of(o.id, status);
  return {seq, std::move(o)};
}

order_status read_status(const result& r, int row, int col, const std::string& order_id) {
  return status_of(order_id, r.text(row, col));
}

customer read_customer(const result& r, int row) {
  customer c;
  read_columns(r, row, c.id, c.details.name, c.details.email, c.details.phone,
               c.details.address, c.version, c.created_at, c.updated_at);
  return c;
}

notification read_notification(const result& r, int row) {
  notification n;
  std::string channel;
  std::string status;
  read_columns(r, row, n.id, channel, n.recipient, n.subject, n.body, status, n.attempts,
               n.last_error, n.customer_id, n.event_id, n.event_type, n.created_at,
               n.updated_at);
  n.channel = parse_notification_channel(channel).value_or(notification_channel::email);
  n.status = parse_notification_status(status).value_or(notification_status::pending);
  return n;
}

event_record read_event(const result& r, int row) {
  event_record e;
  read_columns(r, row, e.seq, e.id, e.type, e.aggregate, e.occurred_at, e.correlation_id,
               e.payload);
  return e;
}

idempotency_record read_idempotency(const result& r, int row) {
  return {r.text(row, 0), r.text(row, 1), static_cast<int>(r.int64(row, 2)), r.text(row, 3),
          r.int64(row, 4)};
}

processed_message read_processed_message(const result& r, int row) {
  return {r.text(row, 0), r.text(row, 1), r.int64(row, 2)};
}

payment_charge read_payment_charge(const result& r, int row) {
  return {r.text(row, 0), r.text(row, 1) == "t", r.text(row, 2), r.int64(row, 3),
          r.text(row, 4), r.int64(row, 5)};
}

} // namespace orderd::persistence::postgres
