// amqp_send: publishes messages for the black-box tests (Python's standard library has no AMQP
// client). Reads one JSON object per line on stdin and publishes each, persistent, with
// publisher confirms:
//
//   {"exchange": "orderd.commands", "routing_key": "order.place", "body": {...} or "text",
//    "message_id": "...", "correlation_id": "...", "type": "...",
//    "headers": {"name": "text" or integer}}
//
//   amqp_send --url URL
//
// Exit status: 0 when every message was confirmed, 1 on a broker error or a message the broker
// did not confirm, 2 on bad arguments or input.

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messaging/amqp_connection.hpp"
#include "messaging/amqp_url.hpp"

using namespace orderd::messaging;

namespace {

outgoing_message message_of(const nlohmann::json& j) {
  outgoing_message m;
  m.exchange = j.value("exchange", "");
  m.routing_key = j.value("routing_key", "");
  auto& body = j.at("body");
  m.body = body.is_string() ? body.get<std::string>() : body.dump();
  m.properties.message_id = j.value("message_id", "");
  m.properties.correlation_id = j.value("correlation_id", "");
  m.properties.type = j.value("type", "");
  m.properties.persistent = true;
  if (auto h = j.find("headers"); h != j.end())
    for (auto& [key, value] : h->items()) {
      if (value.is_number_integer())
        set(m.properties.headers, key, value.get<int64_t>());
      else
        set(m.properties.headers, key, value.get<std::string>());
    }
  return m;
}

} // namespace

int main(int argc, char** argv) {
  std::string url;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--url" && i + 1 < argc) {
      url = argv[++i];
    } else {
      std::cerr << "usage: amqp_send --url URL < messages.jsonl\n";
      return 2;
    }
  }
  if (url.empty()) {
    std::cerr << "amqp_send: --url is required\n";
    return 2;
  }
  std::vector<outgoing_message> messages;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty())
      continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("body")) {
      std::cerr << "amqp_send: not a message object: " << line << '\n';
      return 2;
    }
    try {
      messages.push_back(message_of(j));
    } catch (const std::exception& e) {
      std::cerr << "amqp_send: bad message (" << e.what() << "): " << line << '\n';
      return 2;
    }
  }
  try {
    amqp_connection c{connection_options::from_url(parse_amqp_url(url))};
    auto results = c.publish_batch(messages, std::chrono::milliseconds{30000});
    int status = 0;
    for (size_t i = 0; i < results.size(); ++i)
      if (!results[i].ok()) {
        std::cerr << "amqp_send: message " << i << " not confirmed: "
                  << to_string(results[i].status) << ' ' << results[i].detail << '\n';
        status = 1;
      }
    return status;
  } catch (const std::exception& e) {
    std::cerr << "amqp_send: " << e.what() << '\n';
    return 1;
  }
}
