"""A cluster of three orderd nodes on one PostgreSQL: every node serves every request (keys
whose shard another node owns are forwarded to it through the cluster port), orders across
shards stay all-or-nothing and never oversell, and a node killed with -9 under load loses no
acknowledged order while the others take its shards over.

Runs under tests/postgres/with_postgres.sh with ORDERD_TEST_STORE=postgres (ctest's
integration_postgres).
"""

import os
import random
import re
import signal
import socket
import subprocess
import threading
import time

import test_dashboard  # the module, not its class: its tests must not run twice
from harness import (OrderdTestCase, database_for, order_body, poll_until, run_parallel)

SHARDS = 16
LEASE_TTL_S = 6  # app/cluster_membership.hpp


M64 = (1 << 64) - 1


def _mix(x):
    """domain/shard.cpp's finaliser (splitmix64)."""
    x ^= x >> 30
    x = (x * 0xbf58476d1ce4e5b9) & M64
    x ^= x >> 27
    x = (x * 0x94d049bb133111eb) & M64
    return x ^ (x >> 31)


def shard_of(key, shards=SHARDS):
    """The shard of a key, as every node computes it (domain/shard.cpp: FNV-1a, then mixed)."""
    h = 0xcbf29ce484222325
    for byte in key.encode():
        h = ((h ^ byte) * 0x100000001b3) & M64
    return _mix(h) % shards


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OrderLoad:
    """Clients placing two-SKU orders on the given nodes until stopped. A connection refused
    (a node being restarted: a load balancer would route around it) is counted and retried on
    the next node; every HTTP answer is counted by status; 201 orders are kept."""

    def __init__(self, nodes, skus, clients=8):
        self.nodes = list(nodes)
        self.skus = sorted(skus)
        self.accepted, self.statuses, self.lock = [], {}, threading.Lock()
        self.unavailable = {}  # 503 reasons (ids and numbers folded), for the report
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(clients)]
        for t in self.threads:
            t.start()

    def count(self, key):
        with self.lock:
            self.statuses[key] = self.statuses.get(key, 0) + 1

    def client(self, seed):
        rng = random.Random(seed)
        turn = seed
        while not self.stop_flag.is_set():
            node = self.nodes[turn % len(self.nodes)]
            turn += 1
            items = [(sku, rng.randint(1, 2)) for sku in rng.sample(self.skus, 2)]
            try:
                r = node.post("/api/v1/orders", order_body(items, f"load-{seed}"))
            except Exception:  # noqa: BLE001 - a node down between two requests
                self.count("refused connection")
                continue
            self.count(r.status)
            if r.status == 503:
                try:
                    why = re.sub(r"[0-9a-f-]{36}|\d+", "N", r.json().get("detail", ""))
                except Exception:  # noqa: BLE001 - not JSON: the reason is unknown
                    why = "?"
                with self.lock:
                    self.unavailable[why] = self.unavailable.get(why, 0) + 1
            if r.status == 201:
                with self.lock:
                    self.accepted.append((r.json()["id"], items))

    def wait_for(self, more, timeout=30):
        target = len(self.accepted) + more
        poll_until(lambda: len(self.accepted) >= target, timeout,
                   message=f"{more} more orders accepted")

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join()


