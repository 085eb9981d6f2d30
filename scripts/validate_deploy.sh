#!/usr/bin/env bash
# Validates the deployment files without a Docker engine or a Kubernetes cluster:
#   scripts/validate_deploy.sh [--orderd PATH]      (ctest -L deploy runs it with the built binary)
# * docker-compose.yml, deploy/prometheus.yml and deploy/k8s/*.yaml parse as YAML and have the
#   keys they need (services, healthchecks, depends_on conditions, probes, resources, ...);
# * the Dockerfile is multi-stage on debian:12 and its build stage runs the README's scripts
#   (scripts/deps.sh, scripts/build.sh --release, as scripts/run.sh --release does);
# * every ORDERD_* variable the files set and every key of the ConfigMap's config file is a real
#   orderd setting (`orderd --help`);
# * deploy/runtime-packages.sh maps every library the binary links to a Debian package;
# * orderd started with the ConfigMap's file and the manifests' environment answers the probe
#   paths, serves /openapi.json, and exits 0 on SIGTERM within terminationGracePeriodSeconds;
#   their store is PostgreSQL, so this runs under tests/postgres/with_postgres.sh (ctest does)
#   and each start gets a fresh database on that private server.
# Needs python3 and PyYAML (Debian python3-yaml; installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

orderd=build/app/orderd
while [[ $# -gt 0 ]]; do
  case "$1" in
    --orderd) orderd=${2:?--orderd needs a path}; shift 2 ;;
    --orderd=*) orderd=${1#--orderd=}; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "validate_deploy: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

# PyYAML, like scripts/deps.sh does it: ask dpkg, install only when missing.
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "validate_deploy: installing python3-yaml (PyYAML)" >&2
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=300 python3-yaml >&2
fi

exec python3 - "$orderd" <<'PY'
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

ORDERD = sys.argv[1]
failures = []
checks = 0

# Settings the deployment files may set before orderd has them: name -> the work that adds it.
# An orderd without such a setting ignores the variable (unknown ORDERD_* variables are ignored).
PENDING_SETTINGS = {
    "ORDERD_AMQP_URL": "the messaging work (RabbitMQ)",
}


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print(f"FAIL  {what}")
    return cond


def note(text):
    print(f"note  {text}")


def load_yaml(path, multi=False):
    try:
        with open(path) as f:
            docs = list(yaml.safe_load_all(f)) if multi else [yaml.safe_load(f)]
    except (OSError, yaml.YAMLError) as e:
        check(False, f"{path} parses as YAML: {e}")
        return []
    check(all(d is not None for d in docs), f"{path} has no empty documents")
    return [d for d in docs if d is not None]


def duration_seconds(text):
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(text))
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0) if m else 0


# -- orderd's own settings --------------------------------------------------------------------

have_binary = os.path.isfile(ORDERD) and os.access(ORDERD, os.X_OK)
env_names, flag_names = set(), set()
if have_binary:
    out = subprocess.run([ORDERD, "--help"], capture_output=True, text=True, timeout=30)
    check(out.returncode == 0, "orderd --help exits 0")
    env_names = set(re.findall(r"\b(ORDERD_[A-Z0-9_]+)\b", out.stdout))
    flag_names = set(re.findall(r"--([a-z][a-z0-9-]+)", out.stdout)) - {"help", "version", "flag"}
    check("ORDERD_HOST" in env_names and "data-dir" in flag_names,
          "orderd --help lists settings (ORDERD_HOST, --data-dir)")
else:
    check(False, f"orderd binary {ORDERD} exists (pass --orderd PATH)")


def check_env(name, where):
    if not name.startswith("ORDERD_"):
        check(True, "")  # the pod's own variables (e.g. POD_NAME), expanded into orderd's
    elif name in env_names:
        check(True, "")
    elif name in PENDING_SETTINGS:
        note(f"{where}: {name} is not an orderd setting yet (added by "
             f"{PENDING_SETTINGS[name]}); orderd ignores it until then")
    else:
        check(False, f"{where}: {name} is a real orderd setting (orderd --help)")


# -- Dockerfile ---------------------------------------------------------------------------------

with open("Dockerfile") as f:
    dockerfile = f.read()
# Join continuation lines, drop comments.
logical = re.sub(r"\\\n", " ", "\n".join(l for l in dockerfile.splitlines()
                                           if not l.lstrip().startswith("#")))
