-- orderd schema, version 4: customers and their carts.
--
-- A customer's id is what orders carry in orders.customer_id (no foreign key there: orders
-- placed with a free-form customer_id predate customers, and an order outlives its customer).

CREATE TABLE customers (
  id         TEXT   NOT NULL PRIMARY KEY,
  name       TEXT   NOT NULL,
  email      TEXT   NOT NULL,
  -- The e-mail with ASCII letters lower-cased (domain email_key): unique among customers.
  email_key  TEXT   NOT NULL UNIQUE,
  phone      TEXT   NOT NULL DEFAULT '',
  address    TEXT   NOT NULL DEFAULT '',
  version    BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- One cart per customer; deleting the customer deletes the cart (and its lines).
CREATE TABLE carts (
  customer_id TEXT   NOT NULL PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
  status      TEXT   NOT NULL CHECK (status IN ('open', 'stock_unavailable')),
  version     BIGINT NOT NULL,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);

CREATE TABLE cart_lines (
  customer_id TEXT   NOT NULL REFERENCES carts (customer_id) ON DELETE CASCADE,
  line_no     BIGINT NOT NULL,
  -- No foreign key to products: a deleted product shows as an unpriced line until removed.
  sku         TEXT   NOT NULL,
  quantity    BIGINT NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (customer_id, line_no)
);

-- The lines the last checkout found short (while the cart is 'stock_unavailable').
CREATE TABLE cart_short_lines (
  customer_id TEXT   NOT NULL REFERENCES carts (customer_id) ON DELETE CASCADE,
  line_no     BIGINT NOT NULL,
  sku         TEXT   NOT NULL,
  requested   BIGINT NOT NULL,
  available   BIGINT NOT NULL,
  PRIMARY KEY (customer_id, line_no)
);
