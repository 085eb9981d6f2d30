// amqp_tail: a tiny AMQP consumer for the black-box tests (Python's standard library has no
// AMQP client). Declares a durable queue bound to a topic exchange and prints every delivery as
// one JSON line on stdout:
//
//   {"message_id", "correlation_id", "type", "routing_key", "redelivered", "timestamp",
//    "traceparent" (header, "" without), "body"}
//
//   amqp_tail --url URL --exchange NAME --queue NAME [--bind KEY]... [--declare-only]
//             [--count N] [--timeout-ms MS] [--idle-ms MS]
//
// --declare-only declares exchange, queue and bindings (so messages published from now on are
// kept) and exits. Otherwise it consumes and acknowledges until N messages were printed, the
// overall timeout passed, or nothing arrived for --idle-ms (after the first message); the exit
// status is 0 in every case (the test counts lines), 2 on bad arguments, 1 on broker errors.

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "messaging/amqp_connection.hpp"
#include "messaging/amqp_table.hpp"
#include "messaging/amqp_url.hpp"
#include "messaging/topology.hpp"

using namespace orderd::messaging;
using namespace std::chrono;

namespace {

struct arguments {
  std::string url;
  std::string exchange;
  std::string queue;
  std::vector<std::string> bindings;
  bool declare_only = false;
  size_t count = 0; // 0: no limit
  milliseconds timeout{30000};
  milliseconds idle{0}; // 0: no idle limit
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "amqp_tail: " << why
            << "\nusage: amqp_tail --url URL --exchange NAME --queue NAME [--bind KEY]... "
               "[--declare-only] [--count N] [--timeout-ms MS] [--idle-ms MS]\n";
  std::exit(2);
}

arguments parse(int argc, char** argv) {
  arguments a;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage("missing value for " + std::string{arg});
      return argv[++i];
    };
    if (arg == "--url")
      a.url = value();
    else if (arg == "--exchange")
      a.exchange = value();
    else if (arg == "--queue")
      a.queue = value();
    else if (arg == "--bind")
      a.bindings.push_back(value());
    else if (arg == "--declare-only")
      a.declare_only = true;
    else if (arg == "--count")
      a.count = std::stoul(value());
    else if (arg == "--timeout-ms")
      a.timeout = milliseconds{std::stol(value())};
    else if (arg == "--idle-ms")
      a.idle = milliseconds{std::stol(value())};
    else
      usage("unknown argument " + std::string{arg});
  }
  if (a.url.empty() || a.exchange.empty() || a.queue.empty())
    usage("--url, --exchange and --queue are required");
  if (a.bindings.empty())
    a.bindings.push_back("#");
  return a;
}

} // namespace

int main(int argc, char** argv) {
  auto args = parse(argc, argv);
  try {
    amqp_connection c{connection_options::from_url(parse_amqp_url(args.url))};
    topology t;
    t.exchanges.push_back({args.exchange, "topic", true});
    queue_spec q;
    q.name = args.queue;
    q.kind = queue_kind::classic; // durable: survives a broker restart with its messages
    t.queues.push_back(q);
    for (auto& key : args.bindings)
      t.bindings.push_back({args.queue, args.exchange, key});
    c.declare(t);
    if (args.declare_only) {
      auto info = c.inspect_queue(args.queue);
      std::cout << nlohmann::json{{"queue", info.name}, {"messages", info.message_count}}.dump()
                << std::endl;
      return 0;
    }
    c.qos(500);
    c.consume(args.queue);
    auto deadline = steady_clock::now() + args.timeout;
    auto last = steady_clock::now();
    size_t printed = 0;
    while (args.count == 0 || printed < args.count) {
      auto now = steady_clock::now();
      if (now >= deadline)
        break;
      if (args.idle.count() > 0 && printed > 0 && now - last >= args.idle)
        break;
      auto wait = std::min(duration_cast<milliseconds>(deadline - now), milliseconds{200});
      auto d = c.next_delivery(wait);
      if (!d)
        continue;
      last = steady_clock::now();
      auto& p = d->properties;
      nlohmann::json line{{"message_id", p.message_id},
                          {"correlation_id", p.correlation_id},
                          {"type", p.type},
                          {"content_type", p.content_type},
                          {"routing_key", d->routing_key},
                          {"redelivered", d->redelivered},
                          {"timestamp", p.timestamp ? *p.timestamp : -1},
                          {"traceparent",
                           get_string(p.headers, "traceparent").value_or("")},
                          {"body", d->body}};
      std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                << std::endl;
      c.ack(d->delivery_tag);
      ++printed;
    }
    std::cerr << "amqp_tail: " << printed << " messages from " << args.queue << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "amqp_tail: " << e.what() << std::endl;
    return 1;
  }
}
