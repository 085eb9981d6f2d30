#pragma once

// JSON wire formats of orderd: pure functions between request/response bodies and domain types.
// No CAF, no Beast. Encoders never throw (invalid UTF-8 in stored text is replaced by U+FFFD);
// decoders never throw and report every problem as a `field_error` naming the field path.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <nlohmann/json_fwd.hpp>

#include "domain/cart.hpp"
#include "domain/customer.hpp"
#include "domain/notification.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/validation.hpp"

namespace orderd::wire {

/// The outcome of decoding a request body: the value, or every reason it was refused.
/// Decoders first check JSON types, then run the domain `validate(...)`, so one call yields all
/// field errors (at most one per field path).
template <class T>
class decoded {
public:
  decoded(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  decoded(field_errors errors) : data_(std::in_place_index<1>, std::move(errors)) {}

  /// True if decoding succeeded.
  bool ok() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The value; only if ok().
  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }

  /// Why the body was refused; only if !ok(). Never empty.
  const field_errors& errors() const { return std::get<1>(data_); }

private:
  std::variant<T, field_errors> data_;
};

/// The body of `PUT/PATCH .../stock`: `{"available": N}` sets, `{"delta": N}` adjusts.
struct stock_update {
  enum class kind : uint8_t { set, adjust };
  kind what = kind::set;
  int64_t amount = 0; ///< new available stock (set, >= 0) or signed change (adjust)

  friend bool operator==(const stock_update&, const stock_update&) = default;
};

// -- encoding (responses) ---------------------------------------------------------------------
// Objects keep the member order of the spec (ordered_json). Timestamps are RFC 3339 UTC.

/// `{"sku","name","description","category","price_cents","currency","available","reserved",
/// "sold","low_stock_threshold","version","created_at","updated_at"}`.
nlohmann::ordered_json to_json(const product& p);

/// `{"sku","available","reserved","sold","version"}`.
nlohmann::ordered_json to_json(const stock_level& s);

/// v1 order: `{"id","customer_id","customer_email","status","items":[{"sku","quantity",
/// "unit_price_cents"}],"total_cents","currency","created_at","updated_at"}`.
nlohmann::ordered_json to_json(const order& o);

/// Legacy (seed) order: `{"id","customer_id","items":[{"product_id","quantity","price"}],
/// "status","created_at","updated_at","customer_email","total","currency"}`; `price` and
/// `total` are in currency units (cents / 100.0).
nlohmann::ordered_json to_legacy_json(const order& o);

/// Serialises compactly. Never throws: invalid UTF-8 is replaced by U+FFFD.
std::string dump(const nlohmann::ordered_json& j);

std::string encode(const product& p);
std::string encode(const stock_level& s);
std::string encode(const order& o);
std::string encode_legacy(const order& o);

/// Legacy answer to a cancel: `{"message":"order <id> cancelled","id","status"}`.
std::string encode_legacy_cancelled(const order& o);

/// `{"items":[product...],"next_cursor":"..." or null}`.
std::string encode_products(std::span<const product> items,
                            const std::optional<std::string>& next_cursor);

/// `{"items":[order...],"next_cursor":"..." or null}`.
std::string encode_orders(std::span<const order> items,
                          const std::optional<std::string>& next_cursor);

/// Legacy: `{"orders":[legacy order...],"next_cursor":"..." or null}`.
std::string encode_legacy_orders(std::span<const order> items,
                                 const std::optional<std::string>& next_cursor);

/// `{"id","name","email","phone","address","version","created_at","updated_at"}`; phone and
/// address are "" when not given.
nlohmann::ordered_json to_json(const customer& c);
std::string encode(const customer& c);

/// `{"items":[customer...],"next_cursor":"..." or null}`.
std::string encode_customers(std::span<const customer> items,
                             const std::optional<std::string>& next_cursor);

/// `{"id","channel","recipient","subject","body","status","attempts","last_error" (null when
/// none),"customer_id","event_id","event_type" (null for ad-hoc ones),"created_at","updated_at"}`.
nlohmann::ordered_json to_json(const notification& n);
std::string encode(const notification& n);

/// `{"items":[notification...],"next_cursor":"..." or null}`.
std::string encode_notifications(std::span<const notification> items,
                                 const std::optional<std::string>& next_cursor);

/// `{"customer_id","status","items":[{"sku","quantity","unit_price_cents","currency",
/// "line_total_cents"}],"total_cents","currency","short_items":[{"sku","requested",
/// "available"}],"version","created_at","updated_at"}`. `status` is "locked" while a checkout
/// runs, else the stored status ("open" or "stock_unavailable"); prices, line totals, total and
/// currency are null when unknown (product gone, or mixed currencies).
nlohmann::ordered_json to_json(const priced_cart& c);
std::string encode(const priced_cart& c);

// -- decoding (requests) ----------------------------------------------------------------------
// Common rules: the body must be a JSON object (else one error naming "body"; malformed JSON
// gives one "body" error with the parser's line/column). Unknown members are ignored. `null` is
// never a value: a null member is reported like a wrongly typed one. Integers must be exact
// JSON integers within int64 (1.0, 1e3 and 2^63 are refused). Field paths look like
// `items[1].quantity`.

/// `POST /api/v1/products`: sku, name, price_cents required; description and category default
/// "", currency "USD", available (initial stock) 0, low_stock_threshold 0. reserved, sold,
/// version and timestamps in the body are ignored (set by the server).
decoded<product> decode_product_create(std::string_view body);

/// `PUT /api/v1/products/{sku}`: a full replacement of the descriptive fields. name and
/// price_cents are required; description, category, currency, low_stock_threshold default as
/// in create. A `sku` member is ignored (the path names the product); so are stock figures.
decoded<product_details> decode_product_update(std::string_view body);

/// Stock body: exactly one of `{"available": N}` (0..max_stock) or `{"delta": N}`
/// (|N| <= max_stock); both or neither is an error naming "body".
decoded<stock_update> decode_stock_update(std::string_view body);

/// `PUT /api/v1/orders/{id}/status`: `{"status": "SHIPPED"}`; any order status name is decoded
/// (case-insensitive); which ones may be set is the order actor's business.
decoded<order_status> decode_status_update(std::string_view body);

/// `POST /api/v1/orders`: `{"customer_id","customer_email","items":[{"sku","quantity"}]}`;
/// customer_email is required. Lines are not merged (see merge_lines).
decoded<order_request> decode_order_request(std::string_view body);

/// Legacy `POST /order`: `{"customer_id","items":[{"product_id","quantity"}]}`. customer_email
/// is optional; `sku` is accepted as an alias of `product_id` (product_id wins if both); a
/// client-sent `price` is ignored (prices come from the catalogue). Errors about a line's SKU
/// name the member the client used (`items[0].product_id` or `items[0].sku`).
decoded<order_request> decode_legacy_order_request(std::string_view body);

/// `POST /api/v1/customers` and `PUT /api/v1/customers/{id}` (a full replacement):
/// `{"name","email","phone","address"}`; name and email required, phone and address default "".
/// `id`, `version` and timestamps in the body are ignored (set by the server).
decoded<customer_details> decode_customer(std::string_view body);

/// `POST /api/v1/cart/items`: `{"sku","quantity"}`, both required; quantity 1..1,000,000.
decoded<requested_line> decode_cart_item(std::string_view body);

/// `POST /api/v1/notifications`: `{"channel","recipient","subject","body"}` (body optional),
/// validated (domain validate()).
decoded<notification_request> decode_notification_request(std::string_view body);

} // namespace orderd::wire
