// messaging/: AMQP URL, field tables and topology (suite `messaging`, deterministic, no broker),
// and amqp_connection against a real RabbitMQ (suite `messaging.broker`, run when
// ORDERD_TEST_AMQP_URL is set: ctest's messaging_broker_tests starts a private node with
// scripts/rabbitmq.sh and sets it).

#define CAF_SUITE messaging
#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "messaging/amqp_connection.hpp"
#include "messaging/amqp_table.hpp"
#include "messaging/amqp_url.hpp"
#include "messaging/topology.hpp"

#include "test_util.hpp"

using namespace orderd::messaging;
using orderd::test::error_of;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

bool contains(const std::optional<std::string>& text, const std::string& part) {
  return text && text->find(part) != std::string::npos;
}

} // namespace

CAF_TEST(a full amqp url is parsed) {
  auto u = parse_amqp_url("amqp://orderd:s3cret@broker.example:5673/shop");
  CAF_CHECK_EQUAL(u.user, "orderd");
  CAF_CHECK_EQUAL(u.password, "s3cret");
  CAF_CHECK_EQUAL(u.host, "broker.example");
  CAF_CHECK_EQUAL(u.port, 5673u);
  CAF_CHECK_EQUAL(u.vhost, "shop");
  CAF_CHECK(!u.heartbeat);
}

CAF_TEST(amqp url defaults) {
  auto u = parse_amqp_url("amqp://rabbit");
  CAF_CHECK_EQUAL(u.user, "guest");
  CAF_CHECK_EQUAL(u.password, "guest");
  CAF_CHECK_EQUAL(u.host, "rabbit");
  CAF_CHECK_EQUAL(u.port, 5672u);
  CAF_CHECK_EQUAL(u.vhost, "/");
  CAF_CHECK_EQUAL(parse_amqp_url("amqp://rabbit/").vhost, "/");
  CAF_CHECK_EQUAL(parse_amqp_url("amqp://").host, "localhost");
  CAF_CHECK_EQUAL(parse_amqp_url("amqp://bob@h").password, "guest");
  CAF_CHECK_EQUAL(parse_amqp_url("amqp://bob@h").user, "bob");
  CAF_CHECK_EQUAL(parse_amqp_url("amqp://bob:@h").password, "");
}

CAF_TEST(amqp url parts are percent decoded) {
  auto u = parse_amqp_url("amqp://us%40er:p%3Aa%2Fss@h:1/%2f");
  CAF_CHECK_EQUAL(u.user, "us@er");
  CAF_CHECK_EQUAL(u.password, "p:a/ss");
  CAF_CHECK_EQUAL(u.vhost, "/");
  CAF_CHECK_EQUAL(parse_amqp_url("amqp://h/%2Fprod").vhost, "/prod");
  CAF_CHECK_EQUAL(parse_amqp_url("amqp://h/a%20b").vhost, "a b");
  // An unencoded '@' in the password still works: the last '@' ends the user info.
  CAF_CHECK_EQUAL(parse_amqp_url("amqp://u:p@ss@h").password, "p@ss");
}

CAF_TEST(amqp url with ipv6 host and query parameters) {
  auto u = parse_amqp_url("amqp://[::1]:5673/v?heartbeat=10&connection_timeout=2500");
  CAF_CHECK_EQUAL(u.host, "::1");
  CAF_CHECK_EQUAL(u.port, 5673u);
  CAF_CHECK_EQUAL(u.vhost, "v");
  CAF_REQUIRE(u.heartbeat && u.connection_timeout);
  CAF_CHECK_EQUAL(u.heartbeat->count(), 10);
  CAF_CHECK_EQUAL(u.connection_timeout->count(), 2500);
  auto opts = connection_options::from_url(u);
  CAF_CHECK_EQUAL(opts.heartbeat.count(), 10);
  CAF_CHECK_EQUAL(opts.connect_timeout.count(), 2500);
  CAF_CHECK_EQUAL(parse_amqp_url("amqp://[::1]").port, 5672u);
}

