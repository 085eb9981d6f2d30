-- orderd schema, version 3: inbound messages processed exactly once in effect.
--
-- The RabbitMQ bridge hands each command to an actor with its AMQP message_id; the actor's
-- change set records the id next to the change it makes (see persistence/store.hpp,
-- record_message). A redelivered copy finds its id here and is acknowledged without effect;
-- one that races the first copy fails on the primary key and its change set is refused.

CREATE TABLE processed_messages (
  message_id   TEXT   NOT NULL PRIMARY KEY,
  -- The command, e.g. order.place, inventory.adjust, order.cancel.
  kind         TEXT   NOT NULL,
  processed_at BIGINT NOT NULL
) WITHOUT ROWID;

-- Purging walks records by age (--inbound-dedup-hours).
CREATE INDEX processed_messages_age ON processed_messages (processed_at);
