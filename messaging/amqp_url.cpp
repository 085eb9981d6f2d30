#include "messaging/amqp_url.hpp"

#include <charconv>

#include "wire/url.hpp"

namespace orderd::messaging {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw amqp_url_error("invalid AMQP URL: " + what);
}

/// Percent-decodes `in`; `part` names it in errors. The offending escape is quoted except in
/// the password, which must never reach a log.
std::string decode(std::string_view in, const char* part, bool secret = false) {
  auto i = wire::find_malformed_escape(in);
  if (i != std::string_view::npos) {
    std::string msg = "bad percent-encoding in the ";
    msg += part;
    if (!secret)
      msg += " ('" + std::string{in.substr(i, 3)} + "'): expected % followed by two hex digits";
    else
      msg += ": expected % followed by two hex digits";
    fail(msg);
  }
  return wire::percent_decode(in);
}

template <class T>
T parse_number(std::string_view text, const char* what, uint64_t min, uint64_t max) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min
      || value > max)
    fail(std::string{what} + " must be a number from " + std::to_string(min) + " to "
         + std::to_string(max) + ", got '" + std::string{text} + "'");
  return static_cast<T>(value);
}

std::string encode(std::string_view in) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                 || c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0xF];
    }
  }
  return out;
}

void parse_query(std::string_view query, amqp_url& url) {
  wire::for_each_query_item(query, [&](std::string_view key, std::string_view value) {
    if (key == "heartbeat")
      url.heartbeat = std::chrono::seconds{parse_number<uint16_t>(value, "heartbeat", 0, 65535)};
    else if (key == "connection_timeout")
      url.connection_timeout = std::chrono::milliseconds{
        parse_number<uint32_t>(value, "connection_timeout", 1, 3600000)};
    else
      fail("unknown query parameter '" + std::string{key}
           + "' (supported: heartbeat, connection_timeout)");
  });
}

} // namespace

amqp_url parse_amqp_url(std::string_view text) {
  amqp_url url;
  constexpr std::string_view scheme = "amqp://";
  if (text.substr(0, 8) == "amqps://")
    fail("amqps:// (TLS) is not supported by this build; use amqp://");
  if (text.substr(0, scheme.size()) != scheme) {
    auto colon = text.find("://");
    if (colon == std::string_view::npos)
      fail("missing scheme: expected 'amqp://user:pass@host:port/vhost'");
    fail("unsupported scheme '" + std::string{text.substr(0, colon)} + "' (expected amqp)");
  }
  auto rest = text.substr(scheme.size());

  // Split off the query, then the path: neither '?' nor '/' may appear unencoded before them.
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.find('#') != std::string_view::npos)
    fail("fragments ('#') are not allowed; percent-encode '#' as %23");
  std::string_view path;
  bool has_path = false;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    has_path = true;
  }

  // User info: everything up to the last '@' (an unencoded '@' in a password is common).
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    url.user = decode(userinfo.substr(0, colon), "user name");
    if (colon != std::string_view::npos)
      url.password = decode(userinfo.substr(colon + 1), "password", true);
    if (url.user.empty())
      fail("empty user name before '@' (omit the user info for guest/guest)");
  }

  // Host and port.
  std::string_view host = rest;
  std::string_view port;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos)
      fail("unterminated IPv6 address: missing ']'");
    host = rest.substr(1, close - 1);
    auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        fail("unexpected '" + std::string{after} + "' after the IPv6 address");
      port = after.substr(1);
      has_port = true;
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    has_port = true;
  }
  if (!host.empty())
    url.host = decode(host, "host");
  if (has_port) {
    url.port = parse_number<uint16_t>(port, "port", 1, 65535);
  }

  // The vhost is exactly one path segment.
  if (has_path && !path.empty()) {
    if (path.find('/') != std::string_view::npos)
      fail("the vhost must be a single path segment; encode '/' as %2F (got '"
           + std::string{path} + "')");
    url.vhost = decode(path, "vhost");
  }

  parse_query(query, url);
  return url;
}

std::string to_string(const amqp_url& url, bool with_password) {
  std::string out = "amqp://";
  out += encode(url.user);
  out += ':';
  out += with_password ? encode(url.password) : std::string{"***"};
  out += '@';
  if (url.host.find(':') != std::string::npos)
    out += '[' + url.host + ']';
  else
    out += url.host;
  out += ':' + std::to_string(url.port) + '/' + encode(url.vhost);
  return out;
}

} // namespace orderd::messaging
