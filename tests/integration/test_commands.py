"""Inbound commands over RabbitMQ (inventory.adjust, order.place, order.cancel, payment.result),
against a real
broker: effects, idempotency by message id, outcome events, retries, the dead-letter queue and
its admin API.

The module starts a private RabbitMQ node (rabbitmq_fixture.py), sends commands with the
amqp_send tool and reads events with amqp_tail (tests/tools/). Each test uses its own commands
exchange and queue and its own events exchange, so tests do not see each other's messages.

    python3 tests/integration/run.py test_commands --orderd build/app/orderd \\
        --amqp-tail build/tests/amqp_tail --amqp-send build/tests/amqp_send
"""

import collections
import json
import os
import subprocess
import unittest
import uuid

from harness import OrderdTestCase, order_body, poll_until, random_id
from rabbitmq_fixture import start_module_node
from test_events import Tail

AMQP_TAIL = os.environ.get("ORDERD_AMQP_TAIL", "")
AMQP_SEND = os.environ.get("ORDERD_AMQP_SEND", "")
TOKEN = "it-admin-token"
NODE = None


def setUpModule():
    global NODE
    NODE = start_module_node(amqp_tail=AMQP_TAIL, amqp_send=AMQP_SEND)


def tearDownModule():
    if NODE is not None:
        NODE.cleanup()


def mid():
    return str(uuid.uuid4())


def send_commands(test, url, exchange, *messages):
    """Publishes (routing_key, body, message_id[, extra properties]) tuples to `exchange` with
    the amqp_send tool, confirmed by the broker; `test` asserts that it worked."""
    lines = []
    for m in messages:
        key, body, message_id = m[:3]
        extra = m[3] if len(m) > 3 else {}
        msg = {"exchange": exchange, "routing_key": key, "body": body, **extra}
        if message_id is not None:
            msg["message_id"] = message_id
        lines.append(json.dumps(msg))
    proc = subprocess.run([AMQP_SEND, "--url", url], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, timeout=120)
    test.assertEqual(proc.returncode, 0, f"amqp_send failed: {proc.stderr}")


