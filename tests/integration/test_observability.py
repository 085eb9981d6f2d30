"""GET /metrics (Prometheus text format), W3C trace context and the admin JSON routes, against
the real binary: the counters move when orders are placed, routes are labelled by pattern, a
traceparent reaches the response headers, the outbox event envelope and the JSON log lines."""

import json
import os
import re
import sqlite3
import time
import unittest

from harness import OrderdTestCase, order_body, poll_until

SAMPLE_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
TOKEN = "obs-token"


def parse_metrics(text):
    """{(name, ((label, value), ...)): float}, after checking every sample's family has HELP and
    TYPE lines before it."""
    samples, typed, helped = {}, {}, set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            typed[name] = kind
            continue
        if not line.strip():
            continue
        m = SAMPLE_LINE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
        assert family in typed and family in helped, f"{name}: no HELP/TYPE before it"
        samples[(name, tuple(sorted(LABEL.findall(labels))))] = float(value)
    return samples, typed


class Metrics:
    def __init__(self, server):
        resp = server.get("/metrics")
        assert resp.status == 200, resp.describe()
        self.content_type = resp.header("Content-Type")
        self.samples, self.types = parse_metrics(resp.text)

    def get(self, name, **labels):
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def label_values(self, name, label):
        return {dict(k[1]).get(label) for k in self.samples if k[0] == name}


def post_order(server, items, headers=None):
    return server.post("/api/v1/orders", order_body(items), headers=headers)


class MetricsTest(OrderdTestCase):
    def test_counters_move_when_orders_are_placed(self):
        s = self.start_server("--admin-token", TOKEN)
        self.create_product(s, "OBS-A", 20, low_stock_threshold=5)
        self.create_product(s, "OBS-B", 1)
        before = Metrics(s)
        self.assertEqual(before.content_type, "text/plain; version=0.0.4; charset=utf-8")
        for family, kind in {"orderd_http_requests_total": "counter",
                             "orderd_http_request_duration_seconds": "histogram",
                             "orderd_orders": "gauge",
                             "orderd_order_placement_duration_seconds": "histogram",
                             "orderd_stock_reservations_total": "counter",
                             "orderd_low_stock_events_total": "counter",
                             "orderd_payments_total": "counter",
                             "orderd_store_batch_size": "histogram",
                             "orderd_store_commit_duration_seconds": "histogram",
                             "orderd_outbox_backlog": "gauge",
                             "orderd_event_publish_lag_seconds": "histogram",
                             "orderd_circuit_breaker_state": "gauge",
                             "orderd_supervisor_live_children": "gauge",
                             "orderd_supervisor_restarts_total": "counter",
                             "orderd_supervisor_escalations_total": "counter",
                             "orderd_dlq_messages": "gauge",
                             "orderd_actor_mailbox_messages": "gauge",
                             "orderd_inbound_commands_total": "counter"}.items():
            self.assertEqual(before.types.get(family), kind, family)

        placed = []
        for _ in range(4):  # 20 -> 12 available: crosses nothing yet
            placed.append(post_order(s, [("OBS-A", 2)]))
        for r in placed:
            self.assert_status(r, 201)
        self.assert_status(post_order(s, [("OBS-B", 5)]), 409)   # insufficient stock
        self.assert_status(post_order(s, [("OBS-A", 8)]), 201)   # 12 -> 4: below 5
        order_id = placed[0].json()["id"]
        self.assert_status(s.get(f"/api/v1/orders/{order_id}"), 200)
        self.assert_status(s.post(f"/api/v1/orders/{order_id}/cancel"), 200)

        def settled():
            m = Metrics(s)
            return m if m.get("orderd_low_stock_events_total") >= 1 \
                and m.get("orderd_outbox_backlog") == 0 else None
        after = poll_until(settled, 30, 0.2, "low-stock event published and outbox drained")

        def moved(name, **labels):
            return after.get(name, **labels) - before.get(name, **labels)

        route = "/api/v1/orders"
        self.assertEqual(moved("orderd_http_requests_total", route=route, method="POST",
                               status="201"), 5)
        self.assertEqual(moved("orderd_http_requests_total", route=route, method="POST",
                               status="409"), 1)
        # Labelled by the routing table's pattern, never by the raw path.
        self.assertEqual(moved("orderd_http_requests_total", route="/api/v1/orders/{id}",
                               method="GET", status="200"), 1)
        self.assertEqual(moved("orderd_http_requests_total", route="/api/v1/orders/{id}/cancel",
                               method="POST", status="200"), 1)
        self.assertNotIn(order_id, "".join(str(v) for v in
                                           after.label_values("orderd_http_requests_total",
                                                              "route")))
        self.assertEqual(moved("orderd_http_request_duration_seconds_count", route=route), 6)
        self.assertEqual(after.get("orderd_http_request_duration_seconds_bucket", route=route,
                                   le="+Inf"),
                         after.get("orderd_http_request_duration_seconds_count", route=route))
        self.assertEqual(moved("orderd_order_placement_duration_seconds_count",
                               outcome="placed"), 5)
        self.assertEqual(moved("orderd_order_placement_duration_seconds_count",
                               outcome="rejected"), 1)
        self.assertGreaterEqual(moved("orderd_stock_reservations_total", outcome="accepted"), 5)
        self.assertGreaterEqual(moved("orderd_stock_reservations_total", outcome="rejected"), 1)
        self.assertEqual(after.get("orderd_orders", status="PENDING"), 4)
        self.assertEqual(after.get("orderd_orders", status="CANCELLED"), 1)
        self.assertGreaterEqual(moved("orderd_store_batch_size_count"), 1)
        self.assertGreaterEqual(moved("orderd_store_commit_duration_seconds_count"), 1)
        self.assertGreaterEqual(moved("orderd_events_published_total"), 5)
        self.assertGreaterEqual(moved("orderd_event_publish_lag_seconds_count"), 5)
        self.assertEqual(after.get("orderd_low_stock_events_total"), 1)
        self.assertEqual(after.get("orderd_circuit_breaker_state", breaker="event-relay"), 0)
        self.assertGreaterEqual(after.get("orderd_supervisor_live_children",
                                          supervisor="orders"), 1)
        self.assertGreaterEqual(after.get("orderd_supervisor_live_children", supervisor="root"), 5)
        self.assertEqual(after.get("orderd_supervisor_restarts_total", supervisor="root"), 0)
        self.assertEqual(after.get("orderd_dlq_messages"), 0)
        # Sampled by the actors themselves as they work: present once they did.
        for actor in ("store-writer", "event-relay"):
            self.assertIn(("orderd_actor_mailbox_messages", (("actor", actor),)), after.samples)

    def test_unknown_paths_share_one_label_and_need_no_token(self):
        s = self.start_server("--admin-token", TOKEN)
        for n in range(3):
            self.assert_status(s.get(f"/no/such/path/{n}"), 404)
        self.assert_status(s.request("BREW", "/api/v1/orders"), 405)
        m = Metrics(s)  # no Authorization header: scrapers need none
        self.assertEqual(m.get("orderd_http_requests_total", route="unmatched", method="GET",
                               status="404"), 3)
        self.assertEqual(m.get("orderd_http_requests_total", route="unmatched", method="other",
                               status="405"), 1)


