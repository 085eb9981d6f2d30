#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace orderd::config {

/// Every setting of orderd with its default. Each field can be given as a command-line flag
/// (`--http-threads 4`), an environment variable (`ORDERD_HTTP_THREADS=4`) or a config-file
/// key (`http-threads = 4`); precedence is flag > environment > file > default.
struct settings {
  // -- network
  std::string host = "127.0.0.1";          ///< --host: address to listen on
  uint16_t port = 8080;                    ///< --port: 0 picks a free port and logs it
  size_t http_threads = 1;                 ///< --http-threads: Beast I/O threads
  size_t caf_threads = 0;                  ///< --caf-threads: actor scheduler threads (0 = cores)
  /// --caf-scheduler: "sharing" wakes idle threads with a condition variable; CAF's default
  /// "stealing" polls with short sleeps, which cost a third of the CPU per order here.
  std::string caf_scheduler = "sharing";
  size_t max_body_bytes = 1 << 20;         ///< --max-body-bytes: larger bodies get 413
  size_t max_connections = 10000;          ///< --max-connections: further ones are refused
  uint32_t request_timeout_ms = 10000;     ///< --request-timeout-ms: actor reply deadline (503)
  uint32_t idle_timeout_ms = 60000;        ///< --idle-timeout-ms: keep-alive idle close
  uint32_t header_timeout_ms = 10000;      ///< --header-timeout-ms: request line + headers

  // -- storage
  std::string data_dir = "./data";         ///< --data-dir: SQLite file and other local state
  std::string store = "sqlite";            ///< --store: sqlite | postgres | memory
  std::string database_url;                ///< --database-url: libpq URI (--store postgres)
  std::string sqlite_synchronous = "FULL"; ///< --sqlite-synchronous: FULL | NORMAL
  size_t writer_max_batch = 512;           ///< --writer-max-batch: change sets per transaction
  size_t reader_threads = 2;               ///< --reader-threads: read-only store connections

  // -- actors
  uint32_t order_idle_timeout_ms = 30000;  ///< --order-idle-timeout-ms: passivate idle orders
  uint32_t order_view_cache = 100000;      ///< --order-view-cache: passivated orders kept for reads
  uint32_t stock_idle_timeout_ms = 600000; ///< --stock-idle-timeout-ms: passivate idle stock
  uint32_t restart_budget = 5;             ///< --restart-budget: restarts allowed per window
  uint32_t restart_window_ms = 10000;      ///< --restart-window-ms
  uint32_t restart_backoff_ms = 50;        ///< --restart-backoff-ms: first backoff, doubles

  // -- order lifecycle
  double grace_period = 300;               ///< --grace-period SECONDS: PENDING before PROCESSING
  uint32_t processor_interval_ms = 1000;   ///< --processor-interval-ms: how often to look
  size_t processor_batch = 500;            ///< --processor-batch: orders moved per tick
  std::string payments = "mock";           ///< --payments mock|external: who settles payments
  double payment_success_rate = 0.95;      ///< --payment-success-rate: mock charges that succeed
  uint32_t payment_latency_ms = 200;       ///< --payment-latency-ms: how long a mock charge takes
  size_t payment_seed = 0;                 ///< --payment-seed: the mock's random seed
  uint32_t payment_timeout_ms = 5000;      ///< --payment-timeout-ms: then the charge failed
  uint32_t idempotency_ttl_hours = 24;     ///< --idempotency-ttl-hours: keep keys at least this

