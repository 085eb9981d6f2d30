#include "notify/delivery.hpp"
#include "notify/webhook_policy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace orderd::notify {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

/// Splits "host[:port]"; nullopt when the host is empty or the port malformed.
std::optional<std::pair<std::string, uint16_t>> host_port(std::string_view text,
                                                          uint16_t default_port) {
  auto colon = text.rfind(':');
  std::string_view host = text.substr(0, colon);
  uint16_t port = default_port;
  if (colon != std::string_view::npos) {
    auto parsed = parse_port(text.substr(colon + 1));
    if (!parsed)
      return std::nullopt;
    port = *parsed;
  }
  if (host.empty())
    return std::nullopt;
  return std::make_pair(std::string{host}, port);
}

/// Blocking socket I/O with one deadline for the whole exchange: every operation is started
/// asynchronously on a private io_context that runs until it completes or the deadline passes
/// (then the socket is closed and the exchange fails with "timed out"). Asio has no timeouts on
/// its synchronous calls, hence this.
class deadline_io {
public:
  explicit deadline_io(std::chrono::milliseconds timeout)
    : deadline_(std::chrono::steady_clock::now() + timeout), socket_(ioc_) {}

  tcp::socket& socket() { return socket_; }

  /// Starts `op(handler)` and waits for the handler (signature (error_code, ...)).
  template <class Op>
  error_code run(Op op) {
    std::optional<error_code> result;
    op([&result](error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run_until(deadline_);
    if (result)
      return *result;
    error_code ignored;
    socket_.close(ignored);
    ioc_.restart();
    ioc_.run(); // lets the cancelled operation finish before `result` goes out of scope
    return net::error::timed_out;
  }

  /// Resolves and connects. `may_connect` (when given) filters the resolved addresses: when it
  /// leaves none, the connection is refused before any packet is sent.
  error_code connect(const std::string& host, uint16_t port,
                     const std::function<bool(const std::string&)>& may_connect = {}) {
    tcp::resolver resolver{ioc_};
    tcp::resolver::results_type endpoints;
    auto ec = run([&](auto handler) {
      resolver.async_resolve(host, std::to_string(port),
                             [&endpoints, handler](error_code ec, tcp::resolver::results_type r) {
                               endpoints = std::move(r);
                               handler(ec);
                             });
    });
    if (ec)
      return ec;
    std::vector<tcp::endpoint> allowed;
    for (auto& entry : endpoints)
      if (!may_connect || may_connect(entry.endpoint().address().to_string()))
        allowed.push_back(entry.endpoint());
    if (allowed.empty())
      return net::error::access_denied;
    return run([&](auto handler) {
      net::async_connect(socket_, allowed,
                         [handler](error_code ec, const tcp::endpoint&) { handler(ec); });
    });
  }

private:
  net::io_context ioc_;
  std::chrono::steady_clock::time_point deadline_;
  tcp::socket socket_;
};

// -- SMTP ---------------------------------------------------------------------------------------

struct smtp_session {
  deadline_io& io;
  std::string buffer;
  std::string last_reply;

  /// Reads one (possibly multi-line) reply; returns its code, or 0 on an I/O error (in `why`).
  int read_reply(std::string& why) {
    last_reply.clear();
    for (;;) {
      size_t n = 0;
      auto ec = io.run([&](auto handler) {
        net::async_read_until(io.socket(), net::dynamic_buffer(buffer), "\r\n",
                              [&n, handler](error_code ec, size_t got) {
                                n = got;
                                handler(ec);
                              });
      });
      if (ec) {
        why = "SMTP read failed: " + ec.message();
        return 0;
      }
      auto line = buffer.substr(0, n - 2);
      buffer.erase(0, n);
      last_reply = line;
      if (line.size() < 3)
        continue;
      // "250-..." continues a multi-line reply; "250 ..." (or "250") ends it.
      if (line.size() == 3 || line[3] == ' ') {
        int code = 0;
        std::from_chars(line.data(), line.data() + 3, code);
        return code;
      }
    }
  }

  bool write(const std::string& text, std::string& why) {
    auto ec = io.run([&](auto handler) { net::async_write(io.socket(), net::buffer(text), handler); });
    if (ec)
      why = "SMTP write failed: " + ec.message();
    return !ec;
  }

  /// Sends a command and checks the reply's code class (2 or 3); fills `why` otherwise.
  bool command(const std::string& line, int expected_class, std::string& why) {
    if (!write(line + "\r\n", why))
      return false;
    auto code = read_reply(why);
    if (code == 0)
      return false;
    if (code / 100 != expected_class) {
      why = "SMTP server refused " + line.substr(0, line.find(':')) + ": " + last_reply;
      return false;
    }
    return true;
  }
};

/// Dot-stuffs the message (a line starting with '.' gets another) and ends it with CRLF.CRLF.
std::string data_section(const std::string& message) {
  std::string out;
  bool line_start = true;
  for (char c : message) {
    if (line_start && c == '.')
      out += '.';
    out += c;
    line_start = c == '\n';
  }
  if (!out.ends_with("\r\n"))
    out += "\r\n";
  return out + ".\r\n";
}

std::string crlf(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r')
      continue;
    if (text[i] == '\n')
      out += "\r\n";
    else
      out += text[i];
  }
  return out;
}

std::string rfc5322_date(timestamp_ms t) {
  auto secs = static_cast<time_t>(t / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 64> buf{};
  std::strftime(buf.data(), buf.size(), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf.data();
}

} // namespace

std::optional<smtp_target> parse_smtp_url(std::string_view url) {
  constexpr std::string_view scheme = "smtp://";
  if (!url.starts_with(scheme))
    return std::nullopt;
  auto rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  auto hp = host_port(rest, 25);
  if (!hp || hp->first.find('/') != std::string::npos)
    return std::nullopt;
  return smtp_target{hp->first, hp->second};
}

std::optional<http_target> parse_http_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme))
    return std::nullopt;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find_first_of("/?");
  auto authority = rest.substr(0, slash);
  auto hp = host_port(authority, 80);
  if (!hp)
    return std::nullopt;
  http_target t{hp->first, hp->second, "/"};
  if (slash != std::string_view::npos) {
    t.target = std::string{rest.substr(slash)};
    if (t.target.front() == '?')
      t.target.insert(0, "/");
  }
  return t;
}

