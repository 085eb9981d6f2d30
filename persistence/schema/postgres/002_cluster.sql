-- The cluster (several orderd nodes on one database): membership, shard leases and fencing,
-- all on the database's clock (now()), never a node's. Empty and unused by a single node.

-- How many shards stock, order and cart keys map to: chosen by the first node that creates the
-- cluster, then fixed (a key's shard must never change under running nodes).
CREATE TABLE cluster_settings (
  id          integer     NOT NULL PRIMARY KEY CHECK (id = 1),
  shard_count integer     NOT NULL CHECK (shard_count BETWEEN 1 AND 4096),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per node that ever joined; live members are the ones whose heartbeat is recent.
-- incarnation changes at every start, so a restarted node is told apart from its old self.
CREATE TABLE cluster_members (
  node_id      text        NOT NULL PRIMARY KEY CHECK (node_id <> ''),
  advertise    text        NOT NULL,
  incarnation  uuid        NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  left_at      timestamptz
);

-- One row per shard: its owner until expires_at, and the epoch (fencing token) that grows
-- whenever the shard changes hands. A write for a shard commits only while its lease row says
-- the writer's node and epoch and has not expired (checked, and share-locked, in the write's own
-- transaction), so a paused or partitioned former owner can never commit.
CREATE TABLE shard_leases (
  shard      integer     NOT NULL PRIMARY KEY CHECK (shard >= 0),
  owner      text,
  epoch      bigint      NOT NULL DEFAULT 0 CHECK (epoch >= 0),
  expires_at timestamptz NOT NULL DEFAULT 'epoch'
);

-- Every change of hands, for operators and for the tests' proof that no shard ever had two
-- owners at once: (shard, epoch) is unique, and each row says from when the owner held it.
CREATE TABLE shard_lease_history (
  shard       integer     NOT NULL,
  epoch       bigint      NOT NULL,
  owner       text        NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (shard, epoch)
);
