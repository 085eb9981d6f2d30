#include "events/rules.hpp"

namespace orderd::events {

std::vector<event_record> stock_events(const origin& from, const std::vector<stock_move>& moves,
                                       timestamp_ms at) {
  std::vector<event_record> out;
  for (auto& m : moves) {
    if (!m.before || stock_figures_changed(*m.before, m.after))
      out.push_back(inventory_updated(from, m.after, at));
    if (m.before && crossed_into_low_stock(*m.before, m.after))
      out.push_back(inventory_low(from, m.after, at));
  }
  return out;
}

} // namespace orderd::events
