// Customers and their carts: rare, human-paced writes, so a look before each write is fine.

#include "persistence/postgres/internal.hpp"

namespace orderd::persistence::postgres {

namespace {

/// The stored version of customer `id` (locked for the transaction), or nullopt.
std::optional<int64_t> customer_version(connection& c, const std::string& id) {
  if (!uuid_shaped(id))
    return std::nullopt;
  auto r = c.run("SELECT version FROM customers WHERE id = $1 FOR UPDATE", {id});
  if (r.rows() == 0)
    return std::nullopt;
  return r.int64(0, 0);
}

/// The id of the customer whose email_key is `key`, if any.
std::optional<std::string> customer_with_email_key(connection& c, const std::string& key) {
  auto r = c.run("SELECT id FROM customers WHERE email_key = $1", {key});
  if (r.rows() == 0)
    return std::nullopt;
  return r.text(0, 0);
}

/// Replaces the rows of a cart's line table with `lines`, numbered from 1.
void replace_lines(connection& c, const std::string& customer_id,
                   const std::vector<requested_line>& lines) {
  std::vector<std::string> skus;
  std::vector<int64_t> quantities;
  for (auto& line : lines) {
    skus.push_back(line.sku);
    quantities.push_back(line.quantity);
  }
  c.run("DELETE FROM cart_lines WHERE customer_id = $1", {customer_id});
  if (!lines.empty())
    c.run("INSERT INTO cart_lines (customer_id, line_no, sku, quantity) "
          "SELECT $1, l.n, l.sku, l.quantity "
          "FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS l(sku, quantity, n)",
          {customer_id, array_literal(skus), array_literal(quantities)});
}

void replace_lines(connection& c, const std::string& customer_id,
                   const std::vector<short_line>& lines) {
  std::vector<std::string> skus;
  std::vector<int64_t> requested;
  std::vector<int64_t> available;
  for (auto& line : lines) {
    skus.push_back(line.sku);
    requested.push_back(line.requested);
    available.push_back(line.available);
  }
  c.run("DELETE FROM cart_short_lines WHERE customer_id = $1", {customer_id});
  if (!lines.empty())
    c.run("INSERT INTO cart_short_lines (customer_id, line_no, sku, requested, available) "
          "SELECT $1, l.n, l.sku, l.requested, l.available "
          "FROM unnest($2::text[], $3::bigint[], $4::bigint[]) WITH ORDINALITY "
          "  AS l(sku, requested, available, n)",
          {customer_id, array_literal(skus), array_literal(requested),
           array_literal(available)});
}

} // namespace

std::optional<customer> postgres_store::find_customer(const std::string& id) {
  if (!uuid_shaped(id))
    return std::nullopt;
  return guarded("find_customer", [&](connection& c) {
    static const auto sql = select(customer_columns, "customers WHERE id = $1");
    return find_one(c, sql, id, read_customer);
  });
}

page<customer> postgres_store::list_customers(const customer_query& cq) {
  keyset_page<customer, std::string> listed{cursor_kind::customer, cq.cursor, cq.limit};
  if (listed.after() && !uuid_shaped(*listed.after()))
    throw store_error(errc::invalid_input, "malformed customer cursor");
  return guarded("list_customers", [&](connection& c) {
    auto limit = num(listed.fetch_limit());
    auto r = listed.after()
               ? c.run(select(customer_columns, "customers WHERE id > $1 ORDER BY id LIMIT $2"),
                       {*listed.after(), limit})
               : c.run(select(customer_columns, "customers ORDER BY id LIMIT $1"), {limit});
    return fill_page(listed, r, read_customer, [](const customer& x) { return x.id; });
  });
}

std::optional<cart> postgres_store::find_cart(const std::string& customer_id) {
  if (!uuid_shaped(customer_id))
    return std::nullopt;
  return guarded("find_cart", [&](connection& c) -> std::optional<cart> {
    // Three reads of rows that one transaction replaces together: one snapshot for all three.
    c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
      auto head = c.run("SELECT status, version, orderd_ms(created_at), orderd_ms(updated_at) "
                        "FROM carts WHERE customer_id = $1",
                        {customer_id});
      std::optional<cart> found;
      if (head.rows() > 0) {
        found.emplace();
        found->customer_id = customer_id;
        found->status = parse_cart_status(head.text(0, 0)).value_or(cart_status::open);
        found->version = head.int64(0, 1);
        found->created_at = head.int64(0, 2);
        found->updated_at = head.int64(0, 3);
        auto lines = c.run("SELECT sku, quantity FROM cart_lines WHERE customer_id = $1 "
                           "ORDER BY line_no",
                           {customer_id});
        for (int row = 0; row < lines.rows(); ++row)
          found->lines.push_back({lines.text(row, 0), lines.int64(row, 1)});
        auto shorts = c.run("SELECT sku, requested, available FROM cart_short_lines "
                            "WHERE customer_id = $1 ORDER BY line_no",
                            {customer_id});
        for (int row = 0; row < shorts.rows(); ++row)
          found->short_lines.push_back(
            {shorts.text(row, 0), shorts.int64(row, 1), shorts.int64(row, 2)});
      }
      c.exec("COMMIT");
      return found;
    } catch (...) {
      if (c.healthy())
        c.exec("ROLLBACK");
      throw;
    }
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

refusal postgres_store::run(const insert_customer& op) {
  auto& c = op.item;
  if (customer_version(tx(), c.id))
    return detail::customer_exists(c.id);
  auto key = email_key(c.details.email);
  if (customer_with_email_key(tx(), key))
    return detail::email_taken(c.details.email);
  tx().run("INSERT INTO customers (id, name, email, email_key, phone, address, version, "
           "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, orderd_ts($8), "
           "orderd_ts($9))",
           {c.id, c.details.name, c.details.email, key, c.details.phone, c.details.address,
            num(c.version), num(c.created_at), num(c.updated_at)});
  return std::nullopt;
}

refusal postgres_store::run(const update_customer& op) {
  auto& c = op.item;
  auto stored = customer_version(tx(), c.id);
  if (!stored)
    return detail::customer_not_found(c.id);
  if (*stored != op.expected_version)
    return detail::customer_changed(c.id, op.expected_version, *stored);
  auto key = email_key(c.details.email);
  if (auto owner = customer_with_email_key(tx(), key); owner && *owner != c.id)
    return detail::email_taken(c.details.email);
  tx().run("UPDATE customers SET name = $2, email = $3, email_key = $4, phone = $5, "
           "address = $6, version = $7, updated_at = orderd_ts($8) WHERE id = $1",
           {c.id, c.details.name, c.details.email, key, c.details.phone, c.details.address,
            num(c.version), num(c.updated_at)});
  return std::nullopt;
}

refusal postgres_store::run(const delete_customer& op) {
  // The cart and its lines go with it (ON DELETE CASCADE).
  if (!uuid_shaped(op.id) || tx().run("DELETE FROM customers WHERE id = $1", {op.id}).affected() == 0)
    return detail::customer_not_found(op.id);
  return std::nullopt;
}

refusal postgres_store::run(const save_cart& op) {
  auto& c = op.item;
  if (!customer_version(tx(), c.customer_id))
    return detail::customer_not_found(c.customer_id);
  auto r = tx().run("SELECT version FROM carts WHERE customer_id = $1 FOR UPDATE",
                    {c.customer_id});
  int64_t stored = r.rows() > 0 ? r.int64(0, 0) : 0;
  if (stored != c.version - 1)
    return detail::cart_changed(c.customer_id, c.version - 1, stored);
  tx().run("INSERT INTO carts (customer_id, status, version, created_at, updated_at) "
           "VALUES ($1, $2, $3, orderd_ts($4), orderd_ts($5)) "
           "ON CONFLICT (customer_id) DO UPDATE SET status = excluded.status, "
           "version = excluded.version, updated_at = excluded.updated_at",
           {c.customer_id, text_of(to_string(c.status)), num(c.version), num(c.created_at),
            num(c.updated_at)});
  replace_lines(tx(), c.customer_id, c.lines);
  replace_lines(tx(), c.customer_id, c.short_lines);
  return std::nullopt;
}

} // namespace orderd::persistence::postgres