instructions = [l.strip() for l in logical.splitlines() if l.strip()]
stages = []
for ins in instructions:
    words = ins.split()
    if words[0].upper() == "FROM":
        name = words[3] if len(words) >= 4 and words[2].upper() == "AS" else ""
        stages.append({"from": words[1], "name": name.lower(), "lines": []})
    elif stages:
        stages[-1]["lines"].append(ins)
check(len(stages) >= 2, "Dockerfile is multi-stage")
check(all(re.fullmatch(r"debian:12(-slim)?", s["from"]) for s in stages),
      f"every Dockerfile stage is based on debian:12 ({[s['from'] for s in stages]})")
build_stage = next((s for s in stages if s["name"] == "build"), {"lines": []})
check("--from=build " in dockerfile, "the runtime stage copies from the build stage")
build_runs = " ".join(l for l in build_stage["lines"] if l.upper().startswith("RUN"))
check(re.search(r"(^|[\s&;])scripts/deps\.sh(\s|$|&)", build_runs) is not None,
      "Dockerfile build stage runs scripts/deps.sh")
check(re.search(r"scripts/build\.sh --release", build_runs) is not None,
      "Dockerfile build stage runs scripts/build.sh --release")
check(not re.search(r"\b(cmake|ninja|make|g\+\+|pip|npm|wget|curl)\b",
                    build_runs.replace("scripts/build.sh", "")),
      "Dockerfile build stage builds only through the scripts (no direct cmake/ninja/download)")
# The same scripts the README's set-up uses: scripts/run.sh --release = deps.sh + build.sh --release.
with open("scripts/run.sh") as f:
    run_sh = f.read()
with open("README.md") as f:
    readme = f.read()
check("scripts/run.sh" in readme and "scripts/deps.sh" in run_sh and "scripts/build.sh" in run_sh,
      "README's scripts/run.sh runs scripts/deps.sh and scripts/build.sh")
check("--release) build_args=(--release)" in run_sh, "scripts/run.sh --release builds with --release")
with open("scripts/build.sh") as f:
    build_sh = f.read()
m = re.search(r"--release\)[^;]*;\s*default_dir=([\w/.-]+)", build_sh)
release_dir = m.group(1) if m else "?"
check(f"/src/{release_dir}/app/orderd" in dockerfile,
      f"Dockerfile copies the binary from build.sh's release directory ({release_dir})")
runtime = stages[-1] if stages else {"lines": []}
runtime_text = "\n".join(runtime["lines"])
user = re.search(r"^USER\s+(\S+)", runtime_text, re.M)
check(user is not None and not user.group(1).split(":")[0] in ("root", "0"),
      "Dockerfile runtime stage runs as a non-root USER")
runtime_uid = user.group(1).split(":")[0] if user else None
check(runtime_uid is not None and runtime_uid.isdigit(),
      "Dockerfile USER is numeric (Kubernetes runAsNonRoot can verify it)")
check(re.search(r"^HEALTHCHECK .*?/health", runtime_text, re.M) is not None,
      "Dockerfile has a HEALTHCHECK on /health")
check("runtime-packages" in runtime_text and "apt-get install" in runtime_text,
      "Dockerfile runtime stage installs the runtime packages found in the build stage")
check("ENTRYPOINT" in runtime_text and "orderd" in runtime_text, "Dockerfile ENTRYPOINT runs orderd")
for ins in runtime["lines"]:
    if ins.upper().startswith("ENV"):
        for name in re.findall(r"\b(ORDERD_[A-Z0-9_]+)=", ins):
            check_env(name, "Dockerfile ENV")
with open(".dockerignore") as f:
    ignored = [l.strip().rstrip("/") for l in f if l.strip() and not l.startswith("#")]
for needed in ["docs", "scripts", "config", "http", "app", "CMakeLists.txt", "cmake", "deploy"]:
    check(needed not in ignored, f".dockerignore keeps {needed} (the build needs it)")

# deploy/runtime-packages.sh on this machine's binary.
if have_binary:
    out = subprocess.run(["deploy/runtime-packages.sh", ORDERD], capture_output=True, text=True)
    pkgs = out.stdout.split()
    check(out.returncode == 0 and pkgs,
          f"deploy/runtime-packages.sh maps every library to a Debian package {out.stderr.strip()}")
    for want in ("libcaf-core0.17", "libsqlite3-0"):
        check(want in pkgs, f"runtime packages include {want}")
    print("info  runtime packages of", ORDERD + ":", " ".join(pkgs))

# -- docker-compose.yml -------------------------------------------------------------------------

