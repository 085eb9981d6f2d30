#include "wire/json_codec.hpp"
#include "wire/order_format.hpp"

#include <limits>

#include <nlohmann/json.hpp>

#include "wire/order_json.hpp"

namespace orderd::wire {

namespace {

using json = nlohmann::json;          // requests: std::map objects, O(log n) member lookup
using ojson = nlohmann::ordered_json; // responses: members in spec order

// -- encoding helpers -------------------------------------------------------------------------

/// An empty object with room for `n` members; members are appended with `add`, which skips the
/// duplicate check of operator[] (we control the keys).
ojson make_object(size_t n) {
  ojson j(ojson::value_t::object);
  j.get_ref<ojson::object_t&>().reserve(n);
  return j;
}

template <class T>
void add(ojson& j, const char* key, T&& value) {
  j.get_ref<ojson::object_t&>().emplace_back(key, std::forward<T>(value));
}

double to_units(int64_t cents) {
  return static_cast<double>(cents) / 100.0;
}

/// An array of `to(item)` for each of `items`.
template <class Items, class F>
ojson make_array(const Items& items, F to) {
  ojson arr(ojson::value_t::array);
  auto& vec = arr.get_ref<ojson::array_t&>();
  vec.reserve(std::size(items));
  for (auto& item : items)
    vec.push_back(to(item));
  return arr;
}

template <class T, class F>
ojson make_list(const char* member, std::span<const T> items,
                const std::optional<std::string>& next_cursor, F to) {
  auto j = make_object(2);
  add(j, member, make_array(items, to));
  add(j, "next_cursor", next_cursor ? ojson(*next_cursor) : ojson(nullptr));
  return j;
}

// -- decoding helpers -------------------------------------------------------------------------

/// Finds the position and reason of a syntax error without exceptions. Only used after a
/// non-throwing parse failed, so the fast path parses once.
class syntax_error_finder : public nlohmann::json_sax<json> {
public:
  std::string message;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }

  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ...".
    std::string_view what = ex.what();
    if (auto pos = what.find("] "); pos != std::string_view::npos)
      what.remove_prefix(pos + 2);
    message = what;
    return false;
  }
};

/// Parses `body`, which must hold a JSON object. On failure, returns the reason as errors.
std::variant<json, field_errors> parse_object(std::string_view body) {
  auto root = json::parse(body.begin(), body.end(), nullptr, false);
  if (root.is_discarded()) {
    syntax_error_finder finder;
    json::sax_parse(body.begin(), body.end(), &finder);
    if (finder.message.empty())
      finder.message = "unknown syntax error";
    return field_errors{{"body", "malformed JSON: " + finder.message}};
  }
  if (!root.is_object())
    return field_errors{{"body", "must be a JSON object"}};
  return root;
}

/// Reads typed members of one JSON object, recording a field error for each missing or
/// wrongly typed one. Fields keep their default when absent and optional.
class reader {
public:
  reader(const json& obj, std::string prefix, field_errors& errs)
    : obj_(obj), prefix_(std::move(prefix)), errs_(errs) {
    // nothing
  }

  const json* find(const char* key) const {
    auto i = obj_.find(key);
    return i == obj_.end() ? nullptr : &*i;
  }

  std::string path(const char* key) const { return prefix_ + key; }

  void fail(const char* key, std::string message) {
    errs_.push_back({path(key), std::move(message)});
  }

  /// Reads a string member. Returns false if absent (and required) or mistyped.
  bool text(const char* key, std::string& out, bool required) {
    auto v = find(key);
    if (v == nullptr) {
      if (required)
        fail(key, "is required");
      return !required;
    }
    if (!v->is_string()) {
      fail(key, v->is_null() ? "must be a string, not null" : "must be a string");
      return false;
    }
    out = v->get_ref<const json::string_t&>();
    return true;
  }

  /// Reads an exact JSON integer within int64.
  bool integer(const char* key, int64_t& out, bool required) {
    auto v = find(key);
    if (v == nullptr) {
      if (required)
        fail(key, "is required");
      return !required;
    }
    return integer_value(key, *v, out);
  }

