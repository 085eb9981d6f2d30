-- orderd schema, version 6: notification records (email, webhook, push).
--
-- A row is written PENDING before the first delivery attempt, so a notification survives a crash
-- and a restarted notifier resumes the PENDING ones. FAILED rows are the dead-letter list.

CREATE TABLE notifications (
  id          TEXT   NOT NULL PRIMARY KEY,
  channel     TEXT   NOT NULL CHECK (channel IN ('email', 'webhook', 'push')),
  recipient   TEXT   NOT NULL,
  subject     TEXT   NOT NULL,
  body        TEXT   NOT NULL,
  status      TEXT   NOT NULL CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
  attempts    BIGINT NOT NULL DEFAULT 0,
  last_error  TEXT   NOT NULL DEFAULT '',
  -- The customer it concerns ('' if none): push notifications are listed per customer.
  customer_id TEXT   NOT NULL DEFAULT '',
  -- The event that caused it ('' for an ad-hoc notification).
  event_id    TEXT   NOT NULL DEFAULT '',
  event_type  TEXT   NOT NULL DEFAULT '',
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);

CREATE INDEX notifications_pending ON notifications (created_at, id) WHERE status = 'PENDING';
CREATE INDEX notifications_customer ON notifications (customer_id, id);
