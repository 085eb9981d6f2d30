-- orderd schema, version 2: the transactional outbox.
--
-- Every event is written in the same transaction as the change it reports (see
-- persistence/store.hpp, append_event); the relay publishes rows in seq order and sets
-- published_at once the broker (or the in-process bus) has confirmed them.

CREATE TABLE outbox (
  -- Publication order, assigned on insert (the rowid: max + 1). The single store writer commits
  -- rows in seq order, so seq order is commit order. Purging never deletes the newest row, so a
  -- seq is never handed out twice; that spares AUTOINCREMENT's sqlite_sequence write in every
  -- transaction. PostgreSQL: BIGINT GENERATED ALWAYS AS IDENTITY.
  seq            INTEGER NOT NULL PRIMARY KEY,
  -- UUID of the event (time-ordered, so inserts land at the right edge of this index); also the
  -- AMQP message_id consumers deduplicate by.
  id             TEXT    NOT NULL UNIQUE,
  type           TEXT    NOT NULL,
  -- Order id or sku: the events of one aggregate are published in the order they committed.
  aggregate      TEXT    NOT NULL,
  occurred_at    BIGINT  NOT NULL,
  correlation_id TEXT    NOT NULL DEFAULT '',
  -- The full JSON envelope, exactly as published.
  envelope       TEXT    NOT NULL,
  -- NULL until the relay's publisher confirmed the event.
  published_at   BIGINT
);

-- The relay reads the oldest unpublished rows; the partial index holds only those, so it stays
-- as small as the backlog however long the table grows.
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

-- No index on published_at: rows are published in seq order, so the rows to purge are the
-- oldest ones, found by walking the primary key from its start (see purge_published).