class CommandsTestCase(OrderdTestCase):
    node_id = "it-node"

    def setUp(self):
        super().setUp()
        suffix = random_id()
        self.commands = f"it.commands.{suffix}"
        self.events_exchange = f"it.events.{suffix}"
        self.tail = Tail(NODE.url, self.events_exchange)
        self.tail.declare()

    def start_orderd(self, *args, data_dir=None):
        return self.start_server(
            "--amqp-url", NODE.url, "--amqp-exchange", self.events_exchange,
            "--commands-exchange", self.commands, "--commands-queue", self.commands,
            "--node-id", self.node_id, "--admin-token", TOKEN, "--enable-fault-injection",
            "--inbound-retry-delays-ms", "100,200", "--inbound-max-attempts", "3",
            *args, data_dir=data_dir)

    def start_consuming(self, stocked, *args):
        """start_orderd(*args), creates the products of `stocked` (SKU -> available) and waits
        until the command consumer is connected."""
        s = self.start_orderd(*args)
        for sku, available in stocked.items():
            self.create_product(s, sku, available)
        self.wait_consuming(s)
        return s

    def wait_consuming(self, server):
        def consuming():
            body = self.assert_json(server.get("/ready"), 200)
            cmds = body["checks"].get("commands")
            return cmds if cmds and cmds["ok"] else None
        return poll_until(consuming, 60, 0.1, "command consumer connected")

    def send(self, *messages):
        """Publishes (routing_key, body, message_id[, extra properties]) tuples, confirmed."""
        send_commands(self, NODE.url, self.commands, *messages)

    def admin(self, server, method, path, token=TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return server.request(method, path, headers=headers)

    def dead_letters(self, server):
        body = self.assert_json(self.admin(server, "GET", "/api/v1/admin/dlq?limit=1000"), 200)
        return {d["id"]: d for d in body["items"]}

    def wait_dead_letters(self, server, ids, timeout=60):
        def all_there():
            letters = self.dead_letters(server)
            return letters if set(ids) <= set(letters) else None
        return poll_until(all_there, timeout, 0.2, f"dead letters {sorted(ids)}")

    def wait_available(self, server, sku, expected, timeout=60):
        return poll_until(lambda: self.stock(server, sku)[0] == expected, timeout, 0.1,
                          f"{sku} available == {expected}")

    def wait_idle(self, server, timeout=60):
        """Until the consumer has nothing in flight and /ready counters stop moving."""
        last = {}

        def idle():
            cmds = self.wait_consuming(server)
            settled = cmds["in_flight"] == 0 and cmds == last.get("c")
            last["c"] = cmds
            return cmds if settled else None
        return poll_until(idle, timeout, 0.3, "command consumer idle")

    def events(self, at_least):
        seen, out = set(), []
        for m in self.tail.drain(at_least):
            body = json.loads(m["body"])
            if body["id"] not in seen:
                seen.add(body["id"])
                out.append(body)
        return out


class InventoryCommandsTest(CommandsTestCase):
    def test_adjust_applies_once_per_message_id(self):
        s = self.start_consuming({"INV-A": 10, "INV-B": 10})
        m1, m2, m3, m4 = mid(), mid(), mid(), mid()
        self.send(("inventory.adjust", {"sku": "INV-A", "delta": 5}, m1),
                  ("inventory.adjust", {"sku": "INV-A", "delta": 5}, m1),  # a duplicate
                  ("inventory.adjust", {"sku": "INV-A", "delta": 7}, m2),
                  ("inventory.adjust", {"sku": "INV-A", "delta": -2}, m3),
                  ("inventory.adjust", {"sku": "INV-A", "delta": -2}, m3),
                  ("inventory.adjust", {"sku": "INV-B", "available": 40}, m4))
        self.wait_available(s, "INV-A", 20)
        self.wait_available(s, "INV-B", 40)
        # The duplicates again, later (a publisher retrying): still nothing happens twice.
        self.send(("inventory.adjust", {"sku": "INV-A", "delta": 5}, m1),
                  ("inventory.adjust", {"sku": "INV-B", "available": 1}, m4))
        self.wait_idle(s)
        self.assertEqual(self.stock(s, "INV-A"), (20, 0))
        self.assertEqual(self.stock(s, "INV-B"), (40, 0))
        self.assertEqual(self.dead_letters(s), {})

    def test_refused_adjustments_are_dead_lettered_with_the_reason(self):
        s = self.start_consuming({"INV-C": 3})
        unknown, too_much, fine = mid(), mid(), mid()
        self.send(("inventory.adjust", {"sku": "NO-SUCH-SKU", "delta": 1}, unknown),
                  ("inventory.adjust", {"sku": "INV-C", "delta": -5}, too_much),
                  ("inventory.adjust", {"sku": "INV-C", "delta": 2}, fine))
        letters = self.wait_dead_letters(s, [unknown, too_much])
        self.wait_available(s, "INV-C", 5)
        self.assertIn("not-found", letters[unknown]["reason"])
        self.assertIn("insufficient-stock", letters[too_much]["reason"])
        for d in (letters[unknown], letters[too_much]):
            self.assertEqual(d["command"], "inventory.adjust")
            self.assertEqual(d["attempts"], 0)  # refused at once, never retried
            self.assertTrue(d["dead_lettered_at"])
        self.assertEqual(letters[unknown]["body"], {"sku": "NO-SUCH-SKU", "delta": 1})
        self.assertNotIn(fine, letters)


class OrderCommandsTest(CommandsTestCase):
    def test_place_and_cancel_publish_their_outcome_once(self):
        s = self.start_consuming({"PL-A": 5})
        place, short, unknown = mid(), mid(), mid()
        good = order_body([("PL-A", 2)], "cust-cmd")
        self.send(("order.place", good, place, {"correlation_id": "corr-ok"}),
                  ("order.place", good, place, {"correlation_id": "corr-ok"}),
                  ("order.place", order_body([("PL-A", 10)], "cust-cmd"), short,
                   {"correlation_id": "corr-short"}),
                  ("order.place", order_body([("NO-SUCH-SKU", 1)], "cust-cmd"), unknown,
                   {"correlation_id": "corr-unknown"}))
        self.wait_available(s, "PL-A", 3)
        orders = self.list_all(s, "/api/v1/orders", customer_id="cust-cmd")
        self.assertEqual(len(orders), 1, orders)
        order_id = orders[0]["id"]
        self.assertEqual(orders[0]["status"], "PENDING")

        cancel, cancel_again, cancel_unknown = mid(), mid(), mid()
        self.send(("order.cancel", {"order_id": order_id}, cancel, {"correlation_id": "corr-x"}),
                  ("order.cancel", {"order_id": order_id}, cancel, {"correlation_id": "corr-x"}),
                  ("order.cancel", {"order_id": str(uuid.uuid4())}, cancel_unknown))
        self.wait_available(s, "PL-A", 5)
        self.assertEqual(self.get_order(s, order_id)["status"], "CANCELLED")
        # Cancelling a cancelled order (another message) is done, not dead-lettered.
        self.send(("order.cancel", {"order_id": order_id}, cancel_again))
        letters = self.wait_dead_letters(s, [cancel_unknown])
        self.wait_idle(s)
        self.assertEqual(set(self.dead_letters(s)), {cancel_unknown}, letters)
        self.assertIn("not-found", letters[cancel_unknown]["reason"])
        self.assertEqual(self.stock(s, "PL-A"), (5, 0))

        # Events: product.created's inventory.updated, order.created + 1 stock update, two
        # rejections (order.rejected; stock.rejected for the short one), the cancel (status
        # changed, cancelled, 1 stock update).
        events = self.events(9)
        by_type = collections.defaultdict(list)
        for e in events:
            by_type[e["type"]].append(e)
        self.assertEqual(len(by_type["order.created"]), 1, events)
        created = by_type["order.created"][0]
        self.assertEqual(created["correlation_id"], "corr-ok")
        self.assertEqual(created["data"]["id"], order_id)
        rejected = {e["correlation_id"]: e for e in by_type["order.rejected"]}
        self.assertEqual(set(rejected), {"corr-short", "corr-unknown"}, by_type["order.rejected"])
        self.assertEqual(rejected["corr-short"]["data"]["reason"], "insufficient-stock")
        # Commands run side by side: the short order saw the stock before or after the other.
        short_items = rejected["corr-short"]["data"]["items"]
        self.assertIn(short_items, ([{"sku": "PL-A", "requested": 10, "available": 3}],
                                    [{"sku": "PL-A", "requested": 10, "available": 5}]))
        self.assertEqual(rejected["corr-unknown"]["data"]["reason"], "unknown-sku")
        self.assertEqual(rejected["corr-unknown"]["data"]["customer_id"], "cust-cmd")
        self.assertEqual(len(by_type["order.cancelled"]), 1, events)
        self.assertEqual(by_type["order.cancelled"][0]["correlation_id"], "corr-x")


class PaymentResultTest(CommandsTestCase):
    def wait_status(self, server, order_id, status):
        return poll_until(lambda: self.get_order(server, order_id)["status"] == status, 60, 0.1,
                          f"order {order_id} {status}")

    def test_payment_results_settle_processing_orders_once(self):
        # External payments: the orders wait PROCESSING until another service reports.
        s = self.start_consuming({"PAY-A": 10}, "--payments", "external", "--grace-period", "0.2",
                                 "--processor-interval-ms", "100")
        paid = self.place_order(s, [("PAY-A", 2)], "cust-pay")["id"]
        declined = self.place_order(s, [("PAY-A", 3)], "cust-pay")["id"]
        self.wait_status(s, paid, "PROCESSING")
        self.wait_status(s, declined, "PROCESSING")
        ok, fail, unknown, poison = mid(), mid(), mid(), mid()
        self.send(("payment.result", {"order_id": paid, "status": "succeeded"}, ok,
                   {"correlation_id": "corr-paid"}),
                  ("payment.result", {"order_id": paid, "status": "succeeded"}, ok),  # a copy
                  ("payment.result", {"order_id": declined, "status": "failed",
                                      "reason": "card declined"}, fail,
                   {"correlation_id": "corr-declined"}),
                  ("payment.result", {"order_id": str(uuid.uuid4()), "status": "succeeded"},
                   unknown),
                  ("payment.result", {"order_id": paid, "status": "maybe"}, poison))
        self.wait_status(s, paid, "CONFIRMED")
        self.wait_status(s, declined, "CANCELLED")
        self.assertEqual(self.get_order(s, declined)["cancel_reason"], "payment_failed")
        self.wait_available(s, "PAY-A", 8)
        letters = self.wait_dead_letters(s, [unknown, poison])
        self.assertIn("not-found", letters[unknown]["reason"])
        self.assertIn("status", letters[poison]["reason"])
        # Redelivered copies later, and a contradicting result under a new id: nothing changes
        # (the payments were settled), and none of them is dead-lettered.
        late = mid()
        self.send(("payment.result", {"order_id": declined, "status": "failed"}, fail),
                  ("payment.result", {"order_id": paid, "status": "succeeded"}, ok),
                  ("payment.result", {"order_id": paid, "status": "failed"}, late))
        self.wait_idle(s)
        self.assertEqual(set(self.dead_letters(s)), {unknown, poison})
        self.assertEqual(self.get_order(s, paid)["status"], "CONFIRMED")
        self.assertEqual(self.get_order(s, declined)["status"], "CANCELLED")
        self.assertEqual(self.stock(s, "PAY-A"), (8, 0))
        self.assertEqual(self.get_product(s, "PAY-A")["sold"], 2)

        # Events: inventory.updated (product), 2 x (order.created, inventory.updated),
        # 2 x (status_changed, processing), the confirm (status_changed, confirmed,
        # inventory.updated), the failure (status_changed, cancelled, inventory.updated).
        events = self.events(15)
        by_type = collections.defaultdict(list)
        for e in events:
            by_type[e["type"]].append(e)
        self.assertEqual(len(by_type["order.confirmed"]), 1, events)
        self.assertEqual(by_type["order.confirmed"][0]["data"]["id"], paid)
        self.assertEqual(by_type["order.confirmed"][0]["correlation_id"], "corr-paid")
        self.assertEqual(len(by_type["order.cancelled"]), 1, events)
        cancelled = by_type["order.cancelled"][0]
        self.assertEqual(cancelled["correlation_id"], "corr-declined")
        self.assertEqual(cancelled["data"]["id"], declined)
        self.assertEqual(cancelled["data"]["cancel_reason"], "payment_failed")
        self.assertEqual(len(by_type["order.status_changed"]), 4, events)
        self.assertEqual(len(by_type["order.processing"]), 2, events)


class DeadLetterTest(CommandsTestCase):
    def test_poison_goes_to_the_dlq_and_the_rest_keeps_flowing(self):
        s = self.start_consuming({"PO-A": 1})
        not_json, no_delta, fine = mid(), mid(), mid()
        self.send(("inventory.adjust", {"sku": "PO-A", "delta": 1}, None),  # no message id
                  ("order.place", "this is not json", not_json),
                  ("inventory.adjust", {"sku": "PO-A"}, no_delta),
                  ("inventory.adjust", {"sku": "PO-A", "delta": 4}, fine))
        self.wait_available(s, "PO-A", 5)
        letters = poll_until(lambda: (lambda d: d if len(d) == 3 else None)(self.dead_letters(s)),
                             60, 0.2, "three dead letters")
        self.assertIn("invalid order.place", letters[not_json]["reason"])
        self.assertEqual(letters[not_json]["body"], "this is not json")
        self.assertIn("invalid inventory.adjust", letters[no_delta]["reason"])
        anonymous = [d for i, d in letters.items() if i not in (not_json, no_delta)]
        self.assertEqual(len(anonymous), 1)
        self.assertIn("no message_id", anonymous[0]["reason"])
        # Listing leaves them where they are.
        self.assertEqual(set(self.dead_letters(s)), set(letters))

    def test_failing_commands_are_retried_then_dead_lettered_and_replayed(self):
        s = self.start_consuming({"RT-A": 0})
        fault = {"target": "commands", "key": "3"}
        headers = {"Authorization": f"Bearer {TOKEN}"}
        self.assert_json(s.post("/api/v1/admin/faults", fault, headers=headers), 202)
        doomed = mid()
        self.send(("inventory.adjust", {"sku": "RT-A", "delta": 5}, doomed))
        letters = self.wait_dead_letters(s, [doomed])
        self.assertEqual(letters[doomed]["attempts"], 3)
        self.assertEqual(letters[doomed]["reason"], "failed 3 attempts")
        self.assertIn("injected failure", letters[doomed]["last_error"])
        self.assertEqual(self.stock(s, "RT-A"), (0, 0))
        self.assertIn("retrying in 100 ms", s.log_text())
        self.assertIn("retrying in 200 ms", s.log_text())
        # The metrics: the DLQ depth (read from the broker every 5 s) and the outcomes.
        def metric(name):
            for line in s.get("/metrics").text.splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[-1])
            return None
        poll_until(lambda: (metric("orderd_dlq_messages") or 0) >= 1, 30, 0.5, "DLQ depth 1")
        retried = 'orderd_inbound_commands_total{command="inventory.adjust",outcome="retried"}'
        dead = 'orderd_inbound_commands_total{command="inventory.adjust",outcome="dead_lettered"}'
        self.assertEqual(metric(retried), 2)
        self.assertEqual(metric(dead), 1)

        # One failure, then success on the retry: applied once.
        fault["key"] = "1"
        self.assert_json(s.post("/api/v1/admin/faults", fault, headers=headers), 202)
        self.send(("inventory.adjust", {"sku": "RT-A", "delta": 1}, mid()))
        self.wait_available(s, "RT-A", 1)

        # Replay the dead letter: applied, and gone from the DLQ.
        replay = self.assert_json(
            self.admin(s, "POST", f"/api/v1/admin/dlq/{doomed}/replay"), 202)
        self.assertEqual(replay["status"], "replayed")
        self.assertEqual(replay["message"]["id"], doomed)
        self.wait_available(s, "RT-A", 6)
        self.wait_idle(s)
        self.assertNotIn(doomed, self.dead_letters(s))
        self.assert_problem(self.admin(s, "POST", f"/api/v1/admin/dlq/{doomed}/replay"), 404)
        self.assertEqual(self.stock(s, "RT-A"), (6, 0))
        ready = self.wait_consuming(s)
        self.assertGreaterEqual(ready["retried"], 3)
        self.assertGreaterEqual(ready["dead_lettered"], 1)

    def test_admin_endpoints_need_the_token(self):
        s = self.start_orderd()
        r = self.admin(s, "GET", "/api/v1/admin/dlq", token=None)
        self.assert_problem(r, 401)
        self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="orderd-admin"')
        self.assert_problem(self.admin(s, "GET", "/api/v1/admin/dlq", token="wrong"), 401)
        self.assert_problem(self.admin(s, "GET", "/api/v1/admin/dlq", token=TOKEN + "x"), 401)
        self.assert_problem(self.admin(s, "GET", "/api/v1/admin/dlq?limit=0"), 400)
        self.assert_problem(self.admin(s, "POST", "/api/v1/admin/dlq/" + "x" * 300 + "/replay"),
                            400)
        body = self.assert_json(self.admin(s, "GET", "/api/v1/admin/dlq"), 200)
        self.assertEqual(body, {"items": [], "count": 0, "truncated": False})
        # Without a token configured the admin API is disabled; without a broker there is no DLQ.
        plain = self.start_server(data_dir=os.path.join(self.tmp, "plain"))
        problem = self.assert_problem(self.admin(plain, "GET", "/api/v1/admin/dlq"), 403)
        self.assertIn("--admin-token", problem["detail"])
        local = self.start_server("--admin-token", TOKEN, data_dir=os.path.join(self.tmp, "local"))
        problem = self.assert_problem(self.admin(local, "GET", "/api/v1/admin/dlq"), 404)
        self.assertIn("--amqp-url", problem["detail"])


class RedeliveryTest(CommandsTestCase):
    def test_kill_9_mid_stream_applies_every_command_exactly_once(self):
        s = self.start_consuming({"KD-A": 0}, "--amqp-prefetch", "200")
        total = 3000
        self.send(*[("inventory.adjust", {"sku": "KD-A", "delta": 1}, mid())
                    for _ in range(total)])
        # Kill orderd while commands are in flight: some were applied but not acknowledged,
        # and the broker delivers them again to the next process.
        poll_until(lambda: self.stock(s, "KD-A")[0] > 0, 60, 0.02, "first commands applied")
        s.kill()
        s.start()
        self.wait_available(s, "KD-A", total, timeout=120)
        self.wait_idle(s)
        self.assertEqual(self.stock(s, "KD-A"), (total, 0))
        self.assertEqual(self.dead_letters(s), {})


if __name__ == "__main__":
    unittest.main()
