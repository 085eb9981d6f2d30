"""Events through the transactional outbox, against a real RabbitMQ.

The module starts a private RabbitMQ node (rabbitmq_fixture.py) and reads what orderd published
with the amqp_tail tool (tests/tools/amqp_tail.cpp; run.py --amqp-tail PATH). Each test uses its
own exchange and a durable queue declared before orderd publishes, so nothing is missed and
tests do not see each other's events.

    python3 tests/integration/run.py test_events --orderd build/app/orderd \\
        --amqp-tail build/tests/amqp_tail

Set ORDERD_MEASURE_RELAY=1 to also run the publish-rate measurement (RelayRateTest):
ORDERD_MEASURE_ORDERS (default 5000) orders with one line each (two events per order) are
placed while the broker is unreachable, then orderd restarts with the broker (and any
ORDERD_MEASURE_ARGS) and the time to drain the backlog is printed.
"""

import collections
import json
import os
import socket
import subprocess
import threading
import time
import unittest

from harness import OrderdTestCase, order_body, poll_until, random_id, run_parallel
from rabbitmq_fixture import start_module_node

AMQP_TAIL = os.environ.get("ORDERD_AMQP_TAIL", "")
NODE = None  # the module's broker


def setUpModule():
    global NODE
    NODE = start_module_node(amqp_tail=AMQP_TAIL)


def tearDownModule():
    if NODE is not None:
        NODE.cleanup()