compose = (load_yaml("docker-compose.yml") or [{}])[0]
services = compose.get("services", {}) or {}
nodes = sorted(n for n in services if re.fullmatch(r"orderd-\d+", n))
check(len(nodes) == 3, f"compose runs three orderd nodes ({nodes})")
for name in ("lb", "rabbitmq", "postgres", "prometheus"):
    check(name in services, f"compose has service {name}")
for name, svc in services.items():
    hc = (svc or {}).get("healthcheck", {})
    check(isinstance(hc, dict) and hc.get("test"), f"compose service {name} has a healthcheck")
    for dep, cond in ((svc or {}).get("depends_on") or {}).items():
        check(dep in services, f"compose {name} depends on existing service {dep}")
        check(isinstance(cond, dict) and cond.get("condition") in
              ("service_healthy", "service_started", "service_completed_successfully"),
              f"compose {name} -> {dep} has a depends_on condition")
    for vol in (svc or {}).get("volumes", []) or []:
        src = str(vol).split(":")[0]
        if src.startswith("./"):
            check(os.path.exists(src), f"compose {name} mounts existing file {src}")
        else:
            check(src in (compose.get("volumes") or {}), f"compose volume {src} is declared")


def node_env(svc):
    e = (svc or {}).get("environment", {}) or {}
    return dict(x.split("=", 1) for x in e) if isinstance(e, list) else e


advertised = []
for name in nodes:
    node = services.get(name, {}) or {}
    build = node.get("build", {})
    context = build if isinstance(build, str) else (build or {}).get("context", "")
    check(context == "." and os.path.exists("Dockerfile"), f"compose {name} builds from ./Dockerfile")
    env = node_env(node)
    check(env.get("ORDERD_HOST") == "0.0.0.0", f"compose {name} listens on 0.0.0.0")
    check("ORDERD_AMQP_URL" in env and "rabbitmq" in str(env.get("ORDERD_AMQP_URL")),
          f"compose {name} sets ORDERD_AMQP_URL to the rabbitmq service")
    check(env.get("ORDERD_STORE") == "postgres" and "@postgres:" in str(env.get("ORDERD_DATABASE_URL")),
          f"compose {name} stores in the shared postgres service")
    check(env.get("ORDERD_NODE_ID") == name, f"compose {name} is node {name}")
    check(env.get("ORDERD_CLUSTER_ADVERTISE") == f"{name}:7000",
          f"compose {name} advertises its cluster port as {name}:7000")
    advertised.append(env.get("ORDERD_CLUSTER_ADVERTISE"))
    for var in env:
        check_env(var, f"docker-compose.yml {name}")
    check(((node.get("depends_on") or {}).get("postgres") or {}).get("condition") == "service_healthy",
          f"compose {name} waits for a healthy postgres")
    check(any(p in str(node.get("healthcheck", {}).get("test")) for p in ("/health", "/ready")),
          f"compose {name} healthcheck probes /health or /ready")
    check(duration_seconds(node.get("stop_grace_period", "0s")) >= 15,
          f"compose {name} stop_grace_period >= 15s")
check(len(set(advertised)) == len(advertised), "compose nodes advertise distinct addresses")
check(sum(1 for n in nodes if node_env(services[n]).get("ORDERD_DEMO_CATALOGUE") == "true") == 1,
      "one compose node loads the demo catalogue")
lb = services.get("lb", {}) or {}
check(str(lb.get("image", "")).startswith("haproxy:"), "compose lb is HAProxy")
check("8080:8080" in [str(p) for p in lb.get("ports", [])], "compose lb publishes port 8080")
check("./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg" in " ".join(map(str, lb.get("volumes", []))),
      "compose lb mounts deploy/haproxy.cfg")
with open("deploy/haproxy.cfg") as f:
    haproxy_cfg = f.read()
check(sorted(re.findall(r"^\s*server\s+\S+\s+(orderd-\d+):8080\b", haproxy_cfg, re.M)) == nodes,
      "deploy/haproxy.cfg balances over every compose node")
if shutil.which("haproxy"):
    out = subprocess.run(["haproxy", "-c", "-f", "deploy/haproxy.cfg"], capture_output=True, text=True)
    check(out.returncode == 0, f"haproxy -c accepts deploy/haproxy.cfg {out.stderr.strip()[-300:]}")
orderd = services.get(nodes[0] if nodes else "orderd-1", {}) or {}
env = node_env(orderd)
check(str((services.get("rabbitmq") or {}).get("image", "")).startswith("rabbitmq:3-management"),
      "compose rabbitmq uses the management image")
