"""The seed-000 REST routes (`/order`, `/orders`), served unchanged for existing clients.

Their JSON: an order is {"id", "customer_id", "items": [{"product_id", "quantity", "price"}],
"status", "created_at", "updated_at"} with `price` in currency units; lists are
{"orders": [...], "next_cursor": ...} with a default page size of 10."""

import unittest

from harness import OrderdTestCase, poll_until, query, random_id

LEGACY_FIELDS = {"id", "customer_id", "items", "status", "created_at", "updated_at"}


def legacy_body(items, customer_id="legacy-1"):
    """items: [(product_id, quantity)]."""
    return {"customer_id": customer_id,
            "items": [{"product_id": p, "quantity": q} for p, q in items]}


class LegacyApiTest(OrderdTestCase):
    def legacy_order(self, items, customer_id="legacy-1"):
        resp = self.server.post("/order", legacy_body(items, customer_id))
        order = self.assert_json(resp, 201)
        self.assert_legacy_order(order, customer_id)
        return order

    def assert_legacy_order(self, order, customer_id=None, status=None):
        self.assertIsInstance(order, dict, order)
        missing = LEGACY_FIELDS - set(order)
        self.assertFalse(missing, f"legacy order lacks {sorted(missing)}: {order}")
        self.assertIsInstance(order["id"], str, order)
        self.assertTrue(order["id"], order)
        if customer_id is not None:
            self.assertEqual(order["customer_id"], customer_id, order)
        if status is not None:
            self.assertEqual(order["status"], status, order)
        for item in order["items"]:
            self.assertTrue({"product_id", "quantity", "price"} <= set(item), order)

    def legacy_get(self, order_id):
        order = self.assert_json(self.server.get(query("/order", id=order_id)), 200)
        self.assert_legacy_order(order)
        self.assertEqual(order["id"], order_id, order)
        return order

    def legacy_pages(self, path, **params):
        """Follows next_cursor through a legacy list until a short/empty page or no cursor.
        Returns (pages, orders)."""
        pages, orders, cursor = [], [], None
        for _ in range(1000):
            resp = self.server.get(query(path, cursor=cursor, **params))
            page = self.assert_json(resp, 200)
            self.assertIsInstance(page, dict, resp.describe())
            self.assertIsInstance(page.get("orders"), list, resp.describe())
            self.assertIn("next_cursor", page, resp.describe())
            pages.append(page)
            orders += page["orders"]
            cursor = page["next_cursor"]
            if not page["orders"] or not cursor:
                return pages, orders
        self.fail(f"{path}: endless pagination")

    def test_post_order_and_get_it(self):
        s = self.start()
        self.create_product(s, "LEG-MUG", 10, price_cents=1250)
        self.create_product(s, "LEG-TEA", 10, price_cents=199)
        order = self.legacy_order([("LEG-MUG", 2), ("LEG-TEA", 3)], "cust-42")
        self.assertEqual(order["status"], "PENDING", order)
        items = sorted((i["product_id"], i["quantity"], i["price"]) for i in order["items"])
        self.assertEqual([(p, q) for p, q, _ in items], [("LEG-MUG", 2), ("LEG-TEA", 3)])
        self.assertAlmostEqual(items[0][2], 12.50, places=6, msg=order)
        self.assertAlmostEqual(items[1][2], 1.99, places=6, msg=order)
        fetched = self.legacy_get(order["id"])
        self.assertEqual(fetched["status"], "PENDING", fetched)
        self.assertEqual(fetched["customer_id"], "cust-42", fetched)
        self.assertEqual(sorted((i["product_id"], i["quantity"]) for i in fetched["items"]),
                         [("LEG-MUG", 2), ("LEG-TEA", 3)], fetched)
        # Same order underneath: the v1 API sees it, stock is reserved.
        v1 = self.get_order(s, order["id"])
        self.assertEqual(v1["customer_id"], "cust-42", v1)
        self.assertEqual(sorted((i["sku"], i["quantity"], i["unit_price_cents"])
                                for i in v1["items"]), [("LEG-MUG", 2, 1250), ("LEG-TEA", 3, 199)])
        self.assertEqual(self.stock(s, "LEG-MUG"), (8, 2))
        self.assertEqual(self.stock(s, "LEG-TEA"), (7, 3))
        # And an order placed through v1 is visible through the legacy route.
        placed = self.place_order(s, [("LEG-TEA", 1)], "v1-client")
        self.assertEqual(self.legacy_get(placed["id"])["customer_id"], "v1-client")

    def test_post_order_errors(self):
        s = self.start()
        self.create_product(s, "LEG-FEW", 2)
        self.assert_problem(s.post("/order", legacy_body([("LEG-FEW", 3)])), 409)
        self.assert_problem(s.post("/order", legacy_body([("LEG-GHOST", 1)])), 422)
        self.assert_problem(s.post("/order", legacy_body([])), 400)
        self.assert_problem(s.post("/order", legacy_body([("LEG-FEW", 0)])), 400)
        self.assert_problem(s.post("/order", {"items": [{"product_id": "LEG-FEW",
                                                         "quantity": 1}]}), 400)
        self.assert_problem(s.post("/order", raw=b"{not json"), 400)
        self.assertEqual(self.stock(s, "LEG-FEW"), (2, 0))
        self.assert_problem(s.get(query("/order", id=random_id())), 404)

    def test_list_orders_pages_of_ten_with_cursor(self):
        s = self.start()
        self.create_product(s, "LEG-PAGE", 100)
        ids = {self.legacy_order([("LEG-PAGE", 1)], f"c{i}")["id"] for i in range(12)}
        first = self.assert_json(s.get("/orders"), 200)
        self.assertEqual(len(first["orders"]), 10, f"default page size is 10: {first}")
        self.assertTrue(first["next_cursor"], f"a second page follows: {first}")
        pages, orders = self.legacy_pages("/orders")
        self.assertEqual([o["id"] for o in pages[0]["orders"]],
                         [o["id"] for o in first["orders"]])
        got = [o["id"] for o in orders]
        self.assertEqual(len(got), len(set(got)), f"an order listed twice: {got}")
        self.assertEqual(set(got), ids)
        for o in orders:
            self.assert_legacy_order(o, status="PENDING")
        _, small = self.legacy_pages("/orders", pageSize=5)
        self.assertEqual(sorted(o["id"] for o in small), sorted(ids))
        page = self.assert_json(s.get("/orders?pageSize=5"), 200)
        self.assertEqual(len(page["orders"]), 5, page)

    def test_status_filters(self):
        s = self.start()
        self.create_product(s, "LEG-ST", 100)
        orders = [self.legacy_order([("LEG-ST", 1)])["id"] for _ in range(4)]
        self.assert_json(s.post(f"/api/v1/orders/{orders[0]}/cancel"), 200)
        for path in ("/order", "/orders"):
            with self.subTest(path=path):
                _, pending = self.legacy_pages(path, status="PENDING")
                self.assertEqual(sorted(o["id"] for o in pending), sorted(orders[1:]))
                self.assertTrue(all(o["status"] == "PENDING" for o in pending), pending)
                _, cancelled = self.legacy_pages(path, status="CANCELLED")
                self.assertEqual([o["id"] for o in cancelled], [orders[0]])
                self.assertEqual(cancelled[0]["status"], "CANCELLED", cancelled)
                _, none = self.legacy_pages(path, status="PROCESSING")
                self.assertEqual(none, [])
        _, paged = self.legacy_pages("/orders", status="PENDING", pageSize=1)
        self.assertEqual(sorted(o["id"] for o in paged), sorted(orders[1:]))

    def test_delete_cancels_pending_orders(self):
        s = self.start()
        self.create_product(s, "LEG-DEL", 10)
        a = self.legacy_order([("LEG-DEL", 3)])["id"]
        b = self.legacy_order([("LEG-DEL", 2)])["id"]
        self.assertEqual(self.stock(s, "LEG-DEL"), (5, 5))

        for path, order_id, after in (("/order", a, (8, 2)), ("/order/cancel", b, (10, 0))):
            with self.subTest(path=path):
                resp = s.delete(query(path, id=order_id))
                body = self.assert_json(resp, 200)
                self.assertIsInstance(body.get("message"), str, resp.describe())
                self.assertTrue(body["message"], resp.describe())
                self.assertEqual(self.legacy_get(order_id)["status"], "CANCELLED")
                self.assertEqual(self.stock(s, "LEG-DEL"), after)
                # Not PENDING any more: refused, nothing released twice.
                self.assert_problem(s.delete(query(path, id=order_id)), 409)
                self.assertEqual(self.stock(s, "LEG-DEL"), after)
        self.assert_problem(s.delete(query("/order", id=random_id())), 404)
        self.assert_problem(s.delete(query("/order/cancel", id=random_id())), 404)

    def test_delete_after_grace_period_is_409(self):
        # External payments: nobody charges the order here, so it stays PROCESSING.
        s = self.start("--grace-period", "1", "--payments", "external")
        self.create_product(s, "LEG-LATE", 10)
        order_id = self.legacy_order([("LEG-LATE", 4)])["id"]
        poll_until(lambda: self.legacy_get(order_id)["status"] == "PROCESSING", 30, 0.2,
                   f"order {order_id} PROCESSING")
        self.assert_problem(s.delete(query("/order", id=order_id)), 409)
        self.assert_problem(s.delete(query("/order/cancel", id=order_id)), 409)
        self.assertEqual(self.legacy_get(order_id)["status"], "PROCESSING")
        self.assertEqual(self.stock(s, "LEG-LATE"), (6, 4))


if __name__ == "__main__":
    unittest.main()