def closed_port():
    """A loopback port nothing listens on (a broker that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tail:
    """A durable queue bound to one exchange, read with amqp_tail."""

    def __init__(self, url, exchange):
        self.url = url
        self.exchange = exchange
        self.queue = f"it-{random_id()}"

    def _run(self, *extra, timeout=120):
        cmd = [AMQP_TAIL, "--url", self.url, "--exchange", self.exchange, "--queue", self.queue,
               *extra]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"amqp_tail failed ({proc.returncode}): {proc.stderr}")
        return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]

    def declare(self):
        return self._run("--declare-only")

    def drain(self, at_least, timeout_s=60, idle_ms=1500):
        """Every message in the queue: waits for `at_least`, then for more until idle."""
        messages = self._run("--timeout-ms", str(int(timeout_s * 1000)), "--idle-ms",
                             str(idle_ms), timeout=timeout_s + 30)
        if len(messages) < at_least:
            raise AssertionError(f"only {len(messages)} of at least {at_least} messages arrived")
        return messages


class EventsTestCase(OrderdTestCase):
    node_id = "it-node"

    def setUp(self):
        super().setUp()
        self.exchange = f"orderd.events.it.{random_id()}"
        self.tail = Tail(NODE.url, self.exchange)
        self.tail.declare()
        self.traceparents = {}  # event id -> the traceparent header of its message

    def start_orderd(self, url, *args, data_dir=None):
        return self.start_server("--amqp-url", url, "--amqp-exchange", self.exchange,
                                 "--node-id", self.node_id, "--breaker-failures", "2",
                                 "--breaker-cooldown-ms", "500", *args, data_dir=data_dir)

    def broker(self, server):
        resp = server.get("/ready")
        body = self.assert_json(resp, 200)  # the broker never makes orderd unready
        return body["checks"]["broker"]

    def wait_published(self, server, timeout=90):
        def drained():
            b = self.broker(server)
            return b if b["backlog"] == 0 and b["state"] == "closed" else None
        return poll_until(drained, timeout, 0.2, "outbox drained")

    def place(self, server, items, correlation_id):
        resp = server.post("/api/v1/orders", order_body(items, "cust-ev"),
                           headers={"X-Correlation-Id": correlation_id})
        return resp

    # -- checks on what arrived

    def decode(self, messages):
        """Parsed envelopes, first delivery of each message id only (at-least-once), after
        checking every message's AMQP properties against its envelope."""
        seen, out = set(), []
        for m in messages:
            body = json.loads(m["body"])
            self.assertEqual(set(body), {"id", "type", "occurred_at", "source", "correlation_id",
                                         "data"}, m)
            self.assertEqual(m["message_id"], body["id"], m)
            self.assertEqual(m["type"], body["type"], m)
            self.assertEqual(m["routing_key"], body["type"], m)
            self.assertEqual(m["correlation_id"], body["correlation_id"], m)
            self.assertEqual(m["content_type"], "application/json", m)
            self.assertEqual(body["source"], self.node_id, m)
            # W3C trace context for consumers; its span id is the event id's last 16 digits.
            self.assertRegex(m["traceparent"], r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", m)
            self.assertEqual(m["traceparent"][36:52], body["id"].replace("-", "")[16:], m)
            self.traceparents[body["id"]] = m["traceparent"]
            if body["id"] in seen:
                continue
            seen.add(body["id"])
            out.append(body)
        return out

    def assert_each_order_once(self, events, order_ids):
        created = collections.Counter(e["data"]["id"] for e in events
                                      if e["type"] == "order.created")
        missing = set(order_ids) - set(created)
        self.assertFalse(missing, f"{len(missing)} orders without order.created")
        unknown = set(created) - set(order_ids)
        self.assertFalse(unknown, f"order.created for orders never acknowledged: {unknown}")
        twice = [oid for oid, n in created.items() if n != 1]
        self.assertFalse(twice, f"orders with more than one order.created: {twice}")

    def assert_in_order(self, events):
        """Per order, the events arrive in the order they happened; per sku, versions grow."""
        per_order = collections.defaultdict(list)
        versions = collections.defaultdict(list)
        for e in events:
            if e["type"].startswith("order."):
                per_order[e["data"]["id"]].append(e["type"])
            if e["type"] == "inventory.updated":
                versions[e["data"]["sku"]].append(e["data"]["version"])
        for oid, types in per_order.items():
            self.assertEqual(types[0], "order.created", f"order {oid}: {types}")
            if "order.cancelled" in types:
                self.assertEqual(types, ["order.created", "order.status_changed",
                                         "order.cancelled"], f"order {oid}")
        for sku, vs in versions.items():
            self.assertEqual(vs, sorted(vs), f"{sku}: inventory versions out of order {vs}")
            self.assertEqual(len(vs), len(set(vs)), f"{sku}: repeated versions {vs}")


class EventsTest(EventsTestCase):
    def test_every_order_created_is_published_exactly_once(self):
        s = self.start_orderd(NODE.url)
        self.create_product(s, "EV-A", 1000, low_stock_threshold=5)
        self.create_product(s, "EV-B", 1000)
        shapes = [[("EV-A", 1)], [("EV-B", 2)], [("EV-A", 1), ("EV-B", 1)]]
        results = run_parallel(lambda n: self.place(s, shapes[n % 3], f"corr-{n}"),
                               range(60), 16)
        orders = {}
        for n, r in enumerate(results):
            self.assertFalse(isinstance(r, Exception), repr(r))
            self.assert_status(r, 201)
            orders[r.json()["id"]] = (n, r.json())
        cancelled = sorted(orders)[:10]
        for r in run_parallel(lambda oid: s.post(f"/api/v1/orders/{oid}/cancel",
                                                 headers={"X-Request-Id": f"cancel-{oid}"}),
                              cancelled, 8):
            self.assert_status(r, 200)
        # No correlation id, a traceparent: its trace id becomes the correlation id.
        trace_id = "0af7651916cd43dd8448eb211c80319c"
        too_many = s.post("/api/v1/orders", order_body([("EV-A", 100000)], "cust-ev"),
                          headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"})
        self.assert_status(too_many, 409)
        self.assertEqual(too_many.header("X-Request-Id"), trace_id)
        self.wait_published(s)

        lines = sum(len(o["items"]) for _, o in orders.values())
        cancelled_lines = sum(len(orders[oid][1]["items"]) for oid in cancelled)
        expected = 2 + len(orders) + lines + 2 * len(cancelled) + cancelled_lines + 1
        events = self.decode(self.tail.drain(expected))
        self.assertEqual(len(events), expected, collections.Counter(e["type"] for e in events))
        self.assert_each_order_once(events, orders)
        self.assert_in_order(events)
        for e in events:
            if e["type"] == "order.created":
                n, placed = orders[e["data"]["id"]]
                self.assertEqual(e["correlation_id"], f"corr-{n}")
                self.assertEqual(e["data"], placed)  # the order exactly as the API returned it
            elif e["type"] == "order.cancelled":
                self.assertEqual(e["correlation_id"], f"cancel-{e['data']['id']}")
                self.assertEqual(e["data"]["status"], "CANCELLED")
        rejected = [e for e in events if e["type"] == "stock.rejected"]
        self.assertEqual(len(rejected), 1)
        self.assertEqual(rejected[0]["correlation_id"], trace_id)
        self.assertEqual(self.traceparents[rejected[0]["id"]][3:35], trace_id)
        self.assertEqual(rejected[0]["data"]["customer_id"], "cust-ev")
        self.assertEqual([(i["sku"], i["requested"]) for i in rejected[0]["data"]["items"]],
                         [("EV-A", 100000)])
        # The last inventory.updated of each sku matches the product.
        for sku in ("EV-A", "EV-B"):
            last = [e for e in events if e["type"] == "inventory.updated"
                    and e["data"]["sku"] == sku][-1]["data"]
            product = self.get_product(s, sku)
            self.assertEqual(last, {k: product[k] for k in ("sku", "available", "reserved",
                                                            "sold", "version")})

    def test_broker_outage_keeps_orders_flowing_and_loses_no_event(self):
        s = self.start_orderd(NODE.url)
        self.create_product(s, "OUT-A", 100000)
        acked, failures, stop = [], [], threading.Event()
        lock = threading.Lock()

        def client(k):
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    r = self.place(s, [("OUT-A", 1)], f"out-{k}-{n}")
                except OSError as e:
                    failures.append(repr(e))
                    continue
                with lock:
                    (acked if r.status == 201 else failures).append(
                        r.json()["id"] if r.status == 201 else r.describe())
                time.sleep(0.01)

        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            NODE.stop()
            # Orders keep being accepted; /ready stays 200 and reports the broker degraded.
            state = poll_until(lambda: self.broker(s)["state"] != "closed" and self.broker(s),
                               30, 0.2, "broker reported down")
            self.assertEqual(s.get("/ready").json()["status"], "degraded")
            before = len(acked)
            time.sleep(1.0)
            self.assertGreater(len(acked), before, "no order was accepted during the outage")
            backlog = self.broker(s)["backlog"]
            self.assertGreater(backlog, 0, state)
            NODE.start()
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertEqual(failures, [], "orders failed while the broker was away")
        self.wait_published(s)
        events = self.decode(self.tail.drain(2 * len(acked)))
        self.assert_each_order_once(events, acked)
        self.assert_in_order(events)

    def test_events_committed_before_kill_9_are_published_after_restart(self):
        # The broker is unreachable for this orderd: events stay in its outbox.
        down = f"amqp://guest:guest@127.0.0.1:{closed_port()}/"
        s = self.start_orderd(down)
        self.create_product(s, "K9-A", 1000)
        ids = []
        for n in range(30):
            r = self.place(s, [("K9-A", 1)], f"k9-{n}")
            self.assert_status(r, 201)
            ids.append(r.json()["id"])
        b = poll_until(lambda: self.broker(s)["state"] == "open" and self.broker(s), 30, 0.1,
                       "breaker open")
        self.assertEqual(b["backlog"], 1 + 2 * len(ids), b)
        self.assertEqual(s.kill(), -9)
        # Restarted with the broker reachable, on the same data: the backlog is published.
        s2 = self.start_orderd(NODE.url, data_dir=self.data_dir)
        self.wait_published(s2)
        events = self.decode(self.tail.drain(1 + 2 * len(ids)))
        self.assertEqual(len(events), 1 + 2 * len(ids))
        self.assert_each_order_once(events, ids)
        self.assert_in_order(events)
        self.assertEqual([e["correlation_id"] for e in events if e["type"] == "order.created"],
                         [f"k9-{n}" for n in range(30)])


@unittest.skipUnless(os.environ.get("ORDERD_MEASURE_RELAY") == "1",
                     "set ORDERD_MEASURE_RELAY=1 to measure the relay's publish rate")
class RelayRateTest(EventsTestCase):
    def test_measure_publish_rate(self):
        orders = int(os.environ.get("ORDERD_MEASURE_ORDERS", "5000"))
        down = f"amqp://guest:guest@127.0.0.1:{closed_port()}/"
        s = self.start_orderd(down, "--sqlite-synchronous", "NORMAL")
        self.create_product(s, "RATE-A", 10 ** 9)
        results = run_parallel(lambda n: self.place(s, [("RATE-A", 1)], f"r-{n}"), range(orders),
                               32)
        self.assertTrue(all(not isinstance(r, Exception) and r.status == 201 for r in results))
        backlog = self.broker(s)["backlog"]
        self.assertEqual(s.stop(), 0)
        started = time.monotonic()
        extra = os.environ.get("ORDERD_MEASURE_ARGS", "").split()
        s2 = self.start_orderd(NODE.url, *extra, data_dir=self.data_dir)
        ready = time.monotonic()
        self.wait_published(s2, timeout=600)
        done = time.monotonic()
        rate = backlog / (done - ready)
        print(f"\nrelay: published {backlog} events in {done - ready:.2f} s after start "
              f"({ready - started:.2f} s to start): {rate:.0f} events/s")
        self.decode(self.tail.drain(backlog, timeout_s=300, idle_ms=3000))


if __name__ == "__main__":
    unittest.main()
