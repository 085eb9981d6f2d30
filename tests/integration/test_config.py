"""Configuration (flags, ORDERD_* environment, --config file), --help, fail-fast validation,
and graceful shutdown on SIGTERM/SIGINT."""

import os
import signal
import unittest

from harness import OrderdTestCase, poll_until, product_body, run_orderd_once


class ConfigTest(OrderdTestCase):
    def base_args(self, args, env):
        """Loopback and the temp data dir; `--port 0` unless the case is about the port (a
        flag would override the environment or file value under test)."""
        base = ["--host", "127.0.0.1", "--data-dir", self.data_dir]
        port_given = "--port" in args or "ORDERD_PORT" in env or "--config" in args
        return base + ([] if port_given else ["--port", "0"])

    def write_config(self, text, name="orderd.conf"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_help_lists_every_setting(self):
        code, out = run_orderd_once(["--help"])
        self.assertEqual(code, 0, f"orderd --help exited with {code}:\n{out}")
        for needle in ("--host", "--port", "--data-dir", "--config", "--http-threads",
                       "--caf-threads", "--store", "--max-body-bytes", "--max-connections",
                       "--log-level", "--log-format", "--grace-period",
                       "--enable-fault-injection", "ORDERD_PORT", "ORDERD_DATA_DIR",
                       "ORDERD_GRACE_PERIOD", "8080"):
            self.assertIn(needle, out, f"--help does not mention {needle}:\n{out}")

    def assert_rejected(self, args, env, *names):
        code, out = run_orderd_once(self.base_args(args, env) + args, env=env, timeout=20)
        self.assertIsNotNone(code, f"orderd {args} {env} kept running instead of failing:\n{out}")
        self.assertNotEqual(code, 0, f"orderd {args} {env} exited 0:\n{out}")
        lowered = out.lower()
        self.assertTrue(any(n.lower() in lowered for n in names),
                        f"the message for {args} {env} names none of {names}:\n{out}")

    def test_invalid_settings_fail_fast_naming_the_key(self):
        cases = [
            (["--port", "abc"], {}, ("port",)),
            (["--port", "-1"], {}, ("port",)),
            ([], {"ORDERD_PORT": "99999"}, ("port",)),
            ([], {"ORDERD_PORT": "http"}, ("port",)),
            (["--store", "mongodb"], {}, ("store",)),
            (["--grace-period", "-5"], {}, ("grace",)),
            (["--grace-period", "soon"], {}, ("grace",)),
            (["--max-body-bytes", "lots"], {}, ("max-body-bytes", "max_body_bytes")),
            (["--log-level", "chatty"], {}, ("log-level", "log_level")),
            (["--log-format", "xml"], {}, ("log-format", "log_format")),
            ([], {"ORDERD_HTTP_THREADS": "many"}, ("http-threads", "http_threads")),
            (["--no-such-setting", "1"], {}, ("no-such-setting",)),
            (["--config", os.path.join(self.tmp, "missing.conf")], {}, ("missing.conf",
                                                                         "config")),
        ]
        for args, env, names in cases:
            with self.subTest(args=args, env=env):
                self.assert_rejected(args, env, *names)
        bad_file = self.write_config("# a bad value\nport = not-a-port\n", "bad.conf")
        with self.subTest("bad value in the config file"):
            self.assert_rejected(["--config", bad_file], {}, "port")

    def wait_processing(self, server):
        self.create_product(server, "CFG-1", 5)
        order = self.place_order(server, [("CFG-1", 1)])
        # Past PENDING: the payment saga may have settled it already.
        poll_until(lambda: self.get_order(server, order["id"])["status"] != "PENDING", 30,
                   0.2, f"order {order['id']} past its grace period")

    def test_environment_sets_the_grace_period(self):
        s = self.start_server(env={"ORDERD_GRACE_PERIOD": "1"})
        self.wait_processing(s)

    def test_config_file_sets_values(self):
        path = self.write_config("# orderd settings\n"
                                 "grace-period = 1\n"
                                 "\n"
                                 "max-body-bytes = 1024\n")
        s = self.start_server("--config", path)
        self.wait_processing(s)
        big = product_body("CFG-BIG", 1, description="x" * 3000)
        self.assert_problem(s.post("/api/v1/products", big), 413)

    def test_precedence_is_flag_then_environment_then_file(self):
        path = self.write_config("max-body-bytes = 1000000\n")
        big = product_body("PREC-1", 1, description="x" * 3000)
        # The environment beats the file...
        s = self.start_server("--config", path, env={"ORDERD_MAX_BODY_BYTES": "1024"})
        self.assert_problem(s.post("/api/v1/products", big), 413)
        self.assertEqual(s.stop(), 0)
        # ...and a flag beats both.
        s2 = self.start_server("--config", path, "--max-body-bytes", "1000000",
                               env={"ORDERD_MAX_BODY_BYTES": "1024"})
        self.assert_json(s2.post("/api/v1/products", big), 201)

    def test_sigterm_and_sigint_exit_0_and_keep_the_data(self):
        s = self.start_server()
        self.create_product(s, "TERM-1", 10)
        order = self.place_order(s, [("TERM-1", 4)])
        self.assertEqual(s.stop(), 0, "SIGTERM must exit 0")
        s.start()
        self.assertEqual(self.get_order(s, order["id"])["status"], "PENDING")
        self.assertEqual(self.stock(s, "TERM-1"), (6, 4))
        self.assert_json(s.post(f"/api/v1/orders/{order['id']}/cancel"), 200)
        self.assertEqual(s.signal(signal.SIGINT), 0, "SIGINT must exit 0")
        s.start()
        self.assertEqual(self.get_order(s, order["id"])["status"], "CANCELLED")
        self.assertEqual(self.stock(s, "TERM-1"), (10, 0))

    def test_memory_store_serves_requests(self):
        s = self.start_server("--store", "memory")
        self.create_product(s, "MEM-1", 3)
        order = self.place_order(s, [("MEM-1", 2)])
        self.assertEqual(self.get_order(s, order["id"])["status"], "PENDING")
        self.assertEqual(self.stock(s, "MEM-1"), (1, 2))
        self.assertEqual(s.stop(), 0)


if __name__ == "__main__":
    unittest.main()
