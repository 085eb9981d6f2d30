"""Cluster membership on the PostgreSQL store, the cluster's first step: nodes started with
--cluster-advertise register in the database they share and list each other in /ready, judged
by the database's clock; the first node fixes the shard count; a node that stops gracefully
leaves at once, one killed with -9 drops out once its heartbeat is older than the live window.

Runs under tests/postgres/with_postgres.sh with ORDERD_TEST_STORE=postgres (ctest's
integration_postgres).
"""

import os
import socket
import time

from harness import OrderdTestCase, database_for, poll_until, run_orderd_once

LIVE_WINDOW_S = 5  # app/cluster_membership.hpp
LEASE_TTL_S = 6    # app/cluster_membership.hpp


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ClusterMembershipTest(OrderdTestCase):
    def setUp(self):
        super().setUp()
        if os.environ.get("ORDERD_TEST_STORE") != "postgres":
            self.fail("run under tests/postgres/with_postgres.sh with ORDERD_TEST_STORE=postgres "
                      "(ctest -R integration_postgres)")
        self.database = database_for(os.path.join(self.tmp, "cluster"))

    def node(self, name, *extra):
        data = os.path.join(self.tmp, name)
        os.makedirs(data)
        return self.start_server("--store", "postgres", "--database-url", self.database,
                                 "--node-id", name,
                                 "--cluster-advertise", f"127.0.0.1:{free_port()}",
                                 *extra, data_dir=data)

    def cluster(self, server):
        ready = self.assert_json(server.get("/ready"), 200)
        return ready["checks"]["cluster"]

    def names(self, server):
        return [m["node_id"] for m in self.cluster(server)["members"]]

    def test_nodes_see_each_other_and_leave(self):
        a = self.node("node-a", "--cluster-shards", "16")
        b = self.node("node-b", "--cluster-shards", "64")
        c = self.node("node-c")
        poll_until(lambda: self.names(a) == ["node-a", "node-b", "node-c"], 15,
                   message="node-a listing all three members")
        view = self.cluster(a)
        self.assertTrue(view["ok"], view)
        self.assertEqual(view["node_id"], "node-a")
        self.assertEqual(view["shards"], 16, "the first node fixed the shard count")
        self.assertEqual(self.cluster(b)["shards"], 16, "a later node adopts it")
        for m in view["members"]:
            self.assertRegex(m["advertise"], r"^127\.0\.0\.1:\d+$")
            self.assertGreaterEqual(m["heartbeat_age_ms"], 0)
            self.assertLess(m["heartbeat_age_ms"], LIVE_WINDOW_S * 1000)
        poll_until(lambda: self.names(c) == ["node-a", "node-b", "node-c"], 15,
                   message="node-c listing all three members")
        metrics = poll_until(lambda: (lambda t: t if "orderd_cluster_members 3" in t else None)(
            a.get("/metrics").text), 5, message="orderd_cluster_members 3 on node-a")
        self.assertRegex(metrics, r'orderd_cluster_heartbeats_total\{outcome="ok"\} [1-9]')
        self.assertRegex(metrics, r"orderd_cluster_heartbeat_seconds_count [1-9]")

        # SIGTERM: the node records that it left; the others stop listing it at once.
        self.assertEqual(c.stop(), 0)
        poll_until(lambda: self.names(a) == ["node-a", "node-b"], LIVE_WINDOW_S - 1,
                   message="node-c gone before its heartbeat could age out")

        # kill -9: no goodbye; it drops out when its last heartbeat is older than the window.
        b.kill()
        poll_until(lambda: self.names(a) == ["node-a"], LIVE_WINDOW_S + 10,
                   message="node-b dropping out after the live window")

    def served(self, server):
        return {s["shard"]: s["epoch"] for s in self.cluster(server)["served"]}

    def coverage(self, servers, shards):
        """Each shard's servers, when every shard has exactly one; else None."""
        owners = {}
        for name, server in servers.items():
            for shard in self.served(server):
                if shard in owners:
                    return None
                owners[shard] = name
        return owners if len(owners) == shards else None

    def test_every_shard_has_one_owner_and_moves_when_a_node_goes(self):
        a = self.node("node-a", "--cluster-shards", "16")
        b = self.node("node-b")
        c = self.node("node-c")
        nodes = {"node-a": a, "node-b": b, "node-c": c}
        owners = poll_until(
            lambda: (lambda o: o if o and len(set(o.values())) == 3 else None)(
                self.coverage(nodes, 16)),
            15, message="16 shards spread over three nodes, one owner each")
        # node-a's next beat reads every lease back: its member list counts them.
        expected = {name: list(owners.values()).count(name) for name in nodes}
        poll_until(lambda: {m["node_id"]: m["shards_owned"]
                            for m in self.cluster(a)["members"]} == expected, 3,
                   message=f"node-a counting the shards of each member as {expected}")

        # SIGTERM: node-c releases its shards; the others take them at their next beat, long
        # before a lease could expire.
        c_shards = {s for s, n in owners.items() if n == "node-c"}
        started = time.monotonic()
        self.assertEqual(c.stop(), 0)
        del nodes["node-c"]
        owners = poll_until(lambda: self.coverage(nodes, 16), LEASE_TTL_S - 1,
                            message="node-c's shards handed to node-a and node-b")
        handoff_s = time.monotonic() - started
        self.assertEqual({s for s, n in owners.items() if n == "node-c"}, set())
        metrics = a.get("/metrics").text + b.get("/metrics").text
        self.assertRegex(metrics, r'orderd_cluster_shard_changes_total\{change="acquired"\} [1-9]')
        self.assertRegex(metrics, r"orderd_cluster_lease_renewal_seconds_count [1-9]")
        print(f"hand-off of {len(c_shards)} shards after SIGTERM: {handoff_s:.2f} s")

        # kill -9: node-b's leases expire on the database's clock and node-a takes them over,
        # each with a new epoch, within the lease plus two seconds.
        epochs_before = self.served(b)
        started = time.monotonic()
        b.kill()
        del nodes["node-b"]
        poll_until(lambda: self.coverage(nodes, 16), LEASE_TTL_S + 2,
                   message="node-b's shards taken over by node-a")
        takeover_s = time.monotonic() - started
        after = self.served(a)
        for shard, epoch in epochs_before.items():
            self.assertGreater(after[shard], epoch, f"shard {shard}: a takeover raises the epoch")
        self.assertRegex(a.get("/metrics").text,
                         r'orderd_cluster_shard_changes_total\{change="taken_over"\} [1-9]')
        print(f"takeover of {len(epochs_before)} shards after kill -9: {takeover_s:.2f} s")

    def test_a_cluster_needs_the_postgres_store(self):
        code, output = run_orderd_once(["--cluster-advertise", "127.0.0.1:7001"])
        self.assertNotEqual(code, 0)
        self.assertIn("--cluster-advertise needs --store postgres", output)
        for args, message in [
            (["--cluster-advertise", "127.0.0.1"], "--cluster-advertise must be HOST:PORT"),
            (["--cluster-advertise", "host:70000"], "--cluster-advertise must be HOST:PORT"),
            (["--cluster-advertise", "host:7000", "--cluster-listen", "0.0.0.0:x"],
             "--cluster-listen must be HOST:PORT"),
            (["--cluster-listen", "0.0.0.0:7000"], "--cluster-listen needs --cluster-advertise"),
        ]:
            code, output = run_orderd_once(["--store", "postgres", "--database-url",
                                            "postgresql://u@127.0.0.1:1/db", *args])
            self.assertEqual(code, 64, output)
            self.assertIn(message, output)

    def test_a_node_whose_cluster_port_is_taken_does_not_start(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            code, output = run_orderd_once(
                ["--port", "0", "--data-dir", os.path.join(self.tmp, "busy"),
                 "--store", "postgres", "--database-url", self.database,
                 "--node-id", "busy", "--cluster-advertise", f"127.0.0.1:{port}",
                 "--cluster-listen", f"127.0.0.1:{port}"])
        self.assertEqual(code, 2, output)
        self.assertIn("cannot listen for cluster nodes", output)
