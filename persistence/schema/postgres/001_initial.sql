-- orderd's PostgreSQL schema, version 1: the same tables as the SQLite schema after its eighth
-- migration, with PostgreSQL types. Money and quantities are bigint, times timestamptz
-- (millisecond values, converted at the store's edge), generated ids uuid. Every invariant the
-- store's code guards is also a constraint here, so a bug or a second writer cannot break it.
-- Keys that listings order by compare bytewise (COLLATE "C"), as in SQLite, whatever the
-- database's locale: keyset pages then follow the same order on both backends.

-- The store speaks milliseconds since the epoch. A double holds a millisecond time to well
-- under a microsecond, which timestamptz rounds to, so both directions are exact.
CREATE FUNCTION orderd_ts(ms bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE STRICT
  RETURN to_timestamp(ms / 1000.0);
CREATE FUNCTION orderd_ms(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT
  RETURN floor(extract(epoch FROM t) * 1000)::bigint;

CREATE TABLE products (
  sku                 text        COLLATE "C" NOT NULL PRIMARY KEY,
  name                text        NOT NULL,
  description         text        NOT NULL DEFAULT '',
  category            text        COLLATE "C" NOT NULL DEFAULT '',
  price_cents         bigint      NOT NULL CHECK (price_cents >= 0),
  currency            text        NOT NULL,
  available           bigint      NOT NULL CHECK (available >= 0),
  reserved            bigint      NOT NULL CHECK (reserved >= 0),
  sold                bigint      NOT NULL CHECK (sold >= 0),
  low_stock_threshold bigint      NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0),
  version             bigint      NOT NULL DEFAULT 0,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL
);
CREATE INDEX products_category_sku ON products (category, sku);

-- seq orders the listings (keyset pages) and is what a cursor names; id is the API's id.
CREATE TABLE orders (
  seq            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id             uuid        NOT NULL UNIQUE,
  customer_id    text        NOT NULL,
  customer_email text        NOT NULL DEFAULT '',
  status         text        NOT NULL CHECK (status IN ('PENDING', 'PROCESSING', 'CONFIRMED',
                                                        'SHIPPED', 'DELIVERED', 'CANCELLED')),
  total_cents    bigint      NOT NULL CHECK (total_cents >= 0),
  currency       text        NOT NULL,
  cancel_reason  text        NOT NULL DEFAULT '',
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);
CREATE INDEX orders_status_seq ON orders (status, seq);
CREATE INDEX orders_customer_seq ON orders (customer_id, seq);
CREATE INDEX orders_status_created ON orders (status, created_at);

-- The order state machine (domain/order_status.cpp), enforced for every writer: a status moves
-- only along PENDING → PROCESSING → CONFIRMED → SHIPPED → DELIVERED, or to CANCELLED from
-- PENDING or PROCESSING; a new order starts PENDING.
CREATE FUNCTION orders_guard_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'PENDING' THEN
      RAISE EXCEPTION 'a new order must be PENDING, not %', NEW.status
        USING ERRCODE = 'check_violation';
    END IF;
  ELSIF NEW.status IS DISTINCT FROM OLD.status AND NOT (
      (OLD.status = 'PENDING' AND NEW.status IN ('PROCESSING', 'CANCELLED')) OR
      (OLD.status = 'PROCESSING' AND NEW.status IN ('CONFIRMED', 'CANCELLED')) OR
      (OLD.status = 'CONFIRMED' AND NEW.status = 'SHIPPED') OR
      (OLD.status = 'SHIPPED' AND NEW.status = 'DELIVERED')) THEN
    RAISE EXCEPTION 'order % cannot move from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER orders_guard_status BEFORE INSERT OR UPDATE OF status ON orders
  FOR EACH ROW EXECUTE FUNCTION orders_guard_status();

CREATE TABLE order_lines (
  order_id         uuid   NOT NULL REFERENCES orders (id),
  line_no          bigint NOT NULL,
  sku              text   NOT NULL,
  quantity         bigint NOT NULL CHECK (quantity > 0),
  unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, line_no)
);

CREATE TABLE idempotency_keys (
  key           text        NOT NULL PRIMARY KEY,
  request_hash  text        NOT NULL,
  status_code   integer     NOT NULL,
  response_body text        NOT NULL,
  created_at    timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- The transactional outbox: seq is the publication order; the relay's progress is the one
-- row of outbox_cursor (everything up to published_through is published).
CREATE TABLE outbox (
  seq            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id             uuid        NOT NULL UNIQUE,
  type           text        NOT NULL,
  aggregate      text        NOT NULL,
  occurred_at    timestamptz NOT NULL,
  correlation_id text        NOT NULL DEFAULT '',
  envelope       text        NOT NULL
);

CREATE TABLE outbox_cursor (
  id                integer     NOT NULL PRIMARY KEY CHECK (id = 1),
  published_through bigint      NOT NULL CHECK (published_through >= 0),
  published_at      timestamptz NOT NULL
);
INSERT INTO outbox_cursor (id, published_through, published_at) VALUES (1, 0, 'epoch');

CREATE TABLE processed_messages (
  message_id   text        NOT NULL PRIMARY KEY,
  kind         text        NOT NULL,
  processed_at timestamptz NOT NULL
);
CREATE INDEX processed_messages_age ON processed_messages (processed_at);

CREATE TABLE customers (
  id         uuid        NOT NULL PRIMARY KEY,
  name       text        NOT NULL,
  email      text        NOT NULL,
  email_key  text        NOT NULL UNIQUE,
  phone      text        NOT NULL DEFAULT '',
  address    text        NOT NULL DEFAULT '',
  version    bigint      NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE carts (
  customer_id uuid        NOT NULL PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
  status      text        NOT NULL CHECK (status IN ('open', 'stock_unavailable')),
  version     bigint      NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);

CREATE TABLE cart_lines (
  customer_id uuid   NOT NULL REFERENCES carts (customer_id) ON DELETE CASCADE,
  line_no     bigint NOT NULL,
  sku         text   NOT NULL,
  quantity    bigint NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (customer_id, line_no)
);

CREATE TABLE cart_short_lines (
  customer_id uuid   NOT NULL REFERENCES carts (customer_id) ON DELETE CASCADE,
  line_no     bigint NOT NULL,
  sku         text   NOT NULL,
  requested   bigint NOT NULL,
  available   bigint NOT NULL,
  PRIMARY KEY (customer_id, line_no)
);

CREATE TABLE notifications (
  id          uuid        NOT NULL PRIMARY KEY,
  channel     text        NOT NULL CHECK (channel IN ('email', 'webhook', 'push')),
  recipient   text        NOT NULL,
  subject     text        NOT NULL,
  body        text        NOT NULL,
  status      text        NOT NULL CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
  attempts    bigint      NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error  text        NOT NULL DEFAULT '',
  customer_id text        NOT NULL DEFAULT '',
  event_id    text        NOT NULL DEFAULT '',
  event_type  text        NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
CREATE INDEX notifications_pending ON notifications (channel, created_at, id)
  WHERE status = 'PENDING';
CREATE INDEX notifications_customer ON notifications (customer_id, id);
