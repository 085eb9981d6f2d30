#pragma once

// The blocking deliveries behind the notification transports: SMTP, maildir and webhook (HTTP
// POST). Plain C++ on Boost.Asio/Beast, no CAF: each call blocks for at most its timeout, so
// main runs them in detached transport actors (actors/notifier.hpp), never on the scheduler.
// Each returns an empty string on success, else why it failed (stored as last_error).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/notification.hpp"

namespace orderd::notify {

class webhook_policy;

/// host and port of an smtp://host:port URL (port 25 when left out).
struct smtp_target {
  std::string host;
  uint16_t port = 25;
};

/// Parses smtp://host[:port]; nullopt for anything else.
std::optional<smtp_target> parse_smtp_url(std::string_view url);

/// host, port and target of an http://host[:port]/path URL.
struct http_target {
  std::string host;
  uint16_t port = 80;
  std::string target = "/";
};

/// Parses http://host[:port][/path][?query]; nullopt for anything else (https is not supported).
std::optional<http_target> parse_http_url(std::string_view url);

/// The RFC 5322 message of an e-mail notification: headers (From, To, Subject, Date,
/// Message-ID, MIME text/plain UTF-8) and the body with CRLF line ends.
std::string render_email(const notification& n, std::string_view from, timestamp_ms date);

/// Sends `n` to an SMTP server: EHLO (HELO if refused), MAIL FROM, RCPT TO, DATA, QUIT.
std::string send_smtp(const smtp_target& server, std::string_view from, const notification& n,
                      std::chrono::milliseconds timeout);

/// Writes `n` as <dir>/new/<id>.eml, atomically: written and synced in <dir>/tmp, then renamed.
std::string write_maildir(const std::string& dir, std::string_view from, const notification& n);

/// Writes each of `group` as write_maildir does, with one sync for all of them (syncfs on the
/// maildir's filesystem) instead of one per message: the messages are written into <dir>/tmp,
/// synced together, then renamed into <dir>/new. Returns one reason per notification, in
/// order; empty: delivered. A message that could not be written fails alone.
std::vector<std::string> write_maildir_batch(const std::string& dir, std::string_view from,
                                             const std::vector<notification>& group);

/// HMAC-SHA256 of `body` with `key`, lower-case hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view body);

/// POSTs the notification's body (JSON) to its recipient URL; success is a 2xx answer. With a
/// secret, the X-Orderd-Signature header carries "sha256=" + hmac_sha256_hex(secret, body).
/// `policy` decides whether the recipient may be called at all, on its text and on each address
/// it resolves to (webhook_policy.hpp); a refusal is an error like any failed attempt.
std::string post_webhook(const notification& n, std::string_view secret,
                         const webhook_policy& policy, std::chrono::milliseconds timeout);

} // namespace orderd::notify
