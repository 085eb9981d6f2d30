#include "messaging/inbound.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "domain/canonical_id.hpp"
#include "domain/ids.hpp"
#include "domain/validation.hpp"
#include "util/name_table.hpp"
#include "wire/json_codec.hpp"

namespace orderd::messaging {

namespace {

bool is_command(std::string_view name) {
  return std::find(std::begin(commands::all), std::end(commands::all), name)
         != std::end(commands::all);
}

std::string joined(const field_errors& errors) {
  std::string out;
  for (auto& e : errors) {
    if (!out.empty())
      out += "; ";
    out += e.field + ": " + e.message;
  }
  return out;
}

uint32_t attempts_of(const field_table& headers) {
  auto n = get_int(headers, inbound_headers::attempts).value_or(0);
  return static_cast<uint32_t>(std::clamp<int64_t>(n, 0, 1'000'000));
}

/// The copy `d` would be if published again: same body and properties (headers included).
outgoing_message copy_of(const delivery& d) {
  outgoing_message m;
  m.body = d.body;
  m.properties = d.properties;
  m.properties.persistent = true;
  return m;
}

} // namespace

std::variant<inbound_command, std::string> identify(const delivery& d) {
  if (d.properties.message_id.empty())
    return std::string{"no message_id property: commands are processed once per message id, "
                       "so every command needs one"};
  if (d.properties.message_id.size() > 255)
    return std::string{"message_id longer than 255 characters"};
  inbound_command c;
  c.message_id = d.properties.message_id;
  c.correlation_id = d.properties.correlation_id;
  c.attempts = attempts_of(d.properties.headers);
  // A retried copy comes back with the work queue's name as routing key: `type` names it then.
  if (is_command(d.properties.type))
    c.command = d.properties.type;
  else if (is_command(d.routing_key))
    c.command = d.routing_key;
  else
    return "unknown command: routing key '" + d.routing_key + "', type '" + d.properties.type
           + "' (expected inventory.adjust, order.place, order.cancel or payment.result)";
  return c;
}

std::variant<stock_command, std::string> decode_inventory_adjust(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return std::string{"body: must be a JSON object {\"sku\", \"delta\"} or {\"sku\", \"available\"}"};
  auto sku = json.find("sku");
  if (sku == json.end() || !sku->is_string() || !is_valid_sku(sku->get<std::string>()))
    return std::string{"sku: must be a valid sku string"};
  // The stock part has the HTTP body's rules (exactly one of available / delta, in range).
  auto rest = json;
  rest.erase("sku");
  auto update = wire::decode_stock_update(rest.dump());
  if (!update)
    return joined(update.errors());
  stock_command c;
  c.sku = sku->get<std::string>();
  c.set = update.value().what == wire::stock_update::kind::set;
  c.amount = update.value().amount;
  return c;
}

std::variant<order_request, std::string> decode_order_place(std::string_view body) {
  auto decoded = wire::decode_order_request(body);
  if (!decoded)
    return joined(decoded.errors());
  return std::move(decoded).value();
}

std::variant<cancel_command, std::string> decode_order_cancel(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return std::string{"body: must be a JSON object {\"order_id\"}"};
  auto id = json.find("order_id");
  if (id == json.end() || !id->is_string() || !is_uuid(id->get<std::string>()))
    return std::string{"order_id: must be an order id (UUID)"};
  return cancel_command{canonical_id(id->get<std::string>())};
}

std::variant<payment_command, std::string> decode_payment_result(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return std::string{"body: must be a JSON object {\"order_id\", \"status\", \"reason\"?}"};
  std::string problems;
  auto note = [&](std::string_view what) {
    if (!problems.empty())
      problems += "; ";
    problems += what;
  };
  payment_command c;
  auto id = json.find("order_id");
  if (id == json.end() || !id->is_string() || !is_uuid(id->get<std::string>()))
    note("order_id: must be an order id (UUID)");
  else
    c.order_id = canonical_id(id->get<std::string>());
  auto status = json.find("status");
  if (status != json.end() && *status == "succeeded")
    c.succeeded = true;
  else if (status == json.end() || *status != "failed")
    note("status: must be \"succeeded\" or \"failed\"");
  if (auto reason = json.find("reason"); reason != json.end() && !reason->is_null()) {
    if (!reason->is_string() || reason->get_ref<const std::string&>().size() > 500)
      note("reason: must be a string of at most 500 characters");
    else
      c.reason = reason->get<std::string>();
  }
  if (!problems.empty())
    return problems;
  return c;
}

std::string_view to_string(disposition x) noexcept {
  static constexpr name_table names{
    disposition::dead_letter, {"ack", "retry", "dead-letter"}, "?"};
  return names.name(x);
}

disposition dispose(std::string_view command, errc code) noexcept {
  switch (code) {
    case errc::ok:
      return disposition::ack;
    case errc::unavailable:
    case errc::storage_failure:
    case errc::internal:
    case errc::conflict:              // a write refused by a race (e.g. another node): again
    case errc::idempotency_in_flight:
      return disposition::retry;
    case errc::illegal_transition:
      // Cancelling an order that is no longer PENDING: nothing left to do.
      return command == commands::order_cancel || command == commands::payment_result
               ? disposition::ack
               : disposition::dead_letter;
    default:
      return disposition::dead_letter;
  }
}

std::vector<std::chrono::milliseconds> parse_delays(std::string_view text) {
  std::vector<std::chrono::milliseconds> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    int64_t value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc{} || end != item.data() + item.size() || value <= 0)
      throw std::invalid_argument("retry delays: '" + std::string{item}
                                  + "' is not a positive number of milliseconds");
    out.emplace_back(value);
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
    if (text.empty())
      throw std::invalid_argument("retry delays: nothing after the last comma");
  }
  if (out.empty())
    throw std::invalid_argument("retry delays: none given");
  return out;
}

