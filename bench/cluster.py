#!/usr/bin/env python3
"""The cluster benchmark (issue 13; docs/CLUSTER.md explains the figures). Three nodes share
this machine's cores, so it shows what a cluster costs, not how it scales.

    bench/cluster.sh [--duration S] [--kills N] [--skus N] [--orderd PATH] [--no-build]

Measures, in one run, on one private PostgreSQL:
  1. creates/s through HAProxy in front of three nodes vs one node alone (wrk, 64 connections,
     bench/lua/create.lua over a catalogue of --skus SKUs); the same straight at one node of
     the cluster (forwards, no balancer);
  2. the cost of a forward: sequential stock updates (PUT /api/v1/products/{sku}/stock) on one
     node, for SKUs it serves vs SKUs another node serves (median and p99);
  3. takeover time after kill -9 (--kills times, default 20): from the kill until the survivors
     serve every shard; p50 / p99 / max;
  4. failed requests per hand-off: a node stopped with SIGTERM and started again under a
     closed-loop load of creates, three times; answers that were not 201 (straight at the nodes,
     and through HAProxy, which retries a 503 on another node).
Prints a table and writes bench/results/cluster-<timestamp>.json.
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKU = "BENCH-{:05d}"


def log(msg):
    print(f"cluster-bench: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, path, data, {"Content-Type": "application/json"} if data else {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def psql(sql, db="postgres"):
    server = os.environ["ORDERD_TEST_DATABASE_URL"]
    tool = os.path.join(os.environ["ORDERD_TEST_PG_BIN"], "psql")
    return subprocess.run([tool, "-q", "-X", "-A", "-v", "ON_ERROR_STOP=1", f"{server}/{db}",
                           "-c", sql], check=True, capture_output=True, text=True).stdout


def fresh_database(name):
    server = os.environ["ORDERD_TEST_DATABASE_URL"]
    psql = os.path.join(os.environ["ORDERD_TEST_PG_BIN"], "psql")
    subprocess.run([psql, "-q", "-v", "ON_ERROR_STOP=1", f"{server}/postgres", "-c",
                    f"CREATE DATABASE {name}"], check=True, stdout=subprocess.DEVNULL)
    return f"{server}/{name}"


class Node:
    def __init__(self, orderd, work, name, url, cluster=True, shards=64):
        self.orderd, self.work, self.name, self.url = orderd, work, name, url
        self.cluster, self.shards = cluster, shards
        # One HTTP port for the node's life, kept across restarts: HAProxy's backends stay valid.
        self.proc, self.port, self.http_port = None, None, free_port()

    def start(self):
        data = os.path.join(self.work, self.name)
        os.makedirs(data, exist_ok=True)
        args = [self.orderd, "--host", "127.0.0.1", "--port", str(self.http_port), "--data-dir", data,
                "--store", "postgres", "--database-url", self.url, "--node-id", self.name,
                "--log-level", "info", "--notifications=false"]
        if self.cluster:
            args += ["--cluster-advertise", f"127.0.0.1:{free_port()}",
                     "--cluster-shards", str(self.shards)]
        self.log_path = os.path.join(self.work, self.name + ".log")
        # The log is appended across restarts: look for this start's port past what is there.
        skip = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(self.log_path, errors="replace") as f:
                f.seek(skip)
                ports = re.findall(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
            if ports:
                self.port = int(ports[-1])
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start; see {self.log_path}")

    def served(self):
        try:
            # Generous: under the closed-loop load a probe waits in line with the orders.
            status, body = request(self.port, "GET", "/ready", timeout=10)
            self.last_ready = f"{status} {body[:300]!r}"
            return {s["shard"] for s in json.loads(body)["checks"]["cluster"]["served"]}
        except Exception as e:  # noqa: BLE001 - a node going away
            self.last_ready = f"{type(e).__name__}: {e}"
            return set()

    def send(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM):
        self.send(sig)
        if self.proc:
            self.proc.wait(30)


def wait_covered(nodes, shards, timeout=60, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = [s for n in nodes for s in n.served()]
        if len(seen) == shards and len(set(seen)) == shards:
            return True
        time.sleep(interval)
    for n in nodes:
        log(f"{n.name}: last /ready: {getattr(n, 'last_ready', '?')}")
    log(f"served: {sorted(seen)}")
    try:  # who waits for whom in the database
        with open(os.path.join(nodes[0].work, "pg_activity.txt"), "w") as out:
            out.write(psql("SELECT pid, application_name, state, wait_event_type, wait_event, "
                           "pg_blocking_pids(pid), left(query, 160) FROM pg_stat_activity "
                           "WHERE datname IS NOT NULL"))
            out.write(psql("SELECT shard, owner, epoch, expires_at > now() FROM shard_leases "
                           "ORDER BY shard", "bench_cluster"))
            out.write(psql("SELECT node_id, left_at, now() - heartbeat_at FROM cluster_members",
                           "bench_cluster"))
        pids = psql("SELECT pid FROM pg_stat_activity WHERE state = 'active' "
                    "AND application_name <> 'psql' AND datname IS NOT NULL").split()[1:-1]
        for pid in pids:
            with open(os.path.join(nodes[0].work, f"pg_backend_{pid}.txt"), "w") as out:
                subprocess.run(["gdb", "-p", pid, "-batch", "-ex", "bt 25"], stdout=out,
                               stderr=subprocess.DEVNULL)
    except Exception as e:  # noqa: BLE001
        log(f"cannot read the database's activity: {e}")
    for n in nodes:  # what the nodes were doing, for the report
        if n.proc and n.proc.poll() is None and shutil.which("gdb"):
            with open(os.path.join(n.work, f"{n.name}.stacks.txt"), "w") as out:
                subprocess.run(["gdb", "-p", str(n.proc.pid), "-batch", "-ex",
                                "thread apply all bt 20"], stdout=out, stderr=subprocess.DEVNULL)
    raise RuntimeError(f"shards not covered by {[n.name for n in nodes]} in {timeout} s "
                       f"(logs and stacks in {nodes[0].work})")


def load_catalogue(port, count):
    def one(i):
        body = {"sku": SKU.format(i), "name": f"bench {i}", "price_cents": 1000, "currency": "USD",
                "available": 1_000_000_000, "low_stock_threshold": 0}
        for _ in range(100):
            status, _ = request(port, "POST", "/api/v1/products", body)
            if status in (201, 409):
                return
            time.sleep(0.05)
        raise RuntimeError(f"cannot create {SKU.format(i)}")
    threads = [threading.Thread(target=lambda k=k: [one(i) for i in range(k, count, 8)])
               for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def wrk_creates(port, duration, skus, work, label):
    env = dict(os.environ, BENCH_SKUS=str(skus), BENCH_THREADS="1",
               BENCH_RESULT=os.path.join(work, f"{label}.json"))
    out = subprocess.run([shutil.which("wrk") or "wrk", "-t1", "-c64", f"-d{duration}s",
                          "--timeout", "10s", "-s", os.path.join(REPO, "bench/lua/create.lua"),
                          f"http://127.0.0.1:{port}/api/v1/orders"],
                         env=env, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    log(f"{label}: {rate:.0f} requests/s, non-2xx {non2xx.group(1) if non2xx else 0}")
    return {"requests_per_s": rate, "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def haproxy(nodes, work):
    port = free_port()
    cfg = os.path.join(work, "haproxy.cfg")
    servers = "".join(f"    server {n.name} 127.0.0.1:{n.port} check\n" for n in nodes)
    with open(cfg, "w") as f:
        f.write(f"""global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retry-on 503 conn-failure empty-response response-timeout
    retries 3
    option redispatch
