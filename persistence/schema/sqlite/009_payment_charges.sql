-- orderd schema, version 9: the payment charge of each order, decided once.
--
-- The mock payment service records every outcome here before it answers (see
-- persistence/store.hpp, record_charge). Asked again for the same order, after a restart of
-- the processor or of the node, it answers the recorded outcome: an order is charged at most
-- once.

CREATE TABLE payment_charges (
  order_id     TEXT    NOT NULL PRIMARY KEY,
  succeeded    INTEGER NOT NULL CHECK (succeeded IN (0, 1)),
  reason       TEXT    NOT NULL,
  amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
  currency     TEXT    NOT NULL,
  charged_at   INTEGER NOT NULL
) WITHOUT ROWID;
