#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/time.hpp"
#include "domain/validation.hpp"

namespace orderd {

/// How a notification travels. Push has no provider yet: a push notification is recorded for
/// its customer (recipient = customer id) and counts as sent once durable.
enum class notification_channel { email, webhook, push };

/// PENDING until delivered (SENT) or given up after the maximum attempts (FAILED, i.e.
/// dead-lettered).
enum class notification_status { pending, sent, failed };

std::string_view to_string(notification_channel c) noexcept;
std::string_view to_string(notification_status s) noexcept;
std::optional<notification_channel> parse_notification_channel(std::string_view text) noexcept;
/// Accepts PENDING, SENT, FAILED (any case).
std::optional<notification_status> parse_notification_status(std::string_view text) noexcept;

/// One message to one recipient over one channel, durable before its first delivery attempt.
struct notification {
  std::string id;
  notification_channel channel = notification_channel::email;
  std::string recipient;   ///< e-mail address, webhook URL, or customer id (push)
  std::string subject;     ///< the template's subject line, e.g. "Order 1234 confirmed"
  std::string body;        ///< text (email, push) or the event JSON (webhook)
  notification_status status = notification_status::pending;
  int64_t attempts = 0;
  std::string last_error;  ///< why the last attempt failed; empty after a success
  std::string customer_id; ///< the customer it concerns, if any
  std::string event_id;    ///< the event that caused it; empty for an ad-hoc notification
  std::string event_type;  ///< e.g. "order.created"; empty for an ad-hoc notification
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;

  friend bool operator==(const notification&, const notification&) = default;
};

/// What a client may send to POST /api/v1/notifications.
struct notification_request {
  std::string channel;
  std::string recipient;
  std::string subject;
  std::string body;
};

namespace limits {
inline constexpr size_t max_subject_length = 200;
inline constexpr size_t max_body_length = 64 * 1024;
inline constexpr size_t max_recipient_length = 2048;
} // namespace limits

/// Checks an ad-hoc notification: a known channel, a recipient that suits it (an e-mail address,
/// an http:// URL, a customer id), a subject without line breaks and a body within limits.
field_errors validate(const notification_request& r);

} // namespace orderd