  bool integer_value(const char* key, const json& v, int64_t& out) {
    constexpr auto max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (v.is_number_unsigned()) {
      auto u = v.get<uint64_t>();
      if (u > max) {
        fail(key, "is out of range (must fit in a signed 64-bit integer)");
        return false;
      }
      out = static_cast<int64_t>(u);
      return true;
    }
    if (v.is_number_integer()) {
      out = v.get<int64_t>();
      return true;
    }
    if (v.is_number_float())
      fail(key, "must be an integer (no fraction or exponent) within 64-bit range");
    else
      fail(key, v.is_null() ? "must be an integer, not null" : "must be an integer");
    return false;
  }

private:
  const json& obj_;
  std::string prefix_;
  field_errors& errs_;
};

/// True if `path` is `outer` or lies inside it (`items[1]` covers `items[1].sku`).
bool covers(std::string_view outer, std::string_view path) {
  return path.starts_with(outer)
         && (path.size() == outer.size() || path[outer.size()] == '.'
             || path[outer.size()] == '[');
}

/// Adds the domain validation errors to the decoding errors, skipping fields covered by a
/// decoding error (a field that failed to decode would otherwise be reported twice).
template <class T>
decoded<T> finish(T value, field_errors errs, const field_errors& validation) {
  auto decode_count = errs.size();
  for (auto& e : validation) {
    bool seen = false;
    for (size_t i = 0; i < decode_count && !seen; ++i)
      seen = covers(errs[i].field, e.field);
    if (!seen)
      errs.push_back(e);
  }
  if (!errs.empty())
    return errs;
  return value;
}

/// Decodes `body`, which must hold a JSON object: `read(r, errs)` makes the result from its
/// members, read with `r`, which records their field errors in `errs`.
template <class T, class Read>
decoded<T> decode_object(std::string_view body, Read read) {
  auto parsed = parse_object(body);
  if (parsed.index() == 1)
    return std::get<1>(std::move(parsed));
  field_errors errs;
  reader r{std::get<0>(parsed), "", errs};
  return read(r, errs);
}

/// Decodes `body` into `value`, whose members `read(r, value)` reads, and adds the errors of the
/// domain's validate(value) (see finish).
template <class T, class Read>
decoded<T> decode_validated(std::string_view body, T value, Read read) {
  return decode_object<T>(body, [&](reader& r, field_errors& errs) {
    read(r, value);
    auto validation = validate(value);
    return finish(std::move(value), std::move(errs), validation);
  });
}

/// The members a new product and a product update share, up to the currency.
template <class P>
void read_priced_details(reader& r, P& p) {
  r.text("name", p.name, true);
  r.text("description", p.description, false);
  r.text("category", p.category, false);
  r.integer("price_cents", p.price_cents, true);
  r.text("currency", p.currency, false);
}

std::string item_prefix(size_t index) {
  return "items[" + std::to_string(index) + "].";
}

/// Reads the `items` array of an order request. `legacy` selects `product_id` (alias `sku`);
/// `used_product_id[i]` tells which of the two names line i's SKU errors should use.
void read_lines(reader& root, bool legacy, order_request& req, field_errors& errs,
                std::vector<bool>& used_product_id) {
  auto items = root.find("items");
  if (items == nullptr) {
    root.fail("items", "is required");
    return;
  }
  if (!items->is_array()) {
    root.fail("items", items->is_null() ? "must be an array, not null" : "must be an array");
    return;
  }
  if (items->size() > limits::max_lines_per_order) {
    // Decoding more would only produce more errors for a request that is refused anyway.
    root.fail("items", "must contain at most " + std::to_string(limits::max_lines_per_order)
                         + " items");
    return;
  }
  req.lines.reserve(items->size());
  for (size_t i = 0; i < items->size(); ++i) {
    auto& item = (*items)[i];
    auto& line = req.lines.emplace_back();
    used_product_id.push_back(legacy);
    if (!item.is_object()) {
      errs.push_back({"items[" + std::to_string(i) + "]", "must be an object"});
      continue;
    }
    reader r{item, item_prefix(i), errs};
    if (legacy && r.find("product_id") == nullptr && r.find("sku") != nullptr) {
      used_product_id.back() = false;
      r.text("sku", line.sku, true);
    } else {
      r.text(legacy ? "product_id" : "sku", line.sku, true);
    }
    r.integer("quantity", line.quantity, true);
  }
}

