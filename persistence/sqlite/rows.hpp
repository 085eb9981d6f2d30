#pragma once

// How each table's rows map to the domain's structs, one convention for every table:
// `<x>_columns` (what a query selects, in order) and `read_<x>` (which reads a row of those
// columns); the line tables are written through bind_line. Internal to orderd_persistence.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "persistence/sqlite/connection.hpp"
#include "persistence/store.hpp"

namespace orderd::persistence::sqlite {

/// `SELECT <columns> FROM <from>`, where `from` names the table and may go on (WHERE ...).
std::string select(std::string_view columns, std::string_view from);

constexpr std::string_view product_columns
  = "sku, name, description, category, price_cents, currency, available, reserved, sold, "
    "low_stock_threshold, version, created_at, updated_at";

product read_product(const query& q);

/// The columns read_snapshot reads, for SELECT and RETURNING clauses.
constexpr std::string_view snapshot_columns
  = "available, reserved, sold, version, low_stock_threshold";

/// Reads `available, reserved, sold, version, low_stock_threshold` starting at `column`.
stock_snapshot read_snapshot(const query& q, std::string sku, int column = 0);

/// The columns of an order row; `o` is the orders table.
constexpr std::string_view order_columns
  = "o.seq, o.id, o.customer_id, o.customer_email, o.status, o.total_cents, o.currency, "
    "o.created_at, o.updated_at, o.cancel_reason";

/// Reads an order row (without lines); returns its seq too.
std::pair<int64_t, order> read_order(const query& q);

/// The status in `column` of order `order_id`. Throws store_error(storage_failure) on a status
/// this build does not know.
order_status read_status(const query& q, int column, const std::string& order_id);

/// Attaches lines read as `seq, sku, quantity, unit_price_cents` rows to their orders.
void attach_lines(query& lines, std::vector<order>& orders, const std::vector<int64_t>& seqs);

/// Binds a line's own columns (`:sku` and its figures) for insert_lines (internal.hpp).
void bind_line(query& q, const order_line& line);
void bind_line(query& q, const requested_line& line);
void bind_line(query& q, const short_line& line);

constexpr std::string_view customer_columns
  = "id, name, email, phone, address, version, created_at, updated_at";

customer read_customer(const query& q);

constexpr std::string_view notification_columns
  = "id, channel, recipient, subject, body, status, attempts, last_error, customer_id, "
    "event_id, event_type, created_at, updated_at";

notification read_notification(const query& q);

constexpr std::string_view event_columns
  = "seq, id, type, aggregate, occurred_at, correlation_id, envelope";

event_record read_event(const query& q);

constexpr std::string_view idempotency_columns
  = "key, request_hash, status_code, response_body, created_at";

idempotency_record read_idempotency(const query& q);

constexpr std::string_view processed_message_columns = "message_id, kind, processed_at";

processed_message read_processed_message(const query& q);

constexpr std::string_view payment_charge_columns
  = "order_id, succeeded, reason, amount_cents, currency, charged_at";

payment_charge read_payment_charge(const query& q);

} // namespace orderd::persistence::sqlite
