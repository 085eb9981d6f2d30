#!/usr/bin/env python3
"""Why creation does not use the two cores (issue 15: "the ceiling is not the CPU; find it").

Runs the create scenario of bench/run.sh (wrk -t1, bench/lua/create.lua, 1,000 SKUs) against a
fresh orderd per variant and samples, over the same window, the machine's busy share and where
orderd's threads are (bench/tools/thread_profile.py). The variants change one thing each, so
what moves the rate and the busy share names the ceiling:

  defaults          the product defaults (SQLite synchronous=FULL, notifications on), 64 conns
  256 connections   more work offered: if the rate rises, 64 closed-loop clients were the limit
  synchronous=NORMAL  no fsync per commit: if the rate rises, the commit's fsync was the limit
  notifications off the notification records and the maildir's fsyncs out of the way

    bench/ceiling.py [--orderd build/app/orderd] [--duration 10] [--variants a,b,...] [--json F]

Results are ratios within one run; run it on a quiet machine (it prints the load average).
"""

import argparse
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "tools"))
import thread_profile  # noqa: E402

VARIANTS = {
    "defaults": ([], 64),
    "256-connections": ([], 256),
    "sync-normal": (["--sqlite-synchronous", "NORMAL"], 64),
    "notifications-off": (["--notifications=false"], 64),
    "notifications-off-256": (["--notifications=false"], 256),
    "notifications-off-sync-normal": (["--notifications=false", "--sqlite-synchronous",
                                       "NORMAL"], 64),
    # Experiments: the store writer thread (the busiest detached actor) reniced after 1 s.
    "notifications-off-writer-nice": (["--notifications=false"], 64),
    "defaults-writer-nice": ([], 64),
}


def renice_busiest_detached(pid, niceness):
    """Renices the thread named caf.actor that used the most CPU over the last second."""
    first = thread_profile.thread_stats(pid)
    time.sleep(1)
    last = thread_profile.thread_stats(pid)
    busiest = max((t for t in last if last[t][0] == "caf.actor"),
                  key=lambda t: last[t][2] - first.get(t, ("", "", 0, ""))[2])
    subprocess.run(["renice", "-n", str(niceness), "-p", str(busiest)], check=True,
                   stdout=subprocess.DEVNULL)
    return busiest


def start_orderd(binary, work, args):
    data = os.path.join(work, "data")
    os.makedirs(data)
    log_path = os.path.join(work, "orderd.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", "0", "--data-dir", data,
                             "--grace-period", "3600", *args],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(log_path, "rb") as f:
            m = re.search(rb"listening on http://[^ ]*:(\d+)", f.read())
        if m:
            return proc, f"http://127.0.0.1:{int(m.group(1))}"
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    raise SystemExit(f"orderd did not start; see {log_path}")


def tool(*args):
    subprocess.run([sys.executable, os.path.join(HERE, "tools", "benchtool.py"), *args],
                   check=True, stdout=subprocess.DEVNULL)


