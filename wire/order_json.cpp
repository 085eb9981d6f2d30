#include "wire/order_json.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

namespace orderd::wire {

namespace {

/// `"key":`, after a comma unless it is the object's first member.
void append_key(std::string& out, std::string_view key) {
  if (out.back() != '{')
    out += ',';
  out += '"';
  out += key; // our own keys: nothing to escape
  out += "\":";
}

void text_member(std::string& out, std::string_view key, std::string_view value) {
  append_key(out, key);
  append_json_string(out, value);
}

void number_member(std::string& out, std::string_view key, int64_t value) {
  append_key(out, key);
  append_json_number(out, value);
}

} // namespace

void append_json_number(std::string& out, int64_t x) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  out.append(buf, end);
}

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
  text_member(out, "id", o.id);
  text_member(out, "customer_id", o.customer_id);
  text_member(out, "customer_email", o.customer_email);
  text_member(out, "status", to_string(o.status));
  append_key(out, "items");
  out += '[';
  for (size_t i = 0; i < o.lines.size(); ++i) {
    if (i > 0)
      out += ',';
    out += '{';
    text_member(out, "sku", o.lines[i].sku);
    number_member(out, "quantity", o.lines[i].quantity);
    number_member(out, "unit_price_cents", o.lines[i].unit_price_cents);
    out += '}';
  }
  out += ']';
  number_member(out, "total_cents", o.total_cents);
  text_member(out, "currency", o.currency);
  text_member(out, "created_at", format_rfc3339(o.created_at));
  text_member(out, "updated_at", format_rfc3339(o.updated_at));
  if (!o.cancel_reason.empty())
    text_member(out, "cancel_reason", o.cancel_reason);
  out += '}';
  return out;
}

} // namespace orderd::wire
