-- orderd schema, version 7: the outbox remembers how far it is published, not which rows are.
--
-- The relay publishes rows in seq order and marks the confirmed prefix, so one number says
-- everything: the rows up to published_through are published, the rest are not. Before this,
-- marking rewrote every published row (published_at) and removed it from a partial index: per
-- order, three more row writes than the order itself made, in the store writer's transaction.

CREATE TABLE outbox_cursor (
  id                INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  -- Every row with seq <= published_through is published. Never moves back, and never past
  -- the newest row (so a row appended later can never count as published).
  published_through INTEGER NOT NULL,
  -- When the cursor last moved (ms since the epoch).
  published_at      BIGINT  NOT NULL
);

-- The cursor starts after the published prefix: the relay always marked a prefix, so anything
-- published past the first unpublished row (there should be none) is simply published again
-- (consumers deduplicate by event id).
INSERT INTO outbox_cursor (id, published_through, published_at)
SELECT 1,
       coalesce((SELECT min(seq) FROM outbox WHERE published_at IS NULL) - 1,
                (SELECT max(seq) FROM outbox), 0),
       coalesce((SELECT max(published_at) FROM outbox), 0);

DROP INDEX outbox_unpublished;
ALTER TABLE outbox DROP COLUMN published_at;
