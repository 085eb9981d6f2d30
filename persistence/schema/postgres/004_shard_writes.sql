-- The proof that no shard ever had two owners whose writes both committed. One sequence orders
-- the changes of hands and the audited writes: a takeover's history row draws its number after
-- its row lock waited for every write fenced under the old lease, and a write draws its number
-- while it holds the lease row locked. So for a shard, every write of epoch e numbers after the
-- history row of e and before the history row of e+1, or the fencing failed.
CREATE SEQUENCE shard_write_seq;
ALTER TABLE shard_lease_history
  ADD COLUMN write_seq bigint NOT NULL DEFAULT nextval('shard_write_seq');
-- The newest changes of hands first (/ready and the dashboard show who took over what).
CREATE INDEX shard_lease_history_newest ON shard_lease_history (write_seq DESC);

-- Written only by nodes started with --cluster-audit-writes (drills and tests: one row per
-- shard a change set is fenced on), pruned after a day.
CREATE TABLE shard_writes (
  write_seq    bigint      NOT NULL PRIMARY KEY DEFAULT nextval('shard_write_seq'),
  shard        integer     NOT NULL,
  epoch        bigint      NOT NULL,
  node         text        NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shard_writes_by_time ON shard_writes (committed_at);

-- What a drill's checker asks: the audited writes that fall outside their epoch's turn. Empty
-- while fencing holds.
CREATE VIEW shard_writes_out_of_turn AS
SELECT w.write_seq, w.shard, w.epoch, w.node, h.owner AS epoch_owner, h.write_seq AS acquired_seq,
       (SELECT min(n.write_seq) FROM shard_lease_history n
         WHERE n.shard = w.shard AND n.epoch > w.epoch) AS next_acquired_seq
FROM shard_writes w
LEFT JOIN shard_lease_history h ON h.shard = w.shard AND h.epoch = w.epoch
WHERE h.shard IS NULL OR h.owner <> w.node OR w.write_seq < h.write_seq
   OR w.write_seq > (SELECT min(n.write_seq) FROM shard_lease_history n
                      WHERE n.shard = w.shard AND n.epoch > w.epoch);
