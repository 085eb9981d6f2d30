"""Customers and carts: every endpoint and every error status, the checkout flow (short stock ->
409 and a marked, unlocked cart; adjust; checkout -> 201 and an empty cart; the order in the
customer's list), durability across a restart and a crashed cart actor."""

import unittest

from harness import OrderdTestCase, poll_until, query, random_id, run_parallel

CUSTOMERS = "/api/v1/customers"
CART = "/api/v1/cart"
ITEMS = "/api/v1/cart/items"
CHECKOUT = "/api/v1/cart/checkout"
FAULTS = "/api/v1/admin/faults"
CUSTOMER_FIELDS = {"id", "name", "email", "phone", "address", "version", "created_at",
                   "updated_at"}
CART_FIELDS = {"customer_id", "status", "items", "total_cents", "currency", "short_items",
               "version", "created_at", "updated_at"}


def customer_body(name="Ada Lovelace", email="ada@example.com", **extra):
    return dict({"name": name, "email": email}, **extra)


class CustomersCartsTest(OrderdTestCase):
    def setUp(self):
        super().setUp()
        self.server = self.start_server("--enable-fault-injection")

    # -- helpers

    def create_customer(self, name="Ada Lovelace", email="ada@example.com", **extra):
        resp = self.server.post(CUSTOMERS, customer_body(name, email, **extra))
        body = self.assert_json(resp, 201)
        self.assertEqual(resp.header("Location"), f"{CUSTOMERS}/{body['id']}")
        self.assertEqual(set(body), CUSTOMER_FIELDS)
        return body

    def as_customer(self, customer_id):
        return {"X-Customer-Id": customer_id}

    def cart(self, customer_id, expected=200):
        resp = self.server.get(CART, headers=self.as_customer(customer_id))
        if expected == 200:
            body = self.assert_json(resp, 200)
            self.assertEqual(set(body), CART_FIELDS)
            return body
        return self.assert_problem(resp, expected)

    def add(self, customer_id, sku, quantity):
        return self.server.post(ITEMS, {"sku": sku, "quantity": quantity},
                                headers=self.as_customer(customer_id))

    def remove(self, customer_id, sku):
        return self.server.delete(f"{ITEMS}/{sku}", headers=self.as_customer(customer_id))

    def checkout(self, customer_id, key=None):
        headers = self.as_customer(customer_id)
        if key:
            headers["Idempotency-Key"] = key
        return self.server.post(CHECKOUT, headers=headers)

    # -- customers

    def test_customer_create_read_update_delete(self):
        ada = self.create_customer(phone="+44 20 7946 0000", address="12 St James's Square")
        self.assertEqual((ada["name"], ada["email"], ada["phone"], ada["version"]),
                         ("Ada Lovelace", "ada@example.com", "+44 20 7946 0000", 1))
        self.assertEqual(self.assert_json(self.server.get(f"{CUSTOMERS}/{ada['id']}"), 200), ada)
        bare = self.create_customer("Bob", "bob@example.com")
        self.assertEqual((bare["phone"], bare["address"]), ("", ""))

        put = self.server.put(f"{CUSTOMERS}/{ada['id']}",
                              customer_body("Ada King", "ada.king@example.com"))
        updated = self.assert_json(put, 200)
        self.assertEqual((updated["name"], updated["email"], updated["phone"], updated["version"]),
                         ("Ada King", "ada.king@example.com", "", 2))
        self.assertEqual(updated["created_at"], ada["created_at"])
        self.assertEqual(self.assert_json(self.server.get(f"{CUSTOMERS}/{ada['id']}"), 200),
                         updated)

        resp = self.server.delete(f"{CUSTOMERS}/{ada['id']}")
        self.assert_status(resp, 204)
        self.assertEqual(resp.body, b"")
        self.assert_problem(self.server.get(f"{CUSTOMERS}/{ada['id']}"), 404)
        self.assert_problem(self.server.delete(f"{CUSTOMERS}/{ada['id']}"), 404)
        self.assert_problem(self.server.put(f"{CUSTOMERS}/{ada['id']}", customer_body()), 404)
        # The address is free again.
        self.create_customer("Ada again", "ADA.KING@example.com")

    def test_customer_errors_change_nothing(self):
        ada = self.create_customer()
        bad_bodies = {
            "missing name": {"email": "x@example.com"},
            "missing email": {"name": "X"},
            "empty name": customer_body(name=""),
            "bad email": customer_body(email="not-an-email"),
            "email as number": customer_body(email=42),
            "name null": customer_body(name=None),
            "bad phone": customer_body(email="p@example.com", phone="call me"),
            "address too long": customer_body(email="a@example.com", address="x" * 501),
        }
        for label, body in bad_bodies.items():
            with self.subTest(label):
                problem = self.assert_problem(self.server.post(CUSTOMERS, body), 400)
                self.assertTrue(problem.get("errors"), problem)
                self.assert_problem(self.server.put(f"{CUSTOMERS}/{ada['id']}", body), 400)
        self.assert_problem(self.server.post(CUSTOMERS, raw=b'{"name": '), 400)
        self.assert_problem(self.server.post(CUSTOMERS, raw=b"[]"), 400)
        self.assert_problem(self.server.post(CUSTOMERS, raw=b"{}", content_type="text/plain"),
                            415)
        # E-mail addresses are unique, whatever their case.
        self.assert_problem(self.server.post(CUSTOMERS, customer_body("Eve", "ADA@example.com")),
                            409)
        bob = self.create_customer("Bob", "bob@example.com")
        self.assert_problem(self.server.put(f"{CUSTOMERS}/{bob['id']}",
                                            customer_body("Bob", "Ada@Example.com")), 409)
        # Unknown or malformed ids.
        for cid in (random_id(), "not-a-uuid"):
            with self.subTest(id=cid):
                self.assert_problem(self.server.get(f"{CUSTOMERS}/{cid}"), 404)
                self.assert_problem(self.server.put(f"{CUSTOMERS}/{cid}", customer_body()), 404)
                self.assert_problem(self.server.delete(f"{CUSTOMERS}/{cid}"), 404)
                self.assert_problem(self.server.get(f"{CUSTOMERS}/{cid}/orders"), 404)
        # Listing parameters.
        self.assert_problem(self.server.get(query(CUSTOMERS, limit=0)), 400)
        self.assert_problem(self.server.get(query(CUSTOMERS, limit="x")), 400)
        self.assert_problem(self.server.get(query(CUSTOMERS, cursor="!!bad")), 400)
        self.assert_problem(self.server.request("PATCH", CUSTOMERS, {}), 405)
        everyone = self.list_all(self.server, CUSTOMERS)
        self.assertEqual(sorted(c["id"] for c in everyone), sorted([ada["id"], bob["id"]]))
        self.assertEqual(self.assert_json(self.server.get(f"{CUSTOMERS}/{ada['id']}"), 200), ada)

    def test_customers_are_listed_in_pages(self):
        ids = {self.create_customer(f"C{i}", f"c{i}@example.com")["id"] for i in range(5)}
        listed = self.list_all(self.server, CUSTOMERS, limit=2)
        self.assertEqual([c["id"] for c in listed], sorted(ids))

    def test_customer_orders_lists_the_orders_with_its_id(self):
        self.create_product(self.server, "CO-1", 50, price_cents=100)
        ada = self.create_customer()
        mine = [self.place_order(self.server, [("CO-1", i + 1)], customer_id=ada["id"])
                for i in range(3)]
        self.place_order(self.server, [("CO-1", 1)], customer_id="someone-else")
        path = f"{CUSTOMERS}/{ada['id']}/orders"
        listed = self.list_all(self.server, path, limit=2)
        self.assertEqual([o["id"] for o in listed], [o["id"] for o in reversed(mine)])
        self.assertEqual(self.list_all(self.server, path, status="CANCELLED"), [])
        self.assert_problem(self.server.get(query(path, status="LOST")), 400)
        self.assert_problem(self.server.get(query(path, limit=501)), 400)
        self.assert_problem(self.server.get(query(path, cursor="!!bad")), 400)

    # -- carts

    def test_cart_header_is_required_and_checked(self):
        for label, headers in {"missing": {}, "empty": {"X-Customer-Id": ""},
                               "not a uuid": {"X-Customer-Id": "cust-1"}}.items():
            with self.subTest(label):
                self.assert_problem(self.server.get(CART, headers=headers), 400)
                self.assert_problem(self.server.post(ITEMS, {"sku": "X", "quantity": 1},
                                                     headers=headers), 400)
                self.assert_problem(self.server.delete(f"{ITEMS}/X", headers=headers), 400)
                self.assert_problem(self.server.post(CHECKOUT, headers=headers), 400)
        nobody = random_id()
        self.cart(nobody, expected=404)
        self.assert_problem(self.add(nobody, "X", 1), 404)
        self.assert_problem(self.remove(nobody, "X"), 404)
        self.assert_problem(self.checkout(nobody), 404)

    def test_cart_items_and_their_errors(self):
        self.create_product(self.server, "MUG", 10, price_cents=1250)
        self.create_product(self.server, "TEE", 10, price_cents=900)
        ada = self.create_customer()["id"]
        self.cart(ada, expected=404)  # no cart before the first item
        self.assert_problem(self.remove(ada, "MUG"), 404)
        cart = self.assert_json(self.add(ada, "MUG", 2), 200)
        self.assertEqual(cart["status"], "open")
        self.assertEqual(cart["items"], [{"sku": "MUG", "quantity": 2, "unit_price_cents": 1250,
                                          "currency": "USD", "line_total_cents": 2500}])
        cart = self.assert_json(self.add(ada, "MUG", 1), 200)  # adds to the line
        cart = self.assert_json(self.add(ada, "TEE", 1), 200)
        self.assertEqual([(i["sku"], i["quantity"]) for i in cart["items"]],
                         [("MUG", 3), ("TEE", 1)])
        self.assertEqual((cart["total_cents"], cart["currency"]), (3 * 1250 + 900, "USD"))
        version = cart["version"]
        # A price change shows at once: carts hold no prices.
        self.assert_json(self.server.put("/api/v1/products/TEE",
                                         {"name": "Tee", "price_cents": 1000}), 200)
        self.assertEqual(self.cart(ada)["total_cents"], 3 * 1250 + 1000)
        # Refusals change nothing.
        bad = {"quantity zero": {"sku": "MUG", "quantity": 0},
               "quantity as string": {"sku": "MUG", "quantity": "1"},
               "quantity too large": {"sku": "MUG", "quantity": 1000001},
               "missing sku": {"quantity": 1},
               "bad sku": {"sku": "bad sku!", "quantity": 1}}
        for label, body in bad.items():
            with self.subTest(label):
                self.assert_problem(self.server.post(ITEMS, body,
                                                     headers=self.as_customer(ada)), 400)
        self.assert_problem(self.server.post(ITEMS, raw=b"{", headers=self.as_customer(ada)), 400)
        self.assert_problem(self.server.post(ITEMS, raw=b"{}", content_type="text/plain",
                                             headers=self.as_customer(ada)), 415)
        self.assert_problem(self.add(ada, "MUG", 999998), 400)  # the line would pass 1,000,000
        problem = self.assert_problem(self.add(ada, "GHOST", 1), 422)
        self.assertIn("GHOST", problem["detail"])
        self.assert_problem(self.remove(ada, "GHOST"), 404)
        self.assert_problem(self.server.get(ITEMS, headers=self.as_customer(ada)), 405)
        self.assertEqual(self.cart(ada)["version"], version)
        cart = self.assert_json(self.remove(ada, "MUG"), 200)
        self.assertEqual([i["sku"] for i in cart["items"]], ["TEE"])
        # A deleted product shows unpriced, and the total is unknown.
        self.assert_json(self.add(ada, "MUG", 1), 200)
        self.assert_status(self.server.delete("/api/v1/products/MUG"), 204)
        cart = self.cart(ada)
        mug = [i for i in cart["items"] if i["sku"] == "MUG"][0]
        self.assertIsNone(mug["unit_price_cents"])
        self.assertIsNone(cart["total_cents"])
        self.assert_problem(self.checkout(ada), 422)
        self.assertEqual(self.cart(ada)["status"], "open")

    def test_checkout_flow_short_stock_adjust_and_place(self):
        self.create_product(self.server, "MUG", 10, price_cents=1250)
        self.create_product(self.server, "TEE", 2, price_cents=900)
        ada = self.create_customer()
        cid = ada["id"]
        self.assert_problem(self.checkout(cid), 409)  # no cart yet: nothing to check out
        self.assert_json(self.add(cid, "MUG", 3), 200)
        self.assert_json(self.add(cid, "TEE", 5), 200)

        short = self.checkout(cid)
        problem = self.assert_problem(short, 409)
        self.assertEqual(problem["short_items"], [{"sku": "TEE", "requested": 5, "available": 2}])
        cart = self.cart(cid)
        self.assertEqual(cart["status"], "stock_unavailable")
        self.assertEqual(cart["short_items"], [{"sku": "TEE", "requested": 5, "available": 2}])
        self.assertEqual([(i["sku"], i["quantity"]) for i in cart["items"]],
                         [("MUG", 3), ("TEE", 5)])
        self.assertEqual(self.stock(self.server, "MUG"), (10, 0))
        self.assertEqual(self.list_all(self.server, f"{CUSTOMERS}/{cid}/orders"), [])

        # Adjust: the cart is unlocked and the mark goes with the first change.
        cart = self.assert_json(self.remove(cid, "TEE"), 200)
        self.assertEqual((cart["status"], cart["short_items"]), ("open", []))
        self.assert_json(self.add(cid, "TEE", 2), 200)

        placed = self.checkout(cid, key="checkout-1")
        order = self.assert_json(placed, 201)
        self.assertEqual(placed.header("Location"), f"/api/v1/orders/{order['id']}")
        self.assertEqual((order["customer_id"], order["customer_email"], order["status"]),
                         (cid, "ada@example.com", "PENDING"))
        self.assertEqual([(i["sku"], i["quantity"]) for i in order["items"]],
                         [("MUG", 3), ("TEE", 2)])
        self.assertEqual(order["total_cents"], 3 * 1250 + 2 * 900)
        cart = self.cart(cid)
        self.assertEqual((cart["items"], cart["status"], cart["total_cents"]), ([], "open", 0))
        self.assertEqual(self.stock(self.server, "MUG"), (7, 3))
        self.assertEqual(self.assert_json(self.server.get(f"/api/v1/orders/{order['id']}"), 200),
                         order)

        # The same key replays the first answer and places nothing.
        again = self.checkout(cid, key="checkout-1")
        self.assertEqual(self.assert_json(again, 201), order)
        self.assertEqual(again.header("Idempotent-Replayed"), "true")
        self.assert_problem(self.checkout(cid), 409)  # empty
        self.assert_problem(self.server.post(CHECKOUT, headers=dict(
            self.as_customer(cid), **{"Idempotency-Key": ""})), 400)
        other = self.create_customer("Bob", "bob@example.com")["id"]
        self.assert_problem(self.checkout(other, key="checkout-1"), 422)  # someone else's key

        listed = self.list_all(self.server, f"{CUSTOMERS}/{cid}/orders")
        self.assertEqual([o["id"] for o in listed], [order["id"]])
        self.assertEqual(self.stock(self.server, "MUG"), (7, 3))

    def test_concurrent_checkouts_place_one_order(self):
        self.create_product(self.server, "MUG", 10, price_cents=1250)
        cid = self.create_customer()["id"]
        self.assert_json(self.add(cid, "MUG", 1), 200)
        results = run_parallel(lambda _: self.checkout(cid), range(6), threads=6)
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [201] + [409] * 5, [r.describe() for r in results])
        self.assertEqual(len(self.list_all(self.server, f"{CUSTOMERS}/{cid}/orders")), 1)
        self.assertEqual(self.stock(self.server, "MUG"), (9, 1))

    def test_deleting_a_customer_deletes_its_cart(self):
        self.create_product(self.server, "MUG", 10)
        cid = self.create_customer()["id"]
        self.assert_json(self.add(cid, "MUG", 1), 200)
        self.assert_status(self.server.delete(f"{CUSTOMERS}/{cid}"), 204)
        self.cart(cid, expected=404)
        self.assert_problem(self.add(cid, "MUG", 1), 404)

    def test_cart_survives_a_restart_and_a_crashed_cart_actor(self):
        self.create_product(self.server, "MUG", 10, price_cents=1250)
        cid = self.create_customer()["id"]
        self.assert_json(self.add(cid, "MUG", 2), 200)
        before = self.cart(cid)
        self.server.restart(graceful=False)  # kill -9: only what was committed survives
        self.assertEqual(self.cart(cid), before)

        self.assert_problem(self.server.post(FAULTS, {"target": "cart", "key": "nope"}), 400)
        resp = self.server.post(FAULTS, {"target": "cart", "key": cid})
        self.assert_json(resp, 202)
        after = poll_until(lambda: (lambda r: r.json() if r.status == 200 else None)(
            self.server.get(CART, headers=self.as_customer(cid))), 10, message="cart reloads")
        self.assertEqual(after, before)
        self.assert_json(self.add(cid, "MUG", 1), 200)
        self.assert_json(self.server.post(FAULTS, {"target": "supervisor", "key": "carts"}), 202)
        after = poll_until(lambda: (lambda r: r.json() if r.status == 200 else None)(
            self.server.get(CART, headers=self.as_customer(cid))), 10, message="cart reloads")
        self.assertEqual(after["items"][0]["quantity"], 3)


if __name__ == "__main__":
    unittest.main()
