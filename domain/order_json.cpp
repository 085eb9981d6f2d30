#include "domain/order_json.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

namespace orderd {

namespace {

void append_number(std::string& out, int64_t x) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  out.append(buf, end);
}

void append_member(std::string& out, std::string_view key) {
  out += '"';
  out += key; // our own keys: nothing to escape
  out += "\":";
}

} // namespace

void append_json_string(std::string& out, std::string_view text) {
  bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  if (!plain) {
    using ojson = nlohmann::ordered_json;
    out += ojson(std::string{text}).dump(-1, ' ', false, ojson::error_handler_t::replace);
    return;
  }
  out += '"';
  out += text;
  out += '"';
}

std::string render_order_json(const order& o) {
  std::string out;
  out.reserve(256 + 80 * o.lines.size());
  out += '{';
  append_member(out, "id");
  append_json_string(out, o.id);
  out += ',';
  append_member(out, "customer_id");
  append_json_string(out, o.customer_id);
  out += ',';
  append_member(out, "customer_email");
  append_json_string(out, o.customer_email);
  out += ',';
  append_member(out, "status");
  append_json_string(out, to_string(o.status));
  out += ',';
  append_member(out, "items");
  out += '[';
  for (size_t i = 0; i < o.lines.size(); ++i) {
    auto& line = o.lines[i];
    if (i > 0)
      out += ',';
    out += '{';
    append_member(out, "sku");
    append_json_string(out, line.sku);
    out += ',';
    append_member(out, "quantity");
    append_number(out, line.quantity);
    out += ',';
    append_member(out, "unit_price_cents");
    append_number(out, line.unit_price_cents);
    out += '}';
  }
  out += "],";
  append_member(out, "total_cents");
  append_number(out, o.total_cents);
  out += ',';
  append_member(out, "currency");
  append_json_string(out, o.currency);
  out += ',';
  append_member(out, "created_at");
  append_json_string(out, format_rfc3339(o.created_at));
  out += ',';
  append_member(out, "updated_at");
  append_json_string(out, format_rfc3339(o.updated_at));
  if (!o.cancel_reason.empty()) {
    out += ',';
    append_member(out, "cancel_reason");
    append_json_string(out, o.cancel_reason);
  }
  out += '}';
  return out;
}

} // namespace orderd
