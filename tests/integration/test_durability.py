"""Durability: a 2xx means the change is on disk. kill -9, restart, everything acknowledged
is still there; stock figures match the stored orders exactly."""

import random
import threading
import unittest

from harness import TRANSPORT_ERRORS, OrderdTestCase, order_body, run_parallel

INITIAL = {"DUR-A": 500, "DUR-B": 300, "DUR-C": 200}


class DurabilityTest(OrderdTestCase):
    def check_stock_matches_orders(self, server, initial):
        """available + reserved == initial, reserved == quantities of the open orders."""
        orders = self.list_all(server, "/api/v1/orders", limit=100)
        self.assert_stock_matches_orders(server, initial, orders, ("PENDING", "PROCESSING"),
                                         "open orders")
        return orders

    def test_acknowledged_orders_survive_kill_9(self):
        s = self.start_server()
        for sku, qty in INITIAL.items():
            self.create_product(s, sku, qty, price_cents=100 + qty)
        rng = random.Random(5)
        shapes = [["DUR-A"], ["DUR-B"], ["DUR-A", "DUR-C"], ["DUR-C", "DUR-B", "DUR-A"]]
        batch = [[(sku, rng.randint(1, 2)) for sku in rng.choice(shapes)] for _ in range(120)]
        results = run_parallel(lambda it: s.post("/api/v1/orders",
                                                 order_body(it[1], f"dur-{it[0]}")),
                               list(enumerate(batch)), 32)
        acked = {}
        for r in results:
            self.assertFalse(isinstance(r, Exception), repr(r))
            self.assert_status(r, 201)
            order = r.json()
            acked[order["id"]] = order
        # Cancel a third of them, concurrently.
        to_cancel = sorted(acked)[:40]
        for r in run_parallel(lambda oid: s.post(f"/api/v1/orders/{oid}/cancel"), to_cancel, 16):
            self.assertFalse(isinstance(r, Exception), repr(r))
            self.assert_status(r, 200)
        for oid in to_cancel:
            acked[oid]["status"] = "CANCELLED"
        before = {sku: self.stock(s, sku) for sku in INITIAL}

        self.assertEqual(s.kill(), -9)
        s.start()

        for oid, order in acked.items():
            stored = self.get_order(s, oid)
            self.assertEqual(stored["status"], order["status"], stored)
            for key in ("customer_id", "customer_email", "items", "total_cents", "currency",
                        "created_at"):
                self.assertEqual(stored[key], order[key], f"{key} of {stored}")
        self.assertEqual({sku: self.stock(s, sku) for sku in INITIAL}, before)
        listed = self.check_stock_matches_orders(s, INITIAL)
        self.assertEqual({o["id"] for o in listed}, set(acked))

    def test_kill_9_under_load_loses_nothing_acknowledged(self):
        s = self.start_server()
        initial = {sku: 100000 for sku in INITIAL}  # never runs out: every answer must be 2xx
        for sku, qty in initial.items():
            self.create_product(s, sku, qty)
        acked, lock, stop = {}, threading.Lock(), threading.Event()
        cancelled, unexpected = set(), []

        def client(n):
            rng = random.Random(n)
            i = 0
            while not stop.is_set():
                i += 1
                items = [(sku, 1) for sku in rng.sample(sorted(INITIAL), rng.randint(1, 2))]
                try:
                    resp = s.post("/api/v1/orders", order_body(items, f"load-{n}-{i}"),
                                  timeout=30)
                except TRANSPORT_ERRORS:
                    return  # the server died under us: the outcome of this one is unknown
                if resp.status != 201:
                    with lock:
                        unexpected.append(resp.describe())
                    return
                order = resp.json()
                with lock:
                    acked[order["id"]] = order
                if i % 5 == 0:
                    try:
                        c = s.post(f"/api/v1/orders/{order['id']}/cancel", timeout=30)
                    except TRANSPORT_ERRORS:
                        return
                    with lock:
                        if c.status == 200:
                            cancelled.add(order["id"])
                        else:
                            unexpected.append(c.describe())

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(16)]
        for t in threads:
            t.start()
        # Let a good number of orders through, then pull the plug mid-flight.
        for _ in range(600):  # at most ~30 s
            with lock:
                if len(acked) >= 150 or unexpected:
                    break
            stop.wait(0.05)
        s.kill()
        stop.set()
        for t in threads:
            t.join(60)
        with lock:
            acked_now, cancelled_now = dict(acked), set(cancelled)
        self.assertFalse(unexpected, f"non-2xx answers before the kill: {unexpected[:5]}")
        self.assertGreater(len(acked_now), 0, "no order was acknowledged before the kill")

        s.start()
        for oid in acked_now:
            stored = self.get_order(s, oid)
            expected = "CANCELLED" if oid in cancelled_now else ("PENDING", "CANCELLED")
            if isinstance(expected, str):
                self.assertEqual(stored["status"], expected, stored)
            else:
                # A cancel in flight at the kill may or may not have committed.
                self.assertIn(stored["status"], expected, stored)
        listed = self.check_stock_matches_orders(s, initial)
        self.assertTrue(set(acked_now) <= {o["id"] for o in listed})
        # The restarted server works normally.
        self.place_order(s, [("DUR-A", 1)])

    def test_catalogue_changes_survive_kill_9(self):
        s = self.start_server()
        self.create_product(s, "CAT-KEEP", 10, price_cents=111, category="c1")
        self.create_product(s, "CAT-EDIT", 10, price_cents=222)
        self.create_product(s, "CAT-GONE", 10)
        details = {"name": "Edited", "description": "after edit", "category": "c2",
                   "price_cents": 333, "currency": "EUR", "low_stock_threshold": 4}
        self.assert_status(s.put("/api/v1/products/CAT-EDIT", details), 200, 204)
        self.assert_status(s.put("/api/v1/products/CAT-KEEP/stock", {"available": 77}), 200, 204)
        self.assert_status(s.put("/api/v1/products/CAT-KEEP/stock", {"delta": -7}), 200, 204)
        self.assert_status(s.delete("/api/v1/products/CAT-GONE"), 200, 204)
        order = self.place_order(s, [("CAT-KEEP", 5)])
        # CAT-EDIT is priced in EUR now: an order of its own (orders never mix currencies).
        self.assertEqual(self.place_order(s, [("CAT-EDIT", 1)])["currency"], "EUR")
        products = {p["sku"]: p for p in self.list_all(s, "/api/v1/products")}

        s.kill()
        s.start()

        self.assertEqual({p["sku"]: p for p in self.list_all(s, "/api/v1/products")}, products)
        self.assertEqual(self.stock(s, "CAT-KEEP"), (65, 5))
        edited = self.get_product(s, "CAT-EDIT")
        for key, value in details.items():
            self.assertEqual(edited[key], value, edited)
        self.assert_problem(s.get("/api/v1/products/CAT-GONE"), 404)
        self.assertEqual(self.get_order(s, order["id"])["status"], "PENDING")
        # Cancel after the restart releases the reservation made before it.
        self.assert_json(s.post(f"/api/v1/orders/{order['id']}/cancel"), 200)
        self.assertEqual(self.stock(s, "CAT-KEEP"), (70, 0))
        self.assertEqual(self.stock(s, "CAT-EDIT"), (9, 1))  # its own order is still open


if __name__ == "__main__":
    unittest.main()
