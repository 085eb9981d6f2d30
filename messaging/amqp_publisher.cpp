#include "messaging/amqp_publisher.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "observability/trace.hpp"

namespace orderd::messaging {

namespace {

using publisher_actor = caf::stateful_actor<amqp_publisher_state>*;

/// Connects and declares the exchange unless connected. Throws amqp_error.
amqp_connection& connected(publisher_actor self, const amqp_publisher_options& opts) {
  auto& st = self->state;
  if (st.connection && st.connection->is_open())
    return *st.connection;
  st.connection.reset();
  amqp_connection c{opts.connection};
  c.declare_exchange(exchange_spec{opts.exchange, "topic", true});
  if (!st.was_connected)
    spdlog::info("amqp publisher: connected to {} ({}), exchange {}",
                 to_string(opts.connection.url), c.server_version(), opts.exchange);
  st.was_connected = true;
  st.connection.emplace(std::move(c));
  return *st.connection;
}

void disconnect(publisher_actor self, const std::exception& e) {
  auto& st = self->state;
  st.connection.reset();
  if (st.was_connected)
    spdlog::warn("amqp publisher: lost the broker: {}", e.what());
  st.was_connected = false;
}

/// Publishes the batch on the current connection; a connection failure throws amqp_error.
publish_ack publish_on(amqp_connection& c, const std::vector<outgoing_message>& messages,
                       const amqp_publisher_options& opts) {
  auto results = c.publish_batch(messages, opts.confirm_timeout);
  publish_ack ack;
  for (auto& r : results) {
    if (!r.ok()) {
      ack.error = "broker answered " + std::string{to_string(r.status)}
                  + (r.detail.empty() ? "" : " (" + r.detail + ")");
      break;
    }
    ++ack.confirmed;
  }
  return ack;
}

} // namespace

outgoing_message to_message(const event_record& e, const std::string& exchange) {
  outgoing_message m;
  m.exchange = exchange;
  m.routing_key = e.type;
  m.body = e.payload;
  m.properties.content_type = "application/json";
  m.properties.message_id = e.id;
  m.properties.correlation_id = e.correlation_id;
  m.properties.type = e.type;
  m.properties.app_id = "orderd";
  m.properties.timestamp = e.occurred_at / 1000;
  m.properties.persistent = true;
  // W3C trace context for consumers: the trace of the request that caused the event.
  set(m.properties.headers, "traceparent",
      observability::traceparent_for_event(e.correlation_id, e.id));
  return m;
}

caf::behavior amqp_publisher_impl(caf::stateful_actor<amqp_publisher_state>* self,
                                  amqp_publisher_options opts) {
  // Thread: this actor's own (detached); rabbitmq-c's connection never leaves it.
  self->delayed_send(self, opts.keepalive, tick_atom_v);
  return {
    [=](publish_atom, const std::vector<event_record>& batch) -> publish_ack {
      std::vector<outgoing_message> messages;
      messages.reserve(batch.size());
      for (auto& e : batch)
        messages.push_back(to_message(e, opts.exchange));
      auto& st = self->state;
      // A connection idle since the last batch may have died unnoticed: one fresh attempt.
      bool reused = st.connection && st.connection->is_open();
      for (int attempt = 0;; ++attempt) {
        try {
          return publish_on(connected(self, opts), messages, opts);
        } catch (const std::exception& e) {
          disconnect(self, e);
          if (!reused || attempt > 0)
            return publish_ack{0, e.what()};
        }
      }
    },
    [=](tick_atom) {
      auto& st = self->state;
      if (st.connection && st.connection->is_open()) {
        try {
          st.connection->poll();
          if (st.connection->is_blocked())
            spdlog::warn("amqp publisher: the broker blocks publishing: {}",
                         st.connection->blocked_reason());
        } catch (const std::exception& e) {
          disconnect(self, e);
        }
      }
      self->delayed_send(self, opts.keepalive, tick_atom_v);
    },
  };
}

} // namespace orderd::messaging
