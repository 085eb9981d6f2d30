#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/order.hpp"
#include "domain/time.hpp"
#include "domain/validation.hpp"

namespace orderd {

/// The fields of a customer a client may set (create and full replacement).
struct customer_details {
  std::string name;
  std::string email;
  std::string phone;   ///< optional; empty: none
  std::string address; ///< optional, free-form postal address; empty: none

  friend bool operator==(const customer_details&, const customer_details&) = default;
};

/// A customer. `id` is a server-made UUID; orders refer to it by their `customer_id`, so every
/// order placed with a customer's id (through the cart or POST /orders) is that customer's.
/// E-mail addresses are unique among customers, compared case-insensitively.
struct customer {
  std::string id;
  customer_details details;
  int64_t version = 0; ///< 1 on creation, +1 per update
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;

  friend bool operator==(const customer&, const customer&) = default;
};

namespace limits {
inline constexpr size_t max_phone_length = 32;
inline constexpr size_t max_address_length = 500;
} // namespace limits

/// The key e-mail uniqueness is checked on: the address with ASCII letters lower-cased.
std::string email_key(std::string_view email);

/// Checks a customer's fields: name required, e-mail valid, phone digits with + - ( ) . and
/// spaces, address without control characters other than line breaks.
field_errors validate(const customer_details& d);

} // namespace orderd
