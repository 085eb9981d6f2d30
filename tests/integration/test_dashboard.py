"""GET /dashboard in a real browser: headless Chromium loads the page with the admin token in
the URL fragment, runs its script against the admin JSON routes, and the DOM it dumps must show
the supervision tree with live counts, orders by status, low stock, backlog, DLQ depth and the
breaker. A screenshot is kept as an artefact (its path is printed).

Chromium comes from scripts/deps.sh (Debian package `chromium`). Run by hand without it, the
module skips; under ctest (ORDERD_TEST_REQUIRE_BROWSER=1) a missing browser is a failure."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import OrderdTestCase, order_body

TOKEN = "dash-token"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
ATTEMPTS = 4               # a loaded machine may need more than one page load
VIRTUAL_TIME_MS = 8000     # virtual time the page gets to fetch and render (not wall time)


def find_browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def artifact_dir():
    path = os.environ.get("ORDERD_TEST_ARTIFACT_DIR") or os.path.join(tempfile.gettempdir(),
                                                                        "orderd-artifacts")
    os.makedirs(path, exist_ok=True)
    return path


class DashboardTest(OrderdTestCase):
    def setUp(self):
        super().setUp()
        self.browser = find_browser()
        if not self.browser:
            if os.environ.get("ORDERD_TEST_REQUIRE_BROWSER") == "1":
                self.fail("no chromium found: run scripts/deps.sh (package chromium)")
            self.skipTest("no chromium found (scripts/deps.sh installs it)")

    def chromium(self, url, *extra, timeout=90):
        """Runs headless Chromium once on `url`; returns its stdout (the DOM with --dump-dom)."""
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.tmp)
        cmd = [self.browser, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", f"--virtual-time-budget={VIRTUAL_TIME_MS}",
               *extra, url]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        return proc.stdout.decode("utf-8", errors="replace"), proc

    def dump_dom_until(self, url, *expected):
        """The dumped DOM once it contains every string in `expected` (a few page loads)."""
        dom = ""
        for attempt in range(ATTEMPTS):
            dom, proc = self.chromium(url, "--dump-dom")
            missing = [e for e in expected if e not in dom]
            if not missing:
                return dom
            time.sleep(0.5 * (attempt + 1))
        stderr = proc.stderr.decode("utf-8", errors="replace")[-2000:]
        self.fail(f"the dashboard DOM lacks {missing} after {ATTEMPTS} loads:\n{dom[-4000:]}\n"
                  f"chromium stderr:\n{stderr}")

    def test_dashboard_shows_tree_orders_and_stock(self):
        s = self.start_server("--admin-token", TOKEN, "--order-idle-timeout-ms", "600000")
        self.create_product(s, "DASH-LOW", 4, low_stock_threshold=5, name="Dashboard widget")
        self.create_product(s, "DASH-OK", 100)
        for sku in ("DASH-OK", "DASH-OK", "DASH-LOW"):
            self.assert_status(s.post("/api/v1/orders", order_body([(sku, 1)])), 201)
        url = s.url(f"/dashboard#token={TOKEN}")
        dom = self.dump_dom_until(
            url, 'data-loaded="true"', 'data-live="orders">3 live order actors<',
            'data-live="inventory">2 live stock actors<', 'data-status="PENDING">3<',
            "DASH-LOW")
        for text in (">root<", ">inventory<", ">orders<", "order-supervisor",
                     "inventory-supervisor", "store-writer", "event-relay",
                     'class="state-closed">closed<', 'id="dlq">0<', 'id="backlog">',
                     'class="status ok">live<', "Dashboard widget",
                     'id="cluster-summary">single node (no cluster)<'):
            self.assertIn(text, dom)
        self.assertNotIn("DASH-OK</td>", dom)  # plenty of stock: not in the low-stock table

        shot = os.path.join(artifact_dir(), "dashboard.png")
        if os.path.exists(shot):
            os.remove(shot)
        _, proc = self.chromium(url, f"--screenshot={shot}", "--window-size=1280,900")
        self.assertTrue(os.path.exists(shot), proc.stderr.decode(errors="replace")[-2000:])
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        print(f"\ndashboard screenshot: {shot}", flush=True)

    def test_wrong_token_and_disabled_admin_are_explained(self):
        s = self.start_server("--admin-token", TOKEN)
        dom = self.dump_dom_until(s.url("/dashboard#token=wrong"), "401 Unauthorized")
        self.assertIn('class="status bad"', dom)
        plain = self.start_server(data_dir=os.path.join(self.tmp, "plain"))
        self.dump_dom_until(plain.url("/dashboard"), "403 Forbidden", "--admin-token")


if __name__ == "__main__":
    unittest.main()
