#!/usr/bin/env python3
"""Runs black-box test modules against an orderd binary.

    python3 tests/integration/run.py test_orders --orderd build/app/orderd
    python3 tests/integration/run.py test_orders.OrdersTest.test_cancel --orderd build/app/orderd
    python3 tests/integration/run.py --all --orderd build/app/orderd

Exit code 0 when every test passed, 1 otherwise (ctest reads it).
"""

import argparse
import glob
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def _exit_on_signal(signum, frame):
    # ctest's timeout or Ctrl-C: unwind so the harness kills every orderd it started.
    raise SystemExit(f"run.py: stopped by signal {signal.Signals(signum).name}")


def main():
    signal.signal(signal.SIGTERM, _exit_on_signal)
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tests", nargs="*",
                        help="modules, classes or methods, e.g. test_orders or "
                             "test_orders.OrdersTest.test_cancel")
    parser.add_argument("--orderd", default=os.environ.get("ORDERD_BIN"),
                        help="path of the orderd binary (default: $ORDERD_BIN)")
    parser.add_argument("--amqp-tail", default=os.environ.get("ORDERD_AMQP_TAIL"),
                        help="path of the amqp_tail test tool (test_events; default: "
                             "$ORDERD_AMQP_TAIL)")
    parser.add_argument("--amqp-send", default=os.environ.get("ORDERD_AMQP_SEND"),
                        help="path of the amqp_send test tool (test_commands; default: "
                             "$ORDERD_AMQP_SEND)")
    parser.add_argument("--all", action="store_true", help="run every test_*.py module")
    parser.add_argument("-q", "--quiet", action="store_true", help="less output")
    parser.add_argument("-x", "--failfast", action="store_true", help="stop at the first failure")
    args = parser.parse_args()

    if not args.orderd:
        parser.error("--orderd PATH (or ORDERD_BIN) is required")
    binary = os.path.abspath(args.orderd)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"run.py: orderd binary {binary} does not exist or is not executable",
              file=sys.stderr)
        return 1
    os.environ["ORDERD_BIN"] = binary
    if args.amqp_tail:
        os.environ["ORDERD_AMQP_TAIL"] = os.path.abspath(args.amqp_tail)
    if args.amqp_send:
        os.environ["ORDERD_AMQP_SEND"] = os.path.abspath(args.amqp_send)

    names = list(args.tests)
    if args.all:
        names += sorted(os.path.splitext(os.path.basename(p))[0]
                        for p in glob.glob(os.path.join(HERE, "test_*.py")))
    if not names:
        parser.error("name at least one test module, or --all")
    names = [n[:-3] if n.endswith(".py") else n for n in names]

    sys.path.insert(0, HERE)
    import harness  # noqa: E402  (after sys.path is set)
    harness.ORDERD_BIN = binary

    suite = unittest.TestLoader().loadTestsFromNames(names)
    if suite.countTestCases() == 0:
        print(f"run.py: no tests found in {names}", file=sys.stderr)
        return 1
    started = time.monotonic()
    result = unittest.TextTestRunner(verbosity=1 if args.quiet else 2, failfast=args.failfast,
                                     stream=sys.stdout).run(suite)
    sys.stdout.write(f"run.py: {' '.join(names)}: {result.testsRun} tests in "
                     f"{time.monotonic() - started:.1f} s, {len(result.failures)} failures, "
                     f"{len(result.errors)} errors, {len(result.skipped)} skipped\n")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