def run_variant(name, binary, duration, skus, work):
    args, connections = VARIANTS[name]
    proc, url = start_orderd(binary, work, args)
    try:
        tool("wait-ready", url)
        tool("load", url, "--count", str(skus))
        result_file = os.path.join(work, "create.json")
        env = dict(os.environ, BENCH_RESULT=result_file, BENCH_SKUS=str(skus), BENCH_THREADS="1")
        wrk = subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout",
                                "10s", "-s", os.path.join(HERE, "lua", "create.lua"),
                                url + "/api/v1/orders"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        if name.endswith("writer-nice"):
            renice_busiest_detached(proc.pid, -10)
        else:
            time.sleep(1)  # past the connection ramp
        box = {}
        sampler = threading.Thread(target=lambda: box.update(
            profile=thread_profile.profile(proc.pid, max(1.0, duration - 2), 0.005),
            wrk_ticks=None))
        wrk_t0 = _ticks(wrk.pid)
        io0 = _io(proc.pid)
        sampler.start()
        sampler.join()
        io1 = _io(proc.pid)
        wrk_t1 = _ticks(wrk.pid)
        out = wrk.communicate()[0].decode(errors="replace")
        if wrk.returncode != 0:
            raise SystemExit(f"wrk failed:\n{out}")
        with open(result_file) as f:
            r = json.load(f)
        created = r["counts"].get("s201", 0)
        p = box["profile"]
        p["store"] = store_figures(url)
        # Bytes and write calls per order over the sampled window (the WAL's frames, the
        # maildir's files, the sync calls): what the writer and the mailer do per order.
        orders_in_window = created / r["seconds"] * p["seconds"]
        p["io_per_order"] = {k: round((io1[k] - io0[k]) / max(1, orders_in_window), 1)
                             for k in ("wchar", "syscw", "write_bytes")}
        p["wrk_cores"] = round((wrk_t1 - wrk_t0) / thread_profile.TICKS / p["seconds"], 3)
        created = r["counts"].get("s201", 0)
        return {"variant": name, "orderd_args": args, "connections": connections,
                "created_per_s": created / r["seconds"],
                "p50_ms": round(r["latency_ms"]["p50"], 2),
                "p99_ms": round(r["latency_ms"]["p99"], 2), "profile": p}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def store_figures(url):
    """The writer's group commits over the whole run, from /metrics: change sets per batch
    and time per commit (means)."""
    import urllib.request
    text = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
    v = {}
    for line in text.splitlines():
        for name in ("orderd_store_batch_size_sum", "orderd_store_batch_size_count",
                     "orderd_store_commit_duration_seconds_sum",
                     "orderd_store_commit_duration_seconds_count"):
            if line.startswith(name + " ") or line.startswith(name + "{"):
                v[name] = v.get(name, 0.0) + float(line.split()[-1])
    # Mean time per stage of a request (ms): the server's whole answer, the order actor's
    # placement, its holds and its store round trip, and one group commit.
    means = {}
    for label, prefix in (("http", 'orderd_http_request_duration_seconds_{}{{route="/api/v1/orders"'),
                          ("placement", 'orderd_order_placement_duration_seconds_{}{{outcome="placed"'),
                          ("holds", 'orderd_order_placement_stage_seconds_{}{{stage="holds"'),
                          ("store", 'orderd_order_placement_stage_seconds_{}{{stage="store"'),
                          ("in_writer", "orderd_store_writer_wait_seconds_{} "),
                          ("commit", "orderd_store_commit_duration_seconds_{} ")):
        total = count = 0.0
        for line in text.splitlines():
            if line.startswith(prefix.format("sum")):
                total += float(line.split()[-1])
            elif line.startswith(prefix.format("count")):
                count += float(line.split()[-1])
        if count:
            means[label] = round(1000 * total / count, 2)
    batches = v.get("orderd_store_batch_size_count", 0) or 1
    commits = v.get("orderd_store_commit_duration_seconds_count", 0) or 1
    attempts = sum(float(line.split()[-1]) for line in text.splitlines()
                   if line.startswith("orderd_notification_attempts_total{")
                   and 'outcome="sent"' in line and 'channel="email"' in line)
    return {"mean_ms": means, "notifications_sent": int(attempts), "batches": int(batches),
            "mean_batch": round(v.get("orderd_store_batch_size_sum", 0) / batches, 1),
            "mean_commit_ms": round(1000 * v.get("orderd_store_commit_duration_seconds_sum", 0)
                                    / commits, 2)}


def _io(pid):
    with open(f"/proc/{pid}/io") as f:
        return {k: int(v) for k, v in (line.split(": ") for line in f.read().splitlines())}


def _ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orderd", default="build/app/orderd")
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--skus", type=int, default=1000)
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--json")
    a = p.parse_args()
    print(f"load average {open('/proc/loadavg').read().split()[:3]}, {os.cpu_count()} CPUs",
          flush=True)
    results = []
    for name in a.variants.split(","):
        work = tempfile.mkdtemp(prefix=f"orderd-ceiling-{name}-")
        try:
            results.append(run_variant(name, os.path.abspath(a.orderd), a.duration, a.skus,
                                       work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        r = results[-1]
        pr = r["profile"]
        print(f"\n== {name} (-c{r['connections']} {' '.join(r['orderd_args'])}): "
              f"{r['created_per_s']:.0f} created/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms; "
              f"machine busy {pr['machine_busy']:.0%}, orderd {pr['process_cores']:.2f} cores, "
              f"wrk {pr['wrk_cores']:.2f} cores; store: {pr['store']['batches']} batches of "
              f"{pr['store']['mean_batch']} change sets, {pr['store']['mean_commit_ms']} ms "
              f"per commit; per order: {pr['io_per_order']['syscw']} write calls, "
              f"{pr['io_per_order']['wchar'] / 1024:.1f} KiB written; "
              f"{pr['store']['notifications_sent']} e-mails sent; mean ms per stage "
              f"{pr['store']['mean_ms']}", flush=True)
        for t in pr["threads"][:6]:
            waits = ", ".join(f"{w} {c}" for w, c in t["top_waits"])
            print(f"   thread {t['tid']:>7} {t['name']:<16}{t['cores']:>5.2f} cores, running "
                  f"{t['running']:>4.0%}  {waits}", flush=True)
        for g in pr["groups"][:8]:
            waits = ", ".join(f"{w} {c}" for w, c in g["top_waits"])
            print(f"   {g['threads']:<20}{g['count']:>3} {g['cores']:>5.2f} cores  run "
                  f"{g['running']:>4.0%} sleep {g['sleeping']:>4.0%} disk {g['disk_wait']:>4.0%}"
                  f"  {waits}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
