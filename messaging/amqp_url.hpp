#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace orderd::messaging {

/// A broker address parsed from `amqp://user:pass@host:port/vhost?heartbeat=S&connection_timeout=MS`.
struct amqp_url {
  std::string user = "guest";
  std::string password = "guest";
  std::string host = "localhost";
  uint16_t port = 5672;
  std::string vhost = "/";
  /// From `?heartbeat=` (seconds; 0 disables) when given.
  std::optional<std::chrono::seconds> heartbeat;
  /// From `?connection_timeout=` (milliseconds) when given.
  std::optional<std::chrono::milliseconds> connection_timeout;
};

/// A URL that cannot be parsed. The message names the part at fault and never contains the
/// password.
class amqp_url_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

/// Parses an AMQP 0-9-1 URL (RabbitMQ's URI spec). User, password and vhost are
/// percent-decoded (`%2f` is how a vhost spells "/"). Defaults: guest/guest when there is no
/// user info (a user without `:password` gets "guest"), port 5672, vhost "/" when the path is
/// absent or empty. Hosts may be names, IPv4 or bracketed IPv6 (`[::1]`). `amqps://` is refused:
/// this build has no TLS. Throws amqp_url_error.
amqp_url parse_amqp_url(std::string_view text);

/// The URL back as text, the password replaced by "***" unless `with_password` (for logs).
std::string to_string(const amqp_url& url, bool with_password = false);

} // namespace orderd::messaging
