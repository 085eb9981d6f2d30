#include "events/catalogue.hpp"

#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "wire/order_json.hpp"
#include "domain/time.hpp"

namespace orderd::events {

namespace {

using ojson = nlohmann::ordered_json;

/// The lines an order could not get: [{"sku", "requested", "available"}].
ojson short_lines_json(const std::vector<short_line>& lines) {
  ojson items = ojson::array();
  for (auto& l : lines)
    items.push_back(ojson{{"sku", l.sku}, {"requested", l.requested}, {"available", l.available}});
  return items;
}

std::string dump(const ojson& j) {
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

/// The envelope around `data` (JSON text). Member order is fixed, so equal events are equal bytes.
event_record make(const origin& from, std::string_view type, std::string aggregate,
                               timestamp_ms at, std::string_view data) {
  event_record e;
  e.id = make_time_ordered_uuid(at);
  e.type = std::string{type};
  e.aggregate = std::move(aggregate);
  e.occurred_at = at;
  e.correlation_id = from.correlation_id;
  auto& out = e.payload;
  out.reserve(160 + data.size() + from.source.size() + from.correlation_id.size());
  out += R"({"id":")";
  out += e.id; // a UUID: nothing to escape
  out += R"(","type":)";
  wire::append_json_string(out, type);
  out += R"(,"occurred_at":")";
  out += format_rfc3339(at);
  out += R"(","source":)";
  wire::append_json_string(out, from.source);
  out += R"(,"correlation_id":)";
  wire::append_json_string(out, from.correlation_id);
  out += R"(,"data":)";
  out += data;
  out += '}';
  return e;
}


event_record transition(const origin& from, std::string_view type,
                                     const std::string& order_id, order_status before,
                                     order_status after, timestamp_ms at) {
  ojson data{{"id", order_id}, {"from", to_string(before)}, {"to", to_string(after)}};
  return make(from, type, order_id, at, dump(data));
}

/// Stock figures as JSON, by hand: these are rendered inside the writer's transaction for every
/// placement, and a sku needs no escaping (domain/validation: letters, digits, '-', '_', '.'),
/// but it is escaped anyway so that this never depends on a rule checked elsewhere.
std::string stock_json(const stock_snapshot& s, bool with_threshold) {
  std::string out;
  out.reserve(120);
  out += R"({"sku":)";
  wire::append_json_string(out, s.level.sku);
  out += R"(,"available":)";
  wire::append_json_number(out, s.level.available);
  out += R"(,"reserved":)";
  wire::append_json_number(out, s.level.reserved);
  if (with_threshold) {
    out += R"(,"low_stock_threshold":)";
    wire::append_json_number(out, s.low_stock_threshold);
  } else {
    out += R"(,"sold":)";
    wire::append_json_number(out, s.level.sold);
  }
  out += R"(,"version":)";
  wire::append_json_number(out, s.level.version);
  out += '}';
  return out;
}

} // namespace

event_record order_created(const origin& from, const order& o) {
  return make(from, types::order_created, o.id, o.created_at, wire::render_order_json(o));
}

event_record order_cancelled(const origin& from, const order& o) {
  return make(from, types::order_cancelled, o.id, o.updated_at, wire::render_order_json(o));
}

event_record order_status_changed(const origin& from, const std::string& order_id,
                                               order_status before, order_status after,
                                               timestamp_ms at) {
  return transition(from, types::order_status_changed, order_id, before, after, at);
}

event_record order_processing(const origin& from, const std::string& order_id,
                                           order_status before, order_status after,
                                           timestamp_ms at) {
  return transition(from, types::order_processing, order_id, before, after, at);
}

event_record order_milestone(const origin& from, const std::string& order_id,
                                          order_status before, order_status after,
                                          timestamp_ms at) {
  std::string_view type;
  switch (after) {
    case order_status::processing:
      type = types::order_processing;
      break;
    case order_status::confirmed:
      type = types::order_confirmed;
      break;
    case order_status::shipped:
      type = types::order_shipped;
      break;
    case order_status::delivered:
      type = types::order_delivered;
      break;
    default:
      type = types::order_status_changed; // callers never ask; cancels carry the whole order
  }
  return transition(from, type, order_id, before, after, at);
}

event_record stock_rejected(const origin& from, const std::string& attempt_id,
                                         const std::string& customer_id,
                                         const std::vector<short_line>& lines, timestamp_ms at) {
  ojson data{{"customer_id", customer_id},
             {"correlation_id", from.correlation_id},
             {"items", short_lines_json(lines)}};
  return make(from, types::stock_rejected, attempt_id, at, dump(data));
}

event_record order_rejected(const origin& from, const std::string& attempt_id,
                                         const std::string& customer_id, std::string_view reason,
                                         const std::string& detail,
                                         const std::vector<short_line>& lines, timestamp_ms at) {
  ojson data{{"customer_id", customer_id},
             {"correlation_id", from.correlation_id},
             {"reason", reason},
             {"detail", detail},
             {"items", short_lines_json(lines)}};
  return make(from, types::order_rejected, attempt_id, at, dump(data));
}

event_record inventory_updated(const origin& from, const stock_snapshot& s,
                                            timestamp_ms at) {
  return make(from, types::inventory_updated, s.level.sku, at, stock_json(s, false));
}

event_record inventory_low(const origin& from, const stock_snapshot& s,
                                        timestamp_ms at) {
  return make(from, types::inventory_low, s.level.sku, at, stock_json(s, true));
}

bool topic_matches(std::string_view pattern, std::string_view key) noexcept {
  // Split both into words lazily and match recursively; '#' tries every split point. Patterns
  // are short (a handful of words), so the backtracking stays tiny.
  auto next_word = [](std::string_view& s) {
    auto dot = s.find('.');
    auto word = s.substr(0, dot);
    s = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    return word;
  };
  // `at_end` distinguishes "no words left" from "one empty word" ("a." has two words).
  struct matcher {
    decltype(next_word)& next;
    bool run(std::string_view p, bool p_done, std::string_view k, bool k_done) const {
      if (p_done)
        return k_done;
      auto p_rest = p;
      auto word = next(p_rest);
      bool p_rest_done = p.find('.') == std::string_view::npos;
      if (word == "#") {
        // Zero words ...
        if (run(p_rest, p_rest_done, k, k_done))
          return true;
        // ... or one more, then try again.
        if (k_done)
          return false;
        auto k_rest = k;
        next(k_rest);
        bool k_rest_done = k.find('.') == std::string_view::npos;
        return run(p, false, k_rest, k_rest_done);
      }
      if (k_done)
        return false;
      auto k_rest = k;
      auto key_word = next(k_rest);
      bool k_rest_done = k.find('.') == std::string_view::npos;
      if (word != "*" && word != key_word)
        return false;
      return run(p_rest, p_rest_done, k_rest, k_rest_done);
    }
  };
  return matcher{next_word}.run(pattern, false, key, false);
}

} // namespace orderd::events
