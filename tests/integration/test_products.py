"""Products API: create, read, list (pagination, category), update, delete, low stock, stock."""

import unittest

from harness import OrderdTestCase, product_body, query

PRODUCT_FIELDS = {"sku", "name", "description", "category", "price_cents", "currency",
                  "available", "reserved", "low_stock_threshold"}


class ProductsTest(OrderdTestCase):
    def setUp(self):
        super().setUp()
        self.server = self.start_server()

    def assert_product(self, actual, expected_body, reserved=0):
        """`actual` has every documented field with the values of the create body."""
        missing = PRODUCT_FIELDS - set(actual)
        self.assertFalse(missing, f"product lacks {sorted(missing)}: {actual}")
        for key, value in expected_body.items():
            self.assertEqual(actual[key], value, f"field {key!r} of {actual}")
        self.assertEqual(actual["reserved"], reserved, f"reserved of {actual}")

    def test_create_then_get_returns_every_field(self):
        body = product_body("SKU-CREATE-1", 25, price_cents=1999, name="Blue mug",
                            description="A mug, blue.", category="kitchen",
                            low_stock_threshold=5)
        created = self.assert_json(self.server.post("/api/v1/products", body), 201)
        self.assert_product(created, body)
        fetched = self.get_product(self.server, "SKU-CREATE-1")
        self.assert_product(fetched, body)
        # Another product does not disturb the first.
        other = product_body("sku.other_2", 0, price_cents=0, currency="EUR")
        self.assert_product(self.assert_json(self.server.post("/api/v1/products", other), 201),
                            other)
        self.assert_product(self.get_product(self.server, "SKU-CREATE-1"), body)

    def test_duplicate_sku_is_409_and_keeps_the_original(self):
        first = product_body("DUP-1", 7, price_cents=100)
        self.create_product(self.server, "DUP-1", 7, price_cents=100)
        resp = self.server.post("/api/v1/products",
                                product_body("DUP-1", 99, price_cents=555, name="Impostor"))
        self.assert_problem(resp, 409)
        self.assert_product(self.get_product(self.server, "DUP-1"), first)

    def test_invalid_create_bodies_are_400(self):
        good = product_body("GOOD-1", 5)
        cases = {
            "malformed JSON": b'{"sku": "X-1", "name": ',
            "empty body": b"",
            "JSON array": b"[1, 2, 3]",
            "JSON string": b'"hello"',
        }
        self.assert_each_refused(self.server, "/api/v1/products", cases)
        bad_bodies = {
            "missing sku": {k: v for k, v in good.items() if k != "sku"},
            "missing name": {k: v for k, v in good.items() if k != "name"},
            "missing price": {k: v for k, v in good.items() if k != "price_cents"},
            "empty sku": dict(good, sku=""),
            "sku with spaces": dict(good, sku="bad sku!"),
            "sku too long": dict(good, sku="S" * 65),
            "negative price": dict(good, price_cents=-1),
            "price as string": dict(good, price_cents="10"),
            "fractional price": dict(good, price_cents=10.5),
            "negative stock": dict(good, available=-3),
            "stock as string": dict(good, available="3"),
            "stock absurdly large": dict(good, available=10 ** 30),
            "bad currency": dict(good, currency="dollars"),
            "negative threshold": dict(good, low_stock_threshold=-1),
            "name as number": dict(good, name=42),
            "name null": dict(good, name=None),
        }
        self.assert_each_refused(self.server, "/api/v1/products", bad_bodies)
        self.assertEqual(self.list_all(self.server, "/api/v1/products"), [],
                         "a refused create must not create anything")

    def test_unknown_sku_is_404_everywhere(self):
        self.create_product(self.server, "EXISTS-1", 3)
        s = self.server
        self.assert_problem(s.get("/api/v1/products/NOPE-1"), 404)
        self.assert_problem(s.put("/api/v1/products/NOPE-1",
                                  {"name": "x", "description": "", "category": "c",
                                   "price_cents": 1, "currency": "USD",
                                   "low_stock_threshold": 0}), 404)
        self.assert_problem(s.delete("/api/v1/products/NOPE-1"), 404)
        self.assert_problem(s.put("/api/v1/products/NOPE-1/stock", {"available": 5}), 404)
        self.assert_problem(s.put("/api/v1/products/NOPE-1/stock", {"delta": 5}), 404)
        self.assertEqual(self.stock(s, "EXISTS-1"), (3, 0))

    def test_update_changes_details_but_not_stock(self):
        self.create_product(self.server, "UPD-1", 12, price_cents=500, category="old")
        details = {"name": "Renamed", "description": "new text", "category": "new",
                   "price_cents": 750, "currency": "EUR", "low_stock_threshold": 3}
        resp = self.assert_status(self.server.put("/api/v1/products/UPD-1", details), 200, 204)
        if resp.status == 200:
            self.assert_product(resp.json(), dict(details, sku="UPD-1", available=12))
        self.assert_product(self.get_product(self.server, "UPD-1"),
                            dict(details, sku="UPD-1", available=12))
        # Invalid updates change nothing.
        for label, body in {"negative price": dict(details, price_cents=-5),
                            "empty name": dict(details, name=""),
                            "price as string": dict(details, price_cents="9")}.items():
            with self.subTest(label):
                self.assert_problem(self.server.put("/api/v1/products/UPD-1", body), 400)
        self.assert_problem(self.server.put("/api/v1/products/UPD-1", raw=b"{oops"), 400)
        self.assert_product(self.get_product(self.server, "UPD-1"),
                            dict(details, sku="UPD-1", available=12))

    def test_delete_removes_the_product(self):
        self.create_product(self.server, "DEL-1", 4)
        self.create_product(self.server, "KEEP-1", 4)
        self.assert_status(self.server.delete("/api/v1/products/DEL-1"), 200, 204)
        self.assert_problem(self.server.get("/api/v1/products/DEL-1"), 404)
        self.assert_problem(self.server.delete("/api/v1/products/DEL-1"), 404)
        skus = [p["sku"] for p in self.list_all(self.server, "/api/v1/products")]
        self.assertEqual(skus, ["KEEP-1"])
        # The sku can be used again.
        self.create_product(self.server, "DEL-1", 9)
        self.assertEqual(self.stock(self.server, "DEL-1"), (9, 0))

    def test_delete_with_reserved_units_is_409(self):
        # store.hpp: deleting a product fails with `conflict` while units are reserved.
        self.create_product(self.server, "HELD-1", 5)
        self.place_order(self.server, [("HELD-1", 2)])
        self.assert_problem(self.server.delete("/api/v1/products/HELD-1"), 409)
        self.assertEqual(self.stock(self.server, "HELD-1"), (3, 2))

    def test_list_paginates_with_limit_and_cursor(self):
        skus = [f"PAGE-{c}" for c in "gcaebfd"]  # created out of order on purpose
        for sku in skus:
            self.create_product(self.server, sku, 1)
        everything = self.list_all(self.server, "/api/v1/products")
        self.assertEqual(sorted(p["sku"] for p in everything), sorted(skus))
        for limit in (1, 2, 3, 7, 50):
            with self.subTest(limit=limit):
                paged = self.list_all(self.server, "/api/v1/products", limit=limit)
                self.assertEqual(sorted(p["sku"] for p in paged), sorted(skus),
                                 "every product exactly once across the pages")
        first = self.assert_json(self.server.get("/api/v1/products?limit=3"), 200)
        self.assertEqual(len(first["items"]), 3, first)
        self.assertIsNotNone(first["next_cursor"], f"more pages follow: {first}")
        last = self.assert_json(self.server.get("/api/v1/products?limit=7"), 200)
        if len(last["items"]) == 7 and last["next_cursor"] is not None:
            # A server may only learn on the next page that nothing follows.
            tail = self.assert_json(self.server.get(
                query("/api/v1/products", limit=7, cursor=last["next_cursor"])), 200)
            self.assertEqual(tail["items"], [], tail)
            self.assertIsNone(tail["next_cursor"], tail)
        big = self.assert_json(self.server.get("/api/v1/products?limit=50"), 200)
        self.assertEqual(len(big["items"]), 7, big)
        self.assertIsNone(big["next_cursor"], f"next_cursor must be null on the last page: {big}")
        for bad in ("limit=abc", "limit=-1"):
            with self.subTest(query=bad):
                self.assert_problem(self.server.get("/api/v1/products?" + bad), 400)

    def test_category_filter(self):
        for i in range(5):
            self.create_product(self.server, f"BOOK-{i}", 1, category="books")
        for i in range(3):
            self.create_product(self.server, f"GAME-{i}", 1, category="games")
        books = self.list_all(self.server, "/api/v1/products", category="books")
        self.assertEqual(sorted(p["sku"] for p in books), [f"BOOK-{i}" for i in range(5)])
        self.assertTrue(all(p["category"] == "books" for p in books), books)
        paged = self.list_all(self.server, "/api/v1/products", category="games", limit=2)
        self.assertEqual(sorted(p["sku"] for p in paged), [f"GAME-{i}" for i in range(3)])
        none = self.assert_json(self.server.get("/api/v1/products?category=toys"), 200)
        self.assertEqual(none["items"], [], none)
        self.assertIsNone(none["next_cursor"], none)

    def test_low_stock_lists_products_at_or_below_threshold(self):
        self.create_product(self.server, "LOW-BELOW", 2, low_stock_threshold=5)
        self.create_product(self.server, "LOW-EQUAL", 5, low_stock_threshold=5)
        self.create_product(self.server, "LOW-ABOVE", 6, low_stock_threshold=5)
        self.create_product(self.server, "LOW-NONE", 100, low_stock_threshold=0)
        low = self.assert_json(self.server.get("/api/v1/products/low-stock"), 200)
        self.assertIsInstance(low, dict, low)
        self.assertEqual(sorted(p["sku"] for p in low["items"]), ["LOW-BELOW", "LOW-EQUAL"], low)
        # Selling stock moves a product onto the list; restocking takes it off.
        self.place_order(self.server, [("LOW-ABOVE", 1)])
        self.assert_status(self.server.put("/api/v1/products/LOW-BELOW/stock",
                                           {"available": 50}), 200, 204)
        low = self.assert_json(self.server.get("/api/v1/products/low-stock"), 200)
        self.assertEqual(sorted(p["sku"] for p in low["items"]), ["LOW-ABOVE", "LOW-EQUAL"], low)

    def test_stock_set_and_delta(self):
        s = self.server
        self.create_product(s, "STK-1", 10)
        resp = self.assert_status(s.put("/api/v1/products/STK-1/stock", {"available": 20}),
                                  200, 204)
        if resp.status == 200 and "available" in resp.json():
            self.assertEqual(resp.json()["available"], 20, resp.describe())
        self.assertEqual(self.stock(s, "STK-1"), (20, 0))
        self.assert_status(s.put("/api/v1/products/STK-1/stock", {"delta": 5}), 200, 204)
        self.assertEqual(self.stock(s, "STK-1"), (25, 0))
        self.assert_status(s.put("/api/v1/products/STK-1/stock", {"delta": -10}), 200, 204)
        self.assertEqual(self.stock(s, "STK-1"), (15, 0))
        # Never below zero: refused, stock unchanged.
        self.assert_problem(s.put("/api/v1/products/STK-1/stock", {"delta": -16}), 409, 422)
        self.assertEqual(self.stock(s, "STK-1"), (15, 0))
        self.assert_status(s.put("/api/v1/products/STK-1/stock", {"delta": -15}), 200, 204)
        self.assertEqual(self.stock(s, "STK-1"), (0, 0))
        self.assert_status(s.put("/api/v1/products/STK-1/stock", {"available": 8}), 200, 204)
        # Reserved units are untouched by stock changes.
        self.place_order(s, [("STK-1", 3)])
        self.assertEqual(self.stock(s, "STK-1"), (5, 3))
        self.assert_status(s.put("/api/v1/products/STK-1/stock", {"available": 40}), 200, 204)
        self.assertEqual(self.stock(s, "STK-1"), (40, 3))
        self.assert_problem(s.put("/api/v1/products/STK-1/stock", {"delta": -41}), 409, 422)
        self.assertEqual(self.stock(s, "STK-1"), (40, 3))
        # Malformed stock bodies.
        for label, body in {"empty object": {}, "negative set": {"available": -1},
                            "set as string": {"available": "5"},
                            "delta as string": {"delta": "x"},
                            "fractional delta": {"delta": 1.5},
                            "unknown field only": {"amount": 3}}.items():
            with self.subTest(label):
                self.assert_problem(s.put("/api/v1/products/STK-1/stock", body), 400)
        self.assert_problem(s.put("/api/v1/products/STK-1/stock", raw=b"[}"), 400)
        self.assertEqual(self.stock(s, "STK-1"), (40, 3))


if __name__ == "__main__":
    unittest.main()
