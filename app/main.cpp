// orderd: wiring only. settings -> logging -> store -> actor system -> supervision tree ->
// HTTP server -> wait for a signal (or the tree giving up) -> graceful shutdown.

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <future>
#include <iostream>
#include <optional>
#include <pthread.h>
#include <sys/resource.h>
#include <algorithm>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/cluster_gateway.hpp"
#include "actors/notifier.hpp"
#include "actors/root_supervisor.hpp"
#include "app/cluster_membership.hpp"
#include "app/cluster_peers.hpp"
#include "app/demo_catalogue.hpp"
#include "app/logging.hpp"
#include "config/settings.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "messaging/amqp_consumer.hpp"
#include "messaging/amqp_publisher.hpp"
#include "messaging/inbound.hpp"
#include "messaging/amqp_url.hpp"
#include "notify/delivery.hpp"
#include "notify/webhook_policy.hpp"
#include "observability/catalogue.hpp"
#include "persistence/memory/memory_store.hpp"
#include "persistence/postgres/postgres_store.hpp"
#include "persistence/sqlite/sqlite_store.hpp"

extern char** environ;

namespace {

using namespace orderd;
using namespace std::chrono;

std::shared_ptr<persistence::store_factory> make_store(const config::settings& s) {
  if (s.store == "memory")
    return std::make_shared<persistence::memory_store_factory>();
  if (s.store == "postgres") {
    persistence::postgres_options opts;
    opts.conninfo = s.database_url;
    opts.audit_fenced_writes = s.cluster_audit_writes;
    auto factory = std::make_shared<persistence::postgres_store_factory>(opts);
    spdlog::info("store: PostgreSQL at {}", factory->label());
    return factory;
  }
  std::filesystem::create_directories(s.data_dir);
  persistence::sqlite_options opts;
  opts.synchronous = s.sqlite_synchronous;
  auto path = (std::filesystem::path{s.data_dir} / "orderd.db").string();
  return std::make_shared<persistence::sqlite_store_factory>(path, opts);
}

void load_demo_catalogue(persistence::store_factory& factory) {
  auto db = factory.open();
  if (db->count_products() > 0) {
    spdlog::info("demo catalogue: store has products already, leaving them alone");
    return;
  }
  persistence::change_set cs;
  for (auto& p : app::demo_catalogue(system_now_ms()))
    cs.ops.emplace_back(persistence::insert_product{p});
  auto n = cs.ops.size();
  auto results = db->apply({std::move(cs)});
  if (!results.front().ok())
    throw std::runtime_error("demo catalogue: " + results.front().detail);
  spdlog::info("demo catalogue: loaded {} products", n);
}

runtime_options runtime_options_from(const config::settings& s) {
  runtime_options o;
  o.request_timeout = milliseconds{s.request_timeout_ms};
  o.order_idle_timeout = milliseconds{s.order_idle_timeout_ms};
  o.order_view_cache = s.order_view_cache;
  // Carts are as short-lived as orders in memory: the same idle timeout passivates both.
  o.cart_idle_timeout = milliseconds{s.order_idle_timeout_ms};
  o.stock_idle_timeout = milliseconds{s.stock_idle_timeout_ms};
  o.writer_max_batch = s.writer_max_batch;
  o.restarts.max_restarts = s.restart_budget;
  o.restarts.window = milliseconds{s.restart_window_ms};
  o.restarts.first_backoff = milliseconds{s.restart_backoff_ms};
  o.grace_period = milliseconds{static_cast<int64_t>(s.grace_period * 1000.0)};
  o.processor_interval = milliseconds{s.processor_interval_ms};
  o.processor_batch = s.processor_batch;
  o.external_payments = s.payments == "external"; // the settings spell choices canonically
  o.payment_success_rate = s.payment_success_rate;
  o.payment_latency = milliseconds{s.payment_latency_ms};
  o.payment_seed = s.payment_seed;
  o.payment_timeout = milliseconds{s.payment_timeout_ms};
  o.idempotency_ttl = hours{s.idempotency_ttl_hours};
  o.reader_count = s.reader_threads;
  o.bridge_count = std::max<size_t>(1, s.http_threads);
  o.detach_blocking_actors = true;
  o.node_id = s.node_id;
  o.relay_batch = s.relay_batch;
  o.relay_interval = milliseconds{s.relay_interval_ms};
  o.breaker_failures = s.breaker_failures;
  o.breaker_cooldown = milliseconds{s.breaker_cooldown_ms};
  o.outbox_retention = hours{s.outbox_retention_hours};
  o.inbound_dedup = hours{s.inbound_dedup_hours};
  o.notify.enabled = s.notifications;
  o.notify.max_attempts = s.notify_max_attempts;
  o.notify.backoff_base = milliseconds{s.notify_backoff_ms};
  o.notify.backoff_cap = std::max(milliseconds{60000}, milliseconds{s.notify_backoff_ms});
  o.notify.breaker_failures = s.notify_breaker_failures;
  o.notify.breaker_cooldown = milliseconds{s.notify_breaker_cooldown_ms};
  o.notify.stock_manager_email = s.stock_manager_email;
  for (size_t pos = 0; pos < s.webhook_urls.size();) {
    auto comma = s.webhook_urls.find(',', pos);
    if (comma == std::string::npos)
      comma = s.webhook_urls.size();
    if (comma > pos)
      o.notify.webhook_urls.push_back(s.webhook_urls.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return o;
}

/// The connection limit that fits the open-files limit: the soft limit is raised to the hard
/// one first, and `reserved` descriptors stay for what orderd opens besides connections (store
/// files and sessions, the broker, mail files, epoll and timers). Past this limit a client gets
/// 503 at once; past the file table, accept() would fail and it would hang in the backlog.
size_t connection_limit_for_open_files(size_t configured) {
  constexpr rlim_t reserved = 128;
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0)
    return configured;
  if (files.rlim_cur < files.rlim_max) {
    auto raised = files;
    raised.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
      files = raised;
  }
  size_t limit = configured;
  if (files.rlim_cur != RLIM_INFINITY) {
    auto fit = files.rlim_cur > reserved ? static_cast<size_t>(files.rlim_cur - reserved) : 1;
    if (limit == 0 || fit < limit)
      limit = fit;
  }
  spdlog::info("open files: limit {} (hard {}); connection limit {}{}",
               files.rlim_cur == RLIM_INFINITY ? std::string{"unlimited"}
                                               : std::to_string(files.rlim_cur),
               files.rlim_max == RLIM_INFINITY ? std::string{"unlimited"}
                                               : std::to_string(files.rlim_max),
               limit, limit < configured || configured == 0
                        ? fmt::format(" (lowered from --max-connections {})", configured)
                        : std::string{});
  return limit;
}

/// --node-id, or the host name.
std::string node_id_of(const config::settings& s) {
  if (!s.node_id.empty())
    return s.node_id;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0 && name[0] != '\0')
    return name;
  return "orderd";
}

/// Publishing through RabbitMQ when --amqp-url is set: a detached actor (rabbitmq-c blocks)
/// under the root supervisor. Without it the root makes the in-process bus the publisher.
void wire_publisher(services& svc, const config::settings& s, const messaging::amqp_url& url) {
  messaging::amqp_publisher_options opts;
  opts.connection = messaging::connection_options::from_url(url);
  opts.connection.connection_name = "orderd " + svc.options.node_id;
  opts.exchange = s.amqp_exchange;
  // A confirm outstanding this long is a failure; the relay's own deadline is longer.
  opts.confirm_timeout = std::min(milliseconds{30000}, svc.options.publish_timeout / 2);
  svc.publisher_name = "rabbitmq";
  svc.spawn_publisher = [opts](caf::event_based_actor* parent) {
    return parent->spawn<caf::detached + caf::linked>(messaging::amqp_publisher_impl, opts);
  };
}

/// Consuming commands from RabbitMQ when --amqp-url is set: a detached actor of its own (its own
/// connection: rabbitmq-c connections are not shared between threads).
void wire_consumer(services& svc, const config::settings& s, const messaging::amqp_url& url) {
  messaging::amqp_consumer_options opts;
  opts.connection = messaging::connection_options::from_url(url);
  opts.connection.connection_name = "orderd " + svc.options.node_id + " commands";
  opts.exchange = s.commands_exchange;
  opts.queue = s.commands_queue;
  opts.prefetch = static_cast<uint16_t>(s.amqp_prefetch);
  opts.max_attempts = s.inbound_max_attempts;
  opts.retry_delays = messaging::parse_delays(s.inbound_retry_delays_ms);
  opts.command_timeout = svc.options.request_timeout * 2;
  svc.spawn_consumer = [opts](caf::event_based_actor* parent, services_ptr svc) {
    return parent->spawn<caf::detached + caf::linked>(messaging::amqp_consumer_impl,
                                                      std::move(svc), opts);
  };
}

/// The notification transports: e-mail over SMTP (--smtp-url) or into <data-dir>/mail, webhooks
/// over HTTP. Both block (with their own timeouts), so each gets a detached actor: a slow SMTP
/// server or webhook never holds a scheduler thread. Push has no provider: record only.
void wire_notifications(services& svc, const config::settings& s,
                        std::shared_ptr<const notify::webhook_policy> policy) {
  auto timeout = milliseconds{s.webhook_timeout_ms};
  auto from = s.mail_from;
  delivery_function send_mail;
  batch_delivery_function send_mails; // the maildir's: one sync per group
  if (auto smtp = notify::parse_smtp_url(s.smtp_url)) {
    send_mail = [server = *smtp, from, timeout](const notification& n) {
      return notify::send_smtp(server, from, n, timeout);
    };
    spdlog::info("notifications: e-mail through SMTP {}:{}", smtp->host, smtp->port);
  } else {
    auto dir = (std::filesystem::path{s.data_dir} / "mail").string();
    send_mail = [dir, from](const notification& n) { return notify::write_maildir(dir, from, n); };
    send_mails = [dir, from](const std::vector<notification>& group) {
      return notify::write_maildir_batch(dir, from, group);
    };
    spdlog::info("notifications: e-mail into {}/new (no --smtp-url)", dir);
  }
  delivery_function post = [secret = s.webhook_secret, timeout, policy](const notification& n) {
    return notify::post_webhook(n, secret, *policy, timeout);
  };
  // The maildir takes up to 64 mails per call and syncs them once; SMTP and webhooks go one at
  // a time (each attempt has its own timeout, and the breaker counts each failure).
  svc.transport_batch = [maildir = static_cast<bool>(send_mails)](notification_channel channel) {
    return channel == notification_channel::email && maildir ? size_t{64} : size_t{1};
  };
  svc.spawn_transport = [send_mail, send_mails, post](caf::event_based_actor* parent,
                                                      notification_channel channel) -> caf::actor {
    switch (channel) {
      case notification_channel::email:
        return parent->spawn<caf::detached + caf::linked>(batch_transport_impl, send_mail,
                                                          send_mails);
      case notification_channel::webhook:
        return parent->spawn<caf::detached + caf::linked>(transport_impl, post);
      case notification_channel::push:
        break;
    }
    return caf::actor{};
  };
}

int run(const config::settings& s, const std::optional<messaging::amqp_url>& amqp) {
  // Every metric family shows on /metrics from the start, even before its first event.
  observability::catalogue::register_all();
  auto store = make_store(s);
  store->open(); // applies migrations now, so a broken database fails before we listen
  if (s.demo_catalogue)
    load_demo_catalogue(*store);

  caf::actor_system_config cfg;
  // One scheduler thread per core, as documented. CAF's own default is max(4, cores): on two
  // cores the two extra workers only added futex wake-ups (bench: +20% orders/s without them).
  // The blocking actors (store, AMQP, notification transports) have threads of their own.
  size_t scheduler_threads = s.caf_threads;
  if (scheduler_threads == 0)
    scheduler_threads = std::max(1u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", scheduler_threads);
  cfg.set("scheduler.policy", caf::atom_from_string(s.caf_scheduler));
  bool clustered = !s.cluster_advertise.empty();
  if (clustered) {
    // Nodes send each other keyed messages through CAF's middleman (serialized payloads).
    cfg.load<caf::io::middleman>();
    add_cluster_message_types(cfg);
  }
  caf::actor_system sys{cfg};

  auto options = runtime_options_from(s);
  options.node_id = node_id_of(s);
  auto svc = std::make_shared<services>(options, store, system_now_ms);
  if (amqp) {
    wire_publisher(*svc, s, *amqp);
    wire_consumer(*svc, s, *amqp);
    spdlog::info("events: node {} publishes to {} (exchange {}) through the outbox",
                 options.node_id, messaging::to_string(*amqp), s.amqp_exchange);
  } else {
    spdlog::info("events: node {} publishes on the in-process bus (no --amqp-url)",
                 options.node_id);
  }
  auto webhooks = std::make_shared<const notify::webhook_policy>(s.webhook_allow);
  wire_notifications(*svc, s, webhooks);
  // A member of a cluster (on the PostgreSQL store) joins before its actors start: they route
  // every key by the shard table the membership keeps.
  std::unique_ptr<app::cluster_membership> membership;
  if (clustered) {
    membership = std::make_unique<app::cluster_membership>(
      s.database_url, options.node_id, s.cluster_advertise, static_cast<int32_t>(s.cluster_shards));
    if (s.cluster_audit_writes)
      membership->prune_audited_writes(std::chrono::hours{24});
    membership->start();
    svc->cluster = std::make_shared<cluster_link>(membership->shards());
  }
  auto root = sys.spawn(root_supervisor_impl, svc);
  svc->root.set(root);
  std::unique_ptr<app::cluster_peers> peers;
  caf::actor gateway; // not in the supervision tree: stopped by hand at shutdown
  if (clustered) {
    auto listen = s.cluster_listen;
    if (listen.empty())
      listen = "0.0.0.0" + s.cluster_advertise.substr(s.cluster_advertise.rfind(':'));
    auto colon = listen.rfind(':');
    auto host = listen.substr(0, colon);
    auto port = static_cast<uint16_t>(std::stoul(listen.substr(colon + 1)));
    gateway = sys.spawn(cluster_gateway_impl, svc);
    auto published = sys.middleman().publish(gateway, port, host.c_str(), true);
    if (!published) {
      spdlog::critical("cannot listen for cluster nodes on {}: {}", listen,
                       sys.render(published.error()));
      membership->stop();
      caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(gateway, caf::exit_reason::user_shutdown);
      return 2;
    }
    spdlog::info("cluster: node {} listens for the other nodes on {}", options.node_id, listen);
    peers = std::make_unique<app::cluster_peers>(sys, svc->cluster, options.node_id);
    membership->on_members([p = peers.get()](const auto& live) {
      std::vector<app::peer_address> addresses;
      for (auto& [node, advertise, incarnation] : live)
        addresses.push_back({node, advertise, incarnation});
      p->update(std::move(addresses));
    });
  }

  // Either a signal or the supervision tree giving up ends the run.
  auto stop = std::make_shared<std::promise<int>>();
  auto stopped = stop->get_future();
  auto once = std::make_shared<std::once_flag>();
  auto finish = [stop, once](int code) { std::call_once(*once, [&] { stop->set_value(code); }); };
  root->attach_functor([finish](const caf::error& reason) {
    if (reason && reason != caf::exit_reason::user_shutdown) {
      spdlog::critical("supervision tree failed ({}); exiting", caf::to_string(reason));
      finish(1);
    }
  });
  std::thread{[finish] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    finish(0);
  }}.detach();

  http::api_options api_opts;
  api_opts.enable_fault_injection = s.enable_fault_injection;
  api_opts.admin_token = s.admin_token;
  api_opts.request_timeout = milliseconds{s.request_timeout_ms};
  api_opts.store_backend = store->backend();
  api_opts.webhook_refusal = [webhooks](std::string_view url) { return webhooks->refusal(url); };
  if (membership)
    api_opts.cluster = [m = membership.get()] { return m->report(); };
  auto routes = std::make_shared<http::api>(svc, api_opts);
  if (s.enable_fault_injection)
    spdlog::warn("fault injection is enabled: POST /api/v1/admin/faults crashes actors on demand");

  http::server_options http_opts;
  http_opts.host = s.host;
  http_opts.port = s.port;
  http_opts.threads = s.http_threads;
  http_opts.max_body_bytes = s.max_body_bytes;
  http_opts.max_connections = connection_limit_for_open_files(s.max_connections);
  observability::catalogue::http_connection_limit().set(
    static_cast<double>(http_opts.max_connections));
  http_opts.idle_timeout = milliseconds{s.idle_timeout_ms};
  http_opts.header_timeout = milliseconds{s.header_timeout_ms};
  http_opts.response_timeout = milliseconds{s.request_timeout_ms * 3};
  http::server server{http_opts, [routes](http::request&& req, http::responder reply) {
                        routes->handle(std::move(req), std::move(reply));
                      }};
  uint16_t port = 0;
  try {
    port = server.start();
  } catch (const std::exception& ex) {
    spdlog::critical("cannot listen on {}:{}: {}", s.host, s.port, ex.what());
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    return 2;
  }
  spdlog::info("orderd {} listening on http://{}:{} (store {}, data dir {}, grace period {} s)",
               ORDERD_VERSION, s.host, port, store->backend(), s.data_dir, s.grace_period);
  spdlog::default_logger()->flush();

  int code = stopped.get();

  // Stop taking work, let in-flight requests finish (their writes commit before they answer),
  // then stop the actors.
  server.stop_accepting();
  if (!server.drain(seconds{10}))
    spdlog::warn("shutdown: some requests did not finish within 10 s");
  server.stop();
  if (membership) {
    membership->on_members({});
    if (peers)
      peers->stop();
    membership->stop(); // the others see this node gone at once, not after the live window
    caf::anon_send_exit(gateway, caf::exit_reason::user_shutdown);
  }
  caf::scoped_actor self{sys};
  self->monitor(root);
  caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {}, caf::after(seconds{10}) >> [] {
    spdlog::warn("shutdown: actors did not stop within 10 s");
  });
  spdlog::info("orderd stopped");
  spdlog::default_logger()->flush();
  return code;
}

} // namespace

