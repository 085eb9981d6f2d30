#!/usr/bin/env python3
"""Helpers of the benchmark harness (bench/run.sh). Python 3 standard library only.

  benchtool.py wait-ready URL [--timeout S]
      Waits until GET URL/ready answers 200.
  benchtool.py load URL --count N [--available N] [--concurrency N]
      Creates the catalogue BENCH-00000 .. BENCH-<N-1> through POST /api/v1/products.
  benchtool.py product URL SKU AVAILABLE
      Creates one product (the flash-sale SKUs).
  benchtool.py flash-check URL --result FILE --stock SKU=N ... [--connections N] --out FILE
      Checks that exactly the stocked quantity was sold/reserved: for every flash SKU,
      stocked - available == reserved + sold == the units of the flash-sale orders the store
      holds, and the client's 201s account for them (up to the requests still in flight when
      wrk stopped).
  benchtool.py report --dir DIR --out FILE [--meta KEY=VALUE ...]
      Reads the scenario results in DIR, prints the table and writes the JSON report.
      Exits 1 if a scenario produced no number or the flash-sale check failed.
"""

import argparse
import concurrent.futures
import datetime
import http.client
import json
import math
import os
import sys
import threading
import time
import urllib.request
import urllib.parse

SKU_FORMAT = "BENCH-{:05d}"   # same as bench/lua/common.lua and bench/store_bench.cpp
FLASH_CUSTOMER = "flash-sale"  # same as bench/lua/flash.lua


class Client:
    """A keep-alive HTTP/1.1 connection per thread."""

    def __init__(self, url, timeout=30.0):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.timeout = u.hostname, u.port, timeout
        self.local = threading.local()

    def request(self, method, path, body=None):
        for attempt in range(2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port,
                                                                    timeout=self.timeout)
            try:
                headers = {}
                data = None
                if body is not None:
                    data = json.dumps(body).encode()
                    headers["Content-Type"] = "application/json"
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None)
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")


def die(msg):
    print(f"benchtool: {msg}", file=sys.stderr)
    sys.exit(1)