class TraceTest(OrderdTestCase):
    def outbox(self, server):
        """(type, correlation_id, envelope) of every outbox row, read straight from SQLite."""
        db = sqlite3.connect(f"file:{os.path.join(server.data_dir, 'orderd.db')}?mode=ro",
                             uri=True, timeout=10)
        try:
            rows = db.execute("SELECT type, correlation_id, envelope FROM outbox ORDER BY seq")
            return [(t, c, json.loads(e)) for t, c, e in rows.fetchall()]
        finally:
            db.close()

    def json_log_lines(self, server):
        lines = []
        for line in server.log_text().splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass
        return lines

    def test_traceparent_reaches_headers_events_and_json_logs(self):
        s = self.start_server("--log-format", "json", "--log-level", "debug")
        self.create_product(s, "TR-A", 10)
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        sent = f"00-{trace_id}-00f067aa0ba902b7-01"
        resp = post_order(s, [("TR-A", 1)], headers={"traceparent": sent})
        self.assert_status(resp, 201)
        self.assertEqual(resp.header("traceparent"), sent)
        self.assertEqual(resp.header("X-Request-Id"), trace_id)
        order_id = resp.json()["id"]

        created = [e for t, c, e in self.outbox(s) if t == "order.created"]
        self.assertEqual(len(created), 1)
        self.assertEqual(created[0]["correlation_id"], trace_id)
        self.assertEqual(created[0]["data"]["id"], order_id)

        def traced_lines():
            lines = [l for l in self.json_log_lines(s) if l.get("trace_id") == trace_id]
            msgs = " | ".join(l["msg"] for l in lines)
            return lines if f"order {order_id} placed" in msgs \
                and "http POST /api/v1/orders -> 201" in msgs else None
        lines = poll_until(traced_lines, 10, 0.2, "JSON log lines with the trace id")
        self.assertTrue(all(set(l) >= {"ts", "level", "thread", "msg", "trace_id"}
                            for l in lines), lines)
        # Lines not about a request carry no trace id.
        untraced = [l for l in self.json_log_lines(s) if "listening on" in l["msg"]]
        self.assertTrue(untraced and "trace_id" not in untraced[0], untraced)

        # The cancel's events carry the cancel's trace.
        cancel_trace = "0af7651916cd43dd8448eb211c80319c"
        resp = s.post(f"/api/v1/orders/{order_id}/cancel",
                      headers={"traceparent": f"00-{cancel_trace}-b7ad6b7169203331-00"})
        self.assert_status(resp, 200)
        cancelled = [e for t, c, e in self.outbox(s) if t == "order.cancelled"]
        self.assertEqual([e["correlation_id"] for e in cancelled], [cancel_trace])

        # Product and stock changes too: their inventory events and log lines carry the trace.
        stock_trace = "5c1e2d3f4a5b6c7d8e9fa0b1c2d3e4f5"
        resp = s.put("/api/v1/products/TR-A/stock", {"delta": 7},
                     headers={"traceparent": f"00-{stock_trace}-a1b2c3d4e5f60718-01"})
        self.assert_status(resp, 200)
        updated = [e for t, c, e in self.outbox(s)
                   if t == "inventory.updated" and e["correlation_id"] == stock_trace]
        self.assertEqual(len(updated), 1, self.outbox(s))
        self.assertEqual(updated[0]["data"]["available"], 17)
        poll_until(lambda: any(l.get("trace_id") == stock_trace and "adjusted by 7" in l["msg"]
                               for l in self.json_log_lines(s)),
                   10, 0.2, "the stock actor's log line with the trace id")

    def test_invalid_or_absent_traceparent_gets_a_new_trace(self):
        s = self.start_server()
        seen = set()
        for header in (None, "garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
                       "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"):
            headers = {"traceparent": header} if header else None
            resp = s.get("/health", headers=headers)
            self.assert_status(resp, 200)  # never a 4xx for a bad traceparent
            m = TRACEPARENT.match(resp.header("traceparent") or "")
            self.assertTrue(m, resp.header("traceparent"))
            self.assertEqual(resp.header("X-Request-Id"), m.group(1))
            self.assertNotEqual(resp.header("traceparent"), header)
            seen.add(m.group(1))
        self.assertEqual(len(seen), 4, "each request got its own new trace")

    def test_an_explicit_correlation_id_wins_over_the_trace(self):
        s = self.start_server()
        self.create_product(s, "TR-B", 10)
        sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        resp = post_order(s, [("TR-B", 1)],
                                headers={"traceparent": sent, "X-Correlation-Id": "batch-17"})
        self.assert_status(resp, 201)
        self.assertEqual(resp.header("X-Request-Id"), "batch-17")
        self.assertEqual(resp.header("traceparent"), sent)
        created = [e for t, c, e in self.outbox(s) if t == "order.created"]
        self.assertEqual([e["correlation_id"] for e in created], ["batch-17"])


