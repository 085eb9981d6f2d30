"""A cluster of three orderd nodes on one PostgreSQL and one RabbitMQ: events keep flowing, in
order and without loss, when the node that relays them is killed; an inbound command whose node
dies between its commit and its ack is applied exactly once, by the broker's redelivery to
another node.

Runs under tests/postgres/with_postgres.sh with ORDERD_TEST_STORE=postgres and starts a private
RabbitMQ node (ctest's integration_cluster_amqp):

    ORDERD_TEST_STORE=postgres tests/postgres/with_postgres.sh python3 tests/integration/run.py \\
        test_cluster_amqp --orderd build/app/orderd --amqp-tail build/tests/amqp_tail \\
        --amqp-send build/tests/amqp_send
"""

import collections
import json
import os
import re
import subprocess
import uuid

import test_cluster  # the modules, not their classes: their tests must not run here too
import test_commands
from harness import poll_until, random_id
from rabbitmq_fixture import start_module_node
from test_cluster import LEASE_TTL_S, SHARDS, OrderLoad, shard_of
from test_events import Tail

AMQP_SEND = os.environ.get("ORDERD_AMQP_SEND", "")
AMQP_TAIL = os.environ.get("ORDERD_AMQP_TAIL", "")
TOKEN = "it-admin-token"
BROKER = None


def setUpModule():
    global BROKER
    BROKER = start_module_node(amqp_tail=AMQP_TAIL, amqp_send=AMQP_SEND)


def tearDownModule():
    if BROKER is not None:
        BROKER.cleanup()