  // -- messaging (events: transactional outbox, relay, RabbitMQ)
  std::string webhook_allow;               ///< --webhook-allow: hosts webhooks may call
  std::string node_id;                     ///< --node-id: source of events; empty = host name
  std::string cluster_advertise;           ///< --cluster-advertise: join the cluster as HOST:PORT
  std::string cluster_listen;              ///< --cluster-listen: the cluster port's HOST:PORT
  uint32_t cluster_shards = 64;            ///< --cluster-shards: shards, when creating the cluster
  bool cluster_audit_writes = false;       ///< --cluster-audit-writes: record fenced writes
  std::string amqp_url;                    ///< --amqp-url: empty = in-process bus only
  std::string amqp_exchange = "orderd.events"; ///< --amqp-exchange: durable topic exchange
  size_t relay_batch = 500;                ///< --relay-batch: events per publish
  uint32_t relay_interval_ms = 1000;       ///< --relay-interval-ms: fallback polling interval
  uint32_t breaker_failures = 5;           ///< --breaker-failures: failures that open it
  uint32_t breaker_cooldown_ms = 10000;    ///< --breaker-cooldown-ms: open before a trial
  uint32_t outbox_retention_hours = 24;    ///< --outbox-retention-hours: keep published events
  // inbound commands (RabbitMQ -> actors; only with --amqp-url)
  std::string commands_exchange = "orderd.commands"; ///< --commands-exchange: topic exchange
  std::string commands_queue = "orderd.commands";    ///< --commands-queue: quorum work queue
  uint32_t amqp_prefetch = 64;             ///< --amqp-prefetch: unacked commands in flight
  uint32_t inbound_max_attempts = 5;       ///< --inbound-max-attempts: then dead-lettered
  std::string inbound_retry_delays_ms = "1000,5000,30000"; ///< --inbound-retry-delays-ms
  uint32_t inbound_dedup_hours = 168;      ///< --inbound-dedup-hours: remember message ids

  // -- notifications (email, webhook, push; actors/notifier.hpp)
  std::string smtp_url;                    ///< --smtp-url: smtp://host:port; empty = maildir
  std::string mail_from = "orderd@localhost"; ///< --mail-from: sender of every e-mail
  std::string stock_manager_email;         ///< --stock-manager-email: gets inventory.low mail
  std::string webhook_urls;                ///< --webhook-url: http:// URLs, comma separated
  std::string webhook_secret;              ///< --webhook-secret: signs webhook bodies (HMAC)
  uint32_t webhook_timeout_ms = 5000;      ///< --webhook-timeout-ms: per delivery attempt
  bool notifications = true;               ///< --notifications: the notification channels run
  uint32_t notify_max_attempts = 5;        ///< --notify-max-attempts: then FAILED
  uint32_t notify_backoff_ms = 1000;       ///< --notify-backoff-ms: first retry delay, doubles
  uint32_t notify_breaker_failures = 3;    ///< --notify-breaker-failures: opens a channel
  uint32_t notify_breaker_cooldown_ms = 10000; ///< --notify-breaker-cooldown-ms

  // -- operations
  std::string log_level = "info";          ///< --log-level: trace|debug|info|warn|error|off
  std::string log_format = "text";         ///< --log-format: text | json
  bool demo_catalogue = false;             ///< --demo-catalogue: load demo products if empty
  std::string admin_token;                 ///< --admin-token: bearer token of /api/v1/admin/*; empty = disabled
  bool enable_fault_injection = false;     ///< --enable-fault-injection: POST /api/v1/admin/faults
  std::string config_file;                 ///< --config FILE (or ORDERD_CONFIG); not a file key

  friend bool operator==(const settings&, const settings&) = default;
};

/// The outcome of parsing: either settings, or a message naming the bad key, or a request for
/// help/version output (already rendered into `message`).
struct parse_result {
  enum class kind { run, help, version, error } what = kind::run;
  settings values;
  std::string message;
};

/// Parses flags, then `ORDERD_*` variables from `environ` (a null-terminated `NAME=value` array,
/// may be null), then the config file they name. Validates every value from every source (an
/// invalid value is an error even if a higher-precedence source overrides it); the first invalid
/// one yields kind::error with a message naming the key and its source. `--help`/`-h` and
/// `--version` win over errors. Unknown `ORDERD_*` variables are ignored; unknown flags and
/// file keys are errors. Choice values are case-insensitive and stored in canonical spelling.
parse_result parse(int argc, const char* const* argv, const char* const* environ);

/// The text of `orderd --help`: every setting, its default, env name and meaning.
std::string help_text();

/// A commented example config file documenting every key (written to config/orderd.example.conf).
std::string example_config_file();

} // namespace orderd::config
