#include "config/settings.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#ifndef ORDERD_VERSION
#define ORDERD_VERSION "0.1.0"
#endif

namespace orderd::config {

namespace {

// -- the table -------------------------------------------------------------------------------

using member = std::variant<std::string settings::*, bool settings::*, uint16_t settings::*,
                           uint32_t settings::*, size_t settings::*, double settings::*>;

/// One setting: everything needed to read it from any source and to document it. The flag is
/// `--name`, the file key `name`, the environment variable `ORDERD_` + upper-snake name; the
/// default is read from a default-constructed `settings`.
struct option {
  std::string_view name;
  std::string_view metavar = {};  // placeholder in --help; empty for booleans
  std::string_view section;  // heading in --help and the example file
  std::string_view meaning;  // one line
  member field;
  uint64_t min = 0;          // integers and decimals: inclusive bounds
  uint64_t max = 0;          // 0: the field type's maximum
  std::string_view choices = {};  // "a|b|c": the only accepted strings (case-insensitive)
  bool non_empty = false;    // strings: refuse ""
  bool file_key = true;      // false: flag and environment only
  // strings: a further check of a non-empty value, and what it accepts (for messages)
  bool (*check)(std::string_view) = nullptr;
  std::string_view accepts = {};
  bool secret = false;       // never repeat the value in messages (it may hold a password)
};

/// The shape of a libpq connection URI; libpq parses it fully when the store connects.
bool looks_like_postgres_url(std::string_view text) {
  auto starts = [&](std::string_view scheme) {
    if (text.size() <= scheme.size())
      return false;
    for (size_t i = 0; i < scheme.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(text[i])) != scheme[i])
        return false;
    return true;
  };
  if (!starts("postgresql://") && !starts("postgres://"))
    return false;
  for (char c : text)
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
      return false;
  return true;
}

/// The shape of an AMQP URL; main parses it fully (messaging/amqp_url) before connecting.
/// "1000,5000,30000": positive milliseconds, comma separated, at most 10 (one delay queue each).
bool is_delay_list(std::string_view text) {
  size_t count = 0;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc{} || end != item.data() + item.size() || value == 0
        || value > 24ull * 3600 * 1000 || ++count > 10)
      return false;
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
    if (text.empty())
      return false;
  }
  return count > 0;
}

bool looks_like_amqp_url(std::string_view text) {
  constexpr std::string_view scheme = "amqp://";
  if (text.size() <= scheme.size())
    return false;
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != scheme[i])
      return false;
  for (char c : text)
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
      return false;
  return true;
}

/// "smtp://host:port" (the port may be left out: 25).
bool looks_like_smtp_url(std::string_view text) {
  constexpr std::string_view scheme = "smtp://";
  if (!text.starts_with(scheme) || text.size() == scheme.size())
    return false;
  return std::none_of(text.begin(), text.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c));
  });
}

/// "http://a/x,http://b/y": one or more http:// URLs, comma separated, no spaces.
bool is_url_list(std::string_view text) {
  while (true) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    if (!item.starts_with("http://") || item.size() <= 7
        || std::any_of(item.begin(), item.end(), [](char c) {
             return std::isspace(static_cast<unsigned char>(c))
                    || std::iscntrl(static_cast<unsigned char>(c));
           }))
      return false;
    if (comma == std::string_view::npos)
      return true;
    text.remove_prefix(comma + 1);
  }
}

/// Roughly an e-mail address: something@something, no spaces (the mail server has the last word).
bool looks_like_email(std::string_view text) {
  auto at = text.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < text.size()
         && std::none_of(text.begin(), text.end(), [](char c) {
              return std::isspace(static_cast<unsigned char>(c))
                     || std::iscntrl(static_cast<unsigned char>(c)) || c == '<' || c == '>';
            });
}

constexpr std::string_view network = "network";
constexpr std::string_view storage = "storage";
constexpr std::string_view actors = "actors";
constexpr std::string_view lifecycle = "order lifecycle";
constexpr std::string_view messaging = "messaging";
constexpr std::string_view notifications = "notifications";
constexpr std::string_view operations = "operations";

constexpr uint64_t max_threads = 1024;

