"""Black-box test harness: starts the real orderd binary and talks HTTP to it.

Standard library only. Every test gets its own temporary directory (data dir and process logs)
and its own orderd process on a free loopback port (`--port 0`; the port is read from the
`listening on http://HOST:PORT` log line). Processes are always killed in clean-up; when a test
fails, the logs of its processes are printed.

Environment knobs (all optional):
  ORDERD_BIN                path of the binary (run.py sets it from --orderd)
  ORDERD_TEST_LOG_LEVEL     --log-level passed to orderd (default: info)
  ORDERD_TEST_KEEP_TMP=1    keep the temporary directories
  ORDERD_TEST_SHOW_LOGS=1   print process logs even when the test passed
  ORDERD_TEST_STORE=postgres  run every orderd on PostgreSQL (one database per data directory)
                            on the server of tests/postgres/with_postgres.sh, which sets
                            ORDERD_TEST_DATABASE_URL and ORDERD_TEST_PG_BIN; a test that
                            passes --store itself keeps its choice
"""

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

ORDERD_BIN = os.environ.get("ORDERD_BIN", "")

START_TIMEOUT = 30.0      # seconds to wait for the listening line and /ready
STOP_TIMEOUT = 30.0       # seconds to wait for a graceful exit
REQUEST_TIMEOUT = 60.0    # per HTTP request; generous, the machine may be loaded
LOG_TAIL_LINES = 400      # lines of each process log printed on failure

# The admin token of servers a test starts with --enable-fault-injection and no token of its own.
HARNESS_ADMIN_TOKEN = "harness-admin-token"
LISTEN_RE = re.compile(r"listening on http://(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:/\"']+):(?P<port>\d+)")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PROBLEM_TYPE = "application/problem+json"
# What a request can raise when the connection breaks (reset, refused, cut-off response).
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


_live = set()  # every Orderd started by this process, killed at exit whatever happens


@atexit.register
def _kill_leftovers():
    for server in list(_live):
        server.kill()


class ServerError(AssertionError):
    """orderd did not start, or did not stop as it should."""