decoded<order_request> decode_request(std::string_view body, bool legacy) {
  return decode_object<order_request>(body, [&](reader& r, field_errors& errs) {
    order_request req;
    r.text("customer_id", req.customer_id, true);
    r.text("customer_email", req.customer_email, !legacy);
    std::vector<bool> used_product_id;
    read_lines(r, legacy, req, errs, used_product_id);
    auto validation = validate(req, !legacy);
    if (legacy) {
      // The domain names SKU errors items[i].sku; say product_id where the client did.
      for (auto& e : validation) {
        for (size_t i = 0; i < used_product_id.size(); ++i) {
          if (used_product_id[i] && e.field == item_prefix(i) + "sku") {
            e.field = item_prefix(i) + "product_id";
            break;
          }
        }
      }
    }
    return finish(std::move(req), std::move(errs), validation);
  });
}

} // namespace

// -- encoding ---------------------------------------------------------------------------------

nlohmann::ordered_json to_json(const product& p) {
  auto j = make_object(13);
  add(j, "sku", p.sku);
  add(j, "name", p.name);
  add(j, "description", p.description);
  add(j, "category", p.category);
  add(j, "price_cents", p.price_cents);
  add(j, "currency", p.currency);
  add(j, "available", p.available);
  add(j, "reserved", p.reserved);
  add(j, "sold", p.sold);
  add(j, "low_stock_threshold", p.low_stock_threshold);
  add(j, "version", p.version);
  add(j, "created_at", format_rfc3339(p.created_at));
  add(j, "updated_at", format_rfc3339(p.updated_at));
  return j;
}

nlohmann::ordered_json to_json(const stock_level& s) {
  auto j = make_object(5);
  add(j, "sku", s.sku);
  add(j, "available", s.available);
  add(j, "reserved", s.reserved);
  add(j, "sold", s.sold);
  add(j, "version", s.version);
  return j;
}

nlohmann::ordered_json to_json(const order& o) {
  auto items = make_array(o.lines, [](const order_line& line) {
    auto item = make_object(3);
    add(item, "sku", line.sku);
    add(item, "quantity", line.quantity);
    add(item, "unit_price_cents", line.unit_price_cents);
    return item;
  });
  auto j = make_object(11);
  add(j, "id", o.id);
  add(j, "customer_id", o.customer_id);
  add(j, "customer_email", o.customer_email);
  add(j, "status", to_string(o.status));
  add(j, "items", std::move(items));
  add(j, "total_cents", o.total_cents);
  add(j, "currency", o.currency);
  add(j, "created_at", format_rfc3339(o.created_at));
  add(j, "updated_at", format_rfc3339(o.updated_at));
  // Only cancelled orders have a reason; other orders keep their shape.
  if (!o.cancel_reason.empty())
    add(j, "cancel_reason", o.cancel_reason);
  return j;
}

nlohmann::ordered_json to_legacy_json(const order& o) {
  auto items = make_array(o.lines, [](const order_line& line) {
    auto item = make_object(3);
    add(item, "product_id", line.sku);
    add(item, "quantity", line.quantity);
    add(item, "price", to_units(line.unit_price_cents));
    return item;
  });
  auto j = make_object(9);
  add(j, "id", o.id);
  add(j, "customer_id", o.customer_id);
  add(j, "items", std::move(items));
  add(j, "status", to_string(o.status));
  add(j, "created_at", format_rfc3339(o.created_at));
  add(j, "updated_at", format_rfc3339(o.updated_at));
  add(j, "customer_email", o.customer_email);
  add(j, "total", to_units(o.total_cents));
  add(j, "currency", o.currency);
  return j;
}

std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

std::string encode(const product& p) {
  return dump(to_json(p));
}

std::string encode(const stock_level& s) {
  return dump(to_json(s));
}

std::string encode(const order& o) {
  return render_order_json(o); // the same bytes as dump(to_json(o)), without the tree
}