// The one list of settings; flags, environment names, file keys, --help and the example file
// are all derived from it.
constexpr std::array options{
  // -- network
  option{.name = "host", .metavar = "ADDR", .section = network,
         .meaning = "address to listen on", .field = &settings::host, .non_empty = true},
  option{.name = "port", .metavar = "PORT", .section = network,
         .meaning = "TCP port to listen on; 0 picks a free port and logs it",
         .field = &settings::port},
  option{.name = "http-threads", .metavar = "N", .section = network,
         .meaning = "Beast I/O threads", .field = &settings::http_threads, .min = 1,
         .max = max_threads},
  option{.name = "caf-threads", .metavar = "N", .section = network,
         .meaning = "actor scheduler threads; 0 means one per core",
         .field = &settings::caf_threads, .max = max_threads},
  option{.name = "caf-scheduler", .metavar = "POLICY", .section = network,
         .meaning = "actor scheduler: sharing (idle threads sleep) or stealing (idle threads poll)",
         .field = &settings::caf_scheduler, .choices = "sharing|stealing"},
  option{.name = "max-body-bytes", .metavar = "BYTES", .section = network,
         .meaning = "largest accepted request body; larger ones get 413",
         .field = &settings::max_body_bytes, .min = 1, .max = uint64_t{1} << 30},
  option{.name = "max-connections", .metavar = "N", .section = network,
         .meaning = "open connections allowed; further ones are refused",
         .field = &settings::max_connections, .min = 1, .max = 1'000'000},
  option{.name = "request-timeout-ms", .metavar = "MS", .section = network,
         .meaning = "how long a request waits for an actor's reply before 503",
         .field = &settings::request_timeout_ms, .min = 1},
  option{.name = "idle-timeout-ms", .metavar = "MS", .section = network,
         .meaning = "close keep-alive connections idle this long",
         .field = &settings::idle_timeout_ms, .min = 1},
  option{.name = "header-timeout-ms", .metavar = "MS", .section = network,
         .meaning = "close a connection whose request line and headers take longer than this "
                    "from their first byte (slow clients); capped by --idle-timeout-ms",
         .field = &settings::header_timeout_ms, .min = 1},
  // -- storage
  option{.name = "data-dir", .metavar = "DIR", .section = storage,
         .meaning = "directory for the SQLite file and other local state",
         .field = &settings::data_dir, .non_empty = true},
  option{.name = "store", .metavar = "KIND", .section = storage,
         .meaning = "storage backend: sqlite (embedded), postgres (shared; needs --database-url) "
                    "or memory (loses everything on exit)",
         .field = &settings::store, .choices = "sqlite|postgres|memory"},
  option{.name = "database-url", .metavar = "URL", .section = storage,
         .meaning = "PostgreSQL for --store postgres, as a libpq connection URI "
                    "postgresql://user:pass@host:port/db?sslmode=...; every libpq parameter "
                    "passes through",
         .field = &settings::database_url, .check = looks_like_postgres_url,
         .accepts = "empty or a postgresql://user:pass@host:port/db URL", .secret = true},
  option{.name = "sqlite-synchronous", .metavar = "MODE", .section = storage,
         .meaning = "SQLite durability: FULL (fsync on every commit) or NORMAL",
         .field = &settings::sqlite_synchronous, .choices = "FULL|NORMAL"},
  option{.name = "writer-max-batch", .metavar = "N", .section = storage,
         .meaning = "most change sets committed in one transaction",
         .field = &settings::writer_max_batch, .min = 1, .max = 1'000'000},
  option{.name = "reader-threads", .metavar = "N", .section = storage,
         .meaning = "read-only store connections", .field = &settings::reader_threads,
         .min = 1, .max = max_threads},
  // -- actors
  option{.name = "order-idle-timeout-ms", .metavar = "MS", .section = actors,
         .meaning = "passivate an order actor idle this long",
         .field = &settings::order_idle_timeout_ms, .min = 1},
  option{.name = "stock-idle-timeout-ms", .metavar = "MS", .section = actors,
         .meaning = "passivate a stock actor idle this long",
         .field = &settings::stock_idle_timeout_ms, .min = 1},
  option{.name = "order-view-cache", .metavar = "N", .section = actors,
         .meaning = "passivated orders kept for reads by id (about 1 KB each; 0: none)",
         .field = &settings::order_view_cache},
  option{.name = "restart-budget", .metavar = "N", .section = actors,
         .meaning = "restarts of one child allowed per window; 0 never restarts",
         .field = &settings::restart_budget},
  option{.name = "restart-window-ms", .metavar = "MS", .section = actors,
         .meaning = "window in which the restart budget applies",
         .field = &settings::restart_window_ms, .min = 1},
  option{.name = "restart-backoff-ms", .metavar = "MS", .section = actors,
         .meaning = "delay before the first restart; doubles on each further one",
         .field = &settings::restart_backoff_ms},
  // -- order lifecycle
  option{.name = "grace-period", .metavar = "SECONDS", .section = lifecycle,
         .meaning = "time an order stays PENDING before PROCESSING (decimal, e.g. 0.5)",
         .field = &settings::grace_period, .max = 30 * 24 * 3600},
  option{.name = "processor-interval-ms", .metavar = "MS", .section = lifecycle,
         .meaning = "how often the processor looks for orders past their grace period",
         .field = &settings::processor_interval_ms, .min = 1},
  option{.name = "processor-batch", .metavar = "N", .section = lifecycle,
         .meaning = "most orders moved to PROCESSING per tick",
         .field = &settings::processor_batch, .min = 1, .max = 1'000'000},
  option{.name = "payments", .metavar = "MODE", .section = lifecycle,
         .meaning = "who pays PROCESSING orders: mock (the built-in payment service) or external "
                    "(payment.result commands over RabbitMQ)",
         .field = &settings::payments, .choices = "mock|external"},
  option{.name = "payment-success-rate", .metavar = "RATE", .section = lifecycle,
         .meaning = "share of mock charges that succeed, 0 to 1 (decimal)",
         .field = &settings::payment_success_rate, .max = 1},
  option{.name = "payment-latency-ms", .metavar = "MS", .section = lifecycle,
         .meaning = "how long a mock charge takes",
         .field = &settings::payment_latency_ms},
  option{.name = "payment-seed", .metavar = "N", .section = lifecycle,
         .meaning = "seed of the mock's random outcomes (the same seed gives the same sequence)",
         .field = &settings::payment_seed},
  option{.name = "payment-timeout-ms", .metavar = "MS", .section = lifecycle,
         .meaning = "a charge not answered this long counts as failed (order CANCELLED)",
         .field = &settings::payment_timeout_ms, .min = 1},
  option{.name = "idempotency-ttl-hours", .metavar = "HOURS", .section = lifecycle,
         .meaning = "keep Idempotency-Key records at least this long",
         .field = &settings::idempotency_ttl_hours, .min = 1},
  // -- messaging
  option{.name = "node-id", .metavar = "NAME", .section = messaging,
         .meaning = "this node's name, the source of its events; empty means the host name",
         .field = &settings::node_id},
  option{.name = "cluster-advertise", .metavar = "HOST:PORT", .section = messaging,
         .meaning = "join the cluster on the PostgreSQL store: register this node (its --node-id) "
                    "with the address other nodes reach its cluster port at, serve the shards "
                    "it is given and forward the rest to their owners; empty: a single node",
         .field = &settings::cluster_advertise},
  option{.name = "cluster-listen", .metavar = "HOST:PORT", .section = messaging,
         .meaning = "where the cluster port (actor messages between nodes) listens; empty: "
                    "0.0.0.0 and the port of --cluster-advertise",
         .field = &settings::cluster_listen},
  option{.name = "cluster-shards", .metavar = "N", .section = messaging,
         .meaning = "shards that keys map to, fixed by the first node that creates the cluster",
         .field = &settings::cluster_shards, .min = 1, .max = 4096},
  option{.name = "cluster-audit-writes", .section = messaging,
         .meaning = "record the shard, epoch and node of every fenced write in shard_writes "
                    "(drills: proves no two owners' writes interleaved; one row per shard "
                    "written, kept a day)",
         .field = &settings::cluster_audit_writes},
  option{.name = "amqp-url", .metavar = "URL", .section = messaging,
         .meaning = "RabbitMQ to publish events to, amqp://user:pass@host:port/vhost; empty "
                    "publishes on the in-process bus only",
         .field = &settings::amqp_url, .check = looks_like_amqp_url,
         .accepts = "empty or an amqp://user:pass@host:port/vhost URL", .secret = true},
  option{.name = "amqp-exchange", .metavar = "NAME", .section = messaging,
         .meaning = "durable topic exchange events are published to (routing key = event type)",
         .field = &settings::amqp_exchange, .non_empty = true},
  option{.name = "relay-batch", .metavar = "N", .section = messaging,
         .meaning = "most outbox events the relay publishes (and confirms) at once",
         .field = &settings::relay_batch, .min = 1, .max = 10000},
  option{.name = "relay-interval-ms", .metavar = "MS", .section = messaging,
         .meaning = "how often the relay looks for unpublished events without being nudged",
         .field = &settings::relay_interval_ms, .min = 1},
  option{.name = "breaker-failures", .metavar = "N", .section = messaging,
         .meaning = "consecutive failed publishes that open the relay's circuit breaker",
         .field = &settings::breaker_failures, .min = 1, .max = 1000},
  option{.name = "breaker-cooldown-ms", .metavar = "MS", .section = messaging,
         .meaning = "how long the open breaker waits before a trial publish",
         .field = &settings::breaker_cooldown_ms, .min = 1},
  option{.name = "outbox-retention-hours", .metavar = "HOURS", .section = messaging,
         .meaning = "keep published events in the outbox at least this long",
         .field = &settings::outbox_retention_hours, .min = 1, .max = 24 * 365},
  option{.name = "commands-exchange", .metavar = "NAME", .section = messaging,
         .meaning = "durable topic exchange other services send commands to (inventory.adjust, "
                    "order.place, order.cancel, payment.result)",
         .field = &settings::commands_exchange, .non_empty = true},
  option{.name = "commands-queue", .metavar = "NAME", .section = messaging,
         .meaning = "quorum queue orderd consumes commands from (with NAME.dlq, NAME.retry.*)",
         .field = &settings::commands_queue, .non_empty = true},
  option{.name = "amqp-prefetch", .metavar = "N", .section = messaging,
         .meaning = "most commands in flight (unacknowledged) per node",
         .field = &settings::amqp_prefetch, .min = 1, .max = 65535},
  option{.name = "inbound-max-attempts", .metavar = "N", .section = messaging,
         .meaning = "attempts at a failing command before it is dead-lettered",
         .field = &settings::inbound_max_attempts, .min = 1, .max = 100},
  option{.name = "inbound-retry-delays-ms", .metavar = "MS,MS,...", .section = messaging,
         .meaning = "delays before the 1st, 2nd, ... retry of a failing command (the last repeats)",
         .field = &settings::inbound_retry_delays_ms, .non_empty = true, .check = is_delay_list,
         .accepts = "1 to 10 positive millisecond values, comma separated"},
  option{.name = "inbound-dedup-hours", .metavar = "HOURS", .section = messaging,
         .meaning = "remember processed command ids at least this long (redeliveries are ignored)",
         .field = &settings::inbound_dedup_hours, .min = 1, .max = 24 * 365},
  // -- notifications
  option{.name = "notifications", .section = notifications,
         .meaning = "run the notification channels (email, webhook, push); false turns them off",
         .field = &settings::notifications},
  option{.name = "smtp-url", .metavar = "URL", .section = notifications,
         .meaning = "SMTP server for e-mail, smtp://host:port; empty writes each e-mail to "
                    "<data-dir>/mail/new instead",
         .field = &settings::smtp_url, .check = looks_like_smtp_url,
         .accepts = "empty or smtp://host:port"},
  option{.name = "mail-from", .metavar = "ADDR", .section = notifications,
         .meaning = "sender address of every e-mail", .field = &settings::mail_from,
         .non_empty = true, .check = looks_like_email, .accepts = "an e-mail address"},
  option{.name = "stock-manager-email", .metavar = "ADDR", .section = notifications,
         .meaning = "who gets an e-mail for every inventory.low event; empty sends none",
         .field = &settings::stock_manager_email, .check = looks_like_email,
         .accepts = "empty or an e-mail address"},
  option{.name = "webhook-url", .metavar = "URL,URL,...", .section = notifications,
         .meaning = "http:// URLs every notified event is POSTed to (comma separated); empty "
                    "sends no webhooks",
         .field = &settings::webhook_urls, .check = is_url_list,
         .accepts = "empty or http:// URLs, comma separated"},
  option{.name = "webhook-allow", .metavar = "HOSTS", .section = notifications,
         .meaning = "hosts (host or host:port, comma separated) webhooks may be sent to; empty: "
                    "any host but loopback, link-local and private addresses",
         .field = &settings::webhook_allow},
  option{.name = "webhook-secret", .metavar = "SECRET", .section = notifications,
         .meaning = "key of the X-Orderd-Signature HMAC-SHA256 header of webhooks; empty signs "
                    "nothing",
         .field = &settings::webhook_secret, .secret = true},
  option{.name = "webhook-timeout-ms", .metavar = "MS", .section = notifications,
         .meaning = "time one webhook or SMTP delivery attempt may take",
         .field = &settings::webhook_timeout_ms, .min = 1, .max = 600000},
  option{.name = "notify-max-attempts", .metavar = "N", .section = notifications,
         .meaning = "delivery attempts before a notification is FAILED (dead-lettered)",
         .field = &settings::notify_max_attempts, .min = 1, .max = 100},
  option{.name = "notify-backoff-ms", .metavar = "MS", .section = notifications,
         .meaning = "delay before the first retry of a notification; doubles, jittered",
         .field = &settings::notify_backoff_ms, .min = 1, .max = 3600000},
  option{.name = "notify-breaker-failures", .metavar = "N", .section = notifications,
         .meaning = "consecutive failed deliveries that open a channel's circuit breaker",
         .field = &settings::notify_breaker_failures, .min = 1, .max = 1000},
  option{.name = "notify-breaker-cooldown-ms", .metavar = "MS", .section = notifications,
         .meaning = "how long an open channel waits before a trial delivery",
         .field = &settings::notify_breaker_cooldown_ms, .min = 1},
  // -- operations
  option{.name = "log-level", .metavar = "LEVEL", .section = operations,
         .meaning = "trace, debug, info, warn, error or off", .field = &settings::log_level,
         .choices = "trace|debug|info|warn|error|off"},
  option{.name = "log-format", .metavar = "FORMAT", .section = operations,
         .meaning = "text or json (one object per line)", .field = &settings::log_format,
         .choices = "text|json"},
  option{.name = "demo-catalogue", .section = operations,
         .meaning = "load demo products when the catalogue is empty",
         .field = &settings::demo_catalogue},
  option{.name = "admin-token", .metavar = "TOKEN", .section = operations,
         .meaning = "bearer token the admin endpoints (/api/v1/admin/*) require; empty disables "
                    "them",
         .field = &settings::admin_token, .secret = true},
  option{.name = "enable-fault-injection", .section = operations,
         .meaning = "enable POST /api/v1/admin/faults (crash-recovery drills; keep it off in production)",
         .field = &settings::enable_fault_injection},
  option{.name = "config", .metavar = "FILE", .section = operations,
         .meaning = "read settings from this file (key = value lines)",
         .field = &settings::config_file, .file_key = false},
};