int main(int argc, char** argv) {
  // Block the termination signals in every thread; one thread waits for them with sigwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto parsed = orderd::config::parse(argc, argv, environ);
  using kind = orderd::config::parse_result::kind;
  switch (parsed.what) {
    case kind::help:
    case kind::version:
      std::cout << parsed.message << std::endl;
      return 0;
    case kind::error:
      std::cerr << "orderd: " << parsed.message << "\n(see orderd --help)" << std::endl;
      return 64; // EX_USAGE
    case kind::run:
      break;
  }
  auto& s = parsed.values;
  // The settings table checked the URL's shape; its parts are checked here, before anything
  // starts. The message never contains the password.
  std::optional<orderd::messaging::amqp_url> amqp;
  if (!s.amqp_url.empty()) {
    try {
      amqp = orderd::messaging::parse_amqp_url(s.amqp_url);
    } catch (const std::exception& ex) {
      std::cerr << "orderd: invalid --amqp-url: " << ex.what() << "\n(see orderd --help)"
                << std::endl;
      return 64; // EX_USAGE
    }
  }
  // Configured webhook recipients obey the same allow-list as the API's (no SSRF by config).
  orderd::notify::webhook_policy webhooks{s.webhook_allow};
  for (size_t at = 0; at < s.webhook_urls.size();) {
    auto comma = std::min(s.webhook_urls.find(',', at), s.webhook_urls.size());
    auto url = s.webhook_urls.substr(at, comma - at);
    at = comma + 1;
    if (url.empty())
      continue;
    if (auto why = webhooks.refusal(url)) {
      std::cerr << "orderd: --webhook-url " << url << ": " << *why << "\n(see orderd --help)"
                << std::endl;
      return 64; // EX_USAGE
    }
  }
  orderd::app::setup_logging(s.log_level, s.log_format);
  try {
    return run(s, amqp);
  } catch (const std::exception& ex) {
    spdlog::critical("orderd failed to start: {}", ex.what());
    spdlog::default_logger()->flush();
    return 1;
  }
}
