"""HTTP-level errors: 404, 405 + Allow, 415, 413, problem+json everywhere, hostile input."""

import json
import re
import resource
import socket
import unittest

from harness import (Orderd, OrderdTestCase, order_body, poll_until, product_body,
                     require_binary)


def allowed(resp):
    return {m.strip().upper() for m in (resp.header("Allow") or "").split(",") if m.strip()}


class HttpErrorsTest(OrderdTestCase):
    def test_health_and_ready(self):
        s = self.start()
        self.assert_status(s.get("/health"), 200)
        self.assert_status(s.get("/ready"), 200)

    def test_a_full_file_table_gets_503_not_a_hang(self):
        # orderd under a limit of 1,024 open files derives its connection limit from it: a
        # client past it gets 503 with Retry-After at once, never a silent wait in the backlog.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4096 and (hard == resource.RLIM_INFINITY or hard >= 4096):
            resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
        self.assertGreaterEqual(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 1200,
                                "the test itself needs 1,200 descriptors")

        class LimitedOrderd(Orderd):
            def command(self):
                return ["prlimit", "--nofile=1024:1024", "--"] + super().command()

        server = LimitedOrderd(require_binary(), self.data_dir, f"{self.tmp}/orderd-1.log")
        self.servers.append(server)
        server.start()
        metrics = server.get("/metrics").text
        limit = int(float(re.search(r"^orderd_http_connection_limit (\S+)$", metrics,
                                    re.M).group(1)))
        self.assertLess(limit, 1024, "the connection limit fits the open-files limit")
        self.assertIn("connection limit", server.log_text())
        idle = []
        try:
            for _ in range(1100):
                idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
            refused = server.get("/health", timeout=5)
            self.assert_problem(refused, 503)
            self.assertEqual(refused.header("Retry-After"), "1")
        finally:
            for conn in idle:
                conn.close()
        poll_until(lambda: server.get("/health").status == 200, 30,
                   message="connections accepted again once the idle ones closed")

    def test_unknown_routes_are_404(self):
        s = self.start()
        for method, path in (("GET", "/"), ("GET", "/nope"), ("GET", "/api/v1/nope"),
                             ("GET", "/api/v2/products"), ("POST", "/api/v1/nope"),
                             ("GET", "/api/v1/products/SKU-1/stock/extra"),
                             ("GET", "/api/v1/orders/x/y/z"), ("DELETE", "/healthz"),
                             ("GET", "/api/v1/admin/faults")):
            with self.subTest(f"{method} {path}"):
                self.assert_problem(s.request(method, path), 404)

    def test_encoded_slashes_are_data_not_separators(self):
        s = self.start()
        self.create_product(s, "H-1", 5)
        # Routing splits the raw path first: %2F never joins or splits segments.
        self.assert_problem(s.get("/api%2Fv1%2Fproducts"), 404)
        self.assert_problem(s.put("/api/v1/products/H-1%2Fstock", {"available": 0}), 404)
        self.assertEqual(self.stock(s, "H-1"), (5, 0))
        # Other escapes still decode inside a segment.
        self.assert_status(s.get("/api/v1/products/%48-1"), 200)

    def test_head_works_wherever_get_does(self):
        s = self.start()
        self.create_product(s, "HD-1", 5)
        for path in ("/health", "/ready", "/api/v1/products", "/api/v1/products/HD-1",
                     "/api/v1/orders"):
            with self.subTest(path):
                resp = s.request("HEAD", path)
                self.assert_status(resp, 200)
                self.assertEqual(resp.body, b"", resp.describe())
        self.assert_status(s.request("HEAD", "/api/v1/products/NOPE-1"), 404)  # no body on HEAD

    def test_wrong_method_is_405_with_allow(self):
        s = self.start()
        self.create_product(s, "M-1", 5)
        cases = (
            ("POST", "/health", {"GET"}),
            ("DELETE", "/ready", {"GET"}),
            ("PATCH", "/api/v1/products", {"GET", "POST"}),
            ("DELETE", "/api/v1/products", {"GET", "POST"}),
            ("POST", "/api/v1/products/M-1", {"GET", "PUT", "DELETE"}),
            ("GET", "/api/v1/products/M-1/stock", {"PUT"}),
            ("POST", "/api/v1/products/low-stock", {"GET"}),
            ("PUT", "/api/v1/orders", {"GET", "POST"}),
            ("GET", "/api/v1/orders/00000000-0000-4000-8000-000000000000/cancel", {"POST"}),
            ("PUT", "/order", {"GET", "POST", "DELETE"}),
            ("POST", "/orders", {"GET"}),
            ("GET", "/order/cancel?id=x", {"DELETE"}),
        )
        for method, path, expected in cases:
            with self.subTest(f"{method} {path}"):
                resp = s.request(method, path, {} if method in ("POST", "PUT", "PATCH") else None)
                self.assert_problem(resp, 405)
                self.assertTrue(expected <= allowed(resp),
                                f"Allow {resp.header('Allow')!r} lacks {sorted(expected)}: "
                                f"{resp.describe()}")
                self.assertNotIn(method, allowed(resp), resp.describe())
        self.assertEqual(self.stock(s, "M-1"), (5, 0))

    def test_wrong_content_type_is_415(self):
        s = self.start()
        self.create_product(s, "CT-1", 5)
        product = json.dumps(product_body("CT-2", 5)).encode()
        order = json.dumps(order_body([("CT-1", 1)])).encode()
        details = json.dumps({"name": "n", "description": "", "category": "c",
                              "price_cents": 1, "currency": "USD",
                              "low_stock_threshold": 0}).encode()
        for content_type in ("text/plain", "application/x-www-form-urlencoded",
                             "application/xml", "multipart/form-data; boundary=x"):
            for method, path, raw in (("POST", "/api/v1/products", product),
                                      ("POST", "/api/v1/orders", order),
                                      ("PUT", "/api/v1/products/CT-1", details),
                                      ("PUT", "/api/v1/products/CT-1/stock", b'{"available": 9}'),
                                      ("POST", "/order", b'{"customer_id": "c", "items": '
                                                         b'[{"product_id": "CT-1", '
                                                         b'"quantity": 1}]}')):
                with self.subTest(f"{method} {path} as {content_type}"):
                    resp = s.request(method, path, raw=raw, content_type=content_type)
                    self.assert_problem(resp, 415)
        self.assert_problem(s.get("/api/v1/products/CT-2"), 404)
        self.assertEqual(self.stock(s, "CT-1"), (5, 0))
        self.assertEqual(self.list_all(s, "/api/v1/orders"), [])
        # Parameters on the media type are fine.
        resp = s.request("POST", "/api/v1/products", raw=product,
                         content_type="application/json; charset=utf-8")
        self.assert_json(resp, 201)

    def test_oversized_body_is_413(self):
        s = self.start("--max-body-bytes", "1024")
        small = product_body("BIG-1", 5, description="x" * 600)
        self.assertLess(len(json.dumps(small)), 1024)
        self.assert_json(s.post("/api/v1/products", small), 201)
        big = product_body("BIG-2", 5, description="x" * 3000)
        self.assert_problem(s.post("/api/v1/products", big), 413)
        self.assert_problem(s.post("/api/v1/orders", raw=b'{"items": [' + b" " * 5000 + b"]}"),
                            413)
        self.assert_problem(s.get("/api/v1/products/BIG-2"), 404)
        self.assert_status(s.get("/health"), 200)
        self.assertEqual(self.stock(s, "BIG-1"), (5, 0))

    def raw_exchange(self, payload, read_timeout=2.0):
        """Sends raw bytes on a fresh socket; returns what comes back until the server closes
        the connection, one complete response has arrived, or it stays quiet for
        `read_timeout`. A reset counts as 'closed'."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
            try:
                sock.sendall(payload)
            except OSError:
                return b""
            sock.settimeout(read_timeout)
            data = b""
            try:
                while not self.complete_response(data):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError:  # timeout or reset
                pass
            return data

    @staticmethod
    def complete_response(data):
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            return False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                try:
                    return len(body) >= int(value.strip())
                except ValueError:
                    return True
        return False

    def test_garbage_never_hurts_the_server(self):
        s = self.start()
        self.create_product(s, "G-1", 5)
        payloads = [
            b"\x00\xff\xfe\x01 garbage \x13\x37\r\n\r\n",
            bytes(range(256)) * 4,
            b"GET / HTTP/9.9\r\n\r\n",
            b"GARBAGE /health HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: -5\r\n\r\n{}",
            b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nZZZ\r\nnot-hex\r\n",
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n",
            b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{\"items\": [",  # truncated body, then close
            b"GET /api/v1/products/%ZZ%00%ff HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /api/v1/orders?limit=%ff%fe&status=\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"\r\n" * 1000,
        ]
        for i, payload in enumerate(payloads):
            with self.subTest(payload=i):
                answer = self.raw_exchange(payload)
                if answer:
                    self.assertTrue(answer.startswith(b"HTTP/1."),
                                    f"payload {i}: not an HTTP response: {answer[:200]!r}")
                    # 501 (unknown method) and 505 (HTTP version) are fair answers to garbage;
                    # 500 or 503 would mean the server itself broke.
                    self.assertNotIn(answer[9:12], (b"500", b"503"),
                                     f"payload {i}: a server error: {answer[:500]!r}")
                self.assert_status(s.get("/health"), 200)
        # Half-open connections that send nothing, then the server still answers.
        idle = [socket.create_connection(("127.0.0.1", s.port), timeout=5) for _ in range(20)]
        try:
            self.assert_status(s.get("/health"), 200)
            self.assertEqual(self.stock(s, "G-1"), (5, 0))
        finally:
            for sock in idle:
                sock.close()
        # Malformed JSON bodies of every kind are 400 problems, never 5xx.
        for raw in (b"{", b"}", b"[[[[[[[[[[[[[[[[[[[[", b'{"a":' * 5000, b"[" * 500000,
                    b"\xff\xfe\xfd",
                    b'{"customer_id": "\xff\xfe", "items": []}', b"nul", b'{"items": NaN}'):
            with self.subTest(raw=raw[:20], size=len(raw)):
                self.assert_problem(s.post("/api/v1/orders", raw=raw), 400)
        self.assert_status(s.get("/ready"), 200)
        self.assertEqual(self.stock(s, "G-1"), (5, 0))


if __name__ == "__main__":
    unittest.main()