const option* find_option(std::string_view name) {
  for (auto& opt : options)
    if (opt.name == name)
      return &opt;
  return nullptr;
}

std::string env_name(const option& opt) {
  std::string result = "ORDERD_";
  for (char c : opt.name)
    result += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

const option* find_env_option(std::string_view var) {
  for (auto& opt : options)
    if (env_name(opt) == var)
      return &opt;
  return nullptr;
}

// -- text helpers ----------------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i]))
        != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

/// Calls `f` with each '|'-separated choice.
template <class F>
void for_each_choice(std::string_view choices, F f) {
  while (!choices.empty()) {
    auto bar = choices.find('|');
    f(choices.substr(0, bar));
    if (bar == std::string_view::npos)
      break;
    choices.remove_prefix(bar + 1);
  }
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// The closest known name, if it is close enough to be a plausible typo.
std::optional<std::string_view> suggest(std::string_view name, bool file_keys_only) {
  std::optional<std::string_view> best;
  size_t best_distance = 3; // suggest only within two edits
  for (auto& opt : options) {
    if (file_keys_only && !opt.file_key)
      continue;
    auto d = edit_distance(name, opt.name);
    if (d < best_distance) {
      best = opt.name;
      best_distance = d;
    }
  }
  return best;
}

// -- values ----------------------------------------------------------------------------------

template <class T>
uint64_t upper_bound(const option& opt) {
  return opt.max != 0 ? opt.max : static_cast<uint64_t>(std::numeric_limits<T>::max());
}

std::string format_number(double x) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return ec == std::errc{} ? std::string(buf, end) : std::to_string(x);
}

/// What `opt` accepts, for error messages.
std::string expectation(const option& opt) {
  return std::visit(
    [&](auto ptr) -> std::string {
      using T = std::remove_cvref_t<decltype(std::declval<settings>().*ptr)>;
      if constexpr (std::is_same_v<T, bool>) {
        return "true or false (also 1/0, yes/no, on/off)";
      } else if constexpr (std::is_same_v<T, double>) {
        return "a number of seconds " + std::to_string(opt.min) + "-"
               + std::to_string(upper_bound<uint32_t>(opt)) + " (decimals allowed, e.g. 0.5)";
      } else if constexpr (std::is_same_v<T, std::string>) {
        if (!opt.choices.empty()) {
          std::string result = "one of";
          for_each_choice(opt.choices, [&](std::string_view c) {
            result += result.size() == 6 ? " " : ", ";
            result += c;
          });
          return result;
        }
        if (!opt.accepts.empty())
          return std::string{opt.accepts};
        return "a non-empty value";
      } else {
        return "an integer " + std::to_string(opt.min) + "-" + std::to_string(upper_bound<T>(opt));
      }
    },
    opt.field);
}

std::optional<bool> parse_bool(std::string_view text) {
  for (auto yes : {"true", "1", "yes", "on"})
    if (iequals(text, yes))
      return true;
  for (auto no : {"false", "0", "no", "off"})
    if (iequals(text, no))
      return false;
  return std::nullopt;
}

/// Converts `raw` and stores it into `s`. Returns false if `raw` is not acceptable.
bool assign(settings& s, const option& opt, std::string_view raw) {
  return std::visit(
    [&](auto ptr) -> bool {
      auto& out = s.*ptr;
      using T = std::remove_cvref_t<decltype(out)>;
      if constexpr (std::is_same_v<T, bool>) {
        auto b = parse_bool(raw);
        if (!b)
          return false;
        out = *b;
        return true;
      } else if constexpr (std::is_same_v<T, double>) {
        double x = 0;
        auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), x);
        if (raw.empty() || ec != std::errc{} || end != raw.data() + raw.size()
            || !std::isfinite(x) || x < static_cast<double>(opt.min)
            || x > static_cast<double>(upper_bound<uint32_t>(opt)))
          return false;
        out = x;
        return true;
      } else if constexpr (std::is_same_v<T, std::string>) {
        if (!opt.choices.empty()) {
          bool found = false;
          for_each_choice(opt.choices, [&](std::string_view c) {
            if (!found && iequals(c, raw)) {
              out = std::string{c}; // canonical spelling
              found = true;
            }
          });
          return found;
        }
        if (opt.non_empty && raw.empty())
          return false;
        if (opt.check != nullptr && !raw.empty() && !opt.check(raw))
          return false;
        out = std::string{raw};
        return true;
      } else {
        uint64_t x = 0;
        auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), x);
        if (raw.empty() || ec != std::errc{} || end != raw.data() + raw.size() || x < opt.min
            || x > upper_bound<T>(opt))
          return false;
        out = static_cast<T>(x);
        return true;
      }
    },
    opt.field);
}

