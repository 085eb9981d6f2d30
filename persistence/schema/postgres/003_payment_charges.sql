-- The payment charge of each order, decided once for the whole cluster: the mock payment
-- service records every outcome here before it answers, and a node that took an order's shard
-- over (or restarted) finds the outcome instead of charging again.
CREATE TABLE payment_charges (
  order_id     uuid        NOT NULL PRIMARY KEY,
  succeeded    boolean     NOT NULL,
  reason       text        NOT NULL,
  amount_cents bigint      NOT NULL CHECK (amount_cents >= 0),
  currency     text        NOT NULL,
  charged_at   timestamptz NOT NULL
);
