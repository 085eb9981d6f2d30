"""The order lifecycle after placement, against the real binary: the grace period, the payment
saga with the mock payment service (CONFIRMED, or CANCELLED with reason payment_failed and the
stock released), shipping updates through PUT /api/v1/orders/{id}/status, and a kill -9 while
orders are PROCESSING (they complete exactly once after the restart)."""

import unittest

from harness import OrderdTestCase, poll_until, query, random_id

FAST = ("--grace-period", "0.2", "--processor-interval-ms", "100", "--payment-latency-ms", "50")


class SagaTestCase(OrderdTestCase):
    def wait_status(self, server, order_id, *statuses, timeout=30):
        def reached():
            order = self.get_order(server, order_id)
            return order if order["status"] in statuses else None
        return poll_until(reached, timeout, 0.05, f"order {order_id} in {statuses}")

    def sold(self, server, sku):
        return self.get_product(server, sku)["sold"]


class PaymentTest(SagaTestCase):
    def test_a_paid_order_is_confirmed_and_its_units_sold(self):
        s = self.start_server(*FAST, "--payment-success-rate", "1")
        self.create_product(s, "SAGA-OK", 10)
        order = self.place_order(s, [("SAGA-OK", 3)])
        self.assertEqual(order["status"], "PENDING")
        confirmed = self.wait_status(s, order["id"], "CONFIRMED", "CANCELLED")
        self.assertEqual(confirmed["status"], "CONFIRMED", confirmed)
        self.assertNotIn("cancel_reason", confirmed)
        self.assertEqual(self.stock(s, "SAGA-OK"), (7, 0))
        self.assertEqual(self.sold(s, "SAGA-OK"), 3)
        # Too late for the customer to cancel.
        self.assert_problem(s.post(f"/api/v1/orders/{order['id']}/cancel"), 409)

    def test_a_failed_payment_cancels_the_order_and_restores_the_stock(self):
        s = self.start_server(*FAST, "--payment-success-rate", "0")
        self.create_product(s, "SAGA-FAIL", 10)
        order = self.place_order(s, [("SAGA-FAIL", 4)])
        self.assertEqual(self.stock(s, "SAGA-FAIL"), (6, 4))
        cancelled = self.wait_status(s, order["id"], "CONFIRMED", "CANCELLED")
        self.assertEqual(cancelled["status"], "CANCELLED", cancelled)
        self.assertEqual(cancelled["cancel_reason"], "payment_failed")
        self.assertEqual(self.stock(s, "SAGA-FAIL"), (10, 0))
        self.assertEqual(self.sold(s, "SAGA-FAIL"), 0)
        listed = self.list_all(s, "/api/v1/orders", status="CANCELLED")
        self.assertEqual([(o["id"], o["cancel_reason"]) for o in listed],
                         [(order["id"], "payment_failed")])

    def test_a_customer_cancel_records_its_reason(self):
        s = self.start_server()
        self.create_product(s, "SAGA-CX", 10)
        order = self.place_order(s, [("SAGA-CX", 1)])
        body = self.assert_json(s.post(f"/api/v1/orders/{order['id']}/cancel"), 200)
        self.assertEqual(body["cancel_reason"], "customer_request")

    def test_a_payment_slower_than_its_timeout_fails(self):
        s = self.start_server("--grace-period", "0.2", "--processor-interval-ms", "100",
                              "--payment-success-rate", "1", "--payment-latency-ms", "5000",
                              "--payment-timeout-ms", "300")
        self.create_product(s, "SAGA-SLOW", 10)
        order = self.place_order(s, [("SAGA-SLOW", 2)])
        cancelled = self.wait_status(s, order["id"], "CONFIRMED", "CANCELLED")
        self.assertEqual(cancelled["status"], "CANCELLED", cancelled)
        self.assertEqual(cancelled["cancel_reason"], "payment_failed")
        self.assertEqual(self.stock(s, "SAGA-SLOW"), (10, 0))