/// The default of `opt` as it would be written on the command line.
std::string default_text(const option& opt) {
  static const settings defaults;
  return std::visit(
    [&](auto ptr) -> std::string {
      auto& value = defaults.*ptr;
      using T = std::remove_cvref_t<decltype(value)>;
      if constexpr (std::is_same_v<T, bool>)
        return value ? "true" : "false";
      else if constexpr (std::is_same_v<T, double>)
        return format_number(value);
      else if constexpr (std::is_same_v<T, std::string>)
        return value;
      else
        return std::to_string(value);
    },
    opt.field);
}

bool is_bool(const option& opt) {
  return std::holds_alternative<bool settings::*>(opt.field);
}

// -- sources ---------------------------------------------------------------------------------

enum class rank : uint8_t { none, file, env, flag };

/// One raw value together with where it came from (for error messages).
struct entry {
  const option* opt;
  std::string value;
  rank from;
  std::string origin; // "command line", "environment ORDERD_PORT", "config file F line 3"
};

parse_result failure(std::string message) {
  parse_result result;
  result.what = parse_result::kind::error;
  result.message = std::move(message);
  return result;
}

std::string quoted(std::string_view s) {
  std::string result = "\"";
  result += s;
  result += '"';
  return result;
}

/// Reads `key = value` lines from `path` into `out`. Returns an error message or nothing.
std::optional<std::string> read_file(const std::string& path, std::vector<entry>& out) {
  std::ifstream in{path};
  if (!in)
    return "cannot read config file " + quoted(path) + ": " + std::strerror(errno);
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto where = "config file " + path + " line " + std::to_string(number);
    auto text = trim(line);
    if (text.empty() || text.front() == '#')
      continue;
    auto eq = text.find('=');
    if (eq == std::string_view::npos)
      return where + ": expected \"key = value\", got " + quoted(text);
    auto key = trim(text.substr(0, eq));
    auto value = trim(text.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    auto opt = find_option(key);
    if (opt != nullptr && !opt->file_key)
      return "key " + quoted(key) + " is not allowed in a config file (" + where
             + "); use --" + std::string{key} + " or " + env_name(*opt);
    if (opt == nullptr) {
      auto msg = "unknown key " + quoted(key) + " in " + where;
      if (auto alt = suggest(key, true))
        msg += " (did you mean " + quoted(*alt) + "?)";
      return msg;
    }
    out.push_back({opt, std::string{value}, rank::file, where});
  }
  if (in.bad())
    return "cannot read config file " + quoted(path) + ": " + std::strerror(errno);
  return std::nullopt;
}

} // namespace