def clean_env(extra=None):
    """The current environment without any ORDERD_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERD_")}
    env.update(extra or {})
    return env


def require_binary():
    if not ORDERD_BIN:
        raise ServerError("no orderd binary: pass --orderd PATH to run.py or set ORDERD_BIN")
    if not (os.path.isfile(ORDERD_BIN) and os.access(ORDERD_BIN, os.X_OK)):
        raise ServerError(f"orderd binary {ORDERD_BIN!r} does not exist or is not executable")
    return ORDERD_BIN


# -- HTTP ---------------------------------------------------------------------------------------


class Response:
    """A fully read HTTP response."""

    def __init__(self, method, path, status, reason, headers, body):
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage (case-insensitive get)
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def content_type(self):
        value = self.header("Content-Type", "") or ""
        return value.split(";")[0].strip().lower()

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise AssertionError(f"{self.describe()}: body is not JSON ({e})") from None

    def describe(self, limit=2000):
        text = self.text
        if len(text) > limit:
            text = text[:limit] + f"... ({len(self.body)} bytes)"
        return f"{self.method} {self.path} -> {self.status} {self.reason}: {text}"

    def __repr__(self):
        return f"<Response {self.describe(200)}>"


def http_request(host, port, method, path, body=None, *, raw=None, headers=None,
                 content_type="application/json", timeout=REQUEST_TIMEOUT):
    """One request on a fresh connection. `body` is JSON-encoded; `raw` bytes are sent as-is."""
    hdrs = {"Accept": "application/json"}
    data = None
    if raw is not None:
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    elif body is not None:
        data = json.dumps(body).encode("utf-8")
    if data is not None and content_type is not None:
        hdrs["Content-Type"] = content_type
    hdrs.update(headers or {})
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        return Response(method, path, resp.status, resp.reason, resp.headers, payload)
    finally:
        conn.close()


def query(path, **params):
    """`path` with the non-None params url-encoded."""
    params = {k: v for k, v in params.items() if v is not None}
    return path + ("?" + urllib.parse.urlencode(params) if params else "")


# -- process ------------------------------------------------------------------------------------


_databases = {}  # data directory -> database URL (ORDERD_TEST_STORE=postgres)


def database_for(data_dir):
    """The PostgreSQL database that stands for `data_dir`: created empty on first use, so a
    restart on the same directory finds its data and a fresh directory starts empty."""
    if data_dir in _databases:
        return _databases[data_dir]
    server = os.environ.get("ORDERD_TEST_DATABASE_URL", "")
    psql = os.path.join(os.environ.get("ORDERD_TEST_PG_BIN", ""), "psql")
    if not server or not os.access(psql, os.X_OK):
        raise ServerError("ORDERD_TEST_STORE=postgres needs the server of "
                          "tests/postgres/with_postgres.sh (ORDERD_TEST_DATABASE_URL, "
                          "ORDERD_TEST_PG_BIN)")
    name = f"it_{os.getpid()}_{len(_databases)}"
    subprocess.run([psql, "-q", "-v", "ON_ERROR_STOP=1", f"{server}/postgres", "-c",
                    f"CREATE DATABASE {name}"], check=True, stdout=subprocess.DEVNULL)
    _databases[data_dir] = f"{server}/{name}"
    return _databases[data_dir]


class Orderd:
    """One orderd process (re)started on a data directory, logging into one file."""

    def __init__(self, binary, data_dir, log_path, args=(), env=None, host="127.0.0.1"):
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.args = list(args)
        self.env = dict(env or {})
        self.host = host
        self.port = None
        self.proc = None
        self.starts = 0
        self.expected_exit = True  # False while running: an exit then is a crash

    # -- life cycle

    def command(self):
        return [self.binary, "--host", self.host, "--port", "0", "--data-dir", self.data_dir,
                "--log-level", os.environ.get("ORDERD_TEST_LOG_LEVEL", "info"),
                *self.store_args(), *self.fault_token_args(), *self.args]

    def fault_token_args(self):
        # The fault hook needs the admin token; a test that only asks for the hook gets the
        # harness's token, which request() then sends to the hook for it.
        if "--enable-fault-injection" in self.args and "--admin-token" not in self.args:
            return ["--admin-token", HARNESS_ADMIN_TOKEN]
        return []

    def store_args(self):
        if os.environ.get("ORDERD_TEST_STORE") != "postgres" or "--store" in self.args:
            return []
        return ["--store", "postgres", "--database-url", database_for(self.data_dir)]

    def start(self, wait=True, timeout=START_TIMEOUT):
        if self.running():
            raise ServerError("orderd is already running")
        self.starts += 1
        cmd = self.command()
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(cmd)}\n".encode())
            self._log_offset = log.tell()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=clean_env(self.env))
        _live.add(self)
        self.port = None
        self.expected_exit = False
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        """Waits for the listening line, then for GET /ready to answer 200."""
        deadline = time.monotonic() + timeout
        while self.port is None:
            match = LISTEN_RE.search(self._new_log())
            if match:
                self.port = int(match.group("port"))
                break
            self._fail_if_exited_or_late(
                deadline, "logging 'listening on http://HOST:PORT'",
                f"orderd logged no 'listening on http://HOST:PORT' line within {timeout:.0f} s")
            time.sleep(0.05)
        last = None
        while True:
            try:
                resp = self.get("/ready", timeout=5)
                if resp.status == 200:
                    return self
                last = resp.describe()
            except OSError as e:
                last = repr(e)
            self._fail_if_exited_or_late(
                deadline, f"/ready answered 200 (last: {last})",
                f"GET /ready did not answer 200 within {timeout:.0f} s (last: {last})")
            time.sleep(0.1)

    def _fail_if_exited_or_late(self, deadline, exited_before, too_late):
        """Raises ServerError with the log's tail if orderd has exited ("orderd exited with code
        N before `exited_before`") or, killing it, if `deadline` has passed (`too_late`)."""
        if self.proc.poll() is not None:
            self.expected_exit = True
            raise ServerError(f"orderd exited with code {self.proc.returncode} before "
                              f"{exited_before}\n{self.log_tail()}")
        if time.monotonic() > deadline:
            self.kill()
            raise ServerError(f"{too_late}\n{self.log_tail()}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def crashed(self):
        """True if the process ended without being asked to."""
        return self.proc is not None and not self.expected_exit and self.proc.poll() is not None

    def signal(self, sig, timeout=STOP_TIMEOUT):
        """Sends `sig` and waits for the exit; returns the exit code (negative: killed by a
        signal). Raises ServerError (after SIGKILL) if the process does not exit in time."""
        if self.proc is None:
            raise ServerError("orderd was never started")
        self.expected_exit = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise ServerError(f"orderd did not exit within {timeout:.0f} s of signal "
                                  f"{signal.Signals(sig).name}\n{self.log_tail()}") from None
        return self.proc.returncode

    def signal_nowait(self, sig):
        """Sends `sig` (e.g. SIGSTOP, SIGCONT) without waiting for anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM: the graceful path. Returns the exit code."""
        return self.signal(signal.SIGTERM, timeout)

    def kill(self):
        """SIGKILL (kill -9): no chance to flush anything."""
        if self.proc is None:
            return None
        self.expected_exit = True
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        return self.proc.returncode

    def restart(self, graceful=True):
        if graceful:
            rc = self.stop()
            if rc != 0:
                raise ServerError(f"orderd exited with code {rc} on SIGTERM (expected 0)\n"
                                  f"{self.log_tail()}")
        else:
            self.kill()
        return self.start()

    # -- logs

    def _new_log(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                return ANSI_RE.sub("", f.read().decode("utf-8", errors="replace"))
        except OSError:
            return ""

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return ANSI_RE.sub("", f.read().decode("utf-8", errors="replace"))
        except OSError as e:
            return f"(no log: {e})"

    def log_tail(self, lines=LOG_TAIL_LINES):
        all_lines = self.log_text().splitlines()
        skipped = len(all_lines) - lines
        head = [f"... ({skipped} earlier lines in {self.log_path})"] if skipped > 0 else []
        return "\n".join(["----- orderd log " + self.log_path] + head + all_lines[-lines:]
                         + ["----- end of log"])

    # -- HTTP

    def request(self, method, path, body=None, **kw):
        if self.port is None:
            raise ServerError("orderd is not listening")
        if self.fault_token_args() and path.startswith("/api/v1/admin/faults"):
            headers = dict(kw.pop("headers", None) or {})
            headers.setdefault("Authorization", f"Bearer {HARNESS_ADMIN_TOKEN}")
            kw["headers"] = headers
        return http_request(self.host, self.port, method, path, body, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def url(self, path=""):
        return f"http://{self.host}:{self.port}{path}"


def run_orderd_once(args, env=None, timeout=30):
    """Runs `orderd ARGS` to completion (for --help, bad settings). Returns (code, output);
    a process still running after `timeout` is killed and reported as code None."""
    binary = require_binary()
    try:
        proc = subprocess.run([binary, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, env=clean_env(env), timeout=timeout)
        return proc.returncode, proc.stdout.decode("utf-8", errors="replace")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", errors="replace")
        return None, out


# -- concurrency --------------------------------------------------------------------------------


def run_parallel(fn, tasks, threads=64):
    """Calls fn(task) for every task from `threads` threads that start together (a barrier),
    each taking the next task from a shared list. Returns results in task order; an exception
    is returned as its result, never swallowed silently."""
    tasks = list(tasks)
    results = [None] * len(tasks)
    lock = threading.Lock()
    next_index = [0]
    threads = max(1, min(threads, len(tasks)))
    barrier = threading.Barrier(threads)

    def worker():
        try:
            barrier.wait(60)
        except threading.BrokenBarrierError:
            pass
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(tasks):
                return
            try:
                results[i] = fn(tasks[i])
            except Exception as e:  # reported by the caller
                results[i] = e

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def poll_until(fn, timeout, interval=0.1, message="condition"):
    """Calls fn() until it returns a truthy value; returns it. Raises AssertionError (with the
    last value) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout:.0f} s (last: {last!r})")
        time.sleep(interval)


# -- test base ----------------------------------------------------------------------------------


def product_body(sku, available=10, *, price_cents=1000, name=None, description="",
                 category="general", currency="USD", low_stock_threshold=0):
    return {"sku": sku, "name": name or f"Product {sku}", "description": description,
            "category": category, "price_cents": price_cents, "currency": currency,
            "available": available, "low_stock_threshold": low_stock_threshold}


def order_body(items, customer_id="cust-1", customer_email="cust-1@example.com"):
    """items: [(sku, quantity)] or [{"sku", "quantity"}]."""
    lines = [i if isinstance(i, dict) else {"sku": i[0], "quantity": i[1]} for i in items]
    return {"customer_id": customer_id, "customer_email": customer_email, "items": lines}


def random_id():
    return str(uuid.uuid4())


class OrderdTestCase(unittest.TestCase):
    """Base class: a temporary directory per test and helpers to run orderd in it."""

    maxDiff = 4000

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix=f"orderd-it-{self._testMethodName}-")
        self.data_dir = os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir)
        self.servers = []
        self.server = None  # set by start()
        # Clean-ups run last-in first-out: first reap processes, then report and delete.
        self.addCleanup(self._report_and_remove_tmp)
        self.addCleanup(self._reap_servers)

    # -- processes

    def start_server(self, *args, env=None, data_dir=None, wait=True):
        """Starts orderd with `args` (after --host/--port/--data-dir) and waits until ready."""
        binary = require_binary()
        n = len(self.servers) + 1
        server = Orderd(binary, data_dir or self.data_dir,
                        os.path.join(self.tmp, f"orderd-{n}.log"), args, env)
        self.servers.append(server)
        server.start(wait=wait)
        return server

    def start(self, *args):
        """Starts the test's one orderd with `args` and keeps it as `self.server`."""
        self.server = self.start_server(*args)
        return self.server

    def _reap_servers(self):
        crashed = [s for s in self.servers if s.crashed()]
        for s in self.servers:
            s.kill()
        if crashed:
            codes = ", ".join(str(s.proc.returncode) for s in crashed)
            raise AssertionError(f"orderd exited unexpectedly during the test (code {codes})")

    def _failed(self):
        """True if this test (or one of its subtests) has failed so far. unittest resets
        `_outcome.success` at the start of every clean-up, so look at what was reported."""
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return True  # cannot tell: better too many logs than none
        if any(exc for _, exc in getattr(outcome, "errors", []) or []):  # Python < 3.11
            return True
        result = getattr(outcome, "result", None)
        reported = list(getattr(result, "failures", [])) + list(getattr(result, "errors", []))
        return any(t is self or getattr(t, "test_case", None) is self for t, _ in reported)

    def _report_and_remove_tmp(self):
        if self.servers and (self._failed() or os.environ.get("ORDERD_TEST_SHOW_LOGS") == "1"):
            out = [f"\n===== logs of {self.id()}"]
            out += [s.log_tail() for s in self.servers]
            sys.stderr.write("\n".join(out) + "\n")
            sys.stderr.flush()
        if os.environ.get("ORDERD_TEST_KEEP_TMP") == "1":
            sys.stderr.write(f"kept {self.tmp}\n")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- assertions

    def assert_status(self, resp, *expected):
        """Asserts resp.status is one of `expected`; the message carries the body."""
        self.assertIn(resp.status, expected,
                      f"expected {' or '.join(map(str, expected))}: {resp.describe()}")
        return resp

    def assert_json(self, resp, *expected):
        """Asserts the status and an application/json body; returns the decoded body."""
        self.assert_status(resp, *expected)
        self.assertEqual(resp.content_type, "application/json",
                         f"wrong Content-Type {resp.header('Content-Type')!r}: {resp.describe()}")
        return resp.json()

    def assert_problem(self, resp, *expected):
        """Asserts an RFC 9457 problem: status, application/problem+json, type/title/status/
        detail present, `status` member equal to the HTTP status. Returns the decoded body."""
        self.assert_status(resp, *expected)
        self.assertEqual(resp.content_type, PROBLEM_TYPE,
                         f"error without {PROBLEM_TYPE} (Content-Type "
                         f"{resp.header('Content-Type')!r}): {resp.describe()}")
        body = resp.json()
        self.assertIsInstance(body, dict, resp.describe())
        for key in ("type", "title", "detail"):
            self.assertIsInstance(body.get(key), str, f"problem member {key!r}: {resp.describe()}")
            self.assertTrue(body[key], f"problem member {key!r} is empty: {resp.describe()}")
        self.assertEqual(body.get("status"), resp.status,
                         f"problem 'status' differs from the HTTP status: {resp.describe()}")
        return body

    # -- API helpers (each asserts success)

    def create_product(self, server, sku, available=10, **fields):
        body = product_body(sku, available, **fields)
        return self.assert_json(server.post("/api/v1/products", body), 201)

    def get_product(self, server, sku):
        return self.assert_json(server.get(f"/api/v1/products/{sku}"), 200)

    def assert_each_refused(self, server, path, cases, status=400):
        """POSTs every case of `cases` (label -> JSON body, or bytes sent as they are) to `path`
        and asserts a problem `status` for each, one subtest per label."""
        for label, body in cases.items():
            with self.subTest(label):
                resp = server.post(path, raw=body) if isinstance(body, bytes) else \
                    server.post(path, body)
                self.assert_problem(resp, status)

    def assert_stock_matches_orders(self, server, initial, orders, holding, holders):
        """For every SKU of `initial` (SKU -> units stocked): reserved == the quantity `orders`
        in a status of `holding` hold of it (`holders` names them in the message), and
        available + reserved == the units stocked."""
        for sku, qty in initial.items():
            held = sum(i["quantity"] for o in orders if o["status"] in holding
                       for i in o["items"] if i["sku"] == sku)
            available, reserved = self.stock(server, sku)
            self.assertEqual(reserved, held, f"{sku}: reserved {reserved} != {held} held by "
                                             f"{holders}")
            self.assertEqual(available + reserved, qty,
                             f"{sku}: available {available} + reserved {reserved} != {qty}")

    def stock(self, server, sku):
        """(available, reserved) of a product."""
        p = self.get_product(server, sku)
        return p["available"], p["reserved"]

    def place_order(self, server, items, customer_id="cust-1", email=None, headers=None):
        body = order_body(items, customer_id, email or f"{customer_id}@example.com")
        return self.assert_json(server.post("/api/v1/orders", body, headers=headers), 201)

    def get_order(self, server, order_id):
        return self.assert_json(server.get(f"/api/v1/orders/{order_id}"), 200)

    def list_all(self, server, path, limit=None, max_pages=10000, **params):
        """Follows next_cursor through a v1 list; asserts the page shape and no repeats.
        Returns every item."""
        items, seen_cursors, cursor = [], set(), None
        for _ in range(max_pages):
            resp = server.get(query(path, limit=limit, cursor=cursor, **params))
            page = self.assert_json(resp, 200)
            self.assertIsInstance(page, dict, resp.describe())
            self.assertIn("items", page, resp.describe())
            self.assertIn("next_cursor", page, resp.describe())
            self.assertIsInstance(page["items"], list, resp.describe())
            if limit is not None:
                self.assertLessEqual(len(page["items"]), limit, resp.describe())
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return items
            self.assertIsInstance(cursor, str, resp.describe())
            self.assertTrue(cursor, f"next_cursor must be null, not empty: {resp.describe()}")
            self.assertNotIn(cursor, seen_cursors, f"cursor repeats: {resp.describe()}")
            seen_cursors.add(cursor)
        self.fail(f"{path}: more than {max_pages} pages")
