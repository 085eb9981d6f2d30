#define CAF_SUITE settings
#include <caf/test/dsl.hpp>

#include "config/settings.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

using namespace orderd::config;
using kind = parse_result::kind;

namespace {

// Written out on purpose (not taken from the table): a setting missing from the table, or
// renamed by accident, fails these tests.
const std::vector<std::string> file_keys = {
  "host", "port", "http-threads", "caf-threads", "max-body-bytes", "max-connections",
  "request-timeout-ms", "idle-timeout-ms", "data-dir", "store", "sqlite-synchronous",
  "writer-max-batch", "reader-threads", "order-idle-timeout-ms", "stock-idle-timeout-ms",
  "order-view-cache",
  "restart-budget", "restart-window-ms", "restart-backoff-ms", "grace-period",
  "processor-interval-ms", "processor-batch", "payments", "payment-success-rate",
  "payment-latency-ms", "payment-seed", "payment-timeout-ms", "idempotency-ttl-hours", "log-level",
  "log-format", "demo-catalogue", "enable-fault-injection", "notifications",
};

// A valid value different from the default, per key.
const std::vector<std::pair<std::string, std::string>> non_defaults = {
  {"host", "0.0.0.0"}, {"port", "9090"}, {"http-threads", "3"}, {"caf-threads", "2"},
  {"max-body-bytes", "4096"}, {"max-connections", "10"}, {"request-timeout-ms", "5"},
  {"idle-timeout-ms", "6"}, {"data-dir", "/tmp/x"}, {"store", "memory"},
  {"sqlite-synchronous", "NORMAL"}, {"writer-max-batch", "7"}, {"reader-threads", "8"},
  {"order-idle-timeout-ms", "9"}, {"stock-idle-timeout-ms", "10"}, {"restart-budget", "0"},
  {"restart-window-ms", "11"}, {"restart-backoff-ms", "0"}, {"grace-period", "0.5"},
  {"processor-interval-ms", "12"}, {"processor-batch", "13"}, {"idempotency-ttl-hours", "1"},
  {"payments", "external"}, {"payment-success-rate", "0.5"}, {"payment-latency-ms", "19"},
  {"payment-seed", "20"}, {"payment-timeout-ms", "21"},
  {"node-id", "node-7"}, {"amqp-url", "amqp://u:p@broker:5673/v"},
  {"amqp-exchange", "shop.events"}, {"relay-batch", "14"}, {"relay-interval-ms", "15"},
  {"breaker-failures", "16"}, {"breaker-cooldown-ms", "17"}, {"outbox-retention-hours", "18"},
  {"log-level", "debug"}, {"log-format", "json"}, {"demo-catalogue", "true"},
  {"notifications", "false"}, {"smtp-url", "smtp://127.0.0.1:2525"},
  {"mail-from", "shop@example.com"},
  {"stock-manager-email", "stock@example.com"},
  {"webhook-url", "http://127.0.0.1:9/a,http://127.0.0.1:9/b"}, {"webhook-secret", "k3y"},
  {"webhook-timeout-ms", "19"}, {"notify-max-attempts", "2"}, {"notify-backoff-ms", "20"},
  {"notify-breaker-failures", "21"}, {"notify-breaker-cooldown-ms", "22"},
  {"admin-token", "s3cret"}, {"enable-fault-injection", "true"}, {"config", ""},
};

std::string env_of(const std::string& key) {
  std::string result = "ORDERD_";
  for (char c : key)
    result += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

/// Owns argv/environ arrays for one parse() call.
struct invocation {
  std::vector<std::string> args{"orderd"};
  std::vector<std::string> env;

  parse_result run() const {
    std::vector<const char*> argv;
    for (auto& a : args)
      argv.push_back(a.c_str());
    argv.push_back(nullptr);
    std::vector<const char*> envp;
    for (auto& e : env)
      envp.push_back(e.c_str());
    envp.push_back(nullptr);
    return parse(static_cast<int>(args.size()), argv.data(), envp.data());
  }
};

parse_result with_flags(std::initializer_list<std::string> flags) {
  invocation inv;
  inv.args.insert(inv.args.end(), flags);
  return inv.run();
}

parse_result with_env(std::initializer_list<std::string> vars) {
  invocation inv;
  inv.env.assign(vars);
  return inv.run();
}

/// A file in a fresh temporary directory, removed at the end of the test.
struct temp_file {
  std::filesystem::path dir;
  std::filesystem::path path;

  explicit temp_file(const std::string& content) {
    static std::atomic<int> counter{0};
    dir = std::filesystem::temp_directory_path()
          / ("orderd-settings-test-" + std::to_string(::getpid()) + "-"
             + std::to_string(counter++));
    std::filesystem::create_directories(dir);
    path = dir / "orderd.conf";
    std::ofstream{path} << content;
  }

  ~temp_file() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

parse_result with_file(const std::string& content) {
  temp_file file{content};
  return with_flags({"--config", file.path.string()});
}

std::string to_string(kind k) {
  switch (k) {
    case kind::run:
      return "run";
    case kind::help:
      return "help";
    case kind::version:
      return "version";
    case kind::error:
      return "error";
  }
  return "?";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// Checks that `r` is an error whose message contains every one of `parts`.
void check_error(const parse_result& r, std::initializer_list<std::string> parts) {
  CAF_CHECK_EQUAL(to_string(r.what), "error");
  for (auto& part : parts)
    if (!contains(r.message, part))
      CAF_FAIL("error message \"" << r.message << "\" lacks \"" << part << "\"");
}

} // namespace

// -- defaults and sources ----------------------------------------------------------------------

CAF_TEST(no arguments yields the documented defaults) {
  auto r = with_flags({});
  CAF_CHECK_EQUAL(to_string(r.what), "run");
  CAF_CHECK(r.values == settings{});
  CAF_CHECK_EQUAL(r.values.port, 8080u);
  CAF_CHECK_EQUAL(r.values.store, "sqlite");
  CAF_CHECK_EQUAL(r.values.grace_period, 300.0);
}

CAF_TEST(a null environ is treated as empty) {
  const char* argv[] = {"orderd", nullptr};
  auto r = parse(1, argv, nullptr);
  CAF_CHECK_EQUAL(to_string(r.what), "run");
  CAF_CHECK(r.values == settings{});
}

CAF_TEST(flags accept separate and attached values) {
  auto r = with_flags({"--port", "9000", "--data-dir=/var/lib/orderd", "--grace-period", "0.5"});
  CAF_REQUIRE_EQUAL(to_string(r.what), "run");
  CAF_CHECK_EQUAL(r.values.port, 9000u);
  CAF_CHECK_EQUAL(r.values.data_dir, "/var/lib/orderd");
  CAF_CHECK_EQUAL(r.values.grace_period, 0.5);
}

CAF_TEST(boolean flags accept bare and explicit forms) {
  auto r = with_flags({"--demo-catalogue", "--enable-fault-injection=true", "--admin-token=t"});
  CAF_REQUIRE_EQUAL(to_string(r.what), "run");
  CAF_CHECK(r.values.demo_catalogue);
  CAF_CHECK(r.values.enable_fault_injection);
  r = with_flags({"--demo-catalogue", "--demo-catalogue=false"});
  CAF_REQUIRE_EQUAL(to_string(r.what), "run");
  CAF_CHECK(!r.values.demo_catalogue);
}

CAF_TEST(the fault hook needs the admin token) {
  // It crashes actors on request: never open to anyone.
  check_error(with_flags({"--enable-fault-injection"}), {"--enable-fault-injection", "--admin-token"});
  check_error(with_env({"ORDERD_ENABLE_FAULT_INJECTION=1"}), {"ORDERD_ADMIN_TOKEN"});
  CAF_CHECK_EQUAL(to_string(with_flags({"--enable-fault-injection", "--admin-token", "t"}).what),
                  "run");
}

CAF_TEST(the write audit needs a cluster) {
  // Only a cluster's writes are fenced: alone, the flag would silently record nothing.
  check_error(with_flags({"--cluster-audit-writes"}), {"--cluster-audit-writes", "--cluster-advertise"});
  auto r = with_flags({"--store", "postgres", "--database-url", "postgresql://h/db",
                       "--cluster-advertise", "10.0.0.1:7000", "--cluster-audit-writes"});
  CAF_REQUIRE_EQUAL(to_string(r.what), "run");
  CAF_CHECK(r.values.cluster_audit_writes);
}

CAF_TEST(the last of a repeated flag wins) {
  auto r = with_flags({"--port=1", "--port=2"});
  CAF_CHECK_EQUAL(r.values.port, 2u);
}

CAF_TEST(environment variables set values) {
  auto r = with_env({"ORDERD_DATA_DIR=/srv/orderd", "ORDERD_ENABLE_FAULT_INJECTION=1",
                     "ORDERD_ADMIN_TOKEN=t", "ORDERD_HTTP_THREADS=4", "PATH=/usr/bin"});
  CAF_REQUIRE_EQUAL(to_string(r.what), "run");
  CAF_CHECK_EQUAL(r.values.data_dir, "/srv/orderd");
  CAF_CHECK(r.values.enable_fault_injection);
  CAF_CHECK_EQUAL(r.values.http_threads, 4u);
}

CAF_TEST(unknown ORDERD variables are ignored) {
  auto r = with_env({"ORDERD_SOMETHING_ELSE=42", "ORDERD_=x", "ORDERD_PROT=1"});
  CAF_CHECK_EQUAL(to_string(r.what), "run");
  CAF_CHECK(r.values == settings{});
}

CAF_TEST(a config file sets values) {
  auto r = with_file("# comment\n"
                     "\n"
                     "  data-dir = /var/lib/orderd  \n"
                     "store=memory\n"
                     "host = \"0.0.0.0\"\r\n"
                     "   # indented comment\n"
                     "demo-catalogue = yes\n"
                     "log-level = WARN\n");
  CAF_REQUIRE_EQUAL(to_string(r.what), "run");
  CAF_CHECK_EQUAL(r.values.data_dir, "/var/lib/orderd");
  CAF_CHECK_EQUAL(r.values.store, "memory");
  CAF_CHECK_EQUAL(r.values.host, "0.0.0.0");
  CAF_CHECK(r.values.demo_catalogue);
  CAF_CHECK_EQUAL(r.values.log_level, "warn");
}

CAF_TEST(ORDERD_CONFIG names the config file) {
  temp_file file{"port = 7000\n"};
  auto r = with_env({"ORDERD_CONFIG=" + file.path.string()});
  CAF_REQUIRE_EQUAL(to_string(r.what), "run");
  CAF_CHECK_EQUAL(r.values.port, 7000u);
  CAF_CHECK_EQUAL(r.values.config_file, file.path.string());
}

CAF_TEST(every key maps to its own field) {
  for (auto& [key, value] : non_defaults) {
    if (key == "config")
      continue;
    // A setting that needs another one gets it (the fault hook needs the admin token).
    auto r = key == "enable-fault-injection"
               ? with_flags({"--" + key + "=" + value, "--admin-token=s3cret"})
               : with_flags({"--" + key + "=" + value});
    CAF_REQUIRE_EQUAL(to_string(r.what), "run");
    if (r.values == settings{})
      CAF_FAIL("--" << key << "=" << value << " changed nothing");
  }
  // All at once: if two keys shared a field, one of them would not show.
  invocation inv;
  for (auto& [key, value] : non_defaults)
    if (key != "config")
      inv.args.push_back("--" + key + "=" + value);
  auto r = inv.run();
  CAF_REQUIRE_EQUAL(to_string(r.what), "run");
  auto& v = r.values;
  CAF_CHECK_EQUAL(v.host, "0.0.0.0");
  CAF_CHECK_EQUAL(v.port, 9090u);
  CAF_CHECK_EQUAL(v.http_threads, 3u);
  CAF_CHECK_EQUAL(v.caf_threads, 2u);
  CAF_CHECK_EQUAL(v.max_body_bytes, 4096u);
  CAF_CHECK_EQUAL(v.max_connections, 10u);
  CAF_CHECK_EQUAL(v.request_timeout_ms, 5u);
  CAF_CHECK_EQUAL(v.idle_timeout_ms, 6u);
  CAF_CHECK_EQUAL(v.data_dir, "/tmp/x");
  CAF_CHECK_EQUAL(v.store, "memory");
  CAF_CHECK_EQUAL(v.sqlite_synchronous, "NORMAL");
  CAF_CHECK_EQUAL(v.writer_max_batch, 7u);
  CAF_CHECK_EQUAL(v.reader_threads, 8u);
  CAF_CHECK_EQUAL(v.order_idle_timeout_ms, 9u);
  CAF_CHECK_EQUAL(v.stock_idle_timeout_ms, 10u);
  CAF_CHECK_EQUAL(v.restart_budget, 0u);
  CAF_CHECK_EQUAL(v.restart_window_ms, 11u);
  CAF_CHECK_EQUAL(v.restart_backoff_ms, 0u);
  CAF_CHECK_EQUAL(v.grace_period, 0.5);
  CAF_CHECK_EQUAL(v.processor_interval_ms, 12u);
  CAF_CHECK_EQUAL(v.processor_batch, 13u);
  CAF_CHECK_EQUAL(v.idempotency_ttl_hours, 1u);
  CAF_CHECK_EQUAL(v.node_id, "node-7");
  CAF_CHECK_EQUAL(v.amqp_url, "amqp://u:p@broker:5673/v");
  CAF_CHECK_EQUAL(v.amqp_exchange, "shop.events");
  CAF_CHECK_EQUAL(v.relay_batch, 14u);
  CAF_CHECK_EQUAL(v.relay_interval_ms, 15u);
  CAF_CHECK_EQUAL(v.breaker_failures, 16u);
  CAF_CHECK_EQUAL(v.breaker_cooldown_ms, 17u);
  CAF_CHECK_EQUAL(v.outbox_retention_hours, 18u);
  CAF_CHECK_EQUAL(v.log_level, "debug");
  CAF_CHECK_EQUAL(v.log_format, "json");
  CAF_CHECK(v.demo_catalogue);
  CAF_CHECK(v.enable_fault_injection);
}

// -- precedence --------------------------------------------------------------------------------

CAF_TEST(flags beat environment beats file beats default) {
  temp_file file{"port = 1111\nhost = file-host\ndata-dir = /file\nstore = memory\n"};
  invocation inv;
  inv.args = {"orderd", "--config", file.path.string(), "--port", "3333"};
  inv.env = {"ORDERD_PORT=2222", "ORDERD_HOST=env-host"};
  auto r = inv.run();
  CAF_REQUIRE_EQUAL(to_string(r.what), "run");
  CAF_CHECK_EQUAL(r.values.port, 3333u);           // flag
  CAF_CHECK_EQUAL(r.values.host, "env-host");      // env over file
  CAF_CHECK_EQUAL(r.values.data_dir, "/file");     // file over default
  CAF_CHECK_EQUAL(r.values.store, "memory");       // file over default
  CAF_CHECK_EQUAL(r.values.log_level, "info");     // default
}

CAF_TEST(the config flag beats ORDERD_CONFIG) {
  temp_file from_flag{"port = 1\n"};
  temp_file from_env{"port = 2\n"};
  invocation inv;
  inv.args = {"orderd", "--config=" + from_flag.path.string()};
  inv.env = {"ORDERD_CONFIG=" + from_env.path.string()};
  auto r = inv.run();
  CAF_REQUIRE_EQUAL(to_string(r.what), "run");
  CAF_CHECK_EQUAL(r.values.port, 1u);
  CAF_CHECK_EQUAL(r.values.config_file, from_flag.path.string());
}

CAF_TEST(an invalid value is an error even when overridden) {
  invocation inv;
  inv.args = {"orderd", "--port", "1"};
  inv.env = {"ORDERD_PORT=abc"};
  check_error(inv.run(), {"\"abc\"", "--port", "ORDERD_PORT"});
}

// -- help and version --------------------------------------------------------------------------

CAF_TEST(help lists every key and every environment name) {
  for (auto flag : {"--help", "-h"}) {
    auto r = with_flags({flag});
    CAF_CHECK_EQUAL(to_string(r.what), "help");
    CAF_CHECK_EQUAL(r.message, help_text());
  }
  auto help = help_text();
  for (auto& key : file_keys) {
    if (!contains(help, "--" + key + " ") && !contains(help, "--" + key + "\n"))
      CAF_FAIL("help lacks --" << key);
    if (!contains(help, env_of(key)))
      CAF_FAIL("help lacks " << env_of(key));
  }
  CAF_CHECK(contains(help, "--config FILE"));
  CAF_CHECK(contains(help, "ORDERD_CONFIG"));
  CAF_CHECK(contains(help, "default: 127.0.0.1"));
  CAF_CHECK(contains(help, "default: 300"));
}

CAF_TEST(help and version win over other errors) {
  CAF_CHECK_EQUAL(to_string(with_flags({"--bogus", "--help"}).what), "help");
  auto r = with_flags({"--port=abc", "--version"});
  CAF_CHECK_EQUAL(to_string(r.what), "version");
  CAF_CHECK(contains(r.message, "orderd "));
}

// -- errors name the key and the source --------------------------------------------------------

CAF_TEST(an unknown flag is an error with a suggestion) {
  check_error(with_flags({"--prot", "80"}), {"unknown flag --prot", "did you mean --port"});
  check_error(with_flags({"--frobnicate"}), {"unknown flag --frobnicate"});
  check_error(with_flags({"stray"}), {"unexpected argument \"stray\""});
  check_error(with_flags({"-p"}), {"\"-p\""});
}

CAF_TEST(a flag without its value is an error) {
  check_error(with_flags({"--port"}), {"missing value for --port"});
}

CAF_TEST(a boolean flag does not swallow the next argument) {
  check_error(with_flags({"--demo-catalogue", "false"}), {"unexpected argument \"false\""});
  check_error(with_flags({"--demo-catalogue=maybe"}),
              {"\"maybe\"", "--demo-catalogue", "command line", "true or false"});
  check_error(with_env({"ORDERD_DEMO_CATALOGUE=2"}), {"ORDERD_DEMO_CATALOGUE"});
}

CAF_TEST(an unparsable number names the key and the source) {
  auto r = with_env({"ORDERD_PORT=abc"});
  CAF_CHECK_EQUAL(r.message, "invalid value \"abc\" for --port (from environment ORDERD_PORT): "
                             "expected an integer 0-65535");
  check_error(with_flags({"--port", "80x"}), {"\"80x\"", "--port", "command line"});
  check_error(with_flags({"--port", ""}), {"\"\"", "--port"});
  check_error(with_flags({"--port", "-1"}), {"\"-1\"", "--port"});
  check_error(with_flags({"--port", "+80"}), {"\"+80\"", "--port"});
  check_error(with_flags({"--max-connections", "99999999999999999999999"}),
              {"--max-connections"});
  check_error(with_flags({"--http-threads", "1.5"}), {"\"1.5\"", "--http-threads"});
}

CAF_TEST(out of range values name the key) {
  check_error(with_flags({"--port", "65536"}), {"\"65536\"", "--port", "0-65535"});
  check_error(with_flags({"--http-threads", "0"}), {"--http-threads", "1-1024"});
  check_error(with_flags({"--reader-threads", "0"}), {"--reader-threads"});
  check_error(with_flags({"--max-body-bytes", "0"}), {"--max-body-bytes"});
  check_error(with_flags({"--writer-max-batch", "0"}), {"--writer-max-batch"});
  check_error(with_flags({"--processor-batch", "0"}), {"--processor-batch"});
  check_error(with_flags({"--request-timeout-ms", "4294967296"}), {"--request-timeout-ms"});
  check_error(with_flags({"--grace-period", "-1"}), {"\"-1\"", "--grace-period", "seconds"});
  check_error(with_flags({"--grace-period", "nan"}), {"--grace-period"});
  check_error(with_flags({"--payment-success-rate", "1.5"}), {"--payment-success-rate"});
  check_error(with_flags({"--payments", "cash"}), {"--payments"});
  check_error(with_flags({"--payment-timeout-ms", "0"}), {"--payment-timeout-ms"});
  check_error(with_flags({"--grace-period", "inf"}), {"--grace-period"});
  check_error(with_flags({"--grace-period", "5s"}), {"--grace-period"});
  check_error(with_flags({"--host", ""}), {"--host", "non-empty"});
  check_error(with_flags({"--data-dir="}), {"--data-dir", "non-empty"});
  // Zero where zero means something is fine.
  CAF_CHECK_EQUAL(to_string(with_flags({"--port=0", "--caf-threads=0", "--grace-period=0"}).what),
                  "run");
}

CAF_TEST(messaging settings are validated and the broker url is never echoed) {
  check_error(with_flags({"--relay-batch", "0"}), {"--relay-batch", "1-10000"});
  check_error(with_flags({"--relay-batch", "10001"}), {"--relay-batch"});
  check_error(with_flags({"--breaker-failures", "0"}), {"--breaker-failures", "1-1000"});
  check_error(with_flags({"--breaker-cooldown-ms", "0"}), {"--breaker-cooldown-ms"});
  check_error(with_flags({"--relay-interval-ms", "0"}), {"--relay-interval-ms"});
  check_error(with_flags({"--amqp-exchange="}), {"--amqp-exchange", "non-empty"});
  auto bad = with_env({"ORDERD_AMQP_URL=http://user:s3cret@host/"});
  check_error(bad, {"--amqp-url", "ORDERD_AMQP_URL", "amqp://"});
  CAF_CHECK(!contains(bad.message, "s3cret"));
  check_error(with_flags({"--amqp-url", "amqp://user:pw@host /v"}), {"--amqp-url"});
  // Empty means the in-process bus; the scheme is case-insensitive.
  CAF_CHECK_EQUAL(to_string(with_flags({"--amqp-url="}).what), "run");
  CAF_CHECK_EQUAL(with_flags({"--amqp-url", "AMQP://h"}).values.amqp_url, "AMQP://h");
  // No node id means the host name, resolved at start.
  CAF_CHECK_EQUAL(settings{}.node_id, "");
}

CAF_TEST(the postgres store needs a database url and never echoes it) {
  auto url = std::string{"postgresql://shop:s3cret@db.example:5432/orderd?sslmode=verify-full"};
  auto r = with_flags({"--store", "postgres", "--database-url", url});
  CAF_CHECK_EQUAL(to_string(r.what), "run");
  CAF_CHECK_EQUAL(r.values.store, "postgres");
  CAF_CHECK_EQUAL(r.values.database_url, url);
  // The environment twins.
  auto env = with_env({"ORDERD_STORE=postgres", "ORDERD_DATABASE_URL=" + url});
  CAF_CHECK_EQUAL(env.values.database_url, url);
  // One without the other is a mistake worth stopping for.
  check_error(with_flags({"--store", "postgres"}), {"--database-url", "ORDERD_DATABASE_URL"});
  auto stray = with_env({"ORDERD_DATABASE_URL=" + url});
  check_error(stray, {"--database-url", "--store postgres"});
  CAF_CHECK(!contains(stray.message, "s3cret"));
  // Only a libpq URI; a bad one is refused without repeating it.
  auto bad = with_flags({"--store", "postgres", "--database-url", "mysql://u:s3cret@h/db"});
  check_error(bad, {"--database-url", "postgresql://"});
  CAF_CHECK(!contains(bad.message, "s3cret"));
  CAF_CHECK_EQUAL(to_string(with_flags({"--store", "postgres", "--database-url",
                                        "postgres://h/db"})
                              .what),
                  "run");
}

CAF_TEST(values outside their set name the key and the choices) {
  check_error(with_flags({"--store", "mysql"}), {"--store", "sqlite, postgres, memory"});
  check_error(with_flags({"--log-level", "verbose"}), {"--log-level", "trace, debug"});
  check_error(with_flags({"--log-format", "xml"}), {"--log-format", "text, json"});
  check_error(with_env({"ORDERD_SQLITE_SYNCHRONOUS=OFF"}),
              {"--sqlite-synchronous", "ORDERD_SQLITE_SYNCHRONOUS", "FULL, NORMAL"});
  // Choices are case-insensitive and stored in their canonical spelling.
  auto r = with_flags({"--sqlite-synchronous=normal", "--store=MEMORY"});
  CAF_CHECK_EQUAL(r.values.sqlite_synchronous, "NORMAL");
  CAF_CHECK_EQUAL(r.values.store, "memory");
}

CAF_TEST(config file errors name the key the file and the line) {
  check_error(with_file("port = 80\nprot = 81\n"),
              {"unknown key \"prot\"", "line 2", "did you mean \"port\""});
  check_error(with_file("data_dir = /x\n"), {"\"data_dir\"", "did you mean \"data-dir\""});
  check_error(with_file("\n\nport = abc\n"),
              {"invalid value \"abc\" for port", "config file", "line 3", "0-65535"});
  check_error(with_file("just some words\n"), {"line 1", "key = value"});
  check_error(with_file("config = /etc/other.conf\n"), {"\"config\"", "not allowed"});
  check_error(with_file("port = 80 # inline comment\n"), {"\"80 # inline comment\""});
}

CAF_TEST(a missing config file is an error naming the path) {
  auto missing = (std::filesystem::temp_directory_path() / "orderd-no-such-dir" / "x.conf")
                   .string();
  check_error(with_flags({"--config", missing}), {missing, "cannot read config file"});
  check_error(with_env({"ORDERD_CONFIG=" + missing}), {missing});
}

// -- the example file --------------------------------------------------------------------------

CAF_TEST(the example file lists every key at its default) {
  auto example = example_config_file();
  for (auto& key : file_keys)
    if (!contains(example, "\n" + key + " = "))
      CAF_FAIL("example lacks key " << key);
  CAF_CHECK(!contains(example, "\nconfig = "));
}

CAF_TEST(the example file parses back to the defaults) {
  temp_file file{example_config_file()};
  auto r = with_flags({"--config", file.path.string()});
  CAF_REQUIRE_EQUAL(to_string(r.what), "run");
  auto expected = settings{};
  expected.config_file = file.path.string();
  CAF_CHECK(r.values == expected);
}

CAF_TEST(the example file in the repository is up to date) {
  auto path = std::filesystem::path{ORDERD_SOURCE_DIR} / "config" / "orderd.example.conf";
  std::ifstream in{path};
  CAF_REQUIRE(in.good());
  std::ostringstream content;
  content << in.rdbuf();
  if (content.str() != example_config_file()) {
    auto fresh = std::filesystem::temp_directory_path() / "orderd.example.conf.new";
    std::ofstream{fresh} << example_config_file();
    CAF_FAIL(path.string() << " differs from example_config_file(); the current content was "
                              "written to " << fresh.string() << ": copy it over");
  }
}