std::string render_email(const notification& n, std::string_view from, timestamp_ms date) {
  std::string m;
  m += "From: <" + std::string{from} + ">\r\n";
  m += "To: <" + n.recipient + ">\r\n";
  m += "Subject: " + n.subject + "\r\n";
  m += "Date: " + rfc5322_date(date) + "\r\n";
  m += "Message-ID: <" + n.id + "@orderd>\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  if (!n.event_type.empty())
    m += "X-Orderd-Event: " + n.event_type + "\r\n";
  m += "\r\n";
  m += crlf(n.body);
  return m;
}

std::string send_smtp(const smtp_target& server, std::string_view from, const notification& n,
                      std::chrono::milliseconds timeout) {
  deadline_io io{timeout};
  if (auto ec = io.connect(server.host, server.port))
    return "SMTP connect to " + server.host + ":" + std::to_string(server.port)
           + " failed: " + ec.message();
  smtp_session s{io, {}, {}};
  std::string why;
  auto greeting = s.read_reply(why);
  if (greeting == 0)
    return why;
  if (greeting != 220)
    return "SMTP server not ready: " + s.last_reply;
  if (!s.command("EHLO orderd", 2, why)) {
    why.clear();
    if (!s.command("HELO orderd", 2, why))
      return why;
  }
  if (!s.command("MAIL FROM:<" + std::string{from} + ">", 2, why)
      || !s.command("RCPT TO:<" + n.recipient + ">", 2, why) || !s.command("DATA", 3, why))
    return why;
  if (!s.write(data_section(render_email(n, from, n.created_at)), why))
    return why;
  auto code = s.read_reply(why);
  if (code == 0)
    return why;
  if (code / 100 != 2)
    return "SMTP server refused the message: " + s.last_reply;
  std::string ignored;
  s.command("QUIT", 2, ignored); // the message is accepted; a rude goodbye changes nothing
  return {};
}

namespace {

std::string make_maildir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (auto sub : {"tmp", "new", "cur"}) {
    fs::create_directories(fs::path{dir} / sub, ec);
    if (ec)
      return "cannot create " + (fs::path{dir} / sub).string() + ": " + ec.message();
  }
  return {};
}

std::string tmp_path(const std::string& dir, const notification& n) {
  return (std::filesystem::path{dir} / "tmp" / (n.id + ".eml")).string();
}

std::string new_path(const std::string& dir, const notification& n) {
  return (std::filesystem::path{dir} / "new" / (n.id + ".eml")).string();
}

/// Writes the message into tmp/ and returns its open descriptor (not synced), or -1 and why.
int write_unsynced(const std::string& tmp, const std::string& text, std::string& why) {
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    why = "cannot write " + tmp + ": " + std::strerror(errno);
    return -1;
  }
  size_t written = 0;
  while (written < text.size()) {
    auto n_written = ::write(fd, text.data() + written, text.size() - written);
    if (n_written < 0) {
      if (errno == EINTR)
        continue;
      why = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return -1;
    }
    written += static_cast<size_t>(n_written);
  }
  return fd;
}

} // namespace