class ClusterTestCase(OrderdTestCase):
    """Three nodes on one private database, and the checks every drill ends with. No tests of
    its own: test_cluster_amqp builds on it too."""

    def setUp(self):
        super().setUp()
        if os.environ.get("ORDERD_TEST_STORE") != "postgres":
            self.fail("run under tests/postgres/with_postgres.sh with ORDERD_TEST_STORE=postgres "
                      "(ctest -R integration_postgres)")
        self.database = database_for(os.path.join(self.tmp, "cluster"))

    def node(self, name, *extra):
        data = os.path.join(self.tmp, name)
        os.makedirs(data, exist_ok=True)
        return self.start_server("--store", "postgres", "--database-url", self.database,
                                 "--node-id", name, "--cluster-shards", str(SHARDS),
                                 "--cluster-advertise", f"127.0.0.1:{free_port()}",
                                 "--cluster-audit-writes", *extra,
                                 data_dir=data)

    def served(self, server):
        ready = self.assert_json(server.get("/ready"), 200)
        return {s["shard"] for s in ready["checks"]["cluster"]["served"]}

    def wait_for_cluster(self, nodes):
        """Every shard served by exactly one of `nodes`, every node serving some (the hand-offs
        to a node that just joined are done: a drill then hits an owner), and each node able to
        reach the others (a product write forwarded from every node succeeds)."""
        def covered():
            seen, each = [], []
            for n in nodes:
                mine = self.served(n)
                seen += mine
                each.append(len(mine))
            return len(seen) == SHARDS and len(set(seen)) == SHARDS and min(each) > 0
        poll_until(covered, 20, message=f"{SHARDS} shards over {len(nodes)} nodes, each some")

        def all_reach():
            for i, n in enumerate(nodes):
                for j in range(SHARDS):
                    sku = f"PING-{i}-{j}"
                    r = n.post("/api/v1/products", {"sku": sku, "name": sku, "price_cents": 1,
                                                    "currency": "EUR", "available": 0})
                    if r.status == 503:
                        return False
                    self.assert_status(r, 201, 409)
            return True
        poll_until(all_reach, 20, interval=0.3, message="every node reaching every shard")

    def start_cluster(self, *extra):
        nodes = [self.node(n, *extra) for n in ("node-a", "node-b", "node-c")]
        self.wait_for_cluster(nodes)
        return nodes

    def check_invariants(self, reader, skus, load):
        """The cluster's invariants after a load: every 201 order is stored with its lines;
        per SKU, initial = available + reserved (nothing ships here), reserved = the lines of
        the stored orders (all PENDING), available never below zero; only 201, 409 and 503
        (safe to retry) were answered."""
        self.assertFalse(set(load.statuses) - {201, 409, 503, "refused connection"},
                         f"only 201, 409 and 503 (retry) are acceptable: {load.statuses}")
        for order_id, items in load.accepted:
            got = self.get_order(reader, order_id)
            self.assertEqual(sorted((i["sku"], i["quantity"]) for i in got["items"]),
                             sorted(items))
        stored = self.list_all(reader, "/api/v1/orders", limit=200)
        self.assertTrue({o for o, _ in load.accepted} <= {o["id"] for o in stored})
        held = {sku: 0 for sku in skus}
        for o in stored:
            self.assertEqual(o["status"], "PENDING", o)
            for line in o["items"]:
                held[line["sku"]] += line["quantity"]
        stored_rows = self.sql("SELECT sku, available, reserved, sold FROM products")
        in_database = {sku: (int(a), int(r), int(s)) for sku, a, r, s in stored_rows}
        for sku, initial in skus.items():
            available, reserved = self.stock(reader, sku)
            self.assertEqual(reserved, held[sku], sku)
            self.assertEqual(available + reserved, initial, sku)
            self.assertGreaterEqual(available, 0, sku)
            # The shared database agrees with what the owner's actor answers, and nothing is
            # lost between available, reserved and sold.
            db_available, db_reserved, db_sold = in_database[sku]
            self.assertEqual((db_available, db_reserved), (available, reserved),
                             f"{sku}: the database and the owner's actor disagree")
            self.assertEqual(db_available + db_reserved + db_sold, initial, sku)
        self.assert_one_owner_at_a_time()

    def assert_one_owner_at_a_time(self):
        """No shard ever had two owners whose writes both committed: every audited write
        (--cluster-audit-writes) numbers between its epoch's change of hands and the next one
        (persistence/schema/postgres/004_shard_writes.sql), by the database's own sequence."""
        out_of_turn = self.sql("SELECT write_seq, shard, epoch, node, epoch_owner "
                               "FROM shard_writes_out_of_turn LIMIT 10")
        self.assertEqual(out_of_turn, [], "writes committed outside their owner's turn")
        (writes, shards, epochs), = self.sql(
            "SELECT count(*), count(DISTINCT shard), count(DISTINCT (shard, epoch)) "
            "FROM shard_writes")
        self.assertGreater(int(writes), 0, "the nodes audit their writes")
        print(f"lease history: {writes} audited writes on {shards} shards under {epochs} "
              "epochs, none out of turn")

    def sql(self, query):
        """Rows of `query` on the cluster's database, straight from PostgreSQL (psql)."""
        psql = os.path.join(os.environ.get("ORDERD_TEST_PG_BIN", ""), "psql")
        out = subprocess.run([psql, "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", self.database,
                              "-c", query], check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def metric(self, server, name):
        total = 0.0
        for line in server.get("/metrics").text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.split()[-1])
        return total

    def stocked(self, server, count=8, units=400):
        skus = {f"K-{i}": units for i in range(count)}
        for sku, qty in skus.items():
            self.create_product(server, sku, qty)
        return skus