def cmd_wait_ready(a):
    c = Client(a.url, timeout=2.0)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        try:
            if c.request("GET", "/ready")[0] == 200:
                return
        except (OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(0.05)
    die(f"{a.url}/ready did not answer 200 within {a.timeout} s")


def cmd_wait_drained(a):
    """Until the outbox is empty and the relay's breaker closed (every event confirmed)."""
    c = Client(a.url, timeout=5.0)
    deadline = time.monotonic() + a.timeout
    broker = None
    while time.monotonic() < deadline:
        status, body = c.request("GET", "/ready")
        broker = (body or {}).get("checks", {}).get("broker", {})
        if status == 200 and broker.get("backlog") == 0 and broker.get("state") == "closed":
            return
        time.sleep(0.05)
    die(f"the outbox did not drain within {a.timeout} s: {broker}")


def histogram_quantiles(text, name):
    """(count, {q: seconds}) of a Prometheus histogram without labels, from its cumulative
    buckets, interpolating linearly inside the bucket a quantile falls in."""
    buckets, count = [], 0
    for line in text.splitlines():
        if line.startswith(name + "_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((math.inf if le == "+Inf" else float(le), float(line.split()[-1])))
        elif line.startswith(name + "_count "):
            count = int(float(line.split()[-1]))
    buckets.sort()
    out = {}
    for q in (0.5, 0.99, 0.999):
        rank, lower, below = q * count, 0.0, 0.0
        out[q] = None
        for upper, cumulative in buckets:
            if cumulative >= rank and count:
                if upper == math.inf:
                    out[q] = lower  # beyond the last bound: report that bound
                else:
                    inside = cumulative - below
                    frac = (rank - below) / inside if inside else 1.0
                    out[q] = lower + (upper - lower) * frac
                break
            lower, below = upper, cumulative
    return count, out


def cmd_lag(a):
    with urllib.request.urlopen(a.url + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    count, q = histogram_quantiles(text, "orderd_event_publish_lag_seconds")
    result = {"events": count, "drain_seconds": a.drain_seconds,
              "publish_lag_ms": {k: (None if v is None else v * 1000) for k, v in
                                 (("p50", q[0.5]), ("p99", q[0.99]), ("p999", q[0.999]))}}
    with open(a.out, "w") as f:
        json.dump(result, f)
    print(f"benchtool: {count} events published; lag p50 {result['publish_lag_ms']['p50']} ms, "
          f"p99 {result['publish_lag_ms']['p99']} ms", file=sys.stderr)


def product_body(sku, available, i=0):
    return {"sku": sku, "name": f"Bench product {sku}", "description": "benchmark catalogue",
            "category": "bench", "price_cents": 1000 + i % 9000, "currency": "USD",
            "available": available, "low_stock_threshold": 0}


def create_product(c, sku, available, i=0):
    status, body = c.request("POST", "/api/v1/products", product_body(sku, available, i))
    if status != 201:
        die(f"POST /api/v1/products {sku}: {status} {body}")


def cmd_load(a):
    c = Client(a.url)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(a.concurrency) as pool:
        futures = [pool.submit(create_product, c, SKU_FORMAT.format(i), a.available, i)
                   for i in range(a.count)]
        for f in futures:
            f.result()
    print(f"benchtool: loaded {a.count} products in {time.monotonic() - started:.1f} s",
          file=sys.stderr)


def place_one(c, i, skus):
    body = {"customer_id": f"scale-{i}", "customer_email": f"scale-{i}@example.com",
            "items": [{"sku": SKU_FORMAT.format(i % skus), "quantity": 1}]}
    status, resp = c.request("POST", "/api/v1/orders", body)
    if status != 201:
        die(f"POST /api/v1/orders: {status} {resp}")


def cmd_place(a):
    """`count` orders of one line each, spread over the first `skus` SKUs."""
    c = Client(a.url)
    with concurrent.futures.ThreadPoolExecutor(a.concurrency) as pool:
        for f in [pool.submit(place_one, c, i, a.skus) for i in range(a.count)]:
            f.result()


def cmd_count_orders(a):
    import sqlite3
    db = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True, timeout=30)
    try:
        print(db.execute("SELECT count(*) FROM orders").fetchone()[0])
    finally:
        db.close()


def cmd_product(a):
    create_product(Client(a.url), a.sku, a.available)


def get_product(c, sku):
    status, body = c.request("GET", "/api/v1/products/" + urllib.parse.quote(sku))
    if status != 200:
        die(f"GET product {sku}: {status} {body}")
    return body


def flash_orders(c):
    """Every order of the flash-sale customer (their lines), paging through the listing."""
    orders, cursor = [], ""
    while True:
        q = {"customer_id": FLASH_CUSTOMER, "limit": 500}
        if cursor:
            q["cursor"] = cursor
        status, body = c.request("GET", "/api/v1/orders?" + urllib.parse.urlencode(q))
        if status != 200:
            die(f"listing flash-sale orders: {status} {body}")
        orders.extend(body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            return orders


def parse_time(text):
    """RFC 3339 UTC as orderd writes it (2026-11-21T23:49:07.123Z) -> seconds since the epoch."""
    dt = datetime.datetime.strptime(text.rstrip("Z").split(".")[0], "%Y-%m-%dT%H:%M:%S")
    frac = text.rstrip("Z").partition(".")[2]
    return (dt.replace(tzinfo=datetime.timezone.utc).timestamp()
            + (float("0." + frac) if frac else 0.0))


def cmd_flash_check(a):
    c = Client(a.url)
    stock = {}
    for s in a.stock:
        sku, _, n = s.partition("=")
        stock[sku] = int(n)
    with open(a.result) as f:
        counts = json.load(f).get("counts", {})
    # Requests wrk abandoned at the end of the run may still be committing: wait until the
    # stock figures stop moving.
    last = None
    for _ in range(100):
        now = [get_product(c, sku)["version"] for sku in stock]
        if now == last:
            break
        last = now
        time.sleep(0.3)
    products = {sku: get_product(c, sku) for sku in stock}
    orders = flash_orders(c)
    server_units = {sku: 0 for sku in stock}
    for o in orders:
        if o["status"] == "CANCELLED":
            continue
        for line in o["items"]:
            if line["sku"] in server_units:
                server_units[line["sku"]] += line["quantity"]
    # How fast the hot spot sold while stock lasted: the accepted orders over the span of their
    # created_at (the sale may end well before wrk stops; the 409s after that are cheap).
    stamps = sorted(parse_time(o["created_at"]) for o in orders)
    window = (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    report = {"orders_in_store": len(orders), "created_201": counts.get("s201", 0),
              "refused_409": counts.get("s409", 0), "sale_seconds": window,
              "accepted_per_s": (len(orders) / window) if window > 0 else None,
              "skus": {}, "ok": True, "problems": []}
    for sku, stocked in stock.items():
        p = products[sku]
        client_units = counts.get("units:" + sku, 0)
        taken = stocked - p["available"]
        r = {"stocked": stocked, "available": p["available"], "reserved": p["reserved"],
             "sold": p["sold"], "units_in_orders": server_units[sku],
             "units_in_201s": client_units, "sold_out": p["available"] == 0}
        report["skus"][sku] = r
        problems = []
        if p["available"] < 0 or taken != p["reserved"] + p["sold"]:
            problems.append(f"stocked - available = {taken} but reserved + sold = "
                            f"{p['reserved'] + p['sold']}")
        if taken != server_units[sku]:
            problems.append(f"stocked - available = {taken} but the orders hold "
                            f"{server_units[sku]} units")
        # Every 201 the client saw is in the store; at most one in-flight request per
        # connection was committed without the client seeing its answer.
        if not client_units <= server_units[sku] <= client_units + a.connections:
            problems.append(f"the client saw 201s for {client_units} units, the store holds "
                            f"{server_units[sku]} (more than {a.connections} in flight)")
        for msg in problems:
            report["problems"].append(f"{sku}: {msg}")
        r["ok"] = not problems
        report["ok"] = report["ok"] and not problems
    with open(a.out, "w") as f:
        json.dump(report, f, indent=2)
    for msg in report["problems"]:
        print(f"benchtool: flash sale: {msg}", file=sys.stderr)


# -- report -------------------------------------------------------------------------------------

SCENARIOS = [
    ("baseline", "1 baseline GET /health"),
    ("create", "2 create POST /orders"),
    ("flash", "3 flash sale (2 SKUs)"),
    ("reads", "4 reads GET /orders/{id}"),
    ("mixed", "5 mixed 70/25/5"),
]

TARGETS = [
    # (key, numerator, denominator, target, description)
    ("create_vs_baseline", "create", "baseline", 0.30, "create / baseline"),
    ("flash_vs_create", "flash", "create", 0.50, "flash / create"),
    ("reads_vs_baseline", "reads", "baseline", 0.70, "reads / baseline"),
]


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def ok_responses(r):
    counts = r.get("counts", {})
    status_counts = {k: v for k, v in counts.items() if k.startswith("s") and k[1:].isdigit()}
    if status_counts:
        return sum(v for k, v in status_counts.items() if 200 <= int(k[1:]) < 300)
    return r["requests"] - r["errors"]["status"]


def non_2xx(r):
    counts = r.get("counts", {})
    status_counts = {k: v for k, v in counts.items() if k.startswith("s") and k[1:].isdigit()}
    if status_counts:
        return sum(v for k, v in status_counts.items() if not 200 <= int(k[1:]) < 300)
    return r["errors"]["status"]


def socket_errors(r):
    e = r["errors"]
    return e["connect"] + e["read"] + e["write"] + e["timeout"]


def cores(r, key):
    """CPU time used during the scenario, in cores (1.00 = one core busy throughout)."""
    v = r.get("cpu", {}).get(key)
    return "-" if v is None else f"{v / r['seconds']:.2f}"


def fmt(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def cmd_report(a):
    d = a.dir
    meta = {}
    for m in a.meta:
        k, _, v = m.partition("=")
        meta[k] = v
    results, failures = {}, []
    for key, _ in SCENARIOS:
        r = load_json(os.path.join(d, key + ".json"))
        if r is None or not r.get("requests") or not r.get("rps"):
            failures.append(f"scenario {key} produced no result")
            results[key] = None
            continue
        if ok_responses(r) == 0:
            failures.append(f"scenario {key}: not a single 2xx response")
        r["cpu"] = load_json(os.path.join(d, key + ".cpu.json")) or {}
        results[key] = r
    flash_check = load_json(os.path.join(d, "flash_check.json"))
    if results.get("flash") is not None:
        if flash_check is None:
            failures.append("flash sale: no stock check")
        elif not flash_check["ok"]:
            failures.append("flash sale: stock check failed: " + "; ".join(flash_check["problems"]))
    store = load_json(os.path.join(d, "store.json"))
    if store is None or not store.get("runs"):
        failures.append("scenario store produced no result")
    extra = load_json(os.path.join(d, "extra.json")) or {}
    # Scenario 7 (optional: --no-messaging, or no RabbitMQ installed).
    amqp = load_json(os.path.join(d, "create_amqp.json"))
    lag = load_json(os.path.join(d, "messaging.json"))
    if amqp is not None:
        amqp["cpu"] = load_json(os.path.join(d, "create_amqp.cpu.json")) or {}

    # The rates the ratios compare: successful (2xx) answers per second; for the flash sale, the
    # orders it accepted per second while its stock lasted (see flash-check).
    rate = {k: (ok_responses(r) / r["seconds"] if r else None) for k, r in results.items()}
    if results.get("flash") is not None:
        rate["flash"] = (flash_check or {}).get("accepted_per_s")
    ratios = {}
    for key, num, den, target, _ in TARGETS:
        if rate.get(num) and rate.get(den):
            ratios[key] = {"value": rate[num] / rate[den], "target": target,
                           "met": rate[num] / rate[den] >= target,
                           "numerator": rate[num], "denominator": rate[den]}
    store_runs = {str(run["batch"]): run for run in (store or {}).get("runs", [])}
    if rate.get("create") and store_runs:
        best = max(run["change_sets_per_s"] for run in store_runs.values())
        ratios["create_vs_store"] = {"value": rate["create"] / best, "target": None, "met": None,
                                     "numerator": rate["create"], "denominator": best}
    absolute = {}
    c = results.get("create")
    if c:
        absolute["create_orders_per_s"] = {"value": ok_responses(c) / c["seconds"],
                                           "target": 20000,
                                           "met": ok_responses(c) / c["seconds"] >= 20000}
        absolute["create_p99_ms"] = {"value": c["latency_ms"]["p99"], "target": 10.0,
                                     "met": c["latency_ms"]["p99"] < 10.0}

    # -- the table
    lines = []
    hdr = (f"{'scenario':<28} {'req/s':>9} {'2xx/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
           f"{'non-2xx':>8} {'errors':>7} {'CPU srv':>7} {'CPU wrk':>7}  notes")
    lines += [hdr, "-" * len(hdr)]
    for key, title in SCENARIOS:
        r = results[key]
        if r is None:
            lines.append(f"{title:<28} {'FAILED':>9}")
            continue
        lat = r["latency_ms"]
        notes = []
        counts = r.get("counts", {})
        if key == "create":
            notes.append(f"{ok_responses(r):,} orders")
            if "rss_kib_after_create" in extra:
                notes.append(f"RSS {int(extra['rss_kib_after_create']) / 1024:.0f} MiB")
        elif key == "flash" and flash_check:
            sold = ", ".join(f"{sku} {v['stocked'] - v['available']}/{v['stocked']}"
                             for sku, v in flash_check["skus"].items())
            notes.append(f"201: {counts.get('s201', 0):,}, 409: {counts.get('s409', 0):,}; "
                         f"taken {sold}; check {'ok' if flash_check['ok'] else 'FAILED'}; "
                         f"{fmt(flash_check.get('accepted_per_s'))} orders/s during the "
                         f"{flash_check['sale_seconds']:.1f} s sale")
        elif key == "mixed":
            notes.append(f"{counts.get('reads', 0):,} reads, {counts.get('creates', 0):,} creates, "
                         f"{counts.get('cancels', 0):,} cancels")
        lines.append(f"{title:<28} {fmt(r['rps']):>9} {fmt(rate[key]):>9} {fmt(lat['p50'], 2):>8} "
                     f"{fmt(lat['p99'], 2):>8} {fmt(lat['p999'], 2):>9} {non_2xx(r):>8,} "
                     f"{socket_errors(r):>7,} {cores(r, 'orderd_cpu_s'):>7} "
                     f"{cores(r, 'wrk_cpu_s'):>7}  {'; '.join(notes)}")
    synchronous = str((store or {}).get('synchronous', ''))
    store_label = "PostgreSQL" if synchronous == "postgres" else f"SQLite {synchronous}"
    for batch, run in store_runs.items():
        title = f"6 store alone, batch {batch}"
        lines.append(f"{title:<28} {'':>9} {fmt(run['change_sets_per_s']):>9} "
                     f"{'':>8} {'':>8} {'':>9} {run['refused']:>8,} {'':>7} {'':>7} {'':>7}  change sets/s "
                     f"({store_label}; commit p50 {run['batch_p50_ms']:.1f} ms, "
                     f"p99 {run['batch_p99_ms']:.1f} ms)")
    if not store_runs:
        lines.append(f"{'6 store alone':<28} {'FAILED':>9}")
    if amqp is None:
        lines.append(f"{'7 create + RabbitMQ':<28} {'-':>9} {'-':>9}  skipped")
    else:
        lat = amqp["latency_ms"]
        lag_ms = (lag or {}).get("publish_lag_ms", {})
        notes = (f"{ok_responses(amqp):,} orders; {(lag or {}).get('events', 0):,} events, publish lag "
                 f"p50 {fmt(lag_ms.get('p50'), 1)} ms, p99 {fmt(lag_ms.get('p99'), 1)} ms; "
                 f"outbox drained {fmt((lag or {}).get('drain_seconds'), 1)} s after wrk stopped")
        lines.append(f"{'7 create + RabbitMQ':<28} {fmt(amqp['rps']):>9} "
                     f"{fmt(ok_responses(amqp) / amqp['seconds']):>9} {fmt(lat['p50'], 2):>8} "
                     f"{fmt(lat['p99'], 2):>8} {fmt(lat['p999'], 2):>9} {non_2xx(amqp):>8,} "
                     f"{socket_errors(amqp):>7,} {cores(amqp, 'orderd_cpu_s'):>7} "
                     f"{cores(amqp, 'wrk_cpu_s'):>7}  {notes}")
        if rate.get("create"):
            ratios["messaging_vs_create"] = {
                "value": ok_responses(amqp) / amqp["seconds"] / rate["create"], "target": None,
                "met": None, "numerator": ok_responses(amqp) / amqp["seconds"],
                "denominator": rate["create"]}
    lines.append("")
    for key, _, _, target, desc in TARGETS:
        if key in ratios:
            v = ratios[key]
            lines.append(f"{desc:<28} {v['value']:>9.2f}  target >= {target:.2f}: "
                         f"{'met' if v['met'] else 'NOT met'} ({fmt(v['numerator'])} / "
                         f"{fmt(v['denominator'])} per s)")
    if "create_orders_per_s" in absolute:
        v = absolute["create_orders_per_s"]
        lines.append(f"{'created orders/s':<28} {v['value']:>9,.0f}  target >= 20,000: "
                     f"{'met' if v['met'] else 'NOT met'}")
        v = absolute["create_p99_ms"]
        lines.append(f"{'create p99 ms':<28} {v['value']:>9.2f}  target < 10: "
                     f"{'met' if v['met'] else 'NOT met'}")
    if "messaging_vs_create" in ratios:
        lines.append(f"{'create+RabbitMQ / create':<28} "
                     f"{ratios['messaging_vs_create']['value']:>9.2f}")
    if "create_vs_store" in ratios:
        lines.append(f"{'create / store ceiling':<28} {ratios['create_vs_store']['value']:>9.2f}"
                     "  (best store batch size)")
    table = "\n".join(lines)
    print(table)

    report = {"meta": meta, "scenarios": {}, "store": store, "flash_check": flash_check,
              "ratios": ratios, "targets": absolute, "extra": extra,
              "messaging": ({"skipped": True} if amqp is None else {
                  "ok_per_s": ok_responses(amqp) / amqp["seconds"], "requests_per_s": amqp["rps"],
                  "latency_ms": amqp["latency_ms"], "non_2xx": non_2xx(amqp),
                  "cpu_s": amqp.get("cpu", {}), **(lag or {})}),
              "failures": failures}
    for key, _ in SCENARIOS:
        r = results[key]
        if r is None:
            report["scenarios"][key] = None
            continue
        report["scenarios"][key] = {
            "requests_per_s": r["rps"], "ok_per_s": rate[key], "requests": r["requests"], "seconds": r["seconds"],
            "ok_2xx": ok_responses(r), "non_2xx": non_2xx(r), "socket_errors": socket_errors(r),
            "latency_ms": r["latency_ms"], "errors": r["errors"], "counts": r.get("counts", {}),
            "cpu_s": r.get("cpu", {}),
        }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=2, sort_keys=True)
        f.write("\n")
    if a.table:
        with open(a.table, "w") as f:
            f.write(table + "\n")
    for msg in failures:
        print(f"bench: FAILED: {msg}", file=sys.stderr)
    sys.exit(1 if failures else 0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("wait-ready")
    s.add_argument("url")
    s.add_argument("--timeout", type=float, default=30.0)
    s.set_defaults(fn=cmd_wait_ready)
    s = sub.add_parser("wait-drained")
    s.add_argument("url")
    s.add_argument("--timeout", type=float, default=300.0)
    s.set_defaults(fn=cmd_wait_drained)
    s = sub.add_parser("lag")
    s.add_argument("url")
    s.add_argument("--drain-seconds", type=float, default=0.0)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_lag)
    s = sub.add_parser("load")
    s.add_argument("url")
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--available", type=int, default=1_000_000_000)
    s.add_argument("--concurrency", type=int, default=16)
    s.set_defaults(fn=cmd_load)
    s = sub.add_parser("place")
    s.add_argument("url")
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--skus", type=int, required=True)
    s.add_argument("--concurrency", type=int, default=16)
    s.set_defaults(fn=cmd_place)
    s = sub.add_parser("count-orders")
    s.add_argument("db")
    s.set_defaults(fn=cmd_count_orders)
    s = sub.add_parser("product")
    s.add_argument("url")
    s.add_argument("sku")
    s.add_argument("available", type=int)
    s.set_defaults(fn=cmd_product)
    s = sub.add_parser("flash-check")
    s.add_argument("url")
    s.add_argument("--result", required=True)
    s.add_argument("--stock", action="append", required=True)
    s.add_argument("--connections", type=int, default=64)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_flash_check)
    s = sub.add_parser("report")
    s.add_argument("--dir", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--table")
    s.add_argument("--meta", action="append", default=[])
    s.set_defaults(fn=cmd_report)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
