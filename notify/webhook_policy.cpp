#include "notify/webhook_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "notify/delivery.hpp"
#include "util/ascii.hpp"

namespace orderd::notify {

namespace {

/// The host without IPv6 brackets.
std::string bare(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.size() > 1 && host.back() == '.')
    host.remove_suffix(1); // "localhost." is localhost
  return ascii_lower(host);
}

bool internal_v4(const std::array<uint8_t, 4>& a) {
  return a[0] == 0 || a[0] == 10 || a[0] == 127                  // this network, private, loopback
         || (a[0] == 169 && a[1] == 254)                           // link-local
         || (a[0] == 172 && (a[1] & 0xf0) == 16)                   // 172.16/12
         || (a[0] == 192 && a[1] == 168)                           // 192.168/16
         || (a[0] == 100 && (a[1] & 0xc0) == 64)                   // 100.64/10 (CGNAT)
         || a[0] >= 224;                                           // multicast, reserved
}

} // namespace

webhook_policy::webhook_policy(std::string_view allow_list) {
  while (!allow_list.empty()) {
    auto comma = allow_list.find(',');
    auto item = allow_list.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (!item.empty())
      allowed_.push_back(ascii_lower(item));
    if (comma == std::string_view::npos)
      break;
    allow_list.remove_prefix(comma + 1);
  }
}

bool webhook_policy::is_internal(std::string_view address) {
  std::string text = bare(address);
  std::array<uint8_t, 4> v4{};
  if (inet_pton(AF_INET, text.c_str(), v4.data()) == 1)
    return internal_v4(v4);
  std::array<uint8_t, 16> v6{};
  if (inet_pton(AF_INET6, text.c_str(), v6.data()) != 1)
    return false;
  static constexpr std::array<uint8_t, 12> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6.data(), mapped.data(), mapped.size()) == 0)
    return internal_v4({v6[12], v6[13], v6[14], v6[15]});
  bool zero_prefix = std::all_of(v6.begin(), v6.begin() + 15, [](uint8_t b) { return b == 0; });
  return (zero_prefix && (v6[15] == 0 || v6[15] == 1))  // :: and ::1
         || (v6[0] & 0xfe) == 0xfc                       // fc00::/7 unique local
         || (v6[0] == 0xfe && (v6[1] & 0xc0) == 0x80)    // fe80::/10 link-local
         || v6[0] == 0xff;                               // multicast
}

bool webhook_policy::listed(std::string_view url) const {
  auto target = parse_http_url(url);
  if (!target)
    return false;
  auto host = bare(target->host);
  auto port = std::to_string(target->port);
  for (std::string_view entry : allowed_) {
    // "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address (several colons).
    std::string_view entry_host = entry;
    std::string_view entry_port;
    if (entry.starts_with('[')) {
      auto close = entry.find(']');
      entry_host = entry.substr(0, close + 1);
      if (close != std::string_view::npos && close + 1 < entry.size() && entry[close + 1] == ':')
        entry_port = entry.substr(close + 2);
    } else if (auto colon = entry.find(':');
               colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
      entry_host = entry.substr(0, colon);
      entry_port = entry.substr(colon + 1);
    }
    if (bare(entry_host) == host && (entry_port.empty() || entry_port == port))
      return true;
  }
  return false;
}

std::optional<std::string> webhook_policy::refusal(std::string_view url) const {
  auto target = parse_http_url(url);
  if (!target)
    return std::string{"must be an http:// URL"};
  if (listed(url))
    return std::nullopt;
  if (!allowed_.empty())
    return "host " + target->host + " is not on the webhook allow-list (--webhook-allow)";
  auto host = bare(target->host);
  if (host == "localhost" || host.ends_with(".localhost") || is_internal(host))
    return "host " + target->host + " is a loopback, link-local or private address; list it in "
           "--webhook-allow to call it";
  return std::nullopt;
}

bool webhook_policy::may_connect(std::string_view url, std::string_view address) const {
  return listed(url) || !is_internal(address);
}

} // namespace orderd::notify