parse_result parse(int argc, const char* const* argv, const char* const* environ) {
  std::vector<entry> entries;
  // The first error is kept, but scanning goes on so that --help/--version still win.
  std::optional<std::string> first_error;
  auto fail = [&](std::string msg) {
    if (!first_error)
      first_error = std::move(msg);
  };

  // -- flags
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      parse_result result;
      result.what = parse_result::kind::help;
      result.message = help_text();
      return result;
    }
    if (arg == "--version") {
      parse_result result;
      result.what = parse_result::kind::version;
      result.message = "orderd " ORDERD_VERSION "\n";
      return result;
    }
    if (arg.size() <= 2 || !arg.starts_with("--")) {
      fail("unexpected argument " + quoted(arg) + " (options look like --name value; see --help)");
      continue;
    }
    auto body = arg.substr(2);
    auto eq = body.find('=');
    auto name = body.substr(0, eq);
    auto opt = find_option(name);
    if (opt == nullptr) {
      auto msg = "unknown flag --" + std::string{name};
      if (auto alt = suggest(name, false))
        msg += " (did you mean --" + std::string{*alt} + "?)";
      fail(msg + "; see --help");
      continue;
    }
    std::string value;
    if (eq != std::string_view::npos) {
      value = body.substr(eq + 1);
    } else if (is_bool(*opt)) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      fail("missing value for --" + std::string{name} + " (from command line): expected "
           + expectation(*opt));
      continue;
    }
    entries.push_back({opt, std::move(value), rank::flag, "command line"});
  }
  if (first_error)
    return failure(std::move(*first_error));

  // -- environment: unknown ORDERD_* variables belong to other tools and are ignored
  for (auto env = environ; env != nullptr && *env != nullptr; ++env) {
    std::string_view var = *env;
    auto eq = var.find('=');
    if (eq == std::string_view::npos || !var.starts_with("ORDERD_"))
      continue;
    auto name = var.substr(0, eq);
    if (auto opt = find_env_option(name))
      entries.push_back({opt, std::string{var.substr(eq + 1)}, rank::env,
                         "environment " + std::string{name}});
  }

  // -- config file: named by the highest-precedence --config / ORDERD_CONFIG
  const option* config_opt = find_option("config");
  const entry* config_entry = nullptr;
  for (auto& e : entries)
    if (e.opt == config_opt && (config_entry == nullptr || e.from >= config_entry->from))
      config_entry = &e;
  if (config_entry != nullptr && !config_entry->value.empty()) {
    auto path = config_entry->value; // copy: read_file appends to entries
    if (auto err = read_file(path, entries))
      return failure(std::move(*err));
  }

  // -- apply: every value is validated; a value only lands if no higher-precedence source
  // set the same key (within one source, the later value wins).
  parse_result result;
  settings scratch;
  std::array<rank, options.size()> set_by{};
  for (auto& e : entries) {
    auto index = static_cast<size_t>(e.opt - options.data());
    auto& target = set_by[index] > e.from ? scratch : result.values;
    if (!assign(target, *e.opt, e.value)) {
      auto key = e.from == rank::file ? std::string{e.opt->name} : "--" + std::string{e.opt->name};
      auto shown = e.opt->secret ? std::string{"(not shown)"} : quoted(e.value);
      return failure("invalid value " + shown + " for " + key + " (from " + e.origin
                     + "): expected " + expectation(*e.opt));
    }
    if (set_by[index] <= e.from)
      set_by[index] = e.from;
  }
  // Settings that only make sense together.
  auto& v = result.values;
  if (v.store == "postgres" && v.database_url.empty())
    return failure("--store postgres needs --database-url (or ORDERD_DATABASE_URL), e.g. "
                   "postgresql://orderd:PASSWORD@db.example:5432/orderd?sslmode=verify-full");
  if (v.enable_fault_injection && v.admin_token.empty())
    return failure("--enable-fault-injection needs --admin-token (or ORDERD_ADMIN_TOKEN): the "
                   "fault hook crashes actors on request, so only the admin may call it");
  if (!v.cluster_advertise.empty() && v.store != "postgres")
    return failure("--cluster-advertise needs --store postgres: the nodes of a cluster share "
                   "its database");
  if (v.cluster_audit_writes && v.cluster_advertise.empty())
    return failure("--cluster-audit-writes needs --cluster-advertise: only the writes of a "
                   "cluster's nodes are fenced");
  auto has_port = [](const std::string& hp) {
    auto colon = hp.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == hp.size())
      return false;
    auto port = hp.substr(colon + 1);
    return port.size() <= 5 && std::all_of(port.begin(), port.end(), ::isdigit)
           && std::stoul(port) >= 1 && std::stoul(port) <= 65535;
  };
  if (!v.cluster_advertise.empty() && !has_port(v.cluster_advertise))
    return failure("--cluster-advertise must be HOST:PORT with a port from 1 to 65535, e.g. "
                   "orderd-0.orderd:7000");
  if (!v.cluster_listen.empty() && !has_port(v.cluster_listen))
    return failure("--cluster-listen must be HOST:PORT with a port from 1 to 65535, e.g. "
                   "0.0.0.0:7000");
  if (!v.cluster_listen.empty() && v.cluster_advertise.empty())
    return failure("--cluster-listen needs --cluster-advertise (a node that is not in a cluster "
                   "listens for no other node)");
  if (v.store != "postgres" && !v.database_url.empty())
    return failure("--database-url is set but --store is " + v.store
                   + ": add --store postgres (or ORDERD_STORE=postgres), or drop the URL");
  return result;
}

