"""GET /openapi.json against the running server: the document is served, equals docs/openapi.json,
every documented operation is routed (never 404 no-route or 405), no undocumented method is
served on a documented path, and real responses of the main flows match the documented schemas
(no undocumented members, no missing required ones)."""

import json
import os
import re
import unittest

from harness import OrderdTestCase, order_body, product_body, query

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC_PATH = os.path.join(REPO, "docs", "openapi.json")
METHODS = ("get", "put", "post", "delete", "patch")
NO_ROUTE = "https://orderd.dev/problems/no-route"
SAMPLE_SKU = "DOC-SKU-1"
SAMPLE_ID = "00000000-0000-4000-8000-000000000000"


def concrete(path):
    return path.replace("{sku}", SAMPLE_SKU).replace("{id}", SAMPLE_ID)


def template_matches(template, path):
    """The routing rule of http/router.cpp: same segment count, {x} matches any one segment."""
    t = [s for s in template.split("/") if s]
    p = [s for s in path.split("/") if s]
    return len(t) == len(p) and all(a.startswith("{") or a == b for a, b in zip(t, p))


class SchemaError(AssertionError):
    pass


class Validator:
    """Checks a JSON value against an OpenAPI 3.0 schema object: the subset docs/openapi.json
    uses ($ref, type, nullable, properties, required, items, enum, oneOf, allOf, minimum,
    maximum, minLength, maxLength, pattern). Objects with `properties` must not carry
    undocumented members: that is the drift this test exists to catch."""

    def __init__(self, doc):
        self.doc = doc

    def resolve(self, schema):
        while "$ref" in schema:
            node = self.doc
            for part in schema["$ref"][2:].split("/"):
                node = node[part]
            schema = node
        return schema

    def check(self, value, schema, where="$"):
        schema = self.resolve(schema)
        if value is None:
            if schema.get("nullable"):
                return
            if "allOf" not in schema and "oneOf" not in schema:
                raise SchemaError(f"{where}: null where not nullable")
        if "allOf" in schema:
            for sub in schema["allOf"]:
                self.check(value, sub, where)
        if "oneOf" in schema:
            matched = 0
            errors = []
            for sub in schema["oneOf"]:
                try:
                    self.check(value, sub, where)
                    matched += 1
                except SchemaError as e:
                    errors.append(str(e))
            if matched != 1:
                raise SchemaError(f"{where}: matches {matched} of oneOf ({'; '.join(errors)})")
        kind = schema.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                raise SchemaError(f"{where}: expected an object, got {value!r}")
            props = schema.get("properties", {})
            for name in schema.get("required", []):
                if name not in value:
                    raise SchemaError(f"{where}: required member {name!r} missing")
            if props and not schema.get("additionalProperties", False):
                extra = set(value) - set(props)
                if extra:
                    raise SchemaError(f"{where}: undocumented members {sorted(extra)}")
            for name, sub in props.items():
                if name in value:
                    self.check(value[name], sub, f"{where}.{name}")
        elif kind == "array":
            if not isinstance(value, list):
                raise SchemaError(f"{where}: expected an array, got {value!r}")
            for i, item in enumerate(value):
                self.check(item, schema.get("items", {}), f"{where}[{i}]")
        elif kind == "string":
            if not isinstance(value, str):
                raise SchemaError(f"{where}: expected a string, got {value!r}")
            if "pattern" in schema and not re.search(schema["pattern"], value):
                raise SchemaError(f"{where}: {value!r} does not match {schema['pattern']}")
            if len(value) > schema.get("maxLength", len(value)):
                raise SchemaError(f"{where}: longer than {schema['maxLength']}")
            if len(value) < schema.get("minLength", 0):
                raise SchemaError(f"{where}: shorter than {schema['minLength']}")
        elif kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                raise SchemaError(f"{where}: expected an integer, got {value!r}")
        elif kind == "number":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise SchemaError(f"{where}: expected a number, got {value!r}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise SchemaError(f"{where}: expected a boolean, got {value!r}")
        if kind in ("integer", "number"):
            if "minimum" in schema and value < schema["minimum"]:
                raise SchemaError(f"{where}: {value} < minimum {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                raise SchemaError(f"{where}: {value} > maximum {schema['maximum']}")
        if "enum" in schema and value not in schema["enum"]:
            raise SchemaError(f"{where}: {value!r} not in {schema['enum']}")


class OpenApiTest(OrderdTestCase):
    def setUp(self):
        super().setUp()
        self.server = self.start_server("--enable-fault-injection")
        resp = self.server.get("/openapi.json")
        self.doc = self.assert_json(resp, 200)
        self.validator = Validator(self.doc)

    def operations(self):
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                if method in METHODS:
                    yield path, method, op

    def response_spec(self, op, status):
        spec = op["responses"].get(str(status))
        if spec is None:
            return None
        return self.validator.resolve(spec)

    def assert_documented(self, path, method, resp, body_expected=True):
        """resp's status is listed for the operation, and its body matches the documented
        schema for that status and content type. Returns the decoded body (or None)."""
        op = self.doc["paths"][path][method]
        spec = self.response_spec(op, resp.status)
        self.assertIsNotNone(spec, f"{method.upper()} {path}: undocumented status: "
                                   f"{resp.describe()}")
        content = spec.get("content")
        if not content:
            self.assertEqual(resp.body, b"", resp.describe())
            return None
        self.assertIn(resp.content_type, content,
                      f"{method.upper()} {path}: undocumented Content-Type: {resp.describe()}")
        # Every response carries the trace headers the document lists.
        self.assertTrue(resp.header("X-Request-Id"), resp.describe())
        self.assertRegex(resp.header("traceparent") or "",
                         r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$", resp.describe())
        if not resp.content_type.endswith("json"):
            # Text routes (/metrics, /dashboard) document a string body.
            self.assertEqual(content[resp.content_type]["schema"].get("type"), "string")
            return resp.text
        body = resp.json()
        try:
            self.validator.check(body, content[resp.content_type]["schema"])
        except SchemaError as e:
            self.fail(f"{method.upper()} {path} {resp.status}: {e}\n{resp.describe()}")
        replayed = resp.header("Idempotent-Replayed") == "true"
        if "Location" in spec.get("headers", {}) and not replayed:
            self.assertTrue(resp.header("Location"), resp.describe())
        return body

    # -- the document itself

    def test_served_document_is_the_repository_file(self):
        resp = self.server.get("/openapi.json")
        self.assertEqual(resp.content_type, "application/json")
        with open(DOC_PATH, "rb") as f:
            on_disk = json.load(f)
        self.assertEqual(resp.json(), on_disk,
                         "the binary serves a different document than docs/openapi.json: "
                         "rebuild (CMake embeds the file at build time)")
        self.assertTrue(self.doc["openapi"].startswith("3.0."))

    # -- routes

    def test_every_documented_operation_is_routed(self):
        """Each operation is sent with sample path values and, where it takes a body, an empty
        JSON object: invalid everywhere, so nothing changes. The answer must not be 404 no-route
        or 405, and its status and body must be documented."""
        for path, method, op in self.operations():
            with self.subTest(operation=f"{method.upper()} {path}"):
                body = {} if "requestBody" in op else None
                resp = self.server.request(method.upper(), concrete(path), body)
                self.assertNotEqual(resp.status, 405, resp.describe())
                if resp.status == 404:
                    self.assertNotEqual(resp.json().get("type"), NO_ROUTE, resp.describe())
                self.assert_documented(path, method, resp)

    def test_parameterless_get_paths_answer(self):
        """Every documented GET path without placeholders answers 2xx when it needs no query
        parameter (GET /order needs ?id or ?status and answers 400 without: documented; admin
        routes answer 401 without the bearer token: this server has one, as the fault hook it
        runs needs it: documented)."""
        for path, method, op in self.operations():
            if method != "get" or "{" in path:
                continue
            with self.subTest(path=path):
                resp = self.server.get(path)
                # GET /order needs ?id or ?status, GET /api/v1/cart the X-Customer-Id header.
                expected = 400 if path in ("/order", "/api/v1/cart") else 200
                if path.startswith("/api/v1/admin/"):
                    expected = 401 # no bearer token sent
                self.assertEqual(resp.status, expected, resp.describe())
                self.assert_documented(path, method, resp)

    def test_undocumented_methods_on_documented_paths_are_405(self):
        """The reverse direction, black-box: on every documented path, each method that no
        matching documented operation lists answers 405, and Allow names exactly the documented
        ones. So the server serves nothing there that the document lacks."""
        paths = list(self.doc["paths"])
        for path in paths:
            target = concrete(path)
            documented = set()
            for other in paths:
                if template_matches(other, target):
                    documented |= {m.upper() for m in self.doc["paths"][other] if m in METHODS}
            for method in METHODS:
                if method.upper() in documented:
                    continue
                with self.subTest(operation=f"{method.upper()} {path}"):
                    resp = self.server.request(method.upper(), target,
                                               {} if method in ("post", "put", "patch") else None)
                    self.assert_problem(resp, 405)
                    allow = {m.strip() for m in (resp.header("Allow") or "").split(",") if m.strip()}
                    self.assertEqual(allow, documented, resp.describe())

    def test_fault_route_is_absent_without_the_flag(self):
        op = self.doc["paths"]["/api/v1/admin/faults"]["post"]
        self.assertEqual(op.get("x-orderd-requires"), "--enable-fault-injection")
        plain = self.start_server(data_dir=os.path.join(self.tmp, "plain"))
        resp = plain.post("/api/v1/admin/faults", {"target": "writer"})
        body = self.assert_problem(resp, 404)
        self.assertEqual(body["type"], NO_ROUTE)
        self.assertIn("404", op["responses"])

    # -- real responses against the schemas

    def test_main_flows_match_the_documented_schemas(self):
        s = self.server
        doc = self.assert_documented
        P, PS = "/api/v1/products", "/api/v1/products/{sku}"
        doc(P, "post", s.post(P, product_body("DOC-MUG", 5, price_cents=1250,
                                                low_stock_threshold=10)))
        doc(P, "post", s.post(P, product_body("DOC-TEE", 1, price_cents=900)))
        doc(P, "post", s.post(P, product_body("DOC-MUG", 1)))                  # 409 exists
        doc(P, "post", s.post(P, {"sku": "bad sku!", "name": ""}))              # 400 errors[]
        doc(P, "post", s.post(P, raw=b"{}", content_type="text/plain"))         # 415
        doc(P, "get", s.get(query(P, limit=1)))
        doc(P, "get", s.get(query(P, limit=0)))                                 # 400
        doc(P, "get", s.get(query(P, cursor="!!not-a-cursor")))                 # 400
        doc("/api/v1/products/low-stock", "get", s.get("/api/v1/products/low-stock"))
        doc(PS, "get", s.get(f"{P}/DOC-MUG"))
        doc(PS, "get", s.get(f"{P}/NOPE"))                                      # 404
        doc(PS, "put", s.put(f"{P}/DOC-MUG", {"name": "Mug", "price_cents": 1300}))
        doc("/api/v1/products/{sku}/stock", "put", s.put(f"{P}/DOC-MUG/stock", {"delta": 5}))
        doc("/api/v1/products/{sku}/stock", "put", s.put(f"{P}/DOC-MUG/stock", {"delta": -99}))

        O, OI = "/api/v1/orders", "/api/v1/orders/{id}"
        key = {"Idempotency-Key": "doc-tour-1"}
        body = order_body([("DOC-MUG", 2), ("DOC-TEE", 1)])
        first = s.post(O, body, headers=key)
        placed = doc(O, "post", first)
        self.assertEqual(first.status, 201, first.describe())
        self.assertEqual(first.header("Location"), f"{O}/{placed['id']}")
        again = s.post(O, body, headers=key)
        self.assertEqual(again.header("Idempotent-Replayed"), "true", again.describe())
        doc(O, "post", again)
        doc(O, "post", s.post(O, order_body([("DOC-TEE", 1)]), headers=key))      # 422 reuse
        short = s.post(O, order_body([("DOC-MUG", 1), ("DOC-TEE", 10)]))
        problem = doc(O, "post", short)                                          # 409
        self.assertEqual(short.status, 409, short.describe())
        self.assertEqual([i["sku"] for i in problem["short_items"]], ["DOC-TEE"])
        doc(O, "post", s.post(O, order_body([("DOC-NONE", 1)])))                 # 422 unknown
        doc(O, "get", s.get(query(O, status="PENDING", limit=5)))
        doc(O, "get", s.get(query(O, status="LOST")))                            # 400
        doc(OI, "get", s.get(f"{O}/{placed['id']}"))
        doc(OI, "get", s.get(f"{O}/{SAMPLE_ID}"))                                # 404
        doc(PS, "delete", s.delete(f"{P}/DOC-MUG"))                              # 409 reserved
        doc("/api/v1/orders/{id}/cancel", "post", s.post(f"{O}/{placed['id']}/cancel"))
        doc("/api/v1/orders/{id}/cancel", "post", s.post(f"{O}/{placed['id']}/cancel"))  # 409

        legacy = s.post("/order", {"customer_id": "c-7",
                                   "items": [{"product_id": "DOC-MUG", "quantity": 1}]})
        lo = doc("/order", "post", legacy)
        self.assertEqual(legacy.status, 201, legacy.describe())
        doc("/order", "get", s.get(query("/order", id=lo["id"])))
        doc("/order", "get", s.get(query("/order", status="PENDING", pageSize=2)))
        doc("/orders", "get", s.get(query("/orders", pageSize=1)))
        doc("/orders", "get", s.get(query("/orders", pageSize=0)))                # 400
        doc("/order", "delete", s.delete(query("/order", id=lo["id"])))
        doc("/order/cancel", "delete", s.delete(query("/order/cancel", id=lo["id"])))  # 409
        doc(PS, "delete", s.delete(f"{P}/DOC-MUG"))                              # 204

        doc("/health", "get", s.get("/health"))
        doc("/ready", "get", s.get("/ready"))
        doc("/api/v1/admin/faults", "post", s.post("/api/v1/admin/faults", {"target": "nope"}))

    def test_observability_and_admin_routes_match_the_documented_schemas(self):
        token = "doc-token"
        admin = self.start_server("--admin-token", token, data_dir=os.path.join(self.tmp, "admin"))
        doc = self.assert_documented
        auth = {"Authorization": f"Bearer {token}"}
        admin.post("/api/v1/products", product_body("DOC-LOW", 1, low_stock_threshold=5))
        admin.post("/api/v1/orders", order_body([("DOC-LOW", 1)]))
        tree = doc("/api/v1/admin/actors", "get", admin.get("/api/v1/admin/actors", headers=auth))
        self.assertEqual({s["name"] for s in tree["supervisors"]}, {"root", "inventory", "orders", "carts"})
        overview = doc("/api/v1/admin/overview", "get",
                       admin.get("/api/v1/admin/overview", headers=auth))
        self.assertEqual(overview["orders_by_status"]["PENDING"], 1)
        self.assertEqual([p["sku"] for p in overview["low_stock"]], ["DOC-LOW"])
        for path in ("/api/v1/admin/actors", "/api/v1/admin/overview"):
            doc(path, "get", admin.get(path))                                    # 401
            doc(path, "get", admin.get(path, headers={"Authorization": "Bearer nope"}))  # 401
            doc(path, "get", self.server.get(path, headers=auth))                # 403
        metrics = doc("/metrics", "get", admin.get("/metrics"))
        self.assertIn("# TYPE orderd_http_requests_total counter", metrics)
        page = doc("/dashboard", "get", admin.get("/dashboard"))
        self.assertIn("<title>orderd dashboard</title>", page)

    def test_customer_and_cart_flows_match_the_documented_schemas(self):
        s = self.server
        doc = self.assert_documented
        C, CI, CO = "/api/v1/customers", "/api/v1/customers/{id}", "/api/v1/customers/{id}/orders"
        doc("/api/v1/products", "post", s.post("/api/v1/products",
                                               product_body("DOC-CUP", 2, price_cents=500)))
        ada = doc(C, "post", s.post(C, {"name": "Ada", "email": "ada@example.com",
                                        "phone": "+1 555 0100"}))
        doc(C, "post", s.post(C, {"name": "Eve", "email": "ADA@example.com"}))      # 409
        doc(C, "post", s.post(C, {"name": "", "email": "nope"}))                     # 400
        doc(C, "get", s.get(query(C, limit=1)))
        doc(C, "get", s.get(query(C, cursor="!!bad")))                               # 400
        doc(CI, "get", s.get(f"{C}/{ada['id']}"))
        doc(CI, "put", s.put(f"{C}/{ada['id']}", {"name": "Ada L", "email": "ada@example.com"}))
        doc(CI, "put", s.put(f"{C}/{SAMPLE_ID}", {"name": "X", "email": "x@example.com"}))  # 404
        who = {"X-Customer-Id": ada["id"]}
        doc("/api/v1/cart", "get", s.get("/api/v1/cart", headers=who))               # 404
        doc("/api/v1/cart/items", "post",
            s.post("/api/v1/cart/items", {"sku": "DOC-CUP", "quantity": 3}, headers=who))
        doc("/api/v1/cart/items", "post",
            s.post("/api/v1/cart/items", {"sku": "DOC-NONE", "quantity": 1}, headers=who))  # 422
        doc("/api/v1/cart", "get", s.get("/api/v1/cart", headers=who))
        short = s.post("/api/v1/cart/checkout", headers=who)
        self.assertEqual(short.status, 409, short.describe())
        doc("/api/v1/cart/checkout", "post", short)
        marked = doc("/api/v1/cart", "get", s.get("/api/v1/cart", headers=who))
        self.assertEqual(marked["status"], "stock_unavailable")
        doc("/api/v1/cart/items/{sku}", "delete",
            s.delete("/api/v1/cart/items/DOC-CUP", headers=who))
        doc("/api/v1/cart/items/{sku}", "delete",
            s.delete("/api/v1/cart/items/DOC-CUP", headers=who))                      # 404
        s.post("/api/v1/cart/items", {"sku": "DOC-CUP", "quantity": 2}, headers=who)
        placed = s.post("/api/v1/cart/checkout", headers=dict(who, **{"Idempotency-Key": "k1"}))
        self.assertEqual(placed.status, 201, placed.describe())
        doc("/api/v1/cart/checkout", "post", placed)
        doc("/api/v1/cart/checkout", "post",
            s.post("/api/v1/cart/checkout", headers=dict(who, **{"Idempotency-Key": "k1"})))
        doc(CO, "get", s.get(f"{C}/{ada['id']}/orders"))
        doc(CO, "get", s.get(f"{C}/{SAMPLE_ID}/orders"))                              # 404
        doc(CI, "delete", s.delete(f"{C}/{ada['id']}"))
        doc(CI, "delete", s.delete(f"{C}/{ada['id']}"))                               # 404

    def test_oversized_body_is_documented_413(self):
        small = self.start_server("--max-body-bytes", "64",
                                  data_dir=os.path.join(self.tmp, "small"))
        resp = small.post("/api/v1/products", product_body("X-1", 1, description="x" * 200))
        self.assert_problem(resp, 413)
        self.assertIn("413", self.doc["paths"]["/api/v1/products"]["post"]["responses"])
        try:
            self.validator.check(resp.json(), {"$ref": "#/components/schemas/Problem"})
        except SchemaError as e:
            self.fail(f"413 body: {e}")


if __name__ == "__main__":
    unittest.main()
