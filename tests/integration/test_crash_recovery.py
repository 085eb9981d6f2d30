"""Crash recovery: actors crash (through the operator fault hook) while orders flow; the
server keeps answering and the stock invariants still hold."""

import random
import threading
import time
import unittest

from harness import TRANSPORT_ERRORS, OrderdTestCase, order_body, poll_until

FAULTS = "/api/v1/admin/faults"
INITIAL = {"CR-A": 100000, "CR-B": 100000, "CR-C": 100000}


class Load:
    """Background clients placing (and sometimes cancelling) orders until stopped. Records
    every outcome; during a crash window a request may fail with 503, nothing else."""

    def __init__(self, server, threads=8):
        self.server = server
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.created = {}         # id -> order (201)
        self.cancelled = set()    # ids whose cancel got 200
        self.unknown_cancel = set()  # ids whose cancel got 503: outcome unknown
        self.kept = []            # ids this load never cancels, oldest first
        self.unavailable = 0      # 503 answers
        self.bad = []             # anything else
        self.threads = [threading.Thread(target=self.client, args=(n,), daemon=True)
                        for n in range(threads)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(120)

    def successes(self):
        with self.lock:
            return len(self.created)

    def recent_pending(self):
        """The newest order this load created and will never cancel."""
        with self.lock:
            return self.kept[-1] if self.kept else None

    def record_bad(self, what):
        with self.lock:
            self.bad.append(what)

    def client(self, n):
        rng = random.Random(n)
        i = 0
        while not self.stop_event.wait(0.02):  # paced: enough orders, not a flood to verify
            i += 1
            items = [(sku, rng.randint(1, 3))
                     for sku in rng.sample(sorted(INITIAL), rng.randint(1, 3))]
            try:
                resp = self.server.post("/api/v1/orders", order_body(items, f"load-{n}"),
                                        timeout=60)
            except TRANSPORT_ERRORS as e:
                self.record_bad(f"POST /api/v1/orders: {e!r}")
                continue
            if resp.status == 503:
                with self.lock:
                    self.unavailable += 1
                time.sleep(0.05)
                continue
            if resp.status != 201:
                self.record_bad(resp.describe())
                continue
            order = resp.json()
            cancel_it = i % 6 == 0
            with self.lock:
                self.created[order["id"]] = order
                if not cancel_it:
                    self.kept.append(order["id"])
            if cancel_it:
                try:
                    c = self.server.post(f"/api/v1/orders/{order['id']}/cancel", timeout=60)
                except TRANSPORT_ERRORS as e:
                    self.record_bad(f"cancel {order['id']}: {e!r}")
                    continue
                with self.lock:
                    if c.status == 200:
                        self.cancelled.add(order["id"])
                    elif c.status == 503:
                        self.unavailable += 1
                        self.unknown_cancel.add(order["id"])
                    else:
                        self.bad.append(c.describe())


class CrashRecoveryTest(OrderdTestCase):
    def test_fault_hook_is_404_without_the_flag(self):
        s = self.start_server()
        self.create_product(s, "NOFAULT-1", 5)
        for body in ({"target": "stock", "key": "NOFAULT-1"}, {"target": "writer"},
                     {"target": "supervisor"}, {"target": "order", "key": "x"}):
            with self.subTest(body=body):
                self.assert_problem(s.post(FAULTS, body), 404)
        self.assert_status(s.get("/health"), 200)
        self.assertEqual(self.stock(s, "NOFAULT-1"), (5, 0))

    def until_not_503(self, fn, timeout=30):
        """Retries fn() while it answers 503 (the crash window); returns the last response."""
        deadline = time.monotonic() + timeout
        while True:
            resp = fn()
            if resp.status != 503 or time.monotonic() > deadline:
                return resp
            time.sleep(0.1)

    # What the supervisor logs when it sees each kind of crash: proof the fault really hit.
    CRASH_LOG = {
        "stock": "inventory supervisor: stock actor {key} crashed",
        "order": "order supervisor: order actor {key} crashed",
        "writer": "root supervisor: store-writer stopped",
        "supervisor": "root supervisor: inventory-supervisor stopped",
    }

    def inject(self, s, load, body, min_new_successes=10):
        expected = self.CRASH_LOG[body["target"]].format(key=body.get("key", ""))
        seen_before = s.log_text().count(expected)
        resp = s.post(FAULTS, body)
        self.assert_status(resp, 202)
        poll_until(lambda: s.log_text().count(expected) > seen_before, 30, 0.1,
                   f"supervisor log line {expected!r}")
        poll_until(lambda: s.get("/health").status == 200, 30, 0.1,
                   f"/health 200 after fault {body}")
        base = load.successes()
        poll_until(lambda: load.successes() >= base + min_new_successes or load.bad, 60, 0.1,
                   f"{min_new_successes} more successful orders after fault {body}")
        self.assertFalse(load.bad, f"after fault {body}: {load.bad[:5]}")

    def test_server_survives_crashes_under_load(self):
        s = self.start_server("--enable-fault-injection")
        # The hook needs the admin token (the harness started orderd with one): a wrong one is
        # refused and crashes nothing.
        self.assert_problem(s.post(FAULTS, {"target": "writer"},
                                   headers={"Authorization": "Bearer not-the-token"}), 401)
        for sku, qty in INITIAL.items():
            self.create_product(s, sku, qty)
        # Malformed fault requests are refused, not obeyed.
        for body in ({}, {"target": "nonsense"}, {"target": 7}):
            with self.subTest(body=body):
                self.assert_problem(s.post(FAULTS, body), 400, 422)
        self.assert_problem(s.post(FAULTS, raw=b"{oops"), 400)

        with Load(s) as load:
            poll_until(lambda: load.successes() >= 20 or load.bad, 60, 0.1, "20 orders")
            self.assertFalse(load.bad, load.bad[:5])

            self.inject(s, load, {"target": "stock", "key": "CR-A"})

            victim = load.recent_pending()
            self.assertIsNotNone(victim)
            self.inject(s, load, {"target": "order", "key": victim})
            # The crashed order actor comes back with its state from the store.
            got = self.until_not_503(lambda: s.get(f"/api/v1/orders/{victim}"))
            self.assertEqual(self.assert_json(got, 200)["status"], "PENDING", got.describe())
            cancel = self.until_not_503(lambda: s.post(f"/api/v1/orders/{victim}/cancel"))
            self.assert_json(cancel, 200)
            with load.lock:
                load.cancelled.add(victim)

            self.inject(s, load, {"target": "writer"})
            self.inject(s, load, {"target": "supervisor"})
            # A second crash of the same stock actor is survived just the same.
            self.inject(s, load, {"target": "stock", "key": "CR-B"})

        self.assertFalse(load.bad, f"{len(load.bad)} answers other than 201/200/503: "
                                   f"{load.bad[:5]}")
        self.assert_status(s.get("/health"), 200)
        self.assert_status(s.get("/ready"), 200)

        # Every acknowledged order is readable with the status we caused.
        for oid in load.created:
            got = self.until_not_503(lambda: s.get(f"/api/v1/orders/{oid}"))
            stored = self.assert_json(got, 200)
            if oid in load.cancelled:
                self.assertEqual(stored["status"], "CANCELLED", stored)
            elif oid in load.unknown_cancel:
                self.assertIn(stored["status"], ("PENDING", "CANCELLED"), stored)
            else:
                self.assertEqual(stored["status"], "PENDING", stored)
        # Stock figures are exact against what is stored (a 503 order may or may not exist).
        orders = self.list_all(s, "/api/v1/orders", limit=200)
        self.assertTrue(set(load.created) <= {o["id"] for o in orders},
                        "an acknowledged order is missing from the list")
        self.assert_stock_matches_orders(s, INITIAL, orders, ("PENDING",), "PENDING orders")
        # And business as usual afterwards.
        self.place_order(s, [("CR-A", 1), ("CR-B", 1)])


if __name__ == "__main__":
    unittest.main()