CAF_TEST(bad amqp urls name the problem) {
  auto err = [](const char* text) {
    return error_of<amqp_url_error>([&] { parse_amqp_url(text); });
  };
  CAF_CHECK(contains(err("http://h"), "unsupported scheme 'http'"));
  CAF_CHECK(contains(err("rabbit:5672"), "missing scheme"));
  CAF_CHECK(contains(err("amqps://h"), "TLS"));
  CAF_CHECK(contains(err("amqp://h:0"), "port must be a number from 1 to 65535, got '0'"));
  CAF_CHECK(contains(err("amqp://h:70000"), "got '70000'"));
  CAF_CHECK(contains(err("amqp://h:abc"), "got 'abc'"));
  CAF_CHECK(contains(err("amqp://h:"), "port"));
  CAF_CHECK(contains(err("amqp://h/a/b"), "single path segment"));
  CAF_CHECK(contains(err("amqp://h/%zz"), "vhost ('%zz')"));
  CAF_CHECK(contains(err("amqp://u%4@h"), "user name"));
  CAF_CHECK(contains(err("amqp://h?heartbeat=x"), "heartbeat"));
  CAF_CHECK(contains(err("amqp://h?channel_max=1"), "unknown query parameter 'channel_max'"));
  CAF_CHECK(contains(err("amqp://[::1"), "']'"));
  CAF_CHECK(contains(err("amqp://:pw@h"), "empty user name"));
  // The password never appears in an error.
  auto e = err("amqp://u:top%zzsecret@h");
  CAF_CHECK(contains(e, "password"));
  CAF_CHECK(!contains(e, "secret"));
}

CAF_TEST(amqp urls print without the password) {
  auto u = parse_amqp_url("amqp://us%40er:pw@h:1234/%2f");
  CAF_CHECK_EQUAL(to_string(u), "amqp://us%40er:***@h:1234/%2F");
  CAF_CHECK_EQUAL(to_string(u, true), "amqp://us%40er:pw@h:1234/%2F");
  auto back = parse_amqp_url(to_string(u, true));
  CAF_CHECK_EQUAL(back.user, u.user);
  CAF_CHECK_EQUAL(back.vhost, u.vhost);
}

// -- field tables and topology -------------------------------------------------------------------

CAF_TEST(field tables set find and compare) {
  field_table t;
  set(t, "a", 1);
  set(t, "b", "x");
  set(t, "a", 2);
  CAF_CHECK_EQUAL(t.size(), 2u);
  CAF_CHECK_EQUAL(get_int(t, "a").value_or(0), 2);
  CAF_CHECK_EQUAL(get_string(t, "b").value_or(""), "x");
  CAF_CHECK(!get_int(t, "b"));
  CAF_CHECK(find(t, "c") == nullptr);
  field_table u{{"a", 2}, {"b", "x"}};
  CAF_CHECK(t == u);
  CAF_CHECK_EQUAL(to_string(t), "{a: 2, b: \"x\"}");
}

CAF_TEST(x death counts sum per queue and reason) {
  field_table headers{
    {"x-death",
     field_array{
       field_table{{"count", 2}, {"reason", "expired"}, {"queue", "q.retry.1000ms"}},
       field_table{{"count", 1}, {"reason", "rejected"}, {"queue", "q"}},
       field_table{{"count", 3}, {"reason", "expired"}, {"queue", "q.retry.5000ms"}},
     }},
  };
  CAF_CHECK_EQUAL(x_death_count(headers), 6);
  CAF_CHECK_EQUAL(x_death_count(headers, "q"), 1);
  CAF_CHECK_EQUAL(x_death_count(headers, {}, "expired"), 5);
  CAF_CHECK_EQUAL(x_death_count(headers, "q.retry.5000ms", "expired"), 3);
  CAF_CHECK_EQUAL(x_death_count({}), 0);
}

