#include "app/demo_catalogue.hpp"

namespace orderd::app {

std::vector<product> demo_catalogue(timestamp_ms now) {
  struct row {
    const char* sku;
    const char* name;
    const char* category;
    int64_t price_cents;
    int64_t available;
    int64_t threshold;
  };
  static constexpr row rows[] = {
    {"BOOK-001", "The Pragmatic Shopkeeper", "books", 3499, 120, 10},
    {"BOOK-002", "Actors in Practice", "books", 4250, 80, 10},
    {"BOOK-003", "Distributed Ledgers for Grocers", "books", 2999, 15, 5},
    {"MUG-001", "Stoneware mug, 350 ml", "kitchen", 1200, 300, 25},
    {"MUG-002", "Travel mug, insulated", "kitchen", 2400, 40, 10},
    {"KNIFE-001", "Chef's knife, 20 cm", "kitchen", 8900, 12, 5},
    {"TEE-S", "Cotton T-shirt, small", "apparel", 1999, 60, 10},
    {"TEE-M", "Cotton T-shirt, medium", "apparel", 1999, 75, 10},
    {"TEE-L", "Cotton T-shirt, large", "apparel", 1999, 4, 10},
    {"HOOD-M", "Hoodie, medium", "apparel", 4999, 30, 5},
    {"USB-C-1M", "USB-C cable, 1 m", "electronics", 999, 500, 50},
    {"CHG-65W", "65 W USB-C charger", "electronics", 3999, 45, 10},
    {"HP-ANC", "Noise-cancelling headphones", "electronics", 19900, 8, 3},
    {"KB-MECH", "Mechanical keyboard", "electronics", 12900, 20, 5},
    {"COFFEE-1K", "Coffee beans, 1 kg", "grocery", 2850, 200, 20},
    {"TEA-100", "Green tea, 100 bags", "grocery", 899, 150, 20},
    {"CHOC-70", "Dark chocolate 70%, 100 g", "grocery", 349, 2, 10},
    {"LAMP-DESK", "Desk lamp, LED", "home", 3499, 25, 5},
    {"PLANT-POT", "Ceramic plant pot", "home", 1599, 0, 5},
    {"CANDLE-01", "Soy candle, cedar", "home", 1299, 90, 10},
  };
  std::vector<product> out;
  for (auto& r : rows) {
    product p;
    p.sku = r.sku;
    p.name = r.name;
    p.description = std::string{"Demo product: "} + r.name;
    p.category = r.category;
    p.price_cents = r.price_cents;
    p.currency = "USD";
    p.available = r.available;
    p.low_stock_threshold = r.threshold;
    p.version = 1;
    p.created_at = p.updated_at = now;
    out.push_back(std::move(p));
  }
  return out;
}

} // namespace orderd::app