check("15672:15672" in [str(p) for p in (services.get("rabbitmq") or {}).get("ports", [])],
      "compose publishes the RabbitMQ management UI on 15672")
check(str((services.get("postgres") or {}).get("image", "")).startswith("postgres:15"),
      "compose postgres is PostgreSQL 15")
prom_vols = " ".join(map(str, (services.get("prometheus") or {}).get("volumes", [])))
check("./deploy/prometheus.yml:/etc/prometheus/prometheus.yml" in prom_vols,
      "compose mounts deploy/prometheus.yml into Prometheus")
with open("docker-compose.yml") as f:
    compose_text = f.read()
for name in re.findall(r"^\s*#\s*(ORDERD_[A-Z0-9_]+):", compose_text, re.M):
    if name not in env_names:
        note(f"docker-compose.yml: commented {name} is not an orderd setting yet (kept for later)")

with open("deploy/rabbitmq/enabled_plugins") as f:
    plugins = f.read()
check(re.fullmatch(r"\s*\[[a-z_,\s]+\]\.\s*", plugins) is not None and "rabbitmq_management" in plugins,
      "deploy/rabbitmq/enabled_plugins is an Erlang list with rabbitmq_management")

prom = (load_yaml("deploy/prometheus.yml") or [{}])[0]
jobs = {j.get("job_name"): j for j in prom.get("scrape_configs", []) or []}
oj = jobs.get("orderd", {})
check(oj.get("metrics_path", "/metrics") == "/metrics" and
      sorted(f"{n}:8080" for n in nodes)
      == sorted(t for sc in oj.get("static_configs", []) for t in sc.get("targets", [])),
      "prometheus scrapes every node's /metrics")

# -- Kubernetes ---------------------------------------------------------------------------------

K8S = "deploy/k8s"
objects = []
for fn in sorted(os.listdir(K8S)):
    if fn.endswith((".yaml", ".yml")) and fn != "kustomization.yaml":
        for doc in load_yaml(os.path.join(K8S, fn), multi=True):
            doc["__file"] = fn
            objects.append(doc)
kust = (load_yaml(os.path.join(K8S, "kustomization.yaml")) or [{}])[0]
check(sorted(kust.get("resources", [])) ==
      sorted({o["__file"] for o in objects if not o["__file"].endswith(".example.yaml")}),
      "kustomization.yaml lists every manifest but the examples (secrets to fill in)")
for o in objects:
    where = f"{o['__file']} {o.get('kind')}/{(o.get('metadata') or {}).get('name')}"
    check(o.get("apiVersion") and o.get("kind") and (o.get("metadata") or {}).get("name"),
          f"{where} has apiVersion, kind, metadata.name")
    if o.get("kind") != "Namespace":
        check(o["metadata"].get("namespace") == "orderd", f"{where} is in namespace orderd")
by_kind = {}
for o in objects:
    by_kind.setdefault(o["kind"], []).append(o)
for kind in ("Namespace", "ConfigMap", "StatefulSet", "Service"):
    check(kind in by_kind, f"k8s manifests include a {kind}")
sts = (by_kind.get("StatefulSet") or [{}])[0]
spec = sts.get("spec", {})
pod = spec.get("template", {}).get("spec", {})
labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
check(spec.get("selector", {}).get("matchLabels", {}).items() <= labels.items(),
      "StatefulSet selector matches its pod labels")
check(spec.get("replicas") == 3, "StatefulSet runs 3 replicas (a cluster on one database)")
claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
check(bool(claims), "StatefulSet has volumeClaimTemplates (a volume per pod)")
check(pod.get("terminationGracePeriodSeconds", 30) >= 15, "terminationGracePeriodSeconds >= 15")
grace = pod.get("terminationGracePeriodSeconds", 30)
psc = pod.get("securityContext", {})
check(psc.get("runAsNonRoot") is True, "pod securityContext runAsNonRoot")
check(str(psc.get("runAsUser")) == str(runtime_uid), f"pod runAsUser is the image's uid ({runtime_uid})")
containers = pod.get("containers", [])
check(len(containers) == 1, "one orderd container")
c = containers[0] if containers else {}
ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}


def probe_port(probe):
    port = probe.get("httpGet", {}).get("port")
    return ports.get(port, port)