class ClusterTest(ClusterTestCase):
    # Headless Chromium, as test_dashboard drives it.
    chromium = test_dashboard.DashboardTest.chromium
    dump_dom_until = test_dashboard.DashboardTest.dump_dom_until

    def test_create_on_one_node_read_on_another_cancel_on_a_third(self):
        a, b, c = self.start_cluster()
        skus = [f"X-{i}" for i in range(6)]
        for i, sku in enumerate(skus):
            self.create_product([a, b, c][i % 3], sku, 10)
        order = self.place_order(a, [(sku, 2) for sku in skus], "cust-x")
        self.assertEqual(order["status"], "PENDING")
        for sku in skus:
            self.assertEqual(self.stock(c, sku), (8, 2), sku)
        fetched = self.get_order(b, order["id"])
        self.assertEqual(fetched["id"], order["id"])
        self.assertEqual(sorted(i["sku"] for i in fetched["items"]), skus)
        cancelled = self.assert_json(c.post(f"/api/v1/orders/{order['id']}/cancel"), 200)
        self.assertEqual(cancelled["status"], "CANCELLED")
        self.assertEqual(self.get_order(a, order["id"])["status"], "CANCELLED")
        for sku in skus:
            self.assertEqual(self.stock(b, sku), (10, 0), sku)
        forwards = sum(
            float(line.split()[-1])
            for n in (a, b, c) for line in n.get("/metrics").text.splitlines()
            if line.startswith("orderd_cluster_forwards_total{"))
        self.assertGreater(forwards, 0, "some requests crossed nodes")

    def test_idempotent_retry_on_another_node_replays(self):
        a, b, c = self.start_cluster()
        self.create_product(a, "IDEM-1", 10)
        body = order_body([("IDEM-1", 1)], "cust-i")
        first = self.assert_json(
            a.post("/api/v1/orders", body, headers={"Idempotency-Key": "retry-me"}), 201)
        again = b.post("/api/v1/orders", body, headers={"Idempotency-Key": "retry-me"})
        self.assertEqual(self.assert_json(again, 201)["id"], first["id"])
        self.assertEqual(self.stock(c, "IDEM-1"), (9, 1))

    def test_one_key_racing_on_three_nodes_makes_one_order(self):
        nodes = self.start_cluster()
        self.create_product(nodes[0], "IDEM-R", 100)
        created = set()
        for round_no in range(4):
            k = f"race-{round_no}-{random.random()}"
            body = order_body([("IDEM-R", 1)], f"race-{round_no}")

            def post(i):
                return nodes[i % 3].post("/api/v1/orders", body, headers={"Idempotency-Key": k})
            results = run_parallel(post, range(9), 9)
            self.assertFalse([r for r in results if isinstance(r, Exception)], results)
            # The key's shard has one owner: the first placement wins there; a request that
            # meets it in flight gets 409, one that comes after it replays the 201.
            for r in results:
                if r.status == 409:
                    self.assert_problem(r, 409)
                else:
                    self.assert_status(r, 201)
            ids = {r.json()["id"] for r in results if r.status == 201}
            self.assertEqual(len(ids), 1, f"round {round_no}: orders {ids}")
            created |= ids
            replay = nodes[(round_no + 1) % 3].post("/api/v1/orders", body,
                                                    headers={"Idempotency-Key": k})
            self.assertEqual(self.assert_json(replay, 201)["id"], ids.pop())
        self.assertEqual(self.stock(nodes[1], "IDEM-R"), (96, 4), "one order per key")

    def test_a_flash_sale_on_all_nodes_sells_exactly_the_stock(self):
        nodes = self.start_cluster()
        self.create_product(nodes[0], "FLASH-1", 30)

        def attempt(i):
            node = nodes[i % 3]
            for _ in range(50):  # 503 (a shard in transit) is safe to retry
                r = node.post("/api/v1/orders", order_body([("FLASH-1", 1)], f"fan-{i}"))
                if r.status != 503:
                    return r
            return r
        results = run_parallel(attempt, range(90), 30)
        bad = [r for r in results if isinstance(r, Exception) or r.status not in (201, 409)]
        self.assertFalse(bad, f"neither 201 nor 409: {[getattr(r, 'status', r) for r in bad][:5]}")
        sold = [r.json()["id"] for r in results if r.status == 201]
        self.assertEqual(len(sold), 30, "exactly the stock is sold")
        for n in nodes:
            self.assertEqual(self.stock(n, "FLASH-1"), (0, 30))
        for i, order_id in enumerate(sold):
            self.assertEqual(self.get_order(nodes[(i + 1) % 3], order_id)["status"], "PENDING")

    def test_kill_minus_9_under_load_loses_nothing(self):
        a, b, c = self.start_cluster()
        skus = self.stocked(a)
        load = OrderLoad([a, b], skus)
        try:
            load.wait_for(40)
            c_shards = self.served(c)
            self.assertTrue(c_shards, "node-c owns shards when it is killed")
            killed_at = time.monotonic()
            c.kill()
            poll_until(lambda: len(self.served(a) | self.served(b)) == SHARDS, LEASE_TTL_S + 2,
                       message="node-c's shards served again within the lease + 2 s")
            takeover_s = time.monotonic() - killed_at
            load.wait_for(40)
        finally:
            load.stop()

        # /ready shows who took over what: each of node-c's shards, from node-c, by a or b.
        def taken_from_c():
            changes = self.assert_json(a.get("/ready"), 200)["checks"]["cluster"]["recent_changes"]
            return {h["shard"]: h["owner"] for h in changes if h["previous_owner"] == "node-c"}
        taken = poll_until(lambda: (lambda t: t if set(t) >= c_shards else None)(taken_from_c()),
                           5, message="node-c's shards listed as taken over")
        self.assertLessEqual(set(taken.values()), {"node-a", "node-b"})
        print(f"kill -9 of node-c ({len(c_shards)} shards): served again after "
              f"{takeover_s:.2f} s; outcomes {load.statuses}")
        self.check_invariants(a, skus, load)

    def test_a_paused_owner_is_fenced_and_comes_back(self):
        a, b, c = self.start_cluster()
        skus = self.stocked(a)
        before = {s["shard"]: s["epoch"] for s in
                  self.assert_json(c.get("/ready"), 200)["checks"]["cluster"]["served"]}
        self.assertTrue(before, "node-c owns shards when it is paused")
        load = OrderLoad([a, b], skus)
        try:
            load.wait_for(30)
            c.signal_nowait(signal.SIGSTOP)
            paused_at = time.monotonic()
            poll_until(lambda: len(self.served(a) | self.served(b)) == SHARDS, LEASE_TTL_S + 2,
                       message="node-c's shards taken over while it is paused")
            takeover_s = time.monotonic() - paused_at
            load.wait_for(30)
            c.signal_nowait(signal.SIGCONT)
            # node-c's own deadlines passed while it slept: it serves nothing until it beats
            # again, and then gets its shards back by hand-offs, at higher epochs.
            poll_until(lambda: set(self.served(c)) == set(before), 15,
                       message="node-c serving its shards again")
            load.wait_for(30)
        finally:
            load.stop()
        after = {s["shard"]: s["epoch"] for s in
                 self.assert_json(c.get("/ready"), 200)["checks"]["cluster"]["served"]}
        for shard, epoch in before.items():
            self.assertGreater(after[shard], epoch + 1, f"shard {shard}: two changes of hands")
        fenced = self.metric(c, "orderd_cluster_fenced_writes_total")
        print(f"SIGSTOP of node-c ({len(before)} shards): taken over after {takeover_s:.2f} s; "
              f"fenced writes on node-c {fenced:.0f}; outcomes {load.statuses}")
        self.check_invariants(b, skus, load)

    def test_rolling_restart_and_scaling_under_load(self):
        a, b = self.node("node-a"), self.node("node-b")
        self.wait_for_cluster([a, b])
        # Enough stock for the whole drill: sold out, the load would see only 409s.
        skus = self.stocked(a, units=4000)
        load = OrderLoad([a, b], skus)
        try:
            load.wait_for(20)
            # 2 -> 3 nodes: node-c joins and the others hand it its shards.
            c = self.node("node-c")
            self.wait_for_cluster([a, b, c])
            load.nodes = [a, b, c]
            load.wait_for(20)
            # A rolling restart: each node in turn stops (SIGTERM: hands off) and starts again.
            nodes = {"node-a": a, "node-b": b, "node-c": c}
            for name in list(nodes):
                self.assertEqual(nodes[name].stop(), 0)
                rest = [n for k, n in nodes.items() if k != name]
                load.nodes = rest
                self.wait_for_cluster(rest)
                nodes[name] = self.node(name)
                self.wait_for_cluster(list(nodes.values()))
                load.nodes = list(nodes.values())
                load.wait_for(20)
            # 3 -> 2 nodes.
            self.assertEqual(nodes["node-c"].stop(), 0)
            load.nodes = [nodes["node-a"], nodes["node-b"]]
            self.wait_for_cluster(load.nodes)
            load.wait_for(20)
        finally:
            load.stop()
        print(f"2 -> 3 nodes, rolling restart of all three, 3 -> 2: outcomes {load.statuses}; "
              f"503 because {load.unavailable}")
        self.check_invariants(nodes["node-a"], skus, load)

    def test_grace_timers_and_payments_resume_on_the_new_owner(self):
        a, b, c = self.start_cluster("--grace-period", "3", "--processor-interval-ms", "100",
                                     "--payment-success-rate", "1", "--payment-latency-ms", "50")
        skus = self.stocked(a, count=4, units=100)
        on_c, on_a = [], []
        for i in range(8):
            items = [(f"K-{i % 4}", 1), (f"K-{(i + 1) % 4}", 2)]
            on_c.append(self.place_order(c, items, f"grace-c-{i}")["id"])
            on_a.append(self.place_order(a, items, f"grace-a-{i}")["id"])
        # New orders get ids in their node's own shards: node-c's orders die with it, PENDING.
        self.assertTrue({shard_of(o) for o in on_c} <= self.served(c))
        c.kill()

        def settled():
            states = {o: self.get_order(a, o)["status"] for o in on_c + on_a}
            return states if set(states.values()) == {"CONFIRMED"} else None
        poll_until(settled, LEASE_TTL_S + 25, interval=0.3,
                   message="every order confirmed, node-c's by the nodes that took it over")
        # One charge each, recorded once in the cluster's database.
        charged = self.sql("SELECT order_id, succeeded FROM payment_charges")
        self.assertEqual(sorted(o for o, _ in charged), sorted(on_c + on_a))
        self.assertEqual({ok for _, ok in charged}, {"t"})
        # Stock: every unit sold, none still held.
        for sku, initial in skus.items():
            (available, reserved, sold), = self.sql(
                f"SELECT available, reserved, sold FROM products WHERE sku = '{sku}'")
            self.assertEqual((int(reserved), int(available) + int(sold)), (0, initial), sku)
            self.assertEqual(int(sold), 12, sku)  # 16 orders x 3 units over 4 SKUs
        self.assert_one_owner_at_a_time()

    def notifications(self, server, channel):
        return self.list_all(server, "/api/v1/notifications", limit=200, channel=channel)

    def test_notifications_are_delivered_once_and_a_dead_nodes_taken_over(self):
        # Webhooks to a closed port fail and wait a minute before their next attempt (the
        # breaker stays closed); e-mails go to each node's maildir at once.
        hook = free_port()
        a, b, c = self.start_cluster("--webhook-url", f"http://127.0.0.1:{hook}/hook",
                                     "--webhook-allow", "127.0.0.1", "--notify-backoff-ms",
                                     "60000", "--notify-breaker-failures", "1000")
        nodes = {"node-a": a, "node-b": b, "node-c": c}
        self.create_product(a, "NOTE-1", 100)
        placed = [self.place_order([a, b, c][i % 3], [("NOTE-1", 1)], f"cust-n{i}",
                                   f"n{i}@example.com")["id"] for i in range(12)]
        created = lambda ch: [n for n in self.notifications(a, ch)
                              if n["event_type"] == "order.created"]
        mails = poll_until(lambda: (lambda m: m if len(m) == len(placed) and all(
            n["status"] == "SENT" for n in m) else None)(created("email")), 20,
            message="an order.created e-mail per order, SENT")
        # Each mail was written once, by one node (the one serving the record's shard).
        files = []
        for name in nodes:
            new = os.path.join(self.tmp, name, "mail", "new")
            files += [f[:-len(".eml")] for f in os.listdir(new)] if os.path.isdir(new) else []
        created_mails = {n["id"] for n in mails}
        self.assertEqual(sorted(f for f in files if f in created_mails), sorted(created_mails),
                         "every order.created mail exactly once across the nodes")
        self.assertEqual(len(files), len(set(files)), "no mail delivered twice")
        for name in nodes:
            new = os.path.join(self.tmp, name, "mail", "new")
            mine = set(os.listdir(new)) if os.path.isdir(new) else set()
            served = self.served(nodes[name])
            for f in mine:
                self.assertIn(shard_of(f[:-len(".eml")]), served, f"{f} on {name}")
        # Every webhook failed once and waits. The node holding most of them (the relay's
        # node writes the notifications: its bus is where the events arrive) is killed.
        hooks = poll_until(lambda: (lambda h: h if len(h) == len(placed) and all(
            n["attempts"] >= 1 for n in h) else None)(created("webhook")), 20,
            message="a failed webhook attempt per order")
        held = {name: [n["id"] for n in hooks if shard_of(n["id"]) in self.served(node)]
                for name, node in nodes.items()}
        victim = max(held, key=lambda name: len(held[name]))
        orphans = held[victim]
        self.assertTrue(orphans, "some node holds PENDING webhooks")
        nodes[victim].kill()
        reader = next(node for name, node in nodes.items() if name != victim)

        # The shards' next owners find them in the store and try again long before the minute.
        def retried():
            by_id = {n["id"]: n for n in self.notifications(reader, "webhook")}
            return all(by_id[i]["attempts"] >= 2 for i in orphans)
        poll_until(retried, LEASE_TTL_S + 10,
                   message=f"{victim}'s PENDING webhooks attempted again by their new owners")
        others = [n for n in self.notifications(reader, "webhook")
                  if n["event_type"] == "order.created" and n["id"] not in orphans]
        self.assertTrue(all(n["attempts"] == 1 for n in others),
                        "the survivors' own records keep their backoff")

    def test_the_dashboard_shows_the_members_and_their_shards(self):
        self.browser = test_dashboard.find_browser()
        self.assertTrue(self.browser, "no chromium found: run scripts/deps.sh")
        token = test_dashboard.TOKEN
        a, b, c = self.start_cluster("--admin-token", token)
        dom = self.dump_dom_until(a.url(f"/dashboard#token={token}"), 'data-loaded="true"',
                                  "node node-a serves", "3 live members",
                                  'data-node="node-b"', 'data-node="node-c"',
                                  "node-a (this node)", 'data-took="node-b"')
        # Who took over what: node-b, second to start, got its shards from node-a, which
        # started first and took them all.
        self.assertRegex(dom, r'<td>node-a</td><td data-took="node-b">node-b</td>')
        served = len(self.served(a))
        owned = re.search(r'data-shards="node-a">(\d+)<', dom)
        self.assertTrue(owned, dom[-3000:])
        self.assertGreater(int(owned.group(1)), 0)
        self.assertIn(f"of {SHARDS} shards", dom)
        self.assertGreater(served, 0)