std::string encode_legacy(const order& o) {
  return dump(to_legacy_json(o));
}

std::string render_order(const order& o, order_format format) {
  return format == order_format::legacy ? encode_legacy(o) : encode(o);
}

std::string encode_legacy_cancelled(const order& o) {
  ojson j{{"message", "order " + o.id + " cancelled"}, {"id", o.id},
          {"status", to_string(o.status)}};
  return dump(j);
}

std::string encode_products(std::span<const product> items,
                            const std::optional<std::string>& next_cursor) {
  return dump(make_list("items", items, next_cursor,
                        [](const product& p) { return to_json(p); }));
}

std::string encode_orders(std::span<const order> items,
                          const std::optional<std::string>& next_cursor) {
  return dump(make_list("items", items, next_cursor, [](const order& o) { return to_json(o); }));
}

std::string encode_legacy_orders(std::span<const order> items,
                                 const std::optional<std::string>& next_cursor) {
  return dump(make_list("orders", items, next_cursor,
                        [](const order& o) { return to_legacy_json(o); }));
}

nlohmann::ordered_json to_json(const customer& c) {
  auto j = make_object(8);
  add(j, "id", c.id);
  add(j, "name", c.details.name);
  add(j, "email", c.details.email);
  add(j, "phone", c.details.phone);
  add(j, "address", c.details.address);
  add(j, "version", c.version);
  add(j, "created_at", format_rfc3339(c.created_at));
  add(j, "updated_at", format_rfc3339(c.updated_at));
  return j;
}

std::string encode(const customer& c) {
  return dump(to_json(c));
}

std::string encode_customers(std::span<const customer> items,
                             const std::optional<std::string>& next_cursor) {
  return dump(make_list("items", items, next_cursor,
                        [](const customer& c) { return to_json(c); }));
}

nlohmann::ordered_json to_json(const notification& n) {
  auto null_if_empty = [](const std::string& x) { return x.empty() ? ojson(nullptr) : ojson(x); };
  auto j = make_object(13);
  add(j, "id", n.id);
  add(j, "channel", std::string{to_string(n.channel)});
  add(j, "recipient", n.recipient);
  add(j, "subject", n.subject);
  add(j, "body", n.body);
  add(j, "status", std::string{to_string(n.status)});
  add(j, "attempts", n.attempts);
  add(j, "last_error", null_if_empty(n.last_error));
  add(j, "customer_id", null_if_empty(n.customer_id));
  add(j, "event_id", null_if_empty(n.event_id));
  add(j, "event_type", null_if_empty(n.event_type));
  add(j, "created_at", format_rfc3339(n.created_at));
  add(j, "updated_at", format_rfc3339(n.updated_at));
  return j;
}

std::string encode(const notification& n) {
  return dump(to_json(n));
}

std::string encode_notifications(std::span<const notification> items,
                                 const std::optional<std::string>& next_cursor) {
  return dump(make_list("items", items, next_cursor,
                        [](const notification& n) { return to_json(n); }));
}

namespace {

template <class T>
ojson or_null(const std::optional<T>& x) {
  return x ? ojson(*x) : ojson(nullptr);
}

} // namespace

nlohmann::ordered_json to_json(const priced_cart& c) {
  auto items = make_array(c.lines, [](const priced_line& line) {
    auto item = make_object(5);
    add(item, "sku", line.sku);
    add(item, "quantity", line.quantity);
    add(item, "unit_price_cents", or_null(line.unit_price_cents));
    add(item, "currency", or_null(line.currency));
    add(item, "line_total_cents", or_null(line.line_total_cents));
    return item;
  });
  auto shorts = make_array(c.content.short_lines, [](const short_line& line) {
    auto item = make_object(3);
    add(item, "sku", line.sku);
    add(item, "requested", line.requested);
    add(item, "available", line.available);
    return item;
  });
  auto j = make_object(9);
  add(j, "customer_id", c.content.customer_id);
  add(j, "status", c.locked ? std::string{"locked"} : std::string{to_string(c.content.status)});
  add(j, "items", std::move(items));
  add(j, "total_cents", or_null(c.total_cents));
  add(j, "currency", or_null(c.currency));
  add(j, "short_items", std::move(shorts));
  add(j, "version", c.content.version);
  add(j, "created_at", format_rfc3339(c.content.created_at));
  add(j, "updated_at", format_rfc3339(c.content.updated_at));
  return j;
}

