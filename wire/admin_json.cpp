#include "wire/admin_json.hpp"

#include <nlohmann/json.hpp>

#include "wire/json_codec.hpp"

namespace orderd::wire {

using ojson = nlohmann::ordered_json;

ojson to_json(const dead_letter& d) {
  ojson j{{"id", d.id},
          {"command", d.command},
          {"routing_key", d.routing_key},
          {"reason", d.reason},
          {"attempts", d.attempts},
          {"last_error", d.last_error},
          {"dead_lettered_at", d.dead_lettered_at},
          {"correlation_id", d.correlation_id}};
  auto body = ojson::parse(d.body, nullptr, false);
  if (body.is_discarded())
    j["body"] = d.body;
  else
    j["body"] = std::move(body);
  return j;
}

std::string encode_dead_letters(std::span<const dead_letter> letters, bool truncated) {
  ojson items = ojson::array();
  for (auto& d : letters)
    items.push_back(to_json(d));
  ojson j{{"items", std::move(items)}, {"count", letters.size()}, {"truncated", truncated}};
  return dump(j);
}

std::string encode_replayed(const dead_letter& d) {
  return dump(ojson{{"status", "replayed"}, {"message", to_json(d)}});
}

std::vector<status_count> every_status(std::span<const status_count> counts) {
  std::vector<status_count> out;
  for (auto s : {order_status::pending, order_status::processing, order_status::confirmed,
                 order_status::shipped, order_status::delivered, order_status::cancelled}) {
    int64_t n = 0;
    for (auto& [status, count] : counts)
      if (status == s)
        n = count;
    out.emplace_back(s, n);
  }
  return out;
}

ojson to_low_stock_json(const product& p) {
  return {{"sku", p.sku},
          {"name", p.name},
          {"available", p.available},
          {"reserved", p.reserved},
          {"low_stock_threshold", p.low_stock_threshold}};
}

std::string encode_fault_injected(std::string_view target, std::string_view key) {
  return dump(ojson{{"status", "injected"}, {"target", target}, {"key", key}});
}

} // namespace orderd::wire