CAF_TEST(queue arguments carry type dead lettering and ttl) {
  queue_spec q;
  q.name = "q";
  q.dead_letter_exchange = "dlx";
  q.dead_letter_routing_key = "q";
  q.message_ttl = 1500ms;
  q.delivery_limit = 5;
  auto args = queue_arguments(q);
  CAF_CHECK_EQUAL(get_string(args, "x-queue-type").value_or(""), "quorum");
  CAF_CHECK_EQUAL(get_string(args, "x-dead-letter-exchange").value_or(""), "dlx");
  CAF_CHECK_EQUAL(get_string(args, "x-dead-letter-routing-key").value_or(""), "q");
  CAF_CHECK_EQUAL(get_int(args, "x-message-ttl").value_or(0), 1500);
  CAF_CHECK_EQUAL(get_int(args, "x-delivery-limit").value_or(0), 5);
  queue_spec plain;
  plain.kind = queue_kind::classic;
  auto plain_args = queue_arguments(plain);
  CAF_CHECK_EQUAL(plain_args.size(), 1u);
  CAF_CHECK_EQUAL(get_string(plain_args, "x-queue-type").value_or(""), "classic");
}

CAF_TEST(a work queue topology has a dead letter queue and retry queues) {
  work_queue_spec spec;
  spec.exchange = "orderd.commands";
  spec.queue = "orderd.inbound";
  spec.binding_keys = {"order.*", "inventory.*"};
  spec.retry_delays = {1000ms, 10000ms};
  auto t = make_work_queue_topology(spec);
  CAF_REQUIRE_EQUAL(t.exchanges.size(), 2u);
  CAF_CHECK_EQUAL(t.exchanges[0].name, "orderd.commands");
  CAF_CHECK_EQUAL(t.exchanges[0].type, "topic");
  CAF_CHECK_EQUAL(t.exchanges[1].name, "orderd.inbound.dlx");
  CAF_REQUIRE_EQUAL(t.queues.size(), 4u);
  auto work = queue_arguments(t.queues[0]);
  CAF_CHECK_EQUAL(t.queues[0].name, "orderd.inbound");
  CAF_CHECK_EQUAL(get_string(work, "x-dead-letter-exchange").value_or(""), "orderd.inbound.dlx");
  CAF_CHECK_EQUAL(t.queues[1].name, "orderd.inbound.dlq");
  CAF_CHECK(find(queue_arguments(t.queues[1]), "x-dead-letter-exchange") == nullptr);
  auto retry = queue_arguments(t.queues[2]);
  CAF_CHECK_EQUAL(t.queues[2].name, retry_queue_name("orderd.inbound", 1000ms));
  CAF_CHECK_EQUAL(t.queues[2].name, "orderd.inbound.retry.1000ms");
  CAF_CHECK_EQUAL(get_int(retry, "x-message-ttl").value_or(0), 1000);
  CAF_CHECK_EQUAL(get_string(retry, "x-dead-letter-exchange").value_or(""), "orderd.commands");
  CAF_CHECK_EQUAL(get_string(retry, "x-dead-letter-routing-key").value_or(""), "orderd.inbound");
  std::set<std::string> bindings;
  for (auto& b : t.bindings)
    bindings.insert(b.exchange + " -" + b.routing_key + "-> " + b.queue);
  CAF_CHECK((bindings
             == std::set<std::string>{
               "orderd.commands -order.*-> orderd.inbound",
               "orderd.commands -inventory.*-> orderd.inbound",
               "orderd.commands -orderd.inbound-> orderd.inbound",
               "orderd.inbound.dlx -orderd.inbound-> orderd.inbound.dlq",
             }));
  spec.retry_delays = {0ms};
  CAF_CHECK(error_of<std::invalid_argument>([&] { make_work_queue_topology(spec); }));
}

// -- against a real broker -------------------------------------------------------------------

#undef CAF_SUITE
#define CAF_SUITE messaging.broker

