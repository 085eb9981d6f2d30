#!/usr/bin/env python3
"""Where a process's threads spend a load: per thread (grouped by name), the CPU it used in
cores, and what it was doing when sampled (running, runnable-but-waiting, sleeping, in the
kernel's disk wait), plus the whole machine's idle share over the same window.

    bench/tools/thread_profile.py PID [--seconds 10] [--interval 0.005] [--json FILE]

Reads only /proc (no perf, no root). The samples answer "why is the CPU not busy": a thread
group near 1.00 cores while the rest wait points at one serial stage; threads mostly asleep in
futex/epoll waits with the machine idle point at too little work offered (closed-loop clients
waiting on a commit); time in D (disk) or in fdatasync's wait channel points at the fsync.
"""

import argparse
import collections
import json
import os
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def thread_stats(pid):
    """{tid: (name, state, utime+stime ticks, wchan)} for every live thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        stat = read(f"/proc/{pid}/task/{tid}/stat")
        if not stat:
            continue
        # comm may hold spaces and parentheses: split at the last ')'.
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        state, ticks = fields[0], int(fields[11]) + int(fields[12])
        wchan = (read(f"/proc/{pid}/task/{tid}/wchan") or "").strip() or "-"
        out[int(tid)] = (name, state, ticks, wchan)
    return out


def machine_ticks():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    fields = [int(x) for x in read("/proc/stat").splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return total - idle, total


def group(name):
    """Threads of one kind share a name up to a trailing number (caf.worker.0, ...)."""
    return name.rstrip("0123456789").rstrip(".-_ ") or name


def profile(pid, seconds, interval):
    first = thread_stats(pid)
    busy0, total0 = machine_ticks()
    states = collections.defaultdict(collections.Counter)
    waits = collections.defaultdict(collections.Counter)
    samples = collections.Counter()
    tid_running, tid_samples = collections.Counter(), collections.Counter()
    tid_waits = collections.defaultdict(collections.Counter)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        for tid, (name, state, _, wchan) in thread_stats(pid).items():
            g = group(name)
            states[g][state] += 1
            samples[g] += 1
            tid_samples[tid] += 1
            if state != "R":
                waits[g][wchan] += 1
                tid_waits[tid][wchan] += 1
            else:
                tid_running[tid] += 1
        time.sleep(interval)
    elapsed = time.monotonic() - started
    last = thread_stats(pid)
    busy1, total1 = machine_ticks()
    cpu = collections.Counter()
    threads = collections.Counter()
    for tid, (name, _, ticks, _) in last.items():
        before = first.get(tid, (name, "", ticks, ""))[2] if tid in first else 0
        cpu[group(name)] += (ticks - before) / TICKS / elapsed
        threads[group(name)] += 1
    machine_busy = (busy1 - busy0) / max(1, total1 - total0)
    # The busiest threads one by one: a serial stage shows as one thread near 1.00 core.
    per_thread = []
    for tid, (name, _, ticks, _) in last.items():
        before = first[tid][2] if tid in first else 0
        n = max(1, tid_samples[tid])
        per_thread.append({"tid": tid, "name": name,
                           "cores": round((ticks - before) / TICKS / elapsed, 3),
                           "running": round(tid_running[tid] / n, 3),
                           "top_waits": tid_waits[tid].most_common(2)})
    per_thread.sort(key=lambda t: -t["cores"])
    groups = []
    for g in sorted(cpu, key=lambda k: -cpu[k]):
        n = max(1, samples[g])
        groups.append({
            "threads": g, "count": threads[g], "cores": round(cpu[g], 3),
            "running": round(states[g]["R"] / n, 3),
            "sleeping": round(states[g]["S"] / n, 3),
            "disk_wait": round(states[g]["D"] / n, 3),
            "top_waits": waits[g].most_common(3),
        })
    return {"seconds": round(elapsed, 2), "machine_busy": round(machine_busy, 3),
            "cpus": os.cpu_count(), "process_cores": round(sum(cpu.values()), 3),
            "groups": groups, "threads": per_thread[:8]}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pid", type=int)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--interval", type=float, default=0.005)
    p.add_argument("--json", help="also write the result here")
    a = p.parse_args()
    result = profile(a.pid, a.seconds, a.interval)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    print(f"{result['seconds']} s: machine busy {result['machine_busy']:.0%} of "
          f"{result['cpus']} CPUs; process {result['process_cores']:.2f} cores")
    print(f"{'threads':<22}{'n':>3}{'cores':>7}{'run':>6}{'sleep':>7}{'disk':>6}  top waits")
    for g in result["groups"]:
        waits = ", ".join(f"{w} {c}" for w, c in g["top_waits"])
        print(f"{g['threads']:<22}{g['count']:>3}{g['cores']:>7.2f}{g['running']:>6.0%}"
              f"{g['sleeping']:>7.0%}{g['disk_wait']:>6.0%}  {waits}")
    print("busiest threads:")
    for t in result["threads"]:
        waits = ", ".join(f"{w} {c}" for w, c in t["top_waits"])
        print(f"  {t['tid']:>8} {t['name']:<18}{t['cores']:>6.2f} cores, running "
              f"{t['running']:.0%}  {waits}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
