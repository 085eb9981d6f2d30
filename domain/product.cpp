#include "domain/product.hpp"

namespace orderd {

bool crossed_into_low_stock(const stock_snapshot& before, const stock_snapshot& after) noexcept {
  return !before.is_low() && after.is_low();
}

bool stock_figures_changed(const stock_snapshot& before, const stock_snapshot& after) noexcept {
  return before.level.version != after.level.version;
}

} // namespace orderd