namespace {

const char* broker_url() {
  auto url = std::getenv("ORDERD_TEST_AMQP_URL");
  return url != nullptr && *url != '\0' ? url : nullptr;
}

/// A connection plus a work-queue topology with unique names, deleted again afterwards.
struct broker_fixture {
  std::optional<amqp_connection> conn;
  work_queue_spec spec;
  topology topo;

  broker_fixture() {
    auto url = broker_url();
    if (url == nullptr) {
      static bool told = false;
      if (!told)
        std::fprintf(stderr, "messaging.broker: skipped without ORDERD_TEST_AMQP_URL "
                             "(ctest -L rabbitmq starts a broker and sets it)\n");
      told = true;
      return;
    }
    static int counter = 0;
    auto prefix = "orderd.test." + std::to_string(getpid()) + "." + std::to_string(++counter);
    spec.exchange = prefix + ".commands";
    spec.queue = prefix + ".inbound";
    spec.binding_keys = {"order.*"};
    spec.retry_delays = {300ms};
    topo = make_work_queue_topology(spec);
    conn.emplace(options());
    conn->declare(topo);
  }

  ~broker_fixture() {
    if (!conn)
      return;
    try {
      // The test's connection may have been closed on purpose: clean up with a fresh one.
      amqp_connection c{options()};
      for (auto& q : topo.queues)
        c.delete_queue(q.name);
      for (auto& x : topo.exchanges)
        c.delete_exchange(x.name);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "clean-up failed: %s\n", e.what());
    }
  }

  bool enabled() const { return conn.has_value(); }

  static connection_options options() {
    auto opts = connection_options::from_url(parse_amqp_url(broker_url()));
    opts.connection_name = "orderd messaging_test";
    return opts;
  }

  outgoing_message command(int i, std::string routing_key = "order.place") {
    outgoing_message m;
    m.exchange = spec.exchange;
    m.routing_key = std::move(routing_key);
    m.body = "{\"n\":" + std::to_string(i) + "}";
    m.properties.message_id = "msg-" + std::to_string(i);
    m.properties.correlation_id = "corr-" + std::to_string(i);
    m.properties.type = "order.place";
    m.properties.app_id = "orderd-test";
    m.properties.headers = {{"x-orderd-attempt", 0}, {"x-orderd-n", i}};
    return m;
  }

