#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace orderd::messaging {

struct field_value;
struct field_entry;

/// An AMQP field table (message headers, queue arguments), in wire order. Keys are unique
/// by convention; set() keeps them so.
using field_table = std::vector<field_entry>;

/// An AMQP field array (e.g. `x-death`).
using field_array = std::vector<field_value>;

/// An AMQP timestamp: seconds since the Unix epoch. A type of its own so it round-trips
/// (the `time` field of `x-death`).
struct field_timestamp {
  uint64_t seconds = 0;
  friend bool operator==(field_timestamp, field_timestamp) = default;
};

/// One value of a field table. Every AMQP integer width decodes to int64_t (unsigned 64-bit
/// values above INT64_MAX are clamped), floats and decimals to double, long strings and byte
/// arrays to std::string; encoding uses the 64-bit signed, double and long-string kinds, which
/// RabbitMQ accepts everywhere (x-message-ttl, x-delivery-limit, …).
struct field_value {
  using variant = std::variant<std::monostate, bool, int64_t, double, std::string,
                               field_timestamp, field_array, field_table>;
  variant value;

  field_value() = default;
  field_value(bool x) : value(x) {}
  template <class T, class = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
  field_value(T x) : value(static_cast<int64_t>(x)) {}
  field_value(double x) : value(x) {}
  field_value(std::string x) : value(std::move(x)) {}
  field_value(std::string_view x) : value(std::string{x}) {}
  field_value(const char* x) : value(std::string{x}) {}
  field_value(field_timestamp x) : value(x) {}
  field_value(field_array x) : value(std::move(x)) {}
  field_value(field_table x) : value(std::move(x)) {}

  const int64_t* as_int() const noexcept { return std::get_if<int64_t>(&value); }
  const std::string* as_string() const noexcept { return std::get_if<std::string>(&value); }
  const field_table* as_table() const noexcept { return std::get_if<field_table>(&value); }
  const field_array* as_array() const noexcept { return std::get_if<field_array>(&value); }
};

/// One key/value pair of a field table.
struct field_entry {
  std::string key;
  field_value value;
};

bool operator==(const field_value& x, const field_value& y);
bool operator==(const field_entry& x, const field_entry& y);

/// The value under `key`, or nullptr.
const field_value* find(const field_table& table, std::string_view key);

/// Sets `key` to `value`, replacing an existing entry in place.
void set(field_table& table, std::string_view key, field_value value);

/// The integer under `key`, if there is one of that type.
std::optional<int64_t> get_int(const field_table& table, std::string_view key);

/// The string under `key`, if there is one of that type.
std::optional<std::string> get_string(const field_table& table, std::string_view key);

/// How often RabbitMQ dead-lettered the message, summed over its `x-death` header: only
/// entries for `queue` and/or `reason` ("rejected", "expired", "maxlen", "delivery_limit")
/// when those are non-empty. 0 without an x-death header.
int64_t x_death_count(const field_table& headers, std::string_view queue = {},
                      std::string_view reason = {});

/// Human-readable rendering for logs and test failures, e.g. `{a: 1, b: "x", c: [2]}`.
std::string to_string(const field_value& x);
std::string to_string(const field_table& x);

} // namespace orderd::messaging
