"""No oversell under contention: many concurrent clients racing for a little stock."""

import random
import unittest

from harness import OrderdTestCase, order_body, run_parallel

THREADS = 64


class ConcurrencyTest(OrderdTestCase):
    def setUp(self):
        super().setUp()
        self.server = self.start_server()

    def attempt(self, items, customer):
        """POST one order; returns (items, response). Only 201 and 409 are acceptable."""
        resp = self.server.post("/api/v1/orders", order_body(items, customer))
        return items, resp

    def check_outcomes(self, results):
        """Splits results into accepted (201) and refused (409); anything else fails."""
        accepted, refused, bad = [], [], []
        for r in results:
            if isinstance(r, Exception):
                bad.append(repr(r))
                continue
            items, resp = r
            if resp.status == 201:
                accepted.append((items, resp.json()))
            elif resp.status == 409:
                self.assert_problem(resp, 409)
                refused.append((items, resp))
            else:
                bad.append(resp.describe())
        self.assertFalse(bad, f"{len(bad)} requests neither 201 nor 409, e.g. {bad[:5]}")
        return accepted, refused

    def check_orders_readable(self, accepted):
        for items, order in accepted:
            fetched = self.get_order(self.server, order["id"])
            self.assertEqual(fetched["status"], "PENDING", fetched)
            self.assertEqual(sorted((i["sku"], i["quantity"]) for i in fetched["items"]),
                             sorted(items), fetched)
        ids = [o["id"] for _, o in accepted]
        self.assertEqual(len(ids), len(set(ids)), "two 201 responses carry the same order id")
        listed = {o["id"] for o in self.list_all(self.server, "/api/v1/orders", limit=100)}
        self.assertEqual(listed, set(ids), "the stored orders are exactly the accepted ones")

    def test_no_oversell_on_one_sku(self):
        initial = 50
        self.create_product(self.server, "HOT-1", initial)
        rng = random.Random(1234)
        attempts = [[("HOT-1", rng.randint(1, 3))] for _ in range(200)]
        results = run_parallel(lambda it: self.attempt(it[1], f"racer-{it[0]}"),
                               list(enumerate(attempts)), THREADS)
        accepted, refused = self.check_outcomes(results)
        sold = sum(q for items, _ in accepted for _, q in items)
        available, reserved = self.stock(self.server, "HOT-1")
        self.assertEqual(sold + available, initial,
                         f"accepted {sold} + available {available} != initial {initial}")
        self.assertEqual(reserved, sold, f"reserved {reserved} != accepted quantities {sold}")
        self.assertGreaterEqual(available, 0)
        self.assertTrue(refused, "200 orders for 50 units: some must be refused")
        # Stock only goes down here, so a refusal means less than its quantity was left: at the
        # end fewer units remain than the smallest refused request asked for.
        smallest_refused = min(items[0][1] for items, _ in refused)
        self.assertLess(available, smallest_refused,
                        f"{available} units left yet an order for {smallest_refused} was refused")
        self.check_orders_readable(accepted)

    def test_multi_sku_orders_stay_atomic_under_contention(self):
        initial = {"PAIR-A": 30, "PAIR-B": 20, "PAIR-C": 25}
        for sku, qty in initial.items():
            self.create_product(self.server, sku, qty)
        rng = random.Random(99)
        shapes = [["PAIR-A", "PAIR-B"], ["PAIR-B", "PAIR-A"], ["PAIR-A"], ["PAIR-B"],
                  ["PAIR-C", "PAIR-B", "PAIR-A"], ["PAIR-C"], ["PAIR-A", "PAIR-C"]]
        attempts = [[(sku, rng.randint(1, 3)) for sku in rng.choice(shapes)] for _ in range(240)]
        results = run_parallel(lambda it: self.attempt(it[1], f"pair-{it[0]}"),
                               list(enumerate(attempts)), THREADS)
        accepted, refused = self.check_outcomes(results)
        self.assertTrue(accepted and refused, "expected both accepted and refused orders")
        for sku, qty in initial.items():
            sold = sum(q for items, _ in accepted for s, q in items if s == sku)
            available, reserved = self.stock(self.server, sku)
            self.assertEqual(sold + available, qty, f"{sku}: {sold} accepted + {available} "
                                                    f"available != {qty}")
            self.assertEqual(reserved, sold, f"{sku}: reserved {reserved} != accepted {sold}")
        self.check_orders_readable(accepted)

    def test_concurrent_orders_and_cancels(self):
        initial = 40
        self.create_product(self.server, "CHURN-1", initial)
        first = [self.place_order(self.server, [("CHURN-1", 2)], f"early-{i}") for i in range(10)]
        # Race: cancel each early order from 4 clients at once while new orders compete for
        # the released stock.
        tasks = [("cancel", o["id"]) for o in first for _ in range(4)]
        tasks += [("order", i) for i in range(60)]
        random.Random(7).shuffle(tasks)

        def run(task):
            kind, arg = task
            if kind == "cancel":
                return task, self.server.post(f"/api/v1/orders/{arg}/cancel")
            return task, self.server.post("/api/v1/orders",
                                          order_body([("CHURN-1", 1)], f"late-{arg}"))

        results = run_parallel(run, tasks, THREADS)
        errors = [repr(r) for r in results if isinstance(r, Exception)]
        self.assertFalse(errors, errors[:5])
        cancels = {}
        late = []
        for (kind, arg), resp in results:
            if kind == "cancel":
                self.assert_status(resp, 200, 409)
                cancels.setdefault(arg, []).append(resp.status)
            else:
                self.assert_status(resp, 201, 409)
                if resp.status == 201:
                    late.append(resp.json())
        for order_id, statuses in cancels.items():
            self.assertEqual(sorted(statuses), [200, 409, 409, 409],
                             f"order {order_id}: exactly one cancel wins, got {statuses}")
            self.assertEqual(self.get_order(self.server, order_id)["status"], "CANCELLED")
        available, reserved = self.stock(self.server, "CHURN-1")
        self.assertEqual(reserved, len(late), f"reserved {reserved} != {len(late)} late orders")
        self.assertEqual(available + reserved, initial,
                         f"available {available} + reserved {reserved} != {initial}: stock was "
                         f"released more or less than once per cancelled order")
        for order in late:
            self.assertEqual(self.get_order(self.server, order["id"])["status"], "PENDING")


if __name__ == "__main__":
    unittest.main()