  /// Receives `n` deliveries (or fewer when `timeout` passes without one).
  std::vector<delivery> take(size_t n, milliseconds timeout = 10s) {
    std::vector<delivery> out;
    while (out.size() < n) {
      auto d = conn->next_delivery(timeout);
      if (!d)
        break;
      out.push_back(std::move(*d));
    }
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(broker_tests, broker_fixture)

CAF_TEST(declaring the topology is idempotent and a conflicting declaration fails) {
  if (!enabled())
    return;
  CAF_CHECK(conn->is_open());
  CAF_CHECK(conn->server_version().find("RabbitMQ") == 0);
  conn->declare(topo); // same arguments again: fine
  auto info = conn->inspect_queue(spec.queue);
  CAF_CHECK_EQUAL(info.message_count, 0u);
  CAF_CHECK_EQUAL(info.consumer_count, 0u);
  queue_spec classic;
  classic.name = spec.queue;
  classic.kind = queue_kind::classic;
  std::optional<amqp_error> err;
  try {
    conn->declare_queue(classic);
  } catch (const amqp_error& e) {
    err = e;
  }
  CAF_REQUIRE(err);
  CAF_CHECK_EQUAL(err->reply_code(), 406u);
  CAF_CHECK(err->reply_text().find("PRECONDITION_FAILED") == 0);
  CAF_MESSAGE(err->what());
  CAF_CHECK(!conn->is_open());
  CAF_CHECK(contains(error_of<amqp_error>([&] { conn->qos(1); }), "the connection is closed"));
}

CAF_TEST(a batch of 1000 persistent messages is confirmed and consumed back) {
  if (!enabled())
    return;
  std::vector<outgoing_message> batch;
  for (int i = 0; i < 1000; ++i)
    batch.push_back(command(i));
  auto results = conn->publish_batch(batch, 30s);
  CAF_REQUIRE_EQUAL(results.size(), 1000u);
  auto confirmed = std::count_if(results.begin(), results.end(), [](auto& r) { return r.ok(); });
  CAF_CHECK_EQUAL(confirmed, 1000);
  CAF_CHECK_EQUAL(conn->inspect_queue(spec.queue).message_count, 1000u);

  conn->qos(50);
  auto tag = conn->consume(spec.queue);
  CAF_CHECK(!tag.empty());
  // With prefetch 50 the broker sends 50 and waits: each ack lets the next one through.
  std::vector<delivery> got;
  while (got.size() < 1000) {
    auto d = conn->next_delivery(10s);
    CAF_REQUIRE(d);
    CAF_REQUIRE_EQUAL(d->properties.message_id, "msg-" + std::to_string(got.size())); // in order
    CAF_CHECK_EQUAL(d->body, "{\"n\":" + std::to_string(got.size()) + "}");
    conn->ack(d->delivery_tag);
    got.push_back(std::move(*d));
  }
  auto& d = got[7];
  CAF_CHECK_EQUAL(d.properties.correlation_id, "corr-7");
  CAF_CHECK_EQUAL(d.properties.type, "order.place");
  CAF_CHECK_EQUAL(d.properties.content_type, "application/json");
  CAF_CHECK_EQUAL(d.properties.app_id, "orderd-test");
  CAF_CHECK(d.properties.persistent);
  CAF_CHECK(d.properties.timestamp.has_value());
  CAF_CHECK_EQUAL(get_int(d.properties.headers, "x-orderd-n").value_or(-1), 7);
  CAF_CHECK_EQUAL(d.exchange, spec.exchange);
  CAF_CHECK_EQUAL(d.routing_key, "order.place");
  CAF_CHECK_EQUAL(d.consumer_tag, tag);
  CAF_CHECK(!d.redelivered);
  conn->cancel(tag);
  conn->poll(200ms); // the acks are asynchronous: give the broker a moment
  CAF_CHECK_EQUAL(conn->inspect_queue(spec.queue).message_count, 0u);
  CAF_CHECK(!conn->next_delivery(100ms));
}

CAF_TEST(deliveries that arrive while waiting for confirms are kept) {
  if (!enabled())
    return;
  conn->qos(500);
  conn->consume(spec.queue);
  std::vector<outgoing_message> batch;
  for (int i = 0; i < 200; ++i)
    batch.push_back(command(i));
  auto results = conn->publish_batch(batch);
  CAF_CHECK(std::all_of(results.begin(), results.end(), [](auto& r) { return r.ok(); }));
  auto got = take(200);
  CAF_REQUIRE_EQUAL(got.size(), 200u);
  for (size_t i = 0; i < got.size(); ++i)
    CAF_CHECK_EQUAL(got[i].properties.message_id, "msg-" + std::to_string(i));
  conn->ack(got.back().delivery_tag, true);
}

CAF_TEST(nack with requeue redelivers the message) {
  if (!enabled())
    return;
  CAF_REQUIRE(conn->publish(command(1)).ok());
  conn->qos(10);
  conn->consume(spec.queue);
  auto first = conn->next_delivery(10s);
  CAF_REQUIRE(first);
  CAF_CHECK(!first->redelivered);
  conn->nack(first->delivery_tag, true);
  auto again = conn->next_delivery(10s);
  CAF_REQUIRE(again);
  CAF_CHECK(again->redelivered);
  CAF_CHECK_EQUAL(again->properties.message_id, "msg-1");
  CAF_CHECK_EQUAL(again->body, first->body);
  conn->ack(again->delivery_tag);
}

CAF_TEST(reject routes the message to the dead letter queue) {
  if (!enabled())
    return;
  CAF_REQUIRE(conn->publish(command(5)).ok());
  conn->consume(spec.queue);
  auto d = conn->next_delivery(10s);
  CAF_REQUIRE(d);
  conn->reject(d->delivery_tag);
  auto dlq = dead_letter_queue_name(spec.queue);
  conn->consume(dlq);
  auto dead = conn->next_delivery(10s);
  CAF_REQUIRE(dead);
  CAF_CHECK_EQUAL(dead->routing_key, spec.queue); // x-dead-letter-routing-key
  CAF_CHECK_EQUAL(dead->properties.message_id, "msg-5");
  CAF_CHECK_EQUAL(x_death_count(dead->properties.headers, spec.queue, "rejected"), 1);
  CAF_CHECK_EQUAL(get_int(dead->properties.headers, "x-orderd-n").value_or(-1), 5);
  CAF_MESSAGE("x-death: " << to_string(*find(dead->properties.headers, "x-death")));
  conn->ack(dead->delivery_tag);
}

CAF_TEST(a dead letter with a reason header can be published by the consumer) {
  if (!enabled())
    return;
  CAF_REQUIRE(conn->publish(command(6)).ok());
  conn->consume(spec.queue);
  auto d = conn->next_delivery(10s);
  CAF_REQUIRE(d);
  outgoing_message dead{dead_letter_exchange_name(spec), spec.queue, d->body, d->properties};
  set(dead.properties.headers, "x-orderd-reason", "undecodable: expected an object");
  CAF_REQUIRE(conn->publish(dead).ok());
  conn->ack(d->delivery_tag);
  conn->consume(dead_letter_queue_name(spec.queue));
  auto got = conn->next_delivery(10s);
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(get_string(got->properties.headers, "x-orderd-reason").value_or(""),
                  "undecodable: expected an object");
  CAF_CHECK_EQUAL(got->properties.message_id, "msg-6");
  conn->ack(got->delivery_tag);
}

CAF_TEST(a retry queue routes the message back after its ttl) {
  if (!enabled())
    return;
  CAF_REQUIRE(conn->publish(command(9)).ok());
  conn->consume(spec.queue);
  auto d = conn->next_delivery(10s);
  CAF_REQUIRE(d);
  // Handling failed: park a copy with the attempt count in the 300 ms delay queue, then ack.
  outgoing_message retry{"", retry_queue_name(spec.queue, 300ms), d->body, d->properties};
  set(retry.properties.headers, "x-orderd-attempt", 1);
  auto parked = std::chrono::steady_clock::now();
  CAF_REQUIRE(conn->publish(retry).ok());
  conn->ack(d->delivery_tag);
  auto back = conn->next_delivery(10s);
  auto waited = std::chrono::steady_clock::now() - parked;
  CAF_REQUIRE(back);
  CAF_CHECK_GREATER_OR_EQUAL(std::chrono::duration_cast<milliseconds>(waited).count(), 290);
  CAF_CHECK_EQUAL(back->properties.message_id, "msg-9");
  CAF_CHECK_EQUAL(back->routing_key, spec.queue);
  CAF_CHECK_EQUAL(get_int(back->properties.headers, "x-orderd-attempt").value_or(0), 1);
  CAF_CHECK_EQUAL(
    x_death_count(back->properties.headers, retry_queue_name(spec.queue, 300ms), "expired"), 1);
  conn->ack(back->delivery_tag);
}

CAF_TEST(mandatory unroutable messages are returned) {
  if (!enabled())
    return;
  std::vector<outgoing_message> batch{command(1, "nobody.listens"), command(2),
                                      command(3, "nobody.listens")};
  batch[0].mandatory = true;
  batch[1].mandatory = true;
  auto results = conn->publish_batch(batch);
  CAF_CHECK(results[0].status == publish_status::returned);
  CAF_CHECK_EQUAL(results[0].detail, "312 NO_ROUTE");
  CAF_CHECK(results[1].ok());
  CAF_CHECK(results[2].ok()); // not mandatory: silently dropped, yet confirmed
  CAF_CHECK_EQUAL(to_string(results[0].status), "returned");
  CAF_CHECK_EQUAL(conn->inspect_queue(spec.queue).message_count, 1u);
}

CAF_TEST(publishing to a missing exchange closes the connection with 404) {
  if (!enabled())
    return;
  auto m = command(1);
  m.exchange = spec.exchange + ".missing";
  std::optional<amqp_error> err;
  try {
    conn->publish(m);
  } catch (const amqp_error& e) {
    err = e;
  }
  CAF_REQUIRE(err);
  CAF_CHECK_EQUAL(err->reply_code(), 404u);
  CAF_CHECK_EQUAL(err->operation(), "basic.publish");
  CAF_MESSAGE(err->what());
  CAF_CHECK(!conn->is_open());
}

CAF_TEST(bad credentials and closed ports are reported clearly) {
  if (!enabled())
    return;
  auto opts = options();
  opts.url.password = "wrong";
  std::optional<amqp_error> err;
  try {
    amqp_connection c{opts};
  } catch (const amqp_error& e) {
    err = e;
  }
  CAF_REQUIRE(err);
  CAF_CHECK_EQUAL(err->reply_code(), 403u);
  CAF_CHECK(err->reply_text().find("ACCESS_REFUSED") == 0);
  CAF_MESSAGE(err->what());

  opts = options();
  opts.url.vhost = "no-such-vhost";
  auto vhost_err = error_of<amqp_error>([&] { amqp_connection c{opts}; });
  CAF_CHECK(contains(vhost_err, "no-such-vhost"));
  CAF_MESSAGE(vhost_err.value_or("no error"));

  opts = options();
  opts.url.port = 1; // nothing listens there
  opts.connect_timeout = 2s;
  auto t = std::chrono::steady_clock::now();
  auto refused = error_of<amqp_error>([&] { amqp_connection c{opts}; });
  CAF_CHECK(contains(refused, "connect 127.0.0.1:1: connection refused"));
  CAF_CHECK(std::chrono::steady_clock::now() - t < 3s);
  CAF_MESSAGE(refused.value_or("no error"));
}

CAF_TEST(an idle connection stays open while the owner polls) {
  if (!enabled())
    return;
  auto opts = options();
  opts.heartbeat = 1s;
  amqp_connection c{opts};
  // 3 s is three heartbeat intervals: without heartbeats the broker would drop us after 2.
  auto end = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < end)
    c.poll(400ms);
  CAF_CHECK(c.is_open());
  CAF_CHECK(!c.is_blocked());
  c.declare_exchange({spec.exchange, "topic", true});
  c.close();
  CAF_CHECK(!c.is_open());
}

CAF_TEST(publish rate with confirms by batch size) {
  if (!enabled())
    return;
  // ORDERD_TEST_AMQP_RATE_MESSAGES sets the messages per batch size (default 2000).
  auto env = std::getenv("ORDERD_TEST_AMQP_RATE_MESSAGES");
  size_t total = env != nullptr ? std::strtoul(env, nullptr, 10) : 2000;
  for (size_t batch_size : {size_t{1}, size_t{100}, size_t{1000}}) {
    std::vector<outgoing_message> batch;
    for (size_t i = 0; i < batch_size; ++i)
      batch.push_back(command(static_cast<int>(i)));
    size_t sent = 0;
    auto start = std::chrono::steady_clock::now();
    while (sent < total) {
      auto results = conn->publish_batch(batch);
      CAF_REQUIRE(std::all_of(results.begin(), results.end(), [](auto& r) { return r.ok(); }));
      sent += batch.size();
    }
    std::chrono::duration<double> secs = std::chrono::steady_clock::now() - start;
    std::printf("publish rate with confirms, batch %4zu: %8.0f msgs/s (%zu persistent messages "
                "to a quorum queue in %.2f s)\n",
                batch_size, static_cast<double>(sent) / secs.count(), sent, secs.count());
    conn->purge_queue(spec.queue);
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
