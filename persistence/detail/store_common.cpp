#include "persistence/detail/store_common.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <type_traits>

#include "domain/validation.hpp"

namespace orderd::persistence::detail {

namespace {

// -- base64url without padding (RFC 4648 §5) --------------------------------------------------

constexpr std::string_view base64url_alphabet
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (uint32_t{static_cast<uint8_t>(in[i])} << 16)
                 | (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8)
                 | uint32_t{static_cast<uint8_t>(in[i + 2])};
    out += base64url_alphabet[(n >> 18) & 63];
    out += base64url_alphabet[(n >> 12) & 63];
    out += base64url_alphabet[(n >> 6) & 63];
    out += base64url_alphabet[n & 63];
  }
  if (auto rest = in.size() - i; rest > 0) {
    uint32_t n = uint32_t{static_cast<uint8_t>(in[i])} << 16;
    if (rest == 2)
      n |= uint32_t{static_cast<uint8_t>(in[i + 1])} << 8;
    out += base64url_alphabet[(n >> 18) & 63];
    out += base64url_alphabet[(n >> 12) & 63];
    if (rest == 2)
      out += base64url_alphabet[(n >> 6) & 63];
  }
  return out;
}

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> table{};
  for (auto& v : table)
    v = -1;
  for (size_t i = 0; i < base64url_alphabet.size(); ++i)
    table[static_cast<uint8_t>(base64url_alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr auto base64url_decode_table = make_decode_table();

std::optional<std::string> base64url_decode(std::string_view in) {
  if (in.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t bits = 0;
  int bit_count = 0;
  for (char c : in) {
    auto v = base64url_decode_table[static_cast<uint8_t>(c)];
    if (v < 0)
      return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out += static_cast<char>((bits >> bit_count) & 0xFF);
    }
  }
  // Leftover bits must be zero, so every cursor has exactly one spelling.
  if ((bits & ((1u << bit_count) - 1)) != 0)
    return std::nullopt;
  return out;
}

// The tags keep a product cursor from being accepted by the order listing and vice versa.
constexpr std::string_view product_cursor_tag = "p:";
constexpr std::string_view order_cursor_tag = "o:";
constexpr std::string_view customer_cursor_tag = "c:";
constexpr std::string_view notification_cursor_tag = "n:";

[[noreturn]] void bad_cursor() {
  throw store_error(errc::invalid_input, "malformed cursor");
}

std::string decode_tagged(std::string_view cursor, std::string_view tag) {
  auto plain = base64url_decode(cursor);
  if (!plain || !plain->starts_with(tag))
    bad_cursor();
  return plain->substr(tag.size());
}

std::string signed_number(int64_t n) {
  return (n >= 0 ? "+" : "") + std::to_string(n);
}

bool within_stock_limit(int64_t n) noexcept {
  return n >= -limits::max_stock && n <= limits::max_stock;
}

} // namespace

std::string encode_product_cursor(std::string_view last_sku) {
  std::string plain{product_cursor_tag};
  plain += last_sku;
  return base64url_encode(plain);
}

std::string decode_product_cursor(std::string_view cursor) {
  if (cursor.empty())
    return {};
  return decode_tagged(cursor, product_cursor_tag);
}

std::string encode_order_cursor(int64_t last_seq) {
  std::string plain{order_cursor_tag};
  plain += std::to_string(last_seq);
  return base64url_encode(plain);
}

std::optional<int64_t> decode_order_cursor(std::string_view cursor) {
  if (cursor.empty())
    return std::nullopt;
  auto digits = decode_tagged(cursor, order_cursor_tag);
  int64_t seq = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc{} || end != digits.data() + digits.size() || seq <= 0)
    bad_cursor();
  return seq;
}

std::string encode_customer_cursor(std::string_view last_id) {
  std::string plain{customer_cursor_tag};
  plain += last_id;
  return base64url_encode(plain);
}

std::string decode_customer_cursor(std::string_view cursor) {
  if (cursor.empty())
    return {};
  return decode_tagged(cursor, customer_cursor_tag);
}

std::string encode_notification_cursor(std::string_view last_id) {
  std::string plain{notification_cursor_tag};
  plain += last_id;
  return base64url_encode(plain);
}

std::string decode_notification_cursor(std::string_view cursor) {
  if (cursor.empty())
    return {};
  return decode_tagged(cursor, notification_cursor_tag);
}

int64_t page_limit(size_t limit) {
  if (limit == 0)
    throw store_error(errc::invalid_input, "page limit must be at least 1");
  return row_limit(limit);
}

int64_t row_limit(size_t limit) noexcept {
  // Leaves room for the extra row a page fetches to learn whether another page follows.
  constexpr auto max = static_cast<size_t>(std::numeric_limits<int64_t>::max() - 1);
  return static_cast<int64_t>(std::min(limit, max));
}

