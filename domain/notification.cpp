#include "domain/notification.hpp"

#include <algorithm>

#include "domain/ids.hpp"
#include "util/name_table.hpp"

namespace orderd {

namespace {

constexpr name_table channel_names{
  notification_channel::push, {"email", "webhook", "push"}, "email"};

constexpr name_table status_names{
  notification_status::failed, {"PENDING", "SENT", "FAILED"}, "PENDING"};

bool has_control_chars(std::string_view s, bool allow_newlines) noexcept {
  return std::any_of(s.begin(), s.end(), [&](char ch) {
    auto c = static_cast<unsigned char>(ch);
    if (allow_newlines && (c == '\n' || c == '\r' || c == '\t'))
      return false;
    return c < 0x20 || c == 0x7f;
  });
}

} // namespace

std::string_view to_string(notification_channel c) noexcept {
  return channel_names.name(c);
}

std::string_view to_string(notification_status s) noexcept {
  return status_names.name(s);
}

std::optional<notification_channel> parse_notification_channel(std::string_view text) noexcept {
  return channel_names.parse_any_case(text);
}

std::optional<notification_status> parse_notification_status(std::string_view text) noexcept {
  return status_names.parse_any_case(text);
}

field_errors validate(const notification_request& r) {
  field_errors errors;
  auto channel = parse_notification_channel(r.channel);
  if (!channel)
    errors.push_back({"channel", "must be one of email, webhook, push"});
  if (r.recipient.empty()) {
    errors.push_back({"recipient", "is required"});
  } else if (r.recipient.size() > limits::max_recipient_length
             || has_control_chars(r.recipient, false)) {
    errors.push_back({"recipient", "is too long or contains control characters"});
  } else if (channel == notification_channel::email && !is_valid_email(r.recipient)) {
    errors.push_back({"recipient", "must be an e-mail address for the email channel"});
  } else if (channel == notification_channel::webhook && !r.recipient.starts_with("http://")) {
    errors.push_back({"recipient", "must be an http:// URL for the webhook channel"});
  } else if (channel == notification_channel::push && !is_uuid(r.recipient)) {
    errors.push_back({"recipient", "must be a customer id for the push channel"});
  }
  if (r.subject.empty())
    errors.push_back({"subject", "is required"});
  else if (r.subject.size() > limits::max_subject_length || has_control_chars(r.subject, false))
    errors.push_back({"subject", "must be at most 200 characters on one line"});
  if (r.body.size() > limits::max_body_length || has_control_chars(r.body, true))
    errors.push_back({"body", "must be at most 65536 characters without control characters"});
  return errors;
}

} // namespace orderd