class ShippingTest(SagaTestCase):
    def put_status(self, server, order_id, status):
        return server.put(f"/api/v1/orders/{order_id}/status", {"status": status})

    def test_shipping_updates_follow_the_state_machine(self):
        s = self.start_server("--payment-success-rate", "1", "--grace-period", "1",
                              "--processor-interval-ms", "100", "--payment-latency-ms", "50")
        self.create_product(s, "SHIP-1", 10)
        order = self.place_order(s, [("SHIP-1", 2)])
        oid = order["id"]
        # PENDING: not yet.
        self.assert_problem(self.put_status(s, oid, "SHIPPED"), 409)
        # Not a status other services may set, or not a status at all: 400, nothing changes.
        for bad in ("CONFIRMED", "CANCELLED", "PENDING", "LOST"):
            with self.subTest(status=bad):
                self.assert_problem(self.put_status(s, oid, bad), 400)
        self.assert_problem(s.put(f"/api/v1/orders/{oid}/status", {}), 400)
        self.assert_problem(s.put(f"/api/v1/orders/{oid}/status", {"status": 3}), 400)
        self.assertEqual(self.get_order(s, oid)["status"], "PENDING")
        self.assert_problem(self.put_status(s, random_id(), "SHIPPED"), 404)
        self.wait_status(s, oid, "CONFIRMED")
        self.assert_problem(self.put_status(s, oid, "DELIVERED"), 409)
        shipped = self.assert_json(self.put_status(s, oid, "SHIPPED"), 200)
        self.assertEqual(shipped["status"], "SHIPPED")
        self.assert_problem(self.put_status(s, oid, "SHIPPED"), 409)
        delivered = self.assert_json(self.put_status(s, oid, "delivered"), 200)
        self.assertEqual(delivered["status"], "DELIVERED")
        self.assertEqual(self.get_order(s, oid)["status"], "DELIVERED")
        self.assertEqual(self.stock(s, "SHIP-1"), (8, 0))
        self.assertEqual(self.sold(s, "SHIP-1"), 2)


class RestartTest(SagaTestCase):
    def test_kill_9_while_processing_completes_each_order_once(self):
        # Slow payments: the orders sit PROCESSING, their charges in flight, when the node dies.
        args = ("--grace-period", "0.2", "--processor-interval-ms", "100",
                "--payment-success-rate", "1", "--payment-latency-ms", "3000",
                "--payment-timeout-ms", "60000")
        s = self.start_server(*args)
        self.create_product(s, "KILL-1", 100)
        orders = [self.place_order(s, [("KILL-1", n)], f"cust-{n}") for n in (1, 2, 3, 4)]
        for o in orders:
            self.wait_status(s, o["id"], "PROCESSING")
        self.assertEqual(self.stock(s, "KILL-1"), (90, 10))
        s.restart(graceful=False)
        for o in orders:
            done = self.wait_status(s, o["id"], "CONFIRMED", "CANCELLED", timeout=60)
            self.assertEqual(done["status"], "CONFIRMED", done)
        # Exactly once: every unit sold once, nothing left reserved, nothing given back.
        self.assertEqual(self.stock(s, "KILL-1"), (90, 0))
        self.assertEqual(self.sold(s, "KILL-1"), 10)
        self.assertEqual(len(self.list_all(s, "/api/v1/orders", status="CONFIRMED")), 4)


class LifecycleFlowTest(SagaTestCase):
    """The issue's full flows, notifications included (email to the maildir by default)."""

    def mails(self, server, order_id):
        body = self.assert_json(server.get(query("/api/v1/notifications", channel="email",
                                                 limit=100)), 200)
        return {n["event_type"]: n for n in body["items"] if order_id in n["subject"] + n["body"]}

    def wait_mails(self, server, order_id, *event_types):
        def sent():
            mails = self.mails(server, order_id)
            done = all(mails.get(t, {}).get("status") == "SENT" for t in event_types)
            return mails if done else None
        return poll_until(sent, 30, 0.1, f"SENT mails {event_types} for {order_id}")

    def test_order_to_confirmed_with_notifications_sent(self):
        s = self.start_server(*FAST, "--payment-success-rate", "1")
        self.create_product(s, "FLOW-OK", 5)
        order = self.place_order(s, [("FLOW-OK", 2)], customer_id="flow-1")
        self.assertEqual(self.wait_status(s, order["id"], "CONFIRMED", "CANCELLED")["status"],
                         "CONFIRMED")
        mails = self.wait_mails(s, order["id"], "order.created", "order.confirmed")
        self.assertEqual(mails["order.confirmed"]["recipient"], "flow-1@example.com")
        self.assertEqual(self.stock(s, "FLOW-OK"), (3, 0))
        self.assertEqual(self.sold(s, "FLOW-OK"), 2)

    def test_failed_payment_cancels_restores_stock_and_notifies(self):
        s = self.start_server(*FAST, "--payment-success-rate", "0")
        self.create_product(s, "FLOW-FAIL", 5)
        order = self.place_order(s, [("FLOW-FAIL", 2)], customer_id="flow-2")
        cancelled = self.wait_status(s, order["id"], "CONFIRMED", "CANCELLED")
        self.assertEqual((cancelled["status"], cancelled["cancel_reason"]),
                         ("CANCELLED", "payment_failed"))
        self.assertEqual(self.stock(s, "FLOW-FAIL"), (5, 0))
        mails = self.wait_mails(s, order["id"], "order.created", "order.cancelled")
        self.assertEqual(mails["order.cancelled"]["recipient"], "flow-2@example.com")
        self.assertNotIn("order.confirmed", mails)


if __name__ == "__main__":
    unittest.main()
