"""Idempotency-Key on POST /api/v1/orders: replay, different body, concurrency, restarts."""

import unittest
import uuid

from harness import OrderdTestCase, order_body, run_parallel

ORDERS = "/api/v1/orders"


def key():
    return f"test-{uuid.uuid4()}"


class IdempotencyTest(OrderdTestCase):
    def setUp(self):
        super().setUp()
        self.server = self.start_server()
        self.create_product(self.server, "IDEM-1", 10, price_cents=250)
        self.create_product(self.server, "IDEM-2", 10, price_cents=100)

    def post(self, body, k):
        return self.server.post(ORDERS, body, headers={"Idempotency-Key": k})

    def order_ids(self):
        return sorted(o["id"] for o in self.list_all(self.server, ORDERS))

    def assert_same_response(self, replay, original):
        self.assertEqual(replay.status, original.status,
                         f"replay {replay.describe()} vs original {original.describe()}")
        self.assertEqual(replay.json(), original.json(),
                         f"replay {replay.describe()} vs original {original.describe()}")

    def test_replay_returns_the_original_response_and_reserves_nothing(self):
        s = self.server
        body = order_body([("IDEM-1", 2), ("IDEM-2", 1)], "idem")
        k = key()
        first = self.post(body, k)
        order = self.assert_json(first, 201)
        self.assertEqual(self.stock(s, "IDEM-1"), (8, 2))
        for _ in range(3):
            self.assert_same_response(self.post(body, k), first)
        self.assertEqual(self.stock(s, "IDEM-1"), (8, 2), "a replay must not reserve again")
        self.assertEqual(self.stock(s, "IDEM-2"), (9, 1))
        self.assertEqual(self.order_ids(), [order["id"]])
        # The replay is the original even after the order changed since.
        self.assert_json(s.post(f"{ORDERS}/{order['id']}/cancel"), 200)
        self.assert_same_response(self.post(body, k), first)
        self.assertEqual(self.stock(s, "IDEM-1"), (10, 0))
        # Another key with the same body is another order; no key at all is too.
        other = self.assert_json(self.post(body, key()), 201)
        self.assertNotEqual(other["id"], order["id"])
        plain = self.assert_json(s.post(ORDERS, body), 201)
        self.assertNotIn(plain["id"], (order["id"], other["id"]))
        self.assertEqual(self.stock(s, "IDEM-1"), (6, 4))
        self.assertEqual(len(self.order_ids()), 3)

    def test_same_key_with_a_different_body_is_422(self):
        s = self.server
        k = key()
        first = self.post(order_body([("IDEM-1", 1)], "idem"), k)
        order = self.assert_json(first, 201)
        for different in (order_body([("IDEM-1", 2)], "idem"),
                          order_body([("IDEM-2", 1)], "idem"),
                          order_body([("IDEM-1", 1)], "someone-else")):
            with self.subTest(body=different):
                self.assert_problem(self.post(different, k), 422)
        self.assertEqual(self.stock(s, "IDEM-1"), (9, 1))
        self.assertEqual(self.stock(s, "IDEM-2"), (10, 0))
        self.assertEqual(self.order_ids(), [order["id"]])
        # The key still answers its own body with the original.
        self.assert_same_response(self.post(order_body([("IDEM-1", 1)], "idem"), k), first)

    def test_concurrent_requests_with_one_key_create_one_order(self):
        s = self.server
        created = []
        for round_no in range(3):
            k = key()
            body = order_body([("IDEM-1", 1)], f"race-{round_no}")
            results = run_parallel(lambda _: self.post(body, k), range(8), 8)
            errors = [repr(r) for r in results if isinstance(r, Exception)]
            self.assertFalse(errors, errors)
            for r in results:
                if r.status == 409:
                    self.assert_problem(r, 409)
                else:
                    self.assert_status(r, 201)
            ok = [r for r in results if r.status == 201]
            self.assertTrue(ok, f"round {round_no}: no request succeeded: {results}")
            ids = {r.json()["id"] for r in ok}
            self.assertEqual(len(ids), 1, f"round {round_no}: several orders for one key: {ids}")
            created += ids
            # Whatever raced, a replay afterwards is the original.
            self.assert_same_response(self.post(body, k), ok[0])
        self.assertEqual(self.order_ids(), sorted(created))
        self.assertEqual(self.stock(s, "IDEM-1"), (7, 3))

    def test_keys_survive_restarts(self):
        s = self.server
        body = order_body([("IDEM-2", 3)], "durable")
        k = key()
        first = self.post(body, k)
        order = self.assert_json(first, 201)
        self.assertEqual(s.stop(), 0, "SIGTERM must exit 0")
        s.start()
        self.assert_same_response(self.post(body, k), first)
        self.assert_problem(self.post(order_body([("IDEM-2", 4)], "durable"), k), 422)
        self.assertEqual(self.stock(s, "IDEM-2"), (7, 3))
        # A 2xx is on disk: even kill -9 keeps the key.
        k2 = key()
        second = self.post(order_body([("IDEM-1", 1)], "durable"), k2)
        self.assert_json(second, 201)
        s.kill()
        s.start()
        self.assert_same_response(self.post(body, k), first)
        self.assert_same_response(self.post(order_body([("IDEM-1", 1)], "durable"), k2), second)
        self.assertEqual(self.stock(s, "IDEM-2"), (7, 3))
        self.assertEqual(self.stock(s, "IDEM-1"), (9, 1))
        self.assertEqual(self.order_ids(), sorted([order["id"], second.json()["id"]]))


if __name__ == "__main__":
    unittest.main()