std::chrono::milliseconds retry_delay(uint32_t attempt,
                                      const std::vector<std::chrono::milliseconds>& delays) {
  if (delays.empty())
    return std::chrono::milliseconds{1000};
  auto i = std::min<size_t>(attempt == 0 ? 0 : attempt - 1, delays.size() - 1);
  return delays[i];
}

outgoing_message retry_copy(const delivery& d, const inbound_command& c, uint32_t attempts,
                            const std::string& retry_queue, std::string_view error) {
  auto m = copy_of(d);
  m.exchange = ""; // the default exchange routes by queue name
  m.routing_key = retry_queue;
  m.properties.type = c.command;
  auto& h = m.properties.headers;
  set(h, inbound_headers::attempts, static_cast<int64_t>(attempts));
  set(h, inbound_headers::last_error, error.substr(0, 1000));
  if (!find(h, inbound_headers::routing_key))
    set(h, inbound_headers::routing_key, d.routing_key);
  return m;
}

outgoing_message dead_letter_copy(const delivery& d, std::string_view command, uint32_t attempts,
                                  std::string_view reason, std::string_view last_error,
                                  const std::string& dead_letter_exchange,
                                  const std::string& work_queue, timestamp_ms now) {
  auto m = copy_of(d);
  m.exchange = dead_letter_exchange;
  m.routing_key = work_queue;
  if (!command.empty())
    m.properties.type = std::string{command};
  // Without a message id it could be neither listed nor replayed: give it one.
  if (m.properties.message_id.empty())
    m.properties.message_id = make_uuid();
  auto& h = m.properties.headers;
  set(h, inbound_headers::reason, reason.substr(0, 1000));
  set(h, inbound_headers::attempts, static_cast<int64_t>(attempts));
  if (!last_error.empty())
    set(h, inbound_headers::last_error, last_error.substr(0, 1000));
  if (!find(h, inbound_headers::routing_key))
    set(h, inbound_headers::routing_key, d.routing_key);
  set(h, inbound_headers::dead_lettered_at, format_rfc3339(now));
  return m;
}

dead_letter describe(const delivery& d) {
  auto& h = d.properties.headers;
  dead_letter x;
  x.id = d.properties.message_id;
  x.command = is_command(d.properties.type) ? d.properties.type : std::string{};
  x.routing_key = get_string(h, inbound_headers::routing_key).value_or(d.routing_key);
  x.attempts = attempts_of(h);
  x.last_error = get_string(h, inbound_headers::last_error).value_or("");
  x.dead_lettered_at = get_string(h, inbound_headers::dead_lettered_at).value_or("");
  x.correlation_id = d.properties.correlation_id;
  x.body = d.body;
  if (auto reason = get_string(h, inbound_headers::reason)) {
    x.reason = *reason;
  } else if (auto deaths = x_death_count(h); deaths > 0) {
    x.reason = "dead-lettered by the broker (x-death: " + std::to_string(deaths) + ")";
  } else {
    x.reason = "unknown";
  }
  return x;
}

outgoing_message replay_copy(const delivery& d, const std::string& exchange) {
  auto m = copy_of(d);
  m.exchange = exchange;
  auto& h = m.properties.headers;
  auto key = is_command(d.properties.type)
               ? d.properties.type
               : get_string(h, inbound_headers::routing_key).value_or(d.routing_key);
  m.routing_key = key;
  auto replays = get_int(h, inbound_headers::replayed).value_or(0) + 1;
  std::erase_if(h, [](const field_entry& e) {
    return e.key.starts_with("x-orderd-") || e.key == "x-death" || e.key.starts_with("x-first-death")
           || e.key.starts_with("x-last-death");
  });
  set(h, inbound_headers::replayed, replays);
  return m;
}

} // namespace orderd::messaging