std::string write_maildir(const std::string& dir, std::string_view from, const notification& n) {
  if (auto why = make_maildir(dir); !why.empty())
    return why;
  auto tmp = tmp_path(dir, n);
  std::string why;
  int fd = write_unsynced(tmp, render_email(n, from, n.created_at), why);
  if (fd < 0)
    return why;
  // Synced before the rename, so new/ never shows a half-written message after a crash.
  if (::fsync(fd) != 0) {
    why = "cannot sync " + tmp + ": " + std::strerror(errno);
    ::close(fd);
    return why;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), new_path(dir, n).c_str()) != 0)
    return "cannot move " + tmp + " to new/: " + std::strerror(errno);
  return {};
}

std::vector<std::string> write_maildir_batch(const std::string& dir, std::string_view from,
                                             const std::vector<notification>& group) {
  std::vector<std::string> reasons(group.size());
  if (auto why = make_maildir(dir); !why.empty()) {
    std::fill(reasons.begin(), reasons.end(), why);
    return reasons;
  }
  std::vector<int> fds(group.size(), -1);
  int any = -1;
  for (size_t i = 0; i < group.size(); ++i) {
    fds[i] = write_unsynced(tmp_path(dir, group[i]),
                            render_email(group[i], from, group[i].created_at), reasons[i]);
    if (fds[i] >= 0)
      any = fds[i];
  }
  // One sync for the group, before any rename: new/ never shows a message that a crash could
  // still lose or tear. syncfs writes back every dirty file of the filesystem (on Linux it
  // reports their writeback errors since 5.8), one call instead of one fsync per message.
  std::string sync_failure;
  if (any >= 0 && ::syncfs(any) != 0)
    sync_failure = std::string{"cannot sync the maildir: "} + std::strerror(errno);
  for (size_t i = 0; i < group.size(); ++i) {
    if (fds[i] < 0)
      continue;
    ::close(fds[i]);
    auto tmp = tmp_path(dir, group[i]);
    if (!sync_failure.empty())
      reasons[i] = sync_failure;
    else if (::rename(tmp.c_str(), new_path(dir, group[i]).c_str()) != 0)
      reasons[i] = "cannot move " + tmp + " to new/: " + std::strerror(errno);
  }
  return reasons;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac.data(), &size);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < size; ++i) {
    hex += digits[mac[i] >> 4];
    hex += digits[mac[i] & 0xf];
  }
  return hex;
}

std::string post_webhook(const notification& n, std::string_view secret,
                         const webhook_policy& policy, std::chrono::milliseconds timeout) {
  auto target = parse_http_url(n.recipient);
  if (!target)
    return "not an http:// URL: " + n.recipient;
  if (auto why = policy.refusal(n.recipient))
    return "webhook refused: " + *why;
  deadline_io io{timeout};
  auto may_connect = [&](const std::string& address) {
    return policy.may_connect(n.recipient, address);
  };
  if (auto ec = io.connect(target->host, target->port, may_connect))
    return "webhook connect to " + target->host + ":" + std::to_string(target->port)
           + (ec == net::error::access_denied
                ? " refused: it resolves only to loopback, link-local or private addresses "
                  "(list the host in --webhook-allow to call it)"
                : " failed: " + ec.message());
  http::request<http::string_body> req{http::verb::post, target->target, 11};
  req.set(http::field::host, target->host + ":" + std::to_string(target->port));
  req.set(http::field::user_agent, "orderd-webhook");
  req.set(http::field::content_type, "application/json");
  req.set("X-Orderd-Notification-Id", n.id);
  if (!n.event_type.empty())
    req.set("X-Orderd-Event", n.event_type);
  if (!secret.empty())
    req.set("X-Orderd-Signature", "sha256=" + hmac_sha256_hex(secret, n.body));
  req.keep_alive(false);
  req.body() = n.body;
  req.prepare_payload();
  auto ec = io.run([&](auto handler) { http::async_write(io.socket(), req, handler); });
  if (ec)
    return "webhook request failed: " + ec.message();
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  ec = io.run([&](auto handler) { http::async_read(io.socket(), buffer, res, handler); });
  if (ec)
    return "webhook response failed: " + ec.message();
  auto status = res.result_int();
  if (status < 200 || status > 299)
    return "webhook answered HTTP " + std::to_string(status);
  return {};
}

} // namespace orderd::notify
