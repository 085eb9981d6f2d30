#include "actors/outbox.hpp"

#include <type_traits>
#include <variant>

#include "domain/ids.hpp"

namespace orderd {

events::origin origin_of(const services& svc, std::string correlation_id) {
  if (correlation_id.empty())
    correlation_id = make_uuid();
  return {svc.options.node_id, std::move(correlation_id)};
}

persistence::append_stock_events append_stock_events_op(events::origin from, timestamp_ms at) {
  // Runs on the store writer's thread, inside its transaction.
  return {[from = std::move(from), at](const std::vector<stock_move>& moves) {
    return events::stock_events(from, moves, at);
  }};
}

bool appends_events(const persistence::change_set& cs) noexcept {
  for (auto& op : cs.ops)
    if (std::holds_alternative<persistence::append_event>(op)
        || std::holds_alternative<persistence::append_stock_events>(op))
      return true;
  return false;
}

void record_inbound(persistence::change_set& cs, const std::string& message_id,
                    std::string_view command, timestamp_ms at) {
  if (message_id.empty())
    return;
  cs.ops.emplace_back(
    persistence::record_message{{message_id, std::string{command}, at}});
}

} // namespace orderd
