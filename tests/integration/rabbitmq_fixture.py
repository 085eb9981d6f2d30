"""A private RabbitMQ node for black-box tests, started and stopped with scripts/rabbitmq.sh.

Standard library only. Each node gets its own directory (data, logs, HOME with its own Erlang
cookie) and a free AMQP port in 10000..12672, so its distribution port (PORT+20000) and CLI
ports (PORT+20001..20010) stay below the kernel's ephemeral range (32768+). Nodes are stopped
at exit whatever happens; stop()/start() on the same object keeps the data (broker-restart
tests), start(fresh=True) wipes it.

    from rabbitmq_fixture import RabbitMQNode
    with RabbitMQNode() as node:          # starts (3-10 s), stops on exit (4-9 s)
        env = {"ORDERD_AMQP_URL": node.url}
        node.stop(); node.start()         # a broker outage, same port and data

By hand: python3 tests/integration/rabbitmq_fixture.py  (starts a node, checks the AMQP port
answers, stops it).

Environment: ORDERD_TEST_KEEP_TMP=1 keeps the directory of a node this module created.
"""

import atexit
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                      "rabbitmq.sh")
PORT_MIN = 10000
PORT_MAX = 12672          # PORT + 20010 must stay below 32768
PORT_STEP = 16            # candidates 16 apart: one node's port block never overlaps another's
START_TIMEOUT = 180.0     # seconds for `rabbitmq.sh start` (the script waits up to 120 s)
STOP_TIMEOUT = 120.0

_live = set()  # every started RabbitMQNode, stopped at exit


@atexit.register
def _stop_leftovers():
    for node in list(_live):
        node.stop(check=False)


class RabbitMQError(AssertionError):
    """The node did not start or stop; the message carries the script's output."""


def installed():
    """Whether the RabbitMQ server the script needs is installed."""
    return os.access("/usr/lib/rabbitmq/bin/rabbitmq-server", os.X_OK)


def start_module_node(**tools):
    """The setUpModule of a test module that needs a broker: skips the module unless
    rabbitmq-server is installed, checks that every tool (name=path, passed to run.py as --name)
    is an executable, then starts a fresh node and returns it."""
    if not installed():
        raise unittest.SkipTest("rabbitmq-server is not installed (scripts/deps.sh installs it)")
    for name, path in tools.items():
        if not (path and os.access(path, os.X_OK)):
            raise RabbitMQError(f"no {name} tool: pass --{name.replace('_', '-')} PATH to run.py "
                                "(ctest does, from the build tree)")
    return RabbitMQNode().start(fresh=True)


def _port_free(port):
    # Bind on all interfaces: that also fails when something holds the port on loopback only.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def pick_port(rng=random):
    """A port whose whole block (AMQP, distribution, CLI ports) is free right now."""
    candidates = list(range(PORT_MIN, PORT_MAX + 1, PORT_STEP))
    rng.shuffle(candidates)
    for port in candidates:
        block = [port, port + 20000] + [port + 20000 + i for i in range(1, 11)]
        if all(_port_free(p) for p in block):
            return port
    raise RabbitMQError(f"no free port block in {PORT_MIN}..{PORT_MAX}")


class RabbitMQNode:
    """One private broker node. `url` is valid once started (guest/guest, vhost "/")."""

    def __init__(self, directory=None, port=None):
        self._own_dir = directory is None
        self.directory = directory or tempfile.mkdtemp(prefix="orderd-rabbitmq-")
        self._fixed_port = port
        self.port = port
        self.running = False

    @property
    def url(self):
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _run(self, *args, timeout):
        try:
            return subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise RabbitMQError(f"rabbitmq.sh {' '.join(args)} timed out after {timeout} s:\n"
                                f"{e.stderr or ''}") from None

    def start(self, fresh=False, attempts=3):
        """Starts the node; on a port race (another process took it meanwhile) it retries on
        another port unless the port was given. Restarts keep the port of the first start."""
        if not installed():
            raise RabbitMQError("rabbitmq-server is not installed (scripts/deps.sh installs it)")
        errors = []
        for _ in range(attempts if self._fixed_port is None and self.port is None else 1):
            port = self.port or pick_port()
            args = ["start", self.directory, str(port)] + (["--fresh"] if fresh else [])
            result = self._run(*args, timeout=START_TIMEOUT)
            if result.returncode == 0:
                self.port = port
                self.running = True
                _live.add(self)
                return self
            errors.append(f"port {port}: exit {result.returncode}\n{result.stderr}")
        raise RabbitMQError("RabbitMQ did not start:\n" + "\n".join(errors))

    def stop(self, check=True):
        """Stops the node (a no-op when it is not running)."""
        if not self.running:
            return
        result = self._run("stop", self.directory, timeout=STOP_TIMEOUT)
        self.running = False
        _live.discard(self)
        if check and result.returncode != 0:
            raise RabbitMQError(f"RabbitMQ did not stop: exit {result.returncode}\n"
                                f"{result.stderr}")

    def is_running(self):
        """Asks the node itself (rabbitmq.sh status)."""
        return self._run("status", self.directory, timeout=60).returncode == 0

    def cleanup(self):
        """Stops the node and deletes a directory this object created."""
        self.stop(check=False)
        if self._own_dir and not os.environ.get("ORDERD_TEST_KEEP_TMP"):
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False


def _self_test():
    with RabbitMQNode() as node:
        print(f"started {node.url} in {node.directory}")
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            reply = s.recv(64)
        # connection.start: a method frame (type 1) on channel 0.
        assert reply[:1] == b"\x01", reply
        print("AMQP handshake answered; stopping")
        node.stop()
        assert not node.is_running()
        node.start()  # same port, same data
        print(f"restarted on {node.url}")
    print("stopped")


if __name__ == "__main__":
    try:
        _self_test()
    except RabbitMQError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