std::string help_text() {
  constexpr size_t column = 34;
  std::string out;
  out += "Usage: orderd [OPTIONS]\n"
         "\n"
         "orderd is an actor-based order-processing server.\n"
         "\n"
         "Every option can also be set with the environment variable shown below it, or as a\n"
         "\"key = value\" line in a config file (--config FILE or ORDERD_CONFIG), the key spelled\n"
         "like the flag without the dashes. Precedence: flag > environment > file > default.\n"
         "Values go as --name VALUE or --name=VALUE. Booleans: a bare --flag means true, or\n"
         "--flag=false; true/false, 1/0, yes/no and on/off are accepted everywhere.\n"
         "\n"
         "  -h, --help                      print this help and exit\n"
         "      --version                   print the version and exit\n";
  std::string_view section;
  for (auto& opt : options) {
    if (opt.section != section) {
      section = opt.section;
      out += '\n';
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(section.front())));
      out += section.substr(1);
      out += ":\n";
    }
    std::string flag = "  --" + std::string{opt.name};
    if (!opt.metavar.empty())
      flag += " " + std::string{opt.metavar};
    out += flag;
    out.append(flag.size() < column ? column - flag.size() : 1, ' ');
    out += opt.meaning;
    out += '\n';
    out.append(column, ' ');
    out += env_name(opt);
    auto def = default_text(opt);
    out += "; default: ";
    out += def.empty() ? "(none)" : def;
    if (!opt.file_key)
      out += "; not a file key";
    out += '\n';
  }
  return out;
}

