#pragma once

// Which URLs orderd may POST webhooks to. A webhook recipient comes from the operator
// (--webhook-url) or from any API client (POST /api/v1/notifications), so without a rule orderd
// would call whatever it is told, loopback and the private network included (SSRF). The rule:
// a host on the allow-list (--webhook-allow) may always be called; with a list, nothing else
// may; without one, anything but loopback, link-local, private and unspecified addresses may,
// judged on the URL's text and again on every address its name resolves to.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderd::notify {

class webhook_policy {
public:
  /// Allows nothing internal, anything else.
  webhook_policy() = default;

  /// `allow_list`: comma-separated hosts (`hooks.example.com`, `127.0.0.1`, `[::1]`), each
  /// optionally with `:port`; compared case-insensitively with the URL's host (and port).
  explicit webhook_policy(std::string_view allow_list);

  /// Why `url` may not be called, judged on its text (before any name is resolved); nullopt
  /// when it may be called so far.
  std::optional<std::string> refusal(std::string_view url) const;

  /// Whether `url`'s host may be reached at `address` (numeric, as resolved).
  bool may_connect(std::string_view url, std::string_view address) const;

  /// Loopback, link-local, private (RFC 1918, RFC 6598, IPv6 unique local), unspecified or
  /// multicast, also as an IPv4-mapped IPv6 address. False for anything that is not a numeric
  /// address.
  static bool is_internal(std::string_view address);

  bool empty() const noexcept { return allowed_.empty(); }

private:
  bool listed(std::string_view url) const;

  std::vector<std::string> allowed_; ///< lower case; "host" or "host:port"
};

} // namespace orderd::notify
