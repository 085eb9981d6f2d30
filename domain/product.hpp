#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/time.hpp"

namespace orderd {

/// Stock figures of one SKU. `available` is sellable now, `reserved` is held by open
/// orders, `sold` belongs to confirmed orders. Every change bumps `version`, so a newer
/// snapshot can always be told from an older one.
struct stock_level {
  std::string sku;
  int64_t available = 0;
  int64_t reserved = 0;
  int64_t sold = 0;
  int64_t version = 0;

  friend bool operator==(const stock_level&, const stock_level&) = default;
};

/// A catalogue entry with its stock. Prices are integer minor units (cents).
struct product {
  std::string sku;
  std::string name;
  std::string description;
  std::string category;
  int64_t price_cents = 0;
  std::string currency = "USD";
  int64_t available = 0;
  int64_t reserved = 0;
  int64_t sold = 0;
  int64_t low_stock_threshold = 0;
  int64_t version = 0;
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;

  /// True when available stock is at or below the threshold.
  bool is_low_on_stock() const noexcept { return available <= low_stock_threshold; }

  stock_level stock() const { return {sku, available, reserved, sold, version}; }

  void apply(const stock_level& s) {
    available = s.available;
    reserved = s.reserved;
    sold = s.sold;
    version = s.version;
  }

  friend bool operator==(const product&, const product&) = default;
};

/// One SKU's stock figures together with its low-stock threshold: what a stock change needs to
/// know to tell whether the SKU just ran low.
struct stock_snapshot {
  stock_level level;
  int64_t low_stock_threshold = 0;

  /// True when available stock is at or below the threshold (like product::is_low_on_stock).
  bool is_low() const noexcept { return level.available <= low_stock_threshold; }

  friend bool operator==(const stock_snapshot&, const stock_snapshot&) = default;
};

/// True when a change took a SKU from above its low-stock threshold to at or below it: the
/// moment to tell someone to restock. A change that leaves a SKU low (or one that was low
/// already) is no crossing, so a low SKU is reported once per dip, not once per sale. Raising
/// the threshold above the available units is a crossing too.
bool crossed_into_low_stock(const stock_snapshot& before, const stock_snapshot& after) noexcept;

/// True when the stock figures themselves changed (every such change bumps the version).
bool stock_figures_changed(const stock_snapshot& before, const stock_snapshot& after) noexcept;

/// How one change set moved one SKU's stock: the figures before the first operation of the set
/// that touched the SKU (nullopt when the set created the product) and after the last one.
struct stock_move {
  std::optional<stock_snapshot> before;
  stock_snapshot after;

  friend bool operator==(const stock_move&, const stock_move&) = default;
};

/// The descriptive fields of a product that `PUT /products/{sku}` may change.
struct product_details {
  std::string name;
  std::string description;
  std::string category;
  int64_t price_cents = 0;
  std::string currency;
  int64_t low_stock_threshold = 0;

  friend bool operator==(const product_details&, const product_details&) = default;
};

} // namespace orderd