std::string example_config_file() {
  std::string out;
  out += "# orderd example configuration: every key at its default value.\n"
         "#\n"
         "# Generated from the settings table in config/settings.cpp (example_config_file());\n"
         "# a unit test keeps this file identical to it.\n"
         "#\n"
         "# Syntax: one \"key = value\" per line; lines starting with # are comments (no comments\n"
         "# after a value). Keys are the command-line flags without the leading dashes. Each key\n"
         "# can also be set by flag (--key value) or environment variable (ORDERD_KEY);\n"
         "# precedence: flag > environment > file > default.\n"
         "# Use with: orderd --config /etc/orderd/orderd.conf (or ORDERD_CONFIG=...).\n";
  std::string_view section;
  for (auto& opt : options) {
    if (!opt.file_key)
      continue;
    if (opt.section != section) {
      section = opt.section;
      out += "\n# -- ";
      out += section;
      out += "\n";
    }
    out += "\n# ";
    out += opt.meaning;
    out += "\n# --";
    out += opt.name;
    out += ", ";
    out += env_name(opt);
    out += '\n';
    out += opt.name;
    auto def = default_text(opt);
    out += def.empty() ? " =" : " = " + def; // no trailing blank for an empty default
    out += '\n';
  }
  return out;
}

} // namespace orderd::config
