#include "messaging/topology.hpp"

#include <stdexcept>

namespace orderd::messaging {

field_table queue_arguments(const queue_spec& q) {
  field_table args;
  set(args, "x-queue-type", q.kind == queue_kind::quorum ? "quorum" : "classic");
  if (!q.dead_letter_exchange.empty())
    set(args, "x-dead-letter-exchange", q.dead_letter_exchange);
  if (q.dead_letter_routing_key)
    set(args, "x-dead-letter-routing-key", *q.dead_letter_routing_key);
  if (q.message_ttl)
    set(args, "x-message-ttl", static_cast<int64_t>(q.message_ttl->count()));
  if (q.delivery_limit)
    set(args, "x-delivery-limit", static_cast<int64_t>(*q.delivery_limit));
  for (auto& e : q.extra_arguments)
    set(args, e.key, e.value);
  return args;
}

std::string dead_letter_exchange_name(const work_queue_spec& spec) {
  return spec.dead_letter_exchange.empty() ? spec.queue + ".dlx" : spec.dead_letter_exchange;
}

std::string dead_letter_queue_name(std::string_view queue) {
  return std::string{queue} + ".dlq";
}

std::string retry_queue_name(std::string_view queue, std::chrono::milliseconds delay) {
  return std::string{queue} + ".retry." + std::to_string(delay.count()) + "ms";
}

topology make_work_queue_topology(const work_queue_spec& spec) {
  if (spec.exchange.empty())
    throw std::invalid_argument("work queue topology: the exchange name is empty");
  if (spec.queue.empty())
    throw std::invalid_argument("work queue topology: the queue name is empty");
  auto dlx = dead_letter_exchange_name(spec);
  auto dlq = dead_letter_queue_name(spec.queue);
  topology t;
  t.exchanges.push_back({spec.exchange, "topic", true});
  t.exchanges.push_back({dlx, "direct", true});

  queue_spec work;
  work.name = spec.queue;
  work.dead_letter_exchange = dlx;
  work.dead_letter_routing_key = spec.queue;
  t.queues.push_back(work);

  queue_spec dead;
  dead.name = dlq;
  t.queues.push_back(dead);

  for (auto delay : spec.retry_delays) {
    if (delay.count() <= 0)
      throw std::invalid_argument("work queue topology: retry delays must be positive");
    queue_spec retry;
    retry.name = retry_queue_name(spec.queue, delay);
    retry.kind = spec.retry_kind;
    retry.message_ttl = delay;
    retry.dead_letter_exchange = spec.exchange;
    retry.dead_letter_routing_key = spec.queue;
    t.queues.push_back(retry);
  }

  for (auto& key : spec.binding_keys)
    t.bindings.push_back({spec.queue, spec.exchange, key});
  // The queue's own name routes retries back to this queue only.
  t.bindings.push_back({spec.queue, spec.exchange, spec.queue});
  t.bindings.push_back({dlq, dlx, spec.queue});
  return t;
}

} // namespace orderd::messaging
