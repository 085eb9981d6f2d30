-- orderd schema, version 1.
--
-- Kept close to portable SQL so persistence/schema/postgres/ can mirror it line by line:
-- integers are BIGINT, text is TEXT, timestamps are BIGINT milliseconds since the Unix epoch
-- (UTC). The migration runner wraps this file in a transaction and records it in
-- schema_migrations; the file itself must not BEGIN or COMMIT.

CREATE TABLE products (
  sku                 TEXT   NOT NULL PRIMARY KEY,
  name                TEXT   NOT NULL,
  description         TEXT   NOT NULL DEFAULT '',
  category            TEXT   NOT NULL DEFAULT '',
  price_cents         BIGINT NOT NULL,
  currency            TEXT   NOT NULL,
  -- The stock guards in the store keep these non-negative; the CHECKs are the backstop.
  available           BIGINT NOT NULL CHECK (available >= 0),
  reserved            BIGINT NOT NULL CHECK (reserved >= 0),
  sold                BIGINT NOT NULL CHECK (sold >= 0),
  low_stock_threshold BIGINT NOT NULL DEFAULT 0,
  -- Bumped by every stock change, so a newer snapshot can always be told from an older one.
  version             BIGINT NOT NULL DEFAULT 0,
  created_at          BIGINT NOT NULL,
  updated_at          BIGINT NOT NULL
);

-- Category listings page through (category, sku).
CREATE INDEX products_category_sku ON products (category, sku);

CREATE TABLE orders (
  -- Insertion sequence for keyset pagination ("newest first"). In SQLite it must be spelled
  -- INTEGER PRIMARY KEY to alias the rowid (BIGINT would not); PostgreSQL uses
  -- BIGINT GENERATED ALWAYS AS IDENTITY. Orders are never deleted, so it only grows.
  seq            INTEGER NOT NULL PRIMARY KEY,
  id             TEXT    NOT NULL UNIQUE,
  customer_id    TEXT    NOT NULL,
  customer_email TEXT    NOT NULL DEFAULT '',
  status         TEXT    NOT NULL CHECK (status IN ('PENDING', 'PROCESSING', 'CONFIRMED',
                                                    'SHIPPED', 'DELIVERED', 'CANCELLED')),
  total_cents    BIGINT  NOT NULL,
  currency       TEXT    NOT NULL,
  created_at     BIGINT  NOT NULL,
  updated_at     BIGINT  NOT NULL
);

CREATE INDEX orders_status_seq ON orders (status, seq);
CREATE INDEX orders_customer_seq ON orders (customer_id, seq);
-- The processor looks for PENDING orders older than the grace period.
CREATE INDEX orders_status_created ON orders (status, created_at);

CREATE TABLE order_lines (
  order_id         TEXT   NOT NULL REFERENCES orders (id),
  line_no          BIGINT NOT NULL,
  -- No foreign key to products: an order keeps its lines after a product is deleted.
  sku              TEXT   NOT NULL,
  quantity         BIGINT NOT NULL,
  unit_price_cents BIGINT NOT NULL,
  PRIMARY KEY (order_id, line_no)
);

CREATE TABLE idempotency_keys (
  key           TEXT   NOT NULL PRIMARY KEY,
  request_hash  TEXT   NOT NULL,
  status_code   BIGINT NOT NULL,
  response_body TEXT   NOT NULL,
  created_at    BIGINT NOT NULL
);

-- Purging expired keys scans by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
