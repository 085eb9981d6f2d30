"""Notification channels against the real binary: e-mail into the maildir and through a local
SMTP sink, webhooks to a local HTTP receiver (signed), push per customer; a webhook target that
is down (retries, breaker open in logs and metrics, FAILED = dead-lettered, orders unaffected);
low stock -> e-mail to the stock manager; PENDING resumed after a crash; the ad-hoc POST and every
error status of the new routes."""

import glob
import hashlib
import hmac
import http.server
import json
import os
import socket
import socketserver
import threading
import time
import unittest

from harness import OrderdTestCase, order_body, poll_until, query, random_id, run_orderd_once

NOTIFICATIONS = "/api/v1/notifications"
CUSTOMERS = "/api/v1/customers"
FIELDS = {"id", "channel", "recipient", "subject", "body", "status", "attempts", "last_error",
          "customer_id", "event_id", "event_type", "created_at", "updated_at"}


# -- local endpoints ------------------------------------------------------------------------------


class SmtpSink:
    """A tiny SMTP server: greets, answers every command, collects each message's DATA."""

    def __init__(self):
        self.messages = []  # (mail_from, [rcpt], data)
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                def say(line):
                    self.wfile.write((line + "\r\n").encode())

                say("220 sink ready")
                mail_from, rcpts = None, []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    cmd = line.decode().strip()
                    verb = cmd.split(":")[0].split(" ")[0].upper()
                    if verb in ("EHLO", "HELO"):
                        say("250-sink")
                        say("250 8BITMIME")
                    elif verb == "MAIL":
                        mail_from = cmd.split(":", 1)[1].strip()
                        say("250 ok")
                    elif verb == "RCPT":
                        rcpts.append(cmd.split(":", 1)[1].strip())
                        say("250 ok")
                    elif verb == "DATA":
                        say("354 go ahead")
                        data = []
                        while True:
                            l = self.rfile.readline()
                            if l in (b".\r\n", b""):
                                break
                            data.append(l)
                        sink.messages.append((mail_from, rcpts, b"".join(data).decode()))
                        rcpts = []
                        say("250 queued")
                    elif verb == "QUIT":
                        say("221 bye")
                        return
                    else:
                        say("250 ok")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class WebhookReceiver:
    """A tiny HTTP server that records every POST (path, headers, body) and answers `status`."""

    def __init__(self, status=204):
        self.posts = []
        self.status = status
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.posts.append((self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def closed_port():
    """A loopback port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- tests ----------------------------------------------------------------------------------------


class NotificationsTest(OrderdTestCase):
    def notifications(self, server, **params):
        body = self.assert_json(server.get(query(NOTIFICATIONS, **params)), 200)
        self.assertEqual(set(body), {"items", "next_cursor"})
        for n in body["items"]:
            self.assertEqual(set(n), FIELDS)
        return body["items"]

    def wait_for(self, server, count, timeout=20, **params):
        return poll_until(lambda: (lambda xs: xs if len(xs) >= count else None)(
            self.notifications(server, **params)), timeout, message=f"{count} notifications {params}")

    def place(self, server, sku, qty=1, customer_id="cust-1", email="cust-1@example.com"):
        return self.assert_json(server.post("/api/v1/orders",
                                            order_body([(sku, qty)], customer_id, email)), 201)

    def test_notifications_can_be_turned_off(self):
        server = self.start_server("--notifications=false", "--admin-token", "t0k")
        tree = self.assert_json(server.get("/api/v1/admin/actors",
                                           headers={"Authorization": "Bearer t0k"}), 200)
        root = [x for x in tree["supervisors"] if x["name"] == "root"][0]
        self.assertNotIn("notification-supervisor", root["children"])
        self.create_product(server, "SKU-OFF", 10)
        self.place(server, "SKU-OFF", 1)
        # The order's events have been published (outbox drained) and nobody made a record.
        poll_until(lambda: self.assert_json(server.get("/ready"), 200)["checks"]["broker"]
                   ["backlog"] == 0, 10, message="outbox drained")
        self.assertEqual(self.notifications(server), [])
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, "mail", "new")) and
                         os.listdir(os.path.join(self.data_dir, "mail", "new")))

    def test_order_mails_into_the_maildir_and_pushes_to_the_customer(self):
        server = self.start_server()
        customer = self.assert_json(server.post(CUSTOMERS, {"name": "Ada", "email": "ada@example.com"}), 201)
        self.create_product(server, "SKU-1", 10)
        order = self.place(server, "SKU-1", 2, customer["id"], "ada@example.com")
        sent = self.wait_for(server, 1, status="SENT", channel="email")
        mail = sent[0]
        self.assertEqual(mail["recipient"], "ada@example.com")
        self.assertEqual(mail["event_type"], "order.created")
        self.assertEqual(mail["attempts"], 1)
        self.assertIsNone(mail["last_error"])
        path = os.path.join(self.data_dir, "mail", "new", mail["id"] + ".eml")
        poll_until(lambda: os.path.exists(path), 5, message="the .eml file")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertIn(f"Subject: Order {order['id']} received", text)
        self.assertIn("To: <ada@example.com>", text)
        self.assertEqual(os.listdir(os.path.join(self.data_dir, "mail", "tmp")), [])
        # The record is readable by id.
        one = self.assert_json(server.get(f"{NOTIFICATIONS}/{mail['id']}"), 200)
        self.assertEqual(one, mail)
        # Push: recorded for the customer.
        push = poll_until(lambda: self.assert_json(
            server.get(f"{CUSTOMERS}/{customer['id']}/push"), 200)["items"], 10, message="push")
        self.assertEqual(push[0]["channel"], "push")
        self.assertEqual(push[0]["recipient"], customer["id"])
        self.assertEqual(push[0]["status"], "SENT")
        # Cancelling notifies again.
        self.assert_status(server.post(f"/api/v1/orders/{order['id']}/cancel"), 200)
        subjects = lambda: {n["subject"] for n in self.notifications(server, channel="email")}
        poll_until(lambda: f"Order {order['id']} cancelled" in subjects(), 10, message="cancel mail")

    def test_email_goes_to_the_smtp_server_and_webhooks_are_signed(self):
        sink = SmtpSink()
        self.addCleanup(sink.close)
        hook = WebhookReceiver(200)
        self.addCleanup(hook.close)
        server = self.start_server("--smtp-url", f"smtp://127.0.0.1:{sink.port}",
                                   "--mail-from", "shop@example.com",
                                   "--webhook-url", hook.url("/a") + "," + hook.url("/b"),
                                   "--webhook-allow", f"127.0.0.1:{hook.port}",
                                   "--webhook-secret", "s3cret")
        self.create_product(server, "SKU-1", 10)
        order = self.place(server, "SKU-1")
        self.wait_for(server, 1, status="SENT", channel="email")
        self.wait_for(server, 2, status="SENT", channel="webhook")
        self.assertEqual(len(sink.messages), 1)
        mail_from, rcpts, data = sink.messages[0]
        self.assertEqual(mail_from, "<shop@example.com>")
        self.assertEqual(rcpts, ["<cust-1@example.com>"])
        self.assertIn(f"Subject: Order {order['id']} received", data)
        self.assertEqual(glob.glob(os.path.join(self.data_dir, "mail", "new", "*")), [])
        self.assertEqual(sorted(p for p, _, _ in hook.posts), ["/a", "/b"])
        for _, headers, body in hook.posts:
            event = json.loads(body)
            self.assertEqual(event["type"], "order.created")
            self.assertEqual(event["data"]["id"], order["id"])
            expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
            self.assertEqual(headers.get("X-Orderd-Signature"), "sha256=" + expected)

    def test_a_dead_webhook_is_retried_then_dead_lettered_and_orders_are_unaffected(self):
        port = closed_port()
        server = self.start_server("--webhook-url", f"http://127.0.0.1:{port}/hook",
                                   "--webhook-allow", "127.0.0.1",
                                   "--notify-max-attempts", "3", "--notify-backoff-ms", "50",
                                   "--notify-breaker-failures", "2",
                                   "--notify-breaker-cooldown-ms", "300")
        self.create_product(server, "SKU-1", 100)
        started = time.monotonic()
        for _ in range(5):
            self.place(server, "SKU-1")
        self.assertLess(time.monotonic() - started, 10)  # placement never waits for a channel
        dead = self.wait_for(server, 5, timeout=60, status="FAILED", channel="webhook")
        for n in dead:
            self.assertEqual(n["attempts"], 3)
            self.assertIn("connect", n["last_error"])
        # The other channels delivered.
        self.wait_for(server, 5, status="SENT", channel="email")
        self.assertIn("circuit breaker open", server.log_text())
        metrics = server.get("/metrics").text
        self.assertRegex(metrics, r'orderd_notification_attempts_total\{channel="webhook",'
                                  r'outcome="dead_lettered"\} 5(\.0)?\n')
        self.assertIn('orderd_circuit_breaker_state{breaker="notify-webhook"}', metrics)
        # Placing still answers 201 at once.
        t = time.monotonic()
        self.place(server, "SKU-1")
        self.assertLess(time.monotonic() - t, 5)

    def test_low_stock_mails_the_stock_manager(self):
        server = self.start_server("--stock-manager-email", "stock@example.com")
        self.create_product(server, "SKU-LOW", 5, low_stock_threshold=3)
        self.place(server, "SKU-LOW", 3)
        mails = poll_until(lambda: [n for n in self.notifications(server, channel="email")
                                    if n["event_type"] == "inventory.low"], 10,
                           message="low stock mail")
        self.assertEqual(mails[0]["recipient"], "stock@example.com")
        self.assertEqual(mails[0]["subject"], "Low stock: SKU-LOW")
        poll_until(lambda: self.assert_json(server.get(f"{NOTIFICATIONS}/{mails[0]['id']}"),
                                            200)["status"] == "SENT", 10, message="sent")

    def test_pending_notifications_survive_a_crash(self):
        port = closed_port()
        args = ("--webhook-url", f"http://127.0.0.1:{port}/hook", "--webhook-allow", "127.0.0.1",
                "--notify-backoff-ms", "60000")
        server = self.start_server(*args)
        self.create_product(server, "SKU-1", 10)
        self.place(server, "SKU-1")
        pending = poll_until(lambda: [n for n in self.notifications(server, channel="webhook")
                                      if n["attempts"] >= 1], 20, message="a failed attempt")
        self.assertEqual(pending[0]["status"], "PENDING")
        server.kill()
        # The restarted server resumes the PENDING record at once (its retry was a minute away).
        server2 = self.start_server(*args)
        again = poll_until(lambda: (lambda n: n if n["attempts"] >= 2 else None)(
            self.assert_json(server2.get(f"{NOTIFICATIONS}/{pending[0]['id']}"), 200)), 20,
            message="resumed attempt")
        self.assertEqual(again["status"], "PENDING")

    def test_webhooks_never_reach_internal_addresses_unless_allowed(self):
        # SSRF: any API client names webhook recipients. Loopback, link-local and private
        # addresses are refused (400) unless the operator listed the host; the target sees
        # nothing.
        hook = WebhookReceiver()
        self.addCleanup(hook.close)
        server = self.start_server()
        before = len(self.notifications(server))
        for url in (hook.url(), f"http://localhost:{hook.port}/x",
                    "http://169.254.169.254/latest/meta-data", "http://10.0.0.1/x"):
            with self.subTest(url=url):
                body = self.assert_problem(server.post(NOTIFICATIONS, {
                    "channel": "webhook", "recipient": url, "subject": "x"}), 400)
                self.assertIn("--webhook-allow", json.dumps(body))
        self.assertEqual(len(self.notifications(server)), before)
        self.assertEqual(hook.posts, [])
        # A configured recipient obeys the same rule: orderd refuses to start.
        code, out = run_orderd_once(["--webhook-url", hook.url()])
        self.assertEqual(code, 64, out)
        self.assertIn("--webhook-allow", out)
        # Listed, the same receiver is called.
        allowed = self.start_server("--webhook-allow", f"127.0.0.1:{hook.port}",
                                    data_dir=os.path.join(self.tmp, "allowed"))
        created = self.assert_json(allowed.post(NOTIFICATIONS, {
            "channel": "webhook", "recipient": hook.url("/ok"), "subject": "x"}), 202)
        poll_until(lambda: self.assert_json(allowed.get(f"{NOTIFICATIONS}/{created['id']}"),
                                            200)["status"] == "SENT", 10, message="allowed sent")
        self.assertEqual([p for p, _, _ in hook.posts], ["/ok"])

    def test_ad_hoc_notifications_and_every_error_status(self):
        server = self.start_server()
        resp = server.post(NOTIFICATIONS, {"channel": "email", "recipient": "ada@example.com",
                                           "subject": "Hello", "body": "Hi Ada"})
        created = self.assert_json(resp, 202)
        self.assertEqual(set(created), FIELDS)
        self.assertEqual(created["status"], "PENDING")
        self.assertEqual(created["attempts"], 0)
        self.assertIsNone(created["event_id"])
        self.assertEqual(resp.header("Location"), f"{NOTIFICATIONS}/{created['id']}")
        poll_until(lambda: self.assert_json(server.get(resp.header("Location")), 200)["status"]
                   == "SENT", 10, message="ad-hoc sent")
        customer = self.assert_json(server.post(CUSTOMERS, {"name": "Bo", "email": "bo@example.com"}), 201)
        push = self.assert_json(server.post(NOTIFICATIONS, {
            "channel": "push", "recipient": customer["id"], "subject": "Hi"}), 202)
        self.assertEqual(push["customer_id"], customer["id"])
        # 400: bad bodies change nothing.
        before = len(self.notifications(server))
        bad = [
            {"channel": "fax", "recipient": "a@b.example", "subject": "x"},
            {"channel": "email", "recipient": "not-an-address", "subject": "x"},
            {"channel": "email", "recipient": "a@b.example"},
            {"channel": "email", "recipient": "a@b.example", "subject": "two\nlines"},
            {"channel": "webhook", "recipient": "ftp://x", "subject": "x"},
            {"channel": "push", "recipient": "not-a-uuid", "subject": "x"},
            {"channel": "push", "recipient": random_id(), "subject": "x"},  # no such customer
            {"channel": 7, "recipient": "a@b.example", "subject": "x"},
            {"channel": "email", "recipient": "a@b.example", "subject": "x" * 201},
        ]
        for body in bad:
            with self.subTest(body=body):
                self.assert_problem(server.post(NOTIFICATIONS, body), 400)
        self.assert_problem(server.request("POST", NOTIFICATIONS, raw="{not json"), 400)
        self.assert_problem(server.request("POST", NOTIFICATIONS, raw="[]"), 400)
        self.assert_problem(server.post(NOTIFICATIONS, {"channel": "email"},
                                        content_type="text/plain"), 415)
        self.assert_problem(server.post(NOTIFICATIONS, raw="x" * (2 << 20)), 413)
        self.assertEqual(len(self.notifications(server)), before)
        # Listing errors.
        self.assert_problem(server.get(query(NOTIFICATIONS, status="LOST")), 400)
        self.assert_problem(server.get(query(NOTIFICATIONS, channel="fax")), 400)
        self.assert_problem(server.get(query(NOTIFICATIONS, limit=0)), 400)
        self.assert_problem(server.get(query(NOTIFICATIONS, limit=501)), 400)
        self.assert_problem(server.get(query(NOTIFICATIONS, cursor="garbage")), 400)
        # Not found.
        self.assert_problem(server.get(f"{NOTIFICATIONS}/{random_id()}"), 404)
        self.assert_problem(server.get(f"{NOTIFICATIONS}/nope"), 404)
        self.assert_problem(server.get(f"{CUSTOMERS}/{random_id()}/push"), 404)
        self.assert_problem(server.get(f"{CUSTOMERS}/nope/push"), 404)
        self.assert_problem(server.get(query(f"{CUSTOMERS}/{customer['id']}/push", status="x")), 400)
        # Wrong methods.
        self.assert_problem(server.delete(NOTIFICATIONS), 405)
        self.assert_problem(server.delete(f"{NOTIFICATIONS}/{created['id']}"), 405)
        self.assert_problem(server.post(f"{CUSTOMERS}/{customer['id']}/push"), 405)

    def test_listing_pages_and_filters(self):
        server = self.start_server()
        for i in range(5):
            self.assert_json(server.post(NOTIFICATIONS, {"channel": "email",
                                                         "recipient": f"u{i}@example.com",
                                                         "subject": f"n{i}"}), 202)
        seen, cursor = [], None
        while True:
            page = self.assert_json(server.get(query(NOTIFICATIONS, limit=2, cursor=cursor)), 200)
            seen += [n["id"] for n in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(len(seen), 5)
        self.assertEqual(seen, sorted(seen))
        self.assertEqual(self.notifications(server, channel="push"), [])


if __name__ == "__main__":
    unittest.main()
