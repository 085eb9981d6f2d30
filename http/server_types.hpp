#pragma once

// The request/response vocabulary shared by the HTTP server and the routes. Plain C++ only: this
// header must not include Beast or Asio, so code that handles requests stays free of sockets.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderd::http {

namespace detail {

/// Compares two strings ASCII-case-insensitively.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z')
      x += 'a' - 'A';
    if (y >= 'A' && y <= 'Z')
      y += 'a' - 'A';
    if (x != y)
      return false;
  }
  return true;
}

} // namespace detail

/// One parsed HTTP request, owned by the handler once delivered.
struct request {
  std::string method;  ///< "GET", "POST", ... as sent (HTTP methods are case-sensitive)
  std::string target;  ///< raw target, e.g. "/api/v1/orders?status=PENDING"
  std::string path;    ///< percent-decoded path without the query, e.g. "/api/v1/orders"
  /// The path as sent, not decoded: routing splits it at '/' first and decodes each segment,
  /// so an encoded slash (%2F) is data inside a segment, never a separator.
  std::string raw_path;
  std::vector<std::pair<std::string, std::string>> query;   ///< decoded ('+' is a space), in order
  std::vector<std::pair<std::string, std::string>> headers; ///< names lower-cased, in order
  std::string body;
  std::string remote;  ///< peer address, "ip:port" ("[v6]:port" for IPv6)

  /// The value of the first header named `lower_name` (matched case-insensitively), if any.
  std::optional<std::string_view> header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers)
      if (detail::iequals(name, lower_name))
        return std::string_view{value};
    return std::nullopt;
  }

  /// The value of the first query parameter named `name` (case-sensitive), if any.
  std::optional<std::string_view> query_param(std::string_view name) const {
    for (const auto& [key, value] : query)
      if (key == name)
        return std::string_view{value};
    return std::nullopt;
  }
};

/// What a handler answers. The server adds `Server`, `Content-Length` and `Connection`.
struct response {
  int status = 200;                                 ///< 200..599; anything else is sent as 500
  std::string content_type = "application/json";    ///< omitted when empty
  std::string body;
  /// Extra headers, e.g. Allow, Location. Framing headers (Content-Length, Transfer-Encoding,
  /// Connection) are ignored, and so is any name or value containing CR, LF or NUL.
  std::vector<std::pair<std::string, std::string>> headers;
};

namespace detail {

/// The server side of a responder: where a response goes. Implemented by the server (and by tests
/// that want to capture responses); not something handlers use directly.
class reply_slot {
public:
  virtual ~reply_slot() = default;

  /// Hands `r` to send() if this is the first completion; later calls do nothing and return false.
  bool complete(response&& r) {
    if (done_.exchange(true, std::memory_order_acq_rel))
      return false;
    send(std::move(r));
    return true;
  }

  /// Whether complete() was called already.
  bool completed() const noexcept {
    return done_.load(std::memory_order_acquire);
  }

  /// See responder::answer_within. Slots without a deadline of their own ignore it.
  virtual void answer_within(std::chrono::milliseconds) {}

private:
  virtual void send(response&& r) = 0;

  std::atomic<bool> done_{false};
};

} // namespace detail

/// Sends the response to one request. Callable from any thread and cheap to copy; only the first
/// call counts, later calls are no-ops. Calling it after the connection closed is a harmless no-op.
/// When the last copy is destroyed without having been called, the server answers 500 (if the
/// connection is still open), so a lost reply never leaves a client waiting.
class responder {
public:
  responder() noexcept = default;

  explicit responder(std::shared_ptr<detail::reply_slot> slot) noexcept : slot_(std::move(slot)) {
  }

  /// Sends `r`; only the first call of all copies of this responder has an effect.
  void operator()(response r) const {
    if (slot_)
      slot_->complete(std::move(r));
  }

  /// Whether some copy of this responder was called already.
  bool answered() const noexcept {
    return slot_ && slot_->completed();
  }

  /// The server answers 503 itself if no response came within `d` of this call (instead of after
  /// its response_timeout). Callable from any thread. This is how a route bounds the wait for
  /// the actors without a timeout in CAF: a CAF request timeout is an event in CAF's clock
  /// thread, a lock and a wake-up per request, where this moves the connection's existing
  /// deadline, which is nearly free.
  void answer_within(std::chrono::milliseconds d) const {
    if (slot_)
      slot_->answer_within(d);
  }

  explicit operator bool() const noexcept {
    return slot_ != nullptr;
  }

private:
  std::shared_ptr<detail::reply_slot> slot_;
};

/// Handles one request. Runs on an I/O thread and must return quickly: do slow work elsewhere and
/// call the responder later, from any thread.
using handler = std::function<void(request&&, responder)>;

} // namespace orderd::http
