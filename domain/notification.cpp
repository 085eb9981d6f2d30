#include "domain/notification.hpp"

#include <algorithm>
#include <cctype>

#include "domain/ids.hpp"

namespace orderd {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x))
                  == std::tolower(static_cast<unsigned char>(y));
         });
}

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
  switch (c) {
    case notification_channel::email:
      return "email";
    case notification_channel::webhook:
      return "webhook";
    case notification_channel::push:
      return "push";
  }
  return "email";
}

std::string_view to_string(notification_status s) noexcept {
  switch (s) {
    case notification_status::pending:
      return "PENDING";
    case notification_status::sent:
      return "SENT";
    case notification_status::failed:
      return "FAILED";
  }
  return "PENDING";
}

std::optional<notification_channel> parse_notification_channel(std::string_view text) noexcept {
  for (auto c : {notification_channel::email, notification_channel::webhook,
                 notification_channel::push})
    if (iequals(text, to_string(c)))
      return c;
  return std::nullopt;
}

std::optional<notification_status> parse_notification_status(std::string_view text) noexcept {
  for (auto s : {notification_status::pending, notification_status::sent,
                 notification_status::failed})
    if (iequals(text, to_string(s)))
      return s;
  return std::nullopt;
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
