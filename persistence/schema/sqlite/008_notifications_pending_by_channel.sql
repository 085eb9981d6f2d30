-- orderd schema, version 8: PENDING notifications are read per channel.
--
-- Each channel reads back its own oldest PENDING records (at start, and when its queue ran
-- empty after turning records away). With the index on (created_at, id) alone, the push channel
-- walked every PENDING e-mail to find none of its own: 2.7 s on a million orders' backlog, on the
-- store readers that /ready needs too. With the channel first, each read starts at its own rows.

DROP INDEX notifications_pending;
CREATE INDEX notifications_pending ON notifications (channel, created_at, id)
  WHERE status = 'PENDING';