frontend orderd
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /health
{servers}""")
    proc = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            request(port, "GET", "/health", timeout=1)
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("haproxy did not start")


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def forward_cost(node, skus, rounds):
    """Sequential stock updates on `node`, split by whether the node passed the request on to
    another node (its forwards counter moved) or served the SKU itself."""
    local, remote = [], []

    def forwards():
        _, text = request(node.port, "GET", "/metrics")
        return sum(float(line.split()[-1]) for line in text.decode().splitlines()
                   if line.startswith("orderd_cluster_forwards_total{"))
    for _ in range(rounds):
        sku = SKU.format(random.randrange(skus))
        before = forwards()
        t0 = time.perf_counter()
        status, _ = request(node.port, "PUT", f"/api/v1/products/{sku}/stock",
                            {"available": 1_000_000_000})
        elapsed = (time.perf_counter() - t0) * 1000
        if status == 200:
            (remote if forwards() > before else local).append(elapsed)
    return local, remote


def closed_loop(port_of, stop, counts, lock, skus):
    rng = random.Random()
    while not stop.is_set():
        items = [{"sku": SKU.format(rng.randrange(skus)), "quantity": 1}]
        body = {"customer_id": "hand-off", "customer_email": "h@example.com", "items": items}
        try:
            status, _ = request(port_of(), "POST", "/api/v1/orders", body, timeout=15)
        except OSError:
            status = "connection"
        with lock:
            counts[status] = counts.get(status, 0) + 1


def handoffs(nodes, lb_port, shards, skus, through_lb, repeats=3):
    counts, lock, stop = {}, threading.Lock(), threading.Event()
    turn = [0]

    def port_of():
        if through_lb:
            return lb_port
        live = [n for n in nodes if n.proc and n.proc.poll() is None and n.port] or nodes
        turn[0] += 1
        return live[turn[0] % len(live)].port
    threads = [threading.Thread(target=closed_loop, args=(port_of, stop, counts, lock, skus),
                                daemon=True) for _ in range(16)]
    for t in threads:
        t.start()
    time.sleep(1)
    for k in range(repeats):
        victim = nodes[k % len(nodes)]
        victim.stop(signal.SIGTERM)
        wait_covered([n for n in nodes if n is not victim], shards)
        victim.start()
        wait_covered(nodes, shards)
        time.sleep(1)
    stop.set()
    for t in threads:
        t.join()
    return counts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--orderd", default=os.path.join(REPO, "build/release/app/orderd"))
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--skus", type=int, default=1000)
    p.add_argument("--shards", type=int, default=64)
    p.add_argument("--out", default=os.path.join(REPO, "bench/results"))
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="orderd-cluster-bench.")
    result = {"command": "bench/cluster.sh " + " ".join(sys.argv[1:]), "loadavg_start":
              os.getloadavg()[0], "duration_s": a.duration, "skus": a.skus}
    procs = []
    psql("ALTER SYSTEM SET log_lock_waits = on")
    psql("SELECT pg_reload_conf()")
    try:
        # 1a. one node alone (no cluster), its own database.
        single = Node(a.orderd, work, "single", fresh_database("bench_single"), cluster=False)
        single.start()
        procs.append(single)
        load_catalogue(single.port, a.skus)
        result["single_node"] = wrk_creates(single.port, a.duration, a.skus, work, "single")
        single.stop()

        # 1b. three nodes, HAProxy in front.
        url = fresh_database("bench_cluster")
        nodes = [Node(a.orderd, work, f"node-{i}", url, shards=a.shards).start()
                 for i in (1, 2, 3)]
        procs += nodes
        wait_covered(nodes, a.shards)
        time.sleep(2)  # every node connected to every other
        load_catalogue(nodes[0].port, a.skus)
        lb, lb_port = haproxy(nodes, work)
        result["cluster_through_haproxy"] = wrk_creates(lb_port, a.duration, a.skus, work, "lb")
        result["cluster_one_node"] = wrk_creates(nodes[0].port, a.duration, a.skus, work,
                                                 "cluster-node-1")

        # 2. the cost of a forward.
        local, remote = forward_cost(nodes[0], a.skus, 600)
        result["forward"] = {
            "local_ms_p50": statistics.median(local), "local_ms_p99": quantile(local, 0.99),
            "forwarded_ms_p50": statistics.median(remote),
            "forwarded_ms_p99": quantile(remote, 0.99), "samples": [len(local), len(remote)]}
        log(f"forward: local p50 {result['forward']['local_ms_p50']:.2f} ms, forwarded p50 "
            f"{result['forward']['forwarded_ms_p50']:.2f} ms")

        # 4. failed requests per hand-off (before the kills: every node is fresh).
        direct = handoffs(nodes, lb_port, a.shards, a.skus, through_lb=False)
        via_lb = handoffs(nodes, lb_port, a.shards, a.skus, through_lb=True)
        result["handoff"] = {"restarts": 3, "direct": {str(k): v for k, v in direct.items()},
                             "through_haproxy": {str(k): v for k, v in via_lb.items()}}
        log(f"hand-offs (3 SIGTERM restarts each): direct {direct}, through HAProxy {via_lb}")

        # 3. takeover after kill -9.
        times = []
        for k in range(a.kills):
            victim = nodes[k % 3]
            t0 = time.monotonic()
            victim.stop(signal.SIGKILL)
            wait_covered([n for n in nodes if n is not victim], a.shards, interval=0.02)
            times.append(time.monotonic() - t0)
            victim.start()
            wait_covered(nodes, a.shards)
            log(f"kill {k + 1}/{a.kills}: served again after {times[-1]:.2f} s")
        result["takeover_s"] = {"kills": len(times), "p50": statistics.median(times),
                                "p99": quantile(times, 0.99), "max": max(times)}
        lb.terminate()
        lb.wait()
    finally:
        for n in procs:
            try:
                n.stop(signal.SIGKILL)
            except Exception:  # noqa: BLE001
                pass
    result["loadavg_end"] = os.getloadavg()[0]
    s, c, l = (result["single_node"]["requests_per_s"], result["cluster_one_node"]["requests_per_s"],
               result["cluster_through_haproxy"]["requests_per_s"])
    print(f"\nscenario                                  creates/s   vs one node")
    print(f"one node alone (PostgreSQL)               {s:9.0f}   1.00")
    print(f"three nodes, through HAProxy              {l:9.0f}   {l / s:.2f}")
    print(f"three nodes, straight at node-1           {c:9.0f}   {c / s:.2f}")
    f = result["forward"]
    print(f"stock update, local shard                 p50 {f['local_ms_p50']:.2f} ms  "
          f"p99 {f['local_ms_p99']:.2f} ms")
    print(f"stock update, forwarded                   p50 {f['forwarded_ms_p50']:.2f} ms  "
          f"p99 {f['forwarded_ms_p99']:.2f} ms")
    t = result["takeover_s"]
    print(f"takeover after kill -9 ({t['kills']} kills)        p50 {t['p50']:.2f} s  "
          f"p99 {t['p99']:.2f} s  max {t['max']:.2f} s")
    print(f"3 rolling SIGTERM restarts, direct        {result['handoff']['direct']}")
    print(f"3 rolling SIGTERM restarts, HAProxy       {result['handoff']['through_haproxy']}")
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, time.strftime("cluster-%Y%m%dT%H%M%S.json"))
    with open(path, "w") as out:
        json.dump(result, out, indent=2)
    print(f"written to {path}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
