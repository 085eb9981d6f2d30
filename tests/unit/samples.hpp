#pragma once

// Populated domain values shared by the tests of the codecs and of message serialization:
// their members are set away from the defaults, so a field a codec forgets shows up.

#include "domain/cart.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/time.hpp"

namespace orderd::samples {

// 2026-11-21T23:49:07.123Z
constexpr timestamp_ms t1 = 1'795'304'947'123;
constexpr timestamp_ms t2 = t1 + 60'000;

inline product sample_product() {
  product p;
  p.sku = "SKU-1";
  p.name = "Blue mug";
  p.description = "A mug.\nDishwasher safe, \"really\".";
  p.category = "kitchen";
  p.price_cents = 1250;
  p.currency = "EUR";
  p.available = 40;
  p.reserved = 2;
  p.sold = 7;
  p.low_stock_threshold = 5;
  p.version = 9;
  p.created_at = t1;
  p.updated_at = t2;
  return p;
}

inline order sample_order() {
  order o;
  o.id = "ord_1";
  o.customer_id = "cust-7";
  o.customer_email = "a@example.com";
  o.status = order_status::processing;
  o.lines = {{"SKU-1", 2, 1250}, {"SKU-2", 1, 1999}};
  o.total_cents = 4499;
  o.currency = "USD";
  o.created_at = t1;
  o.updated_at = t2;
  return o;
}

/// A cart with a line whose product is gone and a short line (stock_unavailable).
inline cart sample_cart() {
  cart c;
  c.customer_id = "5d2c1c9e-4a7b-4f1e-9a51-0c7e3b2d8f44";
  c.lines = {{"A", 2}, {"GONE", 1}};
  c.status = cart_status::stock_unavailable;
  c.short_lines = {{"A", 2, 1}};
  c.version = 3;
  c.created_at = t1;
  c.updated_at = t2;
  return c;
}

} // namespace orderd::samples