class AdminRoutesTest(OrderdTestCase):
    def test_actor_tree_and_overview(self):
        s = self.start_server("--admin-token", TOKEN)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        self.create_product(s, "ADM-A", 3, low_stock_threshold=2)
        for _ in range(2):
            self.assert_status(post_order(s, [("ADM-A", 1)]), 201)
        self.assert_problem(s.get("/api/v1/admin/actors"), 401)
        tree = self.assert_json(s.get("/api/v1/admin/actors", headers=auth), 200)
        by_name = {x["name"]: x for x in tree["supervisors"]}
        self.assertEqual(set(by_name), {"root", "inventory", "orders", "carts"})
        root = by_name["root"]
        self.assertIsNone(root["parent"])
        self.assertIn("order-supervisor", root["children"])
        self.assertIn("store-writer", root["children"])
        self.assertEqual(root["live_children"], len(root["children"]))
        self.assertEqual(by_name["orders"]["slot"], "order-supervisor")
        self.assertEqual(by_name["carts"]["slot"], "cart-supervisor")
        self.assertEqual(by_name["carts"]["parent"], "root")
        self.assertEqual(by_name["orders"]["live_children"], 2)  # two live order actors
        self.assertEqual(by_name["inventory"]["live_children"], 1)

        o = self.assert_json(s.get("/api/v1/admin/overview", headers=auth), 200)
        self.assertEqual(o["orders_by_status"]["PENDING"], 2)
        self.assertEqual(o["orders_total"], 2)
        self.assertEqual([p["sku"] for p in o["low_stock"]], ["ADM-A"])
        self.assertEqual(o["outbox"]["publisher"], "in-process")
        self.assertEqual(o["breakers"][0]["name"], "event-relay")
        self.assertIn(o["breakers"][0]["state"], ("closed", "half-open", "open"))
        self.assertEqual(o["dlq"], {"messages": 0})


if __name__ == "__main__":
    unittest.main()
