// Customers and their carts: rare, human-paced writes, so a look before each write is fine.

#include "persistence/sqlite/internal.hpp"

namespace orderd::persistence::sqlite {

namespace {

/// Binds what inserting and updating a customer both write: every column but created_at.
query& bind_customer(query& q, const customer& c, const std::string& email_key) {
  q.bind(":id", c.id).bind(":name", c.details.name).bind(":email", c.details.email);
  q.bind(":key", email_key).bind(":phone", c.details.phone);
  q.bind(":address", c.details.address).bind(":version", c.version);
  return q.bind(":updated_at", c.updated_at);
}

bool customer_stored(connection& c, const std::string& id) {
  auto q = c.prepare("SELECT 1 FROM customers WHERE id = :id");
  q.bind(":id", id);
  return q.step();
}

/// The id of the customer whose email_key is `key`, if any.
std::optional<std::string> customer_with_email_key(connection& c, const std::string& key) {
  auto q = c.prepare("SELECT id FROM customers WHERE email_key = :key");
  q.bind(":key", key);
  if (q.step())
    return q.text(0);
  return std::nullopt;
}

} // namespace

std::optional<customer> sqlite_store::find_customer(const std::string& id) {
  return translate_errors("find_customer", [&] {
    return find_one(*c_, select(customer_columns, "customers WHERE id = :key"), id,
                    read_customer);
  });
}

page<customer> sqlite_store::list_customers(const customer_query& cq) {
  keyset_page<customer, std::string> result{cursor_kind::customer, cq.cursor, cq.limit};
  return translate_errors("list_customers", [&] {
    std::string from = result.after() ? "customers WHERE id > :after " : "customers ";
    auto q = c_->prepare(select(customer_columns, from + "ORDER BY id LIMIT :limit"));
    return read_page(result, q, read_customer, &customer::id);
  });
}

std::optional<cart> sqlite_store::find_cart(const std::string& customer_id) {
  return translate_errors("find_cart", [&]() -> std::optional<cart> {
    read_transaction snapshot{*c_};
    cart result;
    {
      auto q = c_->prepare("SELECT status, version, created_at, updated_at FROM carts "
                           "WHERE customer_id = :id");
      q.bind(":id", customer_id);
      if (!q.step())
        return std::nullopt;
      result.customer_id = customer_id;
      result.status = parse_cart_status(q.text(0)).value_or(cart_status::open);
      result.version = q.int64(1);
      result.created_at = q.int64(2);
      result.updated_at = q.int64(3);
    }
    {
      auto q = c_->prepare("SELECT sku, quantity FROM cart_lines WHERE customer_id = :id "
                           "ORDER BY line_no");
      q.bind(":id", customer_id);
      while (q.step())
        result.lines.push_back({q.text(0), q.int64(1)});
    }
    auto q = c_->prepare("SELECT sku, requested, available FROM cart_short_lines "
                         "WHERE customer_id = :id ORDER BY line_no");
    q.bind(":id", customer_id);
    while (q.step())
      result.short_lines.push_back({q.text(0), q.int64(1), q.int64(2)});
    return result;
  });
}

// -- change-set primitives (see persistence/detail/change_set_apply.hpp)

refusal sqlite_store::run(const insert_customer& op) {
  auto& c = op.item;
  if (customer_stored(*c_, c.id))
    return detail::customer_exists(c.id);
  auto key = email_key(c.details.email);
  if (customer_with_email_key(*c_, key))
    return detail::email_taken(c.details.email);
  auto q = c_->prepare(
    "INSERT INTO customers (id, name, email, email_key, phone, address, version, created_at, "
    "updated_at) VALUES (:id, :name, :email, :key, :phone, :address, :version, :created_at, "
    ":updated_at)");
  bind_customer(q, c, key).bind(":created_at", c.created_at).run();
  return std::nullopt;
}

refusal sqlite_store::run(const update_customer& op) {
  auto& c = op.item;
  {
    auto q = c_->prepare("SELECT version FROM customers WHERE id = :id");
    q.bind(":id", c.id);
    if (!q.step())
      return detail::customer_not_found(c.id);
    if (q.int64(0) != op.expected_version)
      return detail::customer_changed(c.id, op.expected_version, q.int64(0));
  }
  auto key = email_key(c.details.email);
  if (auto owner = customer_with_email_key(*c_, key); owner && *owner != c.id)
    return detail::email_taken(c.details.email);
  auto q = c_->prepare("UPDATE customers SET name = :name, email = :email, email_key = :key, "
                       "phone = :phone, address = :address, version = :version, "
                       "updated_at = :updated_at WHERE id = :id");
  bind_customer(q, c, key).run();
  return std::nullopt;
}

refusal sqlite_store::run(const delete_customer& op) {
  // The cart and its lines go with it (ON DELETE CASCADE).
  auto q = c_->prepare("DELETE FROM customers WHERE id = :id RETURNING 1");
  q.bind(":id", op.id);
  if (!q.step())
    return detail::customer_not_found(op.id);
  q.run();
  return std::nullopt;
}

refusal sqlite_store::run(const save_cart& op) {
  auto& c = op.item;
  if (!customer_stored(*c_, c.customer_id))
    return detail::customer_not_found(c.customer_id);
  {
    auto q = c_->prepare("SELECT version FROM carts WHERE customer_id = :id");
    q.bind(":id", c.customer_id);
    int64_t stored = q.step() ? q.int64(0) : 0;
    if (stored != c.version - 1)
      return detail::cart_changed(c.customer_id, c.version - 1, stored);
  }
  c_->prepare("INSERT INTO carts (customer_id, status, version, created_at, updated_at) "
              "VALUES (:id, :status, :version, :created_at, :updated_at) "
              "ON CONFLICT (customer_id) DO UPDATE SET status = excluded.status, "
              "version = excluded.version, updated_at = excluded.updated_at")
    .bind(":id", c.customer_id)
    .bind(":status", to_string(c.status))
    .bind(":version", c.version)
    .bind(":created_at", c.created_at)
    .bind(":updated_at", c.updated_at)
    .run();
  c_->prepare("DELETE FROM cart_lines WHERE customer_id = :id").bind(":id", c.customer_id).run();
  c_->prepare("DELETE FROM cart_short_lines WHERE customer_id = :id")
    .bind(":id", c.customer_id)
    .run();
  insert_lines(*c_,
               "INSERT INTO cart_lines (customer_id, line_no, sku, quantity) "
               "VALUES (:owner, :line_no, :sku, :quantity)",
               c.customer_id, c.lines);
  insert_lines(*c_,
               "INSERT INTO cart_short_lines (customer_id, line_no, sku, requested, available) "
               "VALUES (:owner, :line_no, :sku, :requested, :available)",
               c.customer_id, c.short_lines);
  return std::nullopt;
}

} // namespace orderd::persistence::sqlite
