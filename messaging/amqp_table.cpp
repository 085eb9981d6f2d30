#include "messaging/amqp_table.hpp"

#include <algorithm>

namespace orderd::messaging {

bool operator==(const field_value& x, const field_value& y) {
  return x.value == y.value;
}

bool operator==(const field_entry& x, const field_entry& y) {
  return x.key == y.key && x.value == y.value;
}

const field_value* find(const field_table& table, std::string_view key) {
  auto i = std::find_if(table.begin(), table.end(), [&](auto& e) { return e.key == key; });
  return i == table.end() ? nullptr : &i->value;
}

void set(field_table& table, std::string_view key, field_value value) {
  auto i = std::find_if(table.begin(), table.end(), [&](auto& e) { return e.key == key; });
  if (i != table.end())
    i->value = std::move(value);
  else
    table.push_back(field_entry{std::string{key}, std::move(value)});
}

std::optional<int64_t> get_int(const field_table& table, std::string_view key) {
  if (auto v = find(table, key); v && v->as_int())
    return *v->as_int();
  return std::nullopt;
}

std::optional<std::string> get_string(const field_table& table, std::string_view key) {
  if (auto v = find(table, key); v && v->as_string())
    return *v->as_string();
  return std::nullopt;
}

int64_t x_death_count(const field_table& headers, std::string_view queue,
                      std::string_view reason) {
  auto deaths = find(headers, "x-death");
  if (!deaths || !deaths->as_array())
    return 0;
  int64_t total = 0;
  for (auto& death : *deaths->as_array()) {
    auto entry = death.as_table();
    if (!entry)
      continue;
    if (!queue.empty() && get_string(*entry, "queue") != queue)
      continue;
    if (!reason.empty() && get_string(*entry, "reason") != reason)
      continue;
    total += get_int(*entry, "count").value_or(1);
  }
  return total;
}

namespace {

struct printer {
  std::string& out;
  void operator()(std::monostate) { out += "void"; }
  void operator()(bool x) { out += x ? "true" : "false"; }
  void operator()(int64_t x) { out += std::to_string(x); }
  void operator()(double x) { out += std::to_string(x); }
  void operator()(const std::string& x) { out += '"' + x + '"'; }
  void operator()(field_timestamp x) { out += "@" + std::to_string(x.seconds); }
  void operator()(const field_array& xs) {
    out += '[';
    for (size_t i = 0; i < xs.size(); ++i) {
      if (i > 0)
        out += ", ";
      std::visit(*this, xs[i].value);
    }
    out += ']';
  }
  void operator()(const field_table& xs) {
    out += '{';
    for (size_t i = 0; i < xs.size(); ++i) {
      if (i > 0)
        out += ", ";
      out += xs[i].key + ": ";
      std::visit(*this, xs[i].value.value);
    }
    out += '}';
  }
};

} // namespace

std::string to_string(const field_value& x) {
  std::string out;
  std::visit(printer{out}, x.value);
  return out;
}

std::string to_string(const field_table& x) {
  std::string out;
  printer{out}(x);
  return out;
}

} // namespace orderd::messaging