class ClusterBrokerTest(test_cluster.ClusterTestCase):
    def setUp(self):
        super().setUp()
        suffix = random_id()
        self.events_exchange = f"it.events.{suffix}"
        self.commands = f"it.commands.{suffix}"
        self.tail = Tail(BROKER.url, self.events_exchange)
        self.tail.declare()

    def broker_args(self, *extra):
        return ("--amqp-url", BROKER.url, "--amqp-exchange", self.events_exchange,
                "--commands-exchange", self.commands, "--commands-queue", self.commands,
                "--admin-token", TOKEN, *extra)

    def relaying_node(self, nodes):
        """The node that serves shard 0: it relays the cluster's outbox."""
        found = [n for n in nodes if 0 in self.served(n)]
        self.assertEqual(len(found), 1, "shard 0 has one owner")
        return found[0]

    def wait_published(self, nodes, timeout=90):
        """Until the outbox has nothing unpublished (the backlog is the database's, so any
        live node can tell)."""
        def drained():
            body = self.assert_json(nodes[0].get("/ready"), 200)
            b = body["checks"]["broker"]
            return b if b["backlog"] == 0 else None
        return poll_until(drained, timeout, 0.2, "outbox drained")

    def first_deliveries(self, messages):
        """The envelopes by first delivery. A message delivered twice (a relay that died
        between publishing and marking: at-least-once) must be the same message: same id,
        same body."""
        first, out, duplicates = {}, [], 0
        for m in messages:
            body = json.loads(m["body"])
            self.assertEqual(m["message_id"], body["id"], m)
            self.assertEqual(m["routing_key"], body["type"], m)
            if body["id"] in first:
                self.assertEqual(first[body["id"]], m["body"], "a duplicate is the same event")
                duplicates += 1
                continue
            first[body["id"]] = m["body"]
            out.append(body)
        return out, duplicates

    def test_events_flow_in_order_while_the_relaying_node_is_killed(self):
        nodes = self.start_cluster(*self.broker_args())
        skus = self.stocked(nodes[0], units=4000)
        relay = self.relaying_node(nodes)
        survivors = [n for n in nodes if n is not relay]
        # The load enters through the survivors (a load balancer would stop sending to a
        # dead node); orders whose shard the relaying node owns are forwarded to it.
        load = OrderLoad(survivors, skus)
        try:
            load.wait_for(60)
            self.assertGreater(self.metric(relay, "orderd_events_published_total"), 0,
                               "the relaying node published before it was killed")
            relay.kill()
            poll_until(lambda: len(self.served(survivors[0]) | self.served(survivors[1]))
                       == SHARDS, LEASE_TTL_S + 2, message="the dead node's shards served again")
            load.wait_for(60)
        finally:
            load.stop()
        self.check_invariants(survivors[0], skus, load)
        new_relay = self.relaying_node(survivors)
        self.wait_published(survivors)
        accepted = {order_id for order_id, _ in load.accepted}
        events, duplicates = self.first_deliveries(
            self.tail.drain(at_least=len(accepted), timeout_s=90))

        # Every acknowledged order's creation published, each under one event id; an event
        # for an order nobody was told about is allowed only if the order committed (a reply
        # the kill cut off).
        created = collections.Counter(e["data"]["id"] for e in events
                                      if e["type"] == "order.created")
        self.assertFalse(accepted - set(created),
                         f"{len(accepted - set(created))} acknowledged orders never published")
        self.assertFalse([o for o, n in created.items() if n != 1],
                         "an order created under two event ids")
        for order_id in set(created) - accepted:
            self.get_order(survivors[0], order_id)
        # Per SKU, inventory versions arrive in the order they were made, none twice.
        versions = collections.defaultdict(list)
        for e in events:
            if e["type"] == "inventory.updated":
                versions[e["data"]["sku"]].append(e["data"]["version"])
        self.assertTrue(versions, "inventory events were published")
        for sku, vs in versions.items():
            self.assertEqual(vs, sorted(vs), f"{sku}: versions out of order")
            self.assertEqual(len(vs), len(set(vs)), f"{sku}: a version published twice")
        self.assertGreater(self.metric(new_relay, "orderd_events_published_total"), 0,
                           "the new owner of shard 0 took the relay over")
        print(f"relaying node killed under load: {len(accepted)} orders acknowledged, "
              f"{len(events)} events, {duplicates} delivered twice (same id); outcomes "
              f"{load.statuses}")

    def consuming(self, node):
        cmds = self.assert_json(node.get("/ready"), 200)["checks"].get("commands")
        return cmds if cmds and cmds["ok"] else None

    def test_a_command_whose_node_dies_between_commit_and_ack_is_applied_once(self):
        # Quick retries and many attempts: a command for a shard of the dead node waits for
        # its takeover (lease + a beat), and must not be dead-lettered meanwhile.
        nodes = self.start_cluster(*self.broker_args(
            "--enable-fault-injection", "--inbound-retry-delays-ms", "250,500,1000",
            "--inbound-max-attempts", "30"))
        for n in nodes:
            poll_until(lambda n=n: self.consuming(n), 60, 0.1, "command consumer connected")
        victim, survivors = nodes[2], nodes[:2]
        # One SKU whose shard the victim owns, one a survivor owns.
        mine, theirs = self.served(victim), self.served(survivors[0])
        sku_victim = next(f"ADJ-V-{i}" for i in range(1000) if shard_of(f"ADJ-V-{i}") in mine)
        sku_other = next(f"ADJ-O-{i}" for i in range(1000) if shard_of(f"ADJ-O-{i}") in theirs)
        for sku in (sku_victim, sku_other):
            self.create_product(survivors[0], sku, 0)
        victim.expected_exit = True  # it exits by itself, by design
        self.assert_json(victim.post("/api/v1/admin/faults",
                                     {"target": "commands", "key": "exit-after-commit"},
                                     headers={"Authorization": f"Bearer {TOKEN}"}), 202)
        per_sku = 150
        test_commands.send_commands(
            self, BROKER.url, self.commands,
            *[("inventory.adjust", {"sku": sku, "delta": 1}, str(uuid.uuid4()))
              for _ in range(per_sku) for sku in (sku_victim, sku_other)])
        try:
            code = victim.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.fail("the victim never received a command")
        self.assertEqual(code, 70, victim.log_tail())
        died = re.search(r"exiting after inventory\.adjust (\S+) committed", victim.log_text())
        self.assertIsNotNone(died, victim.log_tail())
        message_id = died.group(1)

        def applied():
            return all(self.stock(survivors[0], sku)[0] == per_sku
                       for sku in (sku_victim, sku_other))
        poll_until(applied, 90, 0.25, f"{per_sku} adjustments applied to each SKU")

        def idle():
            states = [self.consuming(n) for n in survivors]
            return all(s and s["in_flight"] == 0 for s in states)
        poll_until(idle, 60, 0.2, "the survivors' consumers idle")
        for sku in (sku_victim, sku_other):
            self.assertEqual(self.stock(survivors[1], sku), (per_sku, 0),
                             f"{sku}: each adjustment applied once")
        rows = self.sql("SELECT sku, available FROM products WHERE sku IN "
                        f"('{sku_victim}', '{sku_other}')")
        self.assertEqual({sku: int(a) for sku, a in rows},
                         {sku_victim: per_sku, sku_other: per_sku}, "the database agrees")
        # The committed, unacknowledged command came back on a survivor, which found its
        # processed record and acked it without applying it again.
        self.assertTrue(any(f"{message_id} was processed already" in n.log_text()
                            for n in survivors),
                        f"no survivor saw the redelivery of {message_id}")
        dead = self.assert_json(survivors[0].get("/api/v1/admin/dlq?limit=10",
                                                 headers={"Authorization": f"Bearer {TOKEN}"}),
                                200)
        self.assertEqual(dead["items"], [], "nothing dead-lettered")
        print(f"node died after committing {message_id} and before its ack: "
              f"{2 * per_sku} adjustments applied once each")