std::string encode(const priced_cart& c) {
  return dump(to_json(c));
}

// -- decoding ---------------------------------------------------------------------------------

decoded<product> decode_product_create(std::string_view body) {
  return decode_validated(body, product{}, [](reader& r, product& p) {
    r.text("sku", p.sku, true);
    read_priced_details(r, p);
    r.integer("available", p.available, false);
    r.integer("low_stock_threshold", p.low_stock_threshold, false);
  });
}

decoded<product_details> decode_product_update(std::string_view body) {
  product_details details;
  details.currency = "USD";
  return decode_validated(body, std::move(details), [](reader& r, product_details& d) {
    read_priced_details(r, d);
    r.integer("low_stock_threshold", d.low_stock_threshold, false);
  });
}

decoded<stock_update> decode_stock_update(std::string_view body) {
  return decode_object<stock_update>(body, [](reader& r, field_errors& errs)
                                              -> decoded<stock_update> {
    bool has_available = r.find("available") != nullptr;
    bool has_delta = r.find("delta") != nullptr;
    if (has_available == has_delta)
      return field_errors{{"body", "must contain exactly one of \"available\" (set) or "
                                   "\"delta\" (adjust)"}};
    stock_update result;
    auto range = std::to_string(limits::max_stock);
    if (has_available) {
      result.what = stock_update::kind::set;
      if (r.integer("available", result.amount, true)
          && (result.amount < 0 || result.amount > limits::max_stock))
        r.fail("available", "must be between 0 and " + range);
    } else {
      result.what = stock_update::kind::adjust;
      if (r.integer("delta", result.amount, true)
          && (result.amount < -limits::max_stock || result.amount > limits::max_stock))
        r.fail("delta", "must be between -" + range + " and " + range);
    }
    if (!errs.empty())
      return errs;
    return result;
  });
}

decoded<order_status> decode_status_update(std::string_view body) {
  return decode_object<order_status>(body, [](reader& r, field_errors& errs)
                                                -> decoded<order_status> {
    std::string text;
    if (!r.text("status", text, true))
      return errs;
    auto status = parse_order_status(text);
    if (!status)
      return field_errors{
        {"status", "must be an order status, e.g. \"SHIPPED\" or \"DELIVERED\""}};
    return *status;
  });
}

decoded<customer_details> decode_customer(std::string_view body) {
  return decode_validated(body, customer_details{}, [](reader& r, customer_details& d) {
    r.text("name", d.name, true);
    r.text("email", d.email, true);
    r.text("phone", d.phone, false);
    r.text("address", d.address, false);
  });
}

decoded<requested_line> decode_cart_item(std::string_view body) {
  return decode_object<requested_line>(body, [](reader& r, field_errors& errs) {
    requested_line line;
    r.text("sku", line.sku, true);
    r.integer("quantity", line.quantity, true);
    field_errors validation;
    if (!is_valid_sku(line.sku))
      validation.push_back(
        {"sku", std::string{sku_rule}});
    if (line.quantity < 1 || line.quantity > limits::max_quantity_per_line)
      validation.push_back({"quantity", "must be between 1 and "
                                          + std::to_string(limits::max_quantity_per_line)});
    return finish(std::move(line), std::move(errs), validation);
  });
}

decoded<notification_request> decode_notification_request(std::string_view body) {
  return decode_validated(body, notification_request{},
                          [](reader& r, notification_request& n) {
                            r.text("channel", n.channel, true);
                            r.text("recipient", n.recipient, true);
                            r.text("subject", n.subject, true);
                            r.text("body", n.body, false);
                          });
}

decoded<order_request> decode_order_request(std::string_view body) {
  return decode_request(body, false);
}

decoded<order_request> decode_legacy_order_request(std::string_view body) {
  return decode_request(body, true);
}

} // namespace orderd::wire
