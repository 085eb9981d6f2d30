#pragma once

// The HTTP/1.1 server: sockets, framing and transport limits only. It knows nothing of CAF or of
// orderd's business; every request goes to one `handler`, whose response may come later from any
// thread. Beast stays out of this header (pimpl), so including it is cheap.

#include "http/server_types.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace orderd::http {

/// Listening and transport settings of a `server`.
struct server_options {
  std::string host = "127.0.0.1";     ///< address or host name to listen on
  uint16_t port = 0;                  ///< 0 picks a free port (see server::start)
  size_t threads = 1;                 ///< I/O threads (0 is treated as 1)
  size_t max_body_bytes = 1 << 20;    ///< larger bodies (or Content-Length) get 413
  size_t max_header_bytes = 8 << 10;  ///< larger request line + headers get 431
  size_t max_connections = 10000;     ///< further connections get 503 and are closed; 0 = no limit
  /// How long a connection may wait for (and take to send) its next request, and to read a
  /// response; then it is closed. 0 = never.
  std::chrono::milliseconds idle_timeout{60000};
  /// How long a request may take, from its first byte, to send its request line and headers
  /// (a slow-header client holds a connection no longer than this); then it is closed. Capped by
  /// idle_timeout; 0 = idle_timeout alone.
  std::chrono::milliseconds header_timeout{10000};
  /// Backstop for a handler that never calls its responder (nor drops it): the client gets 503 and
  /// the connection is closed. Routes should enforce their own, shorter deadline. 0 = never (the
  /// connection then stays open until the client closes it or stop()).
  std::chrono::milliseconds response_timeout{30000};
};

namespace detail {
class server_core;
} // namespace detail

/// A Beast HTTP/1.1 server with keep-alive, one request at a time per connection.
///
/// Threads: the handler runs on an I/O thread and must return quickly; the responder may be called
/// from any thread. Transport errors are answered with `application/problem+json` (400 malformed,
/// 413 body too large, 431 headers too large) and the connection is closed. Graceful shutdown:
/// stop_accepting(), then drain(timeout), then stop(). Responses written after stop_accepting()
/// carry `Connection: close`.
///
/// A responder that is never called (but kept alive) does not hold the connection forever: after
/// `response_timeout` the client gets 503 and the connection closes, and stop() closes it anyway.
/// The connection's memory is freed when the last copy of the responder is destroyed, which may be
/// after the server is gone (that is safe: calling such a responder does nothing).
class server {
public:
  server(server_options options, handler h);

  /// Calls stop().
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds, listens and starts the I/O threads; returns the port actually bound. Throws
  /// std::runtime_error when the address is invalid or cannot be bound (e.g. in use), and
  /// std::logic_error when called twice or after stop().
  uint16_t start();

  /// Closes the listening socket: new connections are refused, open ones keep being served (with
  /// `Connection: close`). Blocks until the acceptor is closed unless called from an I/O thread.
  void stop_accepting();

  /// Waits until no request is in flight (every request handed to the handler got its response
  /// written, or its connection closed). Returns false if `timeout` passed first.
  bool drain(std::chrono::milliseconds timeout);

  /// Closes the acceptor and every connection, then joins the I/O threads. Idempotent; a responder
  /// called afterwards does nothing. Must not be called from a handler (an I/O thread).
  void stop();

  /// The port bound by start() (0 before).
  uint16_t port() const noexcept;

  /// Open connections.
  size_t active_connections() const noexcept;

  /// Requests handed to the handler whose response has not been written yet.
  size_t in_flight() const noexcept;

  /// Requests handed to the handler since start().
  uint64_t requests_total() const noexcept;

private:
  std::shared_ptr<detail::server_core> core_;
};

} // namespace orderd::http
