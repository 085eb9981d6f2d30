"""Orders API: place, read, list, cancel, stock errors, validation, atomicity, grace period."""

import re
import unittest

from harness import OrderdTestCase, order_body, poll_until, random_id

ORDER_FIELDS = {"id", "customer_id", "customer_email", "status", "items", "total_cents",
                "currency", "created_at", "updated_at"}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def short_lines(problem):
    """The `{"sku", "requested", "available"}` entries of an insufficient-stock problem, from
    whichever top-level list carries them (the issue fixes the entry fields, not the member
    name; `errors` is the RFC 9457 convention)."""
    found = []
    for value in problem.values():
        if isinstance(value, list):
            found += [e for e in value if isinstance(e, dict)
                      and {"sku", "requested", "available"} <= set(e)]
    return found


class OrdersTest(OrderdTestCase):
    def assert_refused_short(self, s, stocked, items, short):
        """Creates the products of `stocked` (SKU -> available), orders `items` and asserts a 409
        that lists exactly the `short` lines (sku, requested, available) and leaves every
        product as stocked, nothing reserved."""
        for sku, available in stocked.items():
            self.create_product(s, sku, available)
        resp = s.post("/api/v1/orders", order_body(items))
        problem = self.assert_problem(resp, 409)
        lines = sorted((e["sku"], e["requested"], e["available"]) for e in short_lines(problem))
        self.assertEqual(lines, sorted(short), resp.describe())
        for sku, available in stocked.items():
            self.assertEqual(self.stock(s, sku), (available, 0),
                             f"{sku}: the refused order must not stay reserved")

    def assert_order(self, order, customer_id, email, lines, status="PENDING", currency="USD"):
        """`lines`: [(sku, quantity, unit_price_cents)]."""
        missing = ORDER_FIELDS - set(order)
        self.assertFalse(missing, f"order lacks {sorted(missing)}: {order}")
        self.assertRegex(order["id"], UUID_RE, order)
        self.assertEqual(order["customer_id"], customer_id, order)
        self.assertEqual(order["customer_email"], email, order)
        self.assertEqual(order["status"], status, order)
        self.assertEqual(order["currency"], currency, order)
        items = [(i["sku"], i["quantity"], i["unit_price_cents"]) for i in order["items"]]
        self.assertEqual(sorted(items), sorted(lines), order)
        self.assertEqual(order["total_cents"], sum(q * p for _, q, p in lines), order)
        for key in ("created_at", "updated_at"):
            self.assertIsInstance(order[key], str, order)
            self.assertTrue(order[key], order)

    def test_place_and_get_an_order(self):
        s = self.start()
        self.create_product(s, "MUG-1", 10, price_cents=1999)
        self.create_product(s, "TEA-1", 5, price_cents=500)
        body = order_body([("MUG-1", 2), ("TEA-1", 1)], "alice", "alice@example.com")
        created = self.assert_json(s.post("/api/v1/orders", body), 201)
        self.assert_order(created, "alice", "alice@example.com",
                          [("MUG-1", 2, 1999), ("TEA-1", 1, 500)])
        self.assertEqual(created["total_cents"], 4498)
        self.assertEqual(self.get_order(s, created["id"]), created)
        self.assertEqual(self.stock(s, "MUG-1"), (8, 2))
        self.assertEqual(self.stock(s, "TEA-1"), (4, 1))
        # The unit price is captured when the order is placed.
        self.assert_status(s.put("/api/v1/products/MUG-1",
                                 {"name": "Mug", "description": "", "category": "general",
                                  "price_cents": 2999, "currency": "USD",
                                  "low_stock_threshold": 0}), 200, 204)
        again = self.get_order(s, created["id"])
        self.assert_order(again, "alice", "alice@example.com",
                          [("MUG-1", 2, 1999), ("TEA-1", 1, 500)])
        later = self.place_order(s, [("MUG-1", 1)], "bob")
        self.assert_order(later, "bob", "bob@example.com", [("MUG-1", 1, 2999)])
        self.assertNotEqual(later["id"], created["id"])

    def test_uuids_compare_case_insensitively(self):
        # RFC 9562: a UUID in capitals is the same UUID. Every edge turns it into the one
        # spelling orderd stores (lower case), so reads, cancels and legacy reads find it.
        s = self.start()
        self.create_product(s, "CASE-1", 5)
        placed = self.place_order(s, [("CASE-1", 2)])
        upper = placed["id"].upper()
        self.assertNotEqual(upper, placed["id"])
        fetched = self.assert_json(s.get(f"/api/v1/orders/{upper}"), 200)
        self.assertEqual(fetched["id"], placed["id"])
        legacy = self.assert_json(s.get(f"/order?id={upper}"), 200)
        self.assertEqual(legacy["id"], placed["id"])
        cancelled = self.assert_json(s.post(f"/api/v1/orders/{upper}/cancel"), 200)
        self.assertEqual((cancelled["id"], cancelled["status"]), (placed["id"], "CANCELLED"))
        self.assertEqual(self.stock(s, "CASE-1"), (5, 0))
        # A customer, its cart (X-Customer-Id) and its orders, reached in capitals.
        customer = self.assert_json(s.post("/api/v1/customers",
                                           {"name": "Ada", "email": "ada@example.com"}), 201)
        shout = customer["id"].upper()
        self.assertEqual(self.assert_json(s.get(f"/api/v1/customers/{shout}"), 200)["id"],
                         customer["id"])
        cart = self.assert_json(s.post("/api/v1/cart/items", {"sku": "CASE-1", "quantity": 1},
                                       headers={"X-Customer-Id": shout}), 200)
        self.assertEqual(cart["customer_id"], customer["id"])
        same = self.assert_json(s.get("/api/v1/cart", headers={"X-Customer-Id": customer["id"]}),
                                200)
        self.assertEqual([(i["sku"], i["quantity"]) for i in same["items"]], [("CASE-1", 1)])

    def test_unknown_order_is_404(self):
        s = self.start()
        self.assert_problem(s.get(f"/api/v1/orders/{random_id()}"), 404)
        self.assert_problem(s.post(f"/api/v1/orders/{random_id()}/cancel"), 404)
        # Not even a UUID: nothing can match (404), or the id is refused as malformed (400).
        self.assert_problem(s.get("/api/v1/orders/not-a-uuid"), 400, 404)

    def test_list_filters_and_pagination(self):
        s = self.start()
        self.create_product(s, "LST-1", 100)
        alice = [self.place_order(s, [("LST-1", 1)], "alice")["id"] for _ in range(3)]
        bob = [self.place_order(s, [("LST-1", 2)], "bob")["id"] for _ in range(2)]
        self.assert_json(s.post(f"/api/v1/orders/{alice[0]}/cancel"), 200)

        def ids(**params):
            return sorted(o["id"] for o in self.list_all(s, "/api/v1/orders", **params))

        self.assertEqual(ids(), sorted(alice + bob))
        self.assertEqual(ids(customer_id="alice"), sorted(alice))
        self.assertEqual(ids(customer_id="bob"), sorted(bob))
        self.assertEqual(ids(customer_id="carol"), [])
        self.assertEqual(ids(status="CANCELLED"), [alice[0]])
        self.assertEqual(ids(status="PENDING"), sorted(alice[1:] + bob))
        self.assertEqual(ids(status="PENDING", customer_id="alice"), sorted(alice[1:]))
        self.assertEqual(ids(status="PROCESSING"), [])
        for limit in (1, 2, 5):
            with self.subTest(limit=limit):
                self.assertEqual(ids(limit=limit), sorted(alice + bob))
                self.assertEqual(ids(limit=limit, status="PENDING"), sorted(alice[1:] + bob))
        page = self.assert_json(s.get("/api/v1/orders?limit=2"), 200)
        self.assertEqual(len(page["items"]), 2, page)
        self.assertIsNotNone(page["next_cursor"], page)
        page = self.assert_json(s.get("/api/v1/orders?limit=10"), 200)
        self.assertEqual(len(page["items"]), 5, page)
        self.assertIsNone(page["next_cursor"], page)
        self.assertEqual(len(self.list_all(s, "/api/v1/orders", limit=5)), 5)
        for order in self.list_all(s, "/api/v1/orders"):
            self.assertEqual(order, self.get_order(s, order["id"]), "list and get agree")

    def test_cancel_releases_stock_exactly_once(self):
        s = self.start()
        self.create_product(s, "CXL-1", 10, price_cents=300)
        self.create_product(s, "CXL-2", 4, price_cents=100)
        order = self.place_order(s, [("CXL-1", 3), ("CXL-2", 4)])
        self.assertEqual(self.stock(s, "CXL-1"), (7, 3))
        self.assertEqual(self.stock(s, "CXL-2"), (0, 4))
        cancelled = self.assert_json(s.post(f"/api/v1/orders/{order['id']}/cancel"), 200)
        self.assertEqual(cancelled["id"], order["id"], cancelled)
        self.assertEqual(cancelled["status"], "CANCELLED", cancelled)
        self.assertEqual(self.get_order(s, order["id"])["status"], "CANCELLED")
        self.assertEqual(self.stock(s, "CXL-1"), (10, 0))
        self.assertEqual(self.stock(s, "CXL-2"), (4, 0))
        # A second cancel is refused and releases nothing more.
        self.assert_problem(s.post(f"/api/v1/orders/{order['id']}/cancel"), 409)
        self.assertEqual(self.stock(s, "CXL-1"), (10, 0))
        self.assertEqual(self.stock(s, "CXL-2"), (4, 0))
        self.assertEqual(self.get_order(s, order["id"])["status"], "CANCELLED")
        # The released stock can be sold again.
        self.place_order(s, [("CXL-2", 4)])
        self.assertEqual(self.stock(s, "CXL-2"), (0, 4))

    def test_insufficient_stock_lists_every_short_line(self):
        s = self.start()
        self.assert_refused_short(s, {"SHORT-A": 2, "SHORT-B": 1, "PLENTY-C": 10},
                                  [("SHORT-A", 3), ("PLENTY-C", 1), ("SHORT-B", 5)],
                                  [("SHORT-A", 3, 2), ("SHORT-B", 5, 1)])
        # Nothing was created either.
        self.assertEqual(self.list_all(s, "/api/v1/orders"), [])

    def test_unknown_sku_is_422_and_reserves_nothing(self):
        s = self.start()
        self.create_product(s, "REAL-1", 5)
        resp = s.post("/api/v1/orders", order_body([("REAL-1", 2), ("GHOST-1", 1)]))
        self.assert_problem(resp, 422)
        self.assertEqual(self.stock(s, "REAL-1"), (5, 0))
        self.assertEqual(self.list_all(s, "/api/v1/orders"), [])

    def test_invalid_bodies_are_400(self):
        s = self.start()
        self.create_product(s, "VAL-1", 5)
        good = order_body([("VAL-1", 1)])
        raw_cases = {
            "malformed JSON": b'{"customer_id": "c", "items": [',
            "empty body": b"",
            "JSON array": b'[{"sku": "VAL-1", "quantity": 1}]',
            "JSON null": b"null",
            "trailing garbage": b'{"customer_id": "c"} xyz',
        }
        self.assert_each_refused(s, "/api/v1/orders", raw_cases)

        def with_items(items):
            return dict(good, items=items)

        cases = {
            "empty object": {},
            "empty items": with_items([]),
            "items not a list": with_items({"sku": "VAL-1", "quantity": 1}),
            "items missing": {k: v for k, v in good.items() if k != "items"},
            "customer_id missing": {k: v for k, v in good.items() if k != "customer_id"},
            "customer_id empty": dict(good, customer_id=""),
            "customer_id a number": dict(good, customer_id=17),
            "customer_email missing": {k: v for k, v in good.items() if k != "customer_email"},
            "customer_email invalid": dict(good, customer_email="not-an-email"),
            "quantity 0": with_items([{"sku": "VAL-1", "quantity": 0}]),
            "quantity negative": with_items([{"sku": "VAL-1", "quantity": -2}]),
            "quantity huge": with_items([{"sku": "VAL-1", "quantity": 10 ** 9}]),
            "quantity beyond int64": with_items([{"sku": "VAL-1", "quantity": 10 ** 30}]),
            "quantity a string": with_items([{"sku": "VAL-1", "quantity": "2"}]),
            "quantity fractional": with_items([{"sku": "VAL-1", "quantity": 1.5}]),
            "quantity null": with_items([{"sku": "VAL-1", "quantity": None}]),
            "quantity missing": with_items([{"sku": "VAL-1"}]),
            "sku missing": with_items([{"quantity": 1}]),
            "sku a number": with_items([{"sku": 12, "quantity": 1}]),
            "sku malformed": with_items([{"sku": "bad sku!", "quantity": 1}]),
            "item not an object": with_items(["VAL-1"]),
            "second item invalid": with_items([{"sku": "VAL-1", "quantity": 1},
                                               {"sku": "VAL-1", "quantity": 0}]),
            "too many items": with_items([{"sku": "VAL-1", "quantity": 1}] * 1000),
        }
        self.assert_each_refused(s, "/api/v1/orders", cases)
        self.assertEqual(self.stock(s, "VAL-1"), (5, 0), "refused orders reserve nothing")
        self.assertEqual(self.list_all(s, "/api/v1/orders"), [], "refused orders are not stored")
        # And a valid one still works afterwards.
        self.place_order(s, [("VAL-1", 5)])
        self.assertEqual(self.stock(s, "VAL-1"), (0, 5))

    def test_multi_item_order_is_all_or_nothing(self):
        s = self.start()
        # The first and third lines must not stay reserved.
        self.assert_refused_short(s, {"ATOM-A": 10, "ATOM-B": 1, "ATOM-C": 10},
                                  [("ATOM-A", 5), ("ATOM-B", 2), ("ATOM-C", 1)],
                                  [("ATOM-B", 2, 1)])
        order = self.place_order(s, [("ATOM-A", 5), ("ATOM-B", 1), ("ATOM-C", 1)])
        self.assertEqual(len(order["items"]), 3, order)
        self.assertEqual(self.stock(s, "ATOM-A"), (5, 5))
        self.assertEqual(self.stock(s, "ATOM-B"), (0, 1))
        self.assertEqual(self.stock(s, "ATOM-C"), (9, 1))
        self.assert_problem(s.post("/api/v1/orders", order_body([("ATOM-A", 1),
                                                                 ("ATOM-B", 1)])), 409)
        self.assertEqual(self.stock(s, "ATOM-A"), (5, 5))

    def test_grace_period_moves_orders_to_processing(self):
        # External payments: nobody charges the orders here, so they stay PROCESSING.
        s = self.start("--grace-period", "1", "--payments", "external")
        self.create_product(s, "GRACE-1", 10)
        first = self.place_order(s, [("GRACE-1", 2)])
        second = self.place_order(s, [("GRACE-1", 3)], "other")
        self.assertEqual(first["status"], "PENDING", first)

        def processing(order_id):
            return lambda: self.get_order(s, order_id)["status"] == "PROCESSING"

        poll_until(processing(first["id"]), 30, 0.2, f"order {first['id']} PROCESSING")
        poll_until(processing(second["id"]), 30, 0.2, f"order {second['id']} PROCESSING")
        moved = self.get_order(s, first["id"])
        self.assert_order(moved, "cust-1", "cust-1@example.com", [("GRACE-1", 2, 1000)],
                          status="PROCESSING")
        # Too late to cancel; the reservation stays.
        before = self.stock(s, "GRACE-1")
        self.assertEqual(before, (5, 5))
        self.assert_problem(s.post(f"/api/v1/orders/{first['id']}/cancel"), 409)
        self.assertEqual(self.get_order(s, first["id"])["status"], "PROCESSING")
        self.assertEqual(self.stock(s, "GRACE-1"), before)
        listed = sorted(o["id"] for o in self.list_all(s, "/api/v1/orders", status="PROCESSING"))
        self.assertEqual(listed, sorted([first["id"], second["id"]]))


if __name__ == "__main__":
    unittest.main()