std::optional<op_failure> check_arguments(const store_op& op) {
  auto invalid = [](std::string detail) {
    return std::optional<op_failure>{op_failure{errc::invalid_input, std::move(detail)}};
  };
  return std::visit(
    [&](const auto& x) -> std::optional<op_failure> {
      using op_type = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<op_type, insert_product>) {
        auto& p = x.item;
        if (p.available < 0 || p.reserved < 0 || p.sold < 0)
          return invalid("product " + p.sku + ": stock figures must not be negative");
        if (p.available > limits::max_stock || p.reserved > limits::max_stock
            || p.sold > limits::max_stock)
          return invalid("product " + p.sku + ": stock figures exceed the limit");
      } else if constexpr (std::is_same_v<op_type, set_available>) {
        if (x.available < 0 || x.available > limits::max_stock)
          return invalid("product " + x.sku + ": available must be between 0 and "
                         + std::to_string(limits::max_stock));
      } else if constexpr (std::is_same_v<op_type, append_event>) {
        if (x.event.id.empty() || x.event.type.empty())
          return invalid("an outbox event needs an id and a type");
      } else if constexpr (std::is_same_v<op_type, append_stock_events>) {
        if (!x.render)
          return invalid("append_stock_events needs a renderer");
      } else if constexpr (std::is_same_v<op_type, insert_customer>
                           || std::is_same_v<op_type, update_customer>) {
        if (x.item.id.empty())
          return invalid("a customer needs an id");
      } else if constexpr (std::is_same_v<op_type, insert_notification>) {
        if (x.item.id.empty() || x.item.recipient.empty())
          return invalid("a notification needs an id and a recipient");
      } else if constexpr (std::is_same_v<op_type, save_cart>) {
        if (x.item.customer_id.empty() || x.item.version < 1)
          return invalid("a cart needs a customer id and a version of at least 1");
      } else if constexpr (std::is_same_v<op_type, adjust_stock>) {
        // Bounded deltas keep the guarded sums far from integer overflow.
        if (!within_stock_limit(x.available_delta) || !within_stock_limit(x.reserved_delta)
            || !within_stock_limit(x.sold_delta))
          return invalid("product " + x.sku + ": stock delta exceeds the limit");
      }
      return std::nullopt;
    },
    op);
}

op_failure product_exists(std::string_view sku) {
  return {errc::conflict, "product " + std::string{sku} + " exists already"};
}

op_failure product_not_found(std::string_view sku) {
  return {errc::not_found, "product " + std::string{sku} + " not found"};
}

op_failure product_reserved(std::string_view sku, int64_t reserved) {
  return {errc::conflict, "product " + std::string{sku} + " has " + std::to_string(reserved)
                            + " units reserved by open orders"};
}

op_failure insufficient_stock(const stock_level& have, const adjust_stock& op) {
  return {errc::insufficient_stock,
          "insufficient stock for " + have.sku + ": available " + std::to_string(have.available)
            + ", reserved " + std::to_string(have.reserved) + ", sold "
            + std::to_string(have.sold) + "; cannot apply available "
            + signed_number(op.available_delta) + ", reserved " + signed_number(op.reserved_delta)
            + ", sold " + signed_number(op.sold_delta)};
}

op_failure order_exists(std::string_view id) {
  return {errc::conflict, "order " + std::string{id} + " exists already"};
}

op_failure order_not_found(std::string_view id) {
  return {errc::not_found, "order " + std::string{id} + " not found"};
}

op_failure wrong_order_status(std::string_view id, order_status actual, order_status expected) {
  return {errc::illegal_transition, "order " + std::string{id} + " is "
                                      + std::string{to_string(actual)} + ", not "
                                      + std::string{to_string(expected)}};
}

op_failure message_processed_already(std::string_view id) {
  return {errc::conflict, "message " + std::string{id} + " was processed already"};
}

op_failure idempotency_key_exists(std::string_view key) {
  return {errc::conflict, "idempotency key " + std::string{key} + " exists already"};
}

op_failure event_exists(std::string_view id) {
  return {errc::conflict, "event " + std::string{id} + " exists already"};
}

op_failure render_failed(std::string_view why) {
  return {errc::internal, "rendering stock events failed: " + std::string{why}};
}

op_failure customer_exists(std::string_view id) {
  return {errc::conflict, "customer " + std::string{id} + " exists already"};
}

op_failure email_taken(std::string_view email) {
  return {errc::conflict, "another customer has the e-mail address " + std::string{email}};
}

op_failure customer_not_found(std::string_view id) {
  return {errc::not_found, "no customer with id " + std::string{id}};
}

op_failure notification_exists(std::string_view id) {
  return {errc::conflict, "notification " + std::string{id} + " exists already"};
}

op_failure notification_not_found(std::string_view id) {
  return {errc::not_found, "no notification with id " + std::string{id}};
}

op_failure customer_changed(std::string_view id, int64_t expected, int64_t actual) {
  return {errc::conflict, "customer " + std::string{id} + " is at version "
                            + std::to_string(actual) + ", not " + std::to_string(expected)
                            + " (changed concurrently); retry"};
}

op_failure cart_changed(std::string_view customer_id, int64_t expected, int64_t actual) {
  return {errc::conflict, "the cart of customer " + std::string{customer_id} + " is at version "
                            + std::to_string(actual) + ", not " + std::to_string(expected)};
}

change_result refused(op_failure failure) {
  change_result result;
  result.code = failure.code;
  result.detail = std::move(failure.detail);
  return result;
}

void stock_tracker::touched(std::optional<stock_snapshot> before, stock_snapshot after) {
  auto i = std::find_if(moves_.begin(), moves_.end(), [&](const stock_move& x) {
    return x.after.level.sku == after.level.sku;
  });
  if (i != moves_.end())
    i->after = std::move(after);
  else
    moves_.push_back(stock_move{std::move(before), std::move(after)});
}

void stock_tracker::deleted(const std::string& sku) {
  std::erase_if(moves_, [&](const stock_move& x) { return x.after.level.sku == sku; });
}

std::vector<stock_level> stock_tracker::take() {
  std::vector<stock_level> levels;
  levels.reserve(moves_.size());
  for (auto& m : moves_)
    levels.push_back(std::move(m.after.level));
  moves_.clear();
  return levels;
}

std::variant<std::vector<event_record>, op_failure> render_stock_events(
  const append_stock_events& op, const stock_tracker& stock) {
  try {
    return op.render(stock.moves());
  } catch (const std::exception& e) {
    return render_failed(e.what());
  } catch (...) {
    return render_failed("unknown exception");
  }
}

} // namespace orderd::persistence::detail