live, ready = c.get("livenessProbe", {}), c.get("readinessProbe", {})
check(live.get("httpGet", {}).get("path") == "/health", "liveness probe on /health")
check(ready.get("httpGet", {}).get("path") == "/ready", "readiness probe on /ready")
check(probe_port(live) == 8080 and probe_port(ready) == 8080, "probes target the container port 8080")
res = c.get("resources", {})
check(res.get("requests") == {"cpu": "500m", "memory": "256Mi"}, "requests 500m CPU / 256Mi")
check(res.get("limits") == {"cpu": "2", "memory": "1Gi"}, "limits 2 CPU / 1Gi")
csc = c.get("securityContext", {})
check(csc.get("allowPrivilegeEscalation") is False, "container allowPrivilegeEscalation false")
mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
volumes = {v["name"]: v for v in pod.get("volumes", [])}
for name in mounts:
    check(name in volumes or name in claims, f"volumeMount {name} has a volume or claim")
cenv = {e["name"]: e.get("value") for e in c.get("env", [])}
for name in cenv:
    check_env(name, "StatefulSet env")
# A cluster: each pod is a node named after itself, reached by the others at its stable DNS name
# through the headless Service's cluster port.
pod_name_env = next((e for e in c.get("env", []) if e["name"] == "POD_NAME"), {})
check(((pod_name_env.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath") == "metadata.name",
      "POD_NAME comes from the pod's metadata.name")
check(cenv.get("ORDERD_NODE_ID") == "$(POD_NAME)", "ORDERD_NODE_ID is the pod's name")
check(cenv.get("ORDERD_CLUSTER_ADVERTISE")
      == f"$(POD_NAME).{spec.get('serviceName')}.orderd.svc.cluster.local:{ports.get('cluster')}",
      "ORDERD_CLUSTER_ADVERTISE is the pod's DNS name under the headless Service, cluster port")
check(ports.get("cluster") == 7000, "the container has a cluster port 7000")
headless = next((s for s in by_kind.get("Service", []) if s["spec"].get("clusterIP") == "None"), {})
check("cluster" in [p.get("targetPort") for p in headless.get("spec", {}).get("ports", [])],
      "the headless Service exposes the cluster port")
# The database URL (with its password) comes from a Secret, and the example Secret provides it.
db_env = next((e for e in c.get("env", []) if e["name"] == "ORDERD_DATABASE_URL"), {})
ref = (db_env.get("valueFrom") or {}).get("secretKeyRef") or {}
check(bool(ref) and "value" not in db_env, "ORDERD_DATABASE_URL comes from a Secret")
secret = next((o for o in by_kind.get("Secret", []) if o["metadata"]["name"] == ref.get("name")), {})
check(ref.get("key") in (secret.get("stringData") or {}),
      f"the example Secret {ref.get('name')} provides key {ref.get('key')}")
data_mount = next((m["mountPath"] for n, m in mounts.items() if n in claims), None)
check(data_mount is not None and cenv.get("ORDERD_DATA_DIR") == data_mount,
      "ORDERD_DATA_DIR is the claim's mount path")
conf_path = cenv.get("ORDERD_CONFIG")
conf_mount = next((m for m in mounts.values() if m.get("mountPath") == conf_path), None)
check(conf_mount is not None, "ORDERD_CONFIG points at a mounted file")
cm_name = volumes.get(conf_mount["name"], {}).get("configMap", {}).get("name") if conf_mount else None
cm = next((o for o in by_kind.get("ConfigMap", []) if o["metadata"]["name"] == cm_name), {})
conf_text = (cm.get("data") or {}).get(conf_mount.get("subPath") if conf_mount else "", "")
check(bool(conf_text), "the mounted ConfigMap key holds the config file")
for line in conf_text.splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    key = line.split("=", 1)[0].strip()
    check("=" in line and key in flag_names and key != "config",
          f"ConfigMap key '{key}' is a real orderd setting")
svcs = by_kind.get("Service", [])
check(any(s["spec"].get("clusterIP") == "None" and s["metadata"]["name"] == spec.get("serviceName")
          for s in svcs), "a headless Service is the StatefulSet's serviceName")
check(any(s["spec"].get("type", "ClusterIP") == "ClusterIP" and s["spec"].get("clusterIP") != "None"
          for s in svcs), "a ClusterIP Service")
for s in svcs:
    check(s["spec"].get("selector", {}).items() <= labels.items(),
          f"Service {s['metadata']['name']} selects the orderd pods")
    for p in s["spec"].get("ports", []):
        check(p.get("targetPort") in ports or p.get("targetPort") in ports.values(),
              f"Service {s['metadata']['name']} targets a container port")

# -- orderd with the manifests' settings -----------------------------------------------------------


def test_database(label):
    """A fresh database on the PostgreSQL of tests/postgres/with_postgres.sh (ctest's
    deploy_files runs this script under it), standing in for the manifests' database."""
    server = os.environ.get("ORDERD_TEST_DATABASE_URL", "")
    psql = os.path.join(os.environ.get("ORDERD_TEST_PG_BIN", ""), "psql")
    if not server:
        check(False, f"{label}: a PostgreSQL to start orderd against (run under "
                     "tests/postgres/with_postgres.sh)")
        return "postgresql://unavailable/none"
    name = f"deploy_{label}_{os.getpid()}"
    subprocess.run([psql, "-q", "-v", "ON_ERROR_STOP=1", f"{server}/postgres", "-c",
                    f"CREATE DATABASE {name}"], check=True, stdout=subprocess.DEVNULL)
    return f"{server}/{name}"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smoke(label, env, args, paths, grace_s):
    """Starts orderd with `env` and `args` (address and data dir overridden by flags, which win),
    GETs `paths`, then SIGTERMs it and expects exit 0 within grace_s."""
    with tempfile.TemporaryDirectory(prefix="orderd-deploy-") as tmp:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERD_")}
        full_env.update(env)
        log_path = os.path.join(tmp, "orderd.log")
        cmd = [ORDERD, *args, "--host", "127.0.0.1", "--port", "0",
               "--data-dir", os.path.join(tmp, "data")]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        try:
            port, deadline = None, time.monotonic() + 30
            while port is None and time.monotonic() < deadline and proc.poll() is None:
                with open(log_path, errors="replace") as f:
                    m = re.search(r"listening on http://[^\s:]+:(\d+)", f.read())
                port = int(m.group(1)) if m else None
                time.sleep(0.05)
            if not check(port is not None, f"{label}: orderd starts"):
                with open(log_path, errors="replace") as f:
                    print(f.read()[-3000:])
                return
            for path in paths:
                status, deadline = None, time.monotonic() + 15
                while status != 200 and time.monotonic() < deadline:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                            status = r.status
                    except Exception as e:  # noqa: BLE001 - retried until the deadline
                        status = getattr(e, "code", None)
                        time.sleep(0.1)
                check(status == 200, f"{label}: GET {path} answers 200 (got {status})")
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                code = None
            check(code == 0, f"{label}: SIGTERM drains and exits 0 within {grace_s} s (got {code})")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


if have_binary and conf_text:
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(conf_text)
        conf_file = f.name
    try:
        k8s_env = {k: v for k, v in cenv.items()
                   if k not in ("ORDERD_CONFIG", "ORDERD_DATA_DIR") and v is not None}
        if ref:
            k8s_env["ORDERD_DATABASE_URL"] = test_database("k8s")
        # The pod's name and DNS name stand in as a node name and a loopback address.
        k8s_env.pop("POD_NAME", None)
        if "ORDERD_NODE_ID" in k8s_env:
            k8s_env["ORDERD_NODE_ID"] = "orderd-0"
        if "ORDERD_CLUSTER_ADVERTISE" in k8s_env:
            k8s_env["ORDERD_CLUSTER_ADVERTISE"] = f"127.0.0.1:{free_port()}"
        smoke("k8s ConfigMap + env", k8s_env, ["--config", conf_file],
              [live["httpGet"]["path"], ready["httpGet"]["path"], "/openapi.json"], grace)
    finally:
        os.unlink(conf_file)
if have_binary:
    # Address and data dir come from flags; the database is the test server's (a fresh one);
    # other settings that point at compose services (RabbitMQ: not running here) are left out.
    compose_env = {k: str(v) for k, v in env.items()
                   if k not in ("ORDERD_HOST", "ORDERD_PORT", "ORDERD_DATA_DIR")
                   and k not in PENDING_SETTINGS
                   and (k == "ORDERD_DATABASE_URL"
                        or not any(f"@{svc}:" in str(v) for svc in services))}
    if "ORDERD_DATABASE_URL" in compose_env:
        compose_env["ORDERD_DATABASE_URL"] = test_database("compose")
    if "ORDERD_CLUSTER_ADVERTISE" in env:
        compose_env["ORDERD_CLUSTER_ADVERTISE"] = f"127.0.0.1:{free_port()}"
    smoke("compose env", compose_env, [], ["/health", "/ready", "/api/v1/products?limit=1"],
          duration_seconds(orderd.get("stop_grace_period", "30s")))

passed = checks - len(failures)
print(f"validate_deploy: {passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
PY
