#include "http/server.hpp"

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "wire/url.hpp"

namespace orderd::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

using clock_type = std::chrono::steady_clock;
using strand_type = net::strand<net::io_context::executor_type>;
using socket_type = net::basic_stream_socket<tcp, strand_type>;
using acceptor_type = net::basic_socket_acceptor<tcp, strand_type>;
using timer_type =
  net::basic_waitable_timer<clock_type, net::wait_traits<clock_type>, strand_type>;

/// Requests larger than this leave the connection's buffer shrunk back after they are parsed.
constexpr size_t buffer_keep_bytes = 64 << 10;

/// How long a closing connection keeps reading (and discarding) so the client sees our error
/// response instead of a reset.
constexpr std::chrono::milliseconds linger_time{2000};

constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

std::string json_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[(c >> 4) & 0xf];
          out += hex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out;
}

/// An RFC 9457 problem document for transport-level errors (the routes have their own helper).
response make_problem(int status, std::string_view title, std::string_view detail) {
  response r;
  r.status = status;
  r.content_type = "application/problem+json";
  if (status == 503) // the server's own deadline passed: temporary, retry soon
    r.headers.emplace_back("Retry-After", "1");
  r.body.reserve(64 + title.size() + detail.size());
  r.body += R"({"type":"about:blank","title":")";
  r.body += json_escape(title);
  r.body += R"(","status":)";
  r.body += std::to_string(status);
  r.body += R"(,"detail":")";
  r.body += json_escape(detail);
  r.body += "\"}";
  return r;
}

/// The bytes sent to a connection refused because of the connection limit.
const std::string& busy_reply() {
  static const std::string text = [] {
    auto body = make_problem(503, "Service Unavailable", "too many open connections").body;
    return "HTTP/1.1 503 Service Unavailable\r\nServer: orderd\r\n"
           "Content-Type: application/problem+json\r\nRetry-After: 1\r\nConnection: close\r\n"
           "Content-Length: "
           + std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return text;
}

/// Fills `req.path` and `req.query` from a request target (origin- or absolute-form).
void split_target(std::string_view target, request& req) {
  if (auto hash = target.find('#'); hash != std::string_view::npos)
    target = target.substr(0, hash);
  std::string_view path = target;
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (!path.empty() && path.front() != '/') {
    // absolute-form ("http://host/path"); "*" and anything else stays as it is
    if (auto scheme = path.find("://"); scheme != std::string_view::npos) {
      auto slash = path.find('/', scheme + 3);
      path = slash == std::string_view::npos ? std::string_view{"/"} : path.substr(slash);
    }
  }
  req.raw_path = std::string{path};
  req.path = wire::percent_decode(path);
  wire::for_each_query_item(query, [&](std::string_view key, std::string_view value) {
    req.query.emplace_back(wire::percent_decode(key, true), wire::percent_decode(value, true));
  });
}

/// Whether a handler-supplied extra header may be sent as it is.
bool acceptable_header(std::string_view name, std::string_view value) noexcept {
  if (name.empty())
    return false;
  for (char c : name)
    if (c == '\r' || c == '\n' || c == '\0' || c == ':' || c == ' ' || c == '\t')
      return false;
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0')
      return false;
  // framing is the server's job
  return !beast::iequals(name, "content-length") && !beast::iequals(name, "transfer-encoding")
         && !beast::iequals(name, "connection");
}

std::string format_endpoint(const tcp::endpoint& ep) {
  auto port = std::to_string(ep.port());
  if (ep.address().is_v6())
    return "[" + ep.address().to_string() + "]:" + port;
  return ep.address().to_string() + ":" + port;
}

} // namespace

namespace detail {

class session;

/// Everything the server and its sessions share. Sessions (and through them responders) keep it
/// alive, so the io_context outlives every socket even when a responder outlives the server.
class server_core : public std::enable_shared_from_this<server_core> {
public:
  server_core(server_options opts, handler h)
    : options(std::move(opts)),
      handle(std::move(h)),
      ioc(static_cast<int>(std::max<size_t>(options.threads, 1))),
      acceptor(net::make_strand(ioc)),
      accept_retry(acceptor.get_executor()) {
  }

  ~server_core() {
    // Only reached after stop() joined the threads (or detached the calling one).
    for (auto& t : threads)
      if (t.joinable())
        t.detach();
  }

  uint16_t start();
  void stop_accepting();
  bool drain(std::chrono::milliseconds timeout);
  void stop();

  /// Called once per request whose response got written (or whose connection closed).
  void finish_request() noexcept {
    if (in_flight.fetch_sub(1) == 1 && drain_waiters.load() > 0) {
      std::lock_guard guard{drain_mtx};
      drain_cv.notify_all();
    }
  }

  /// Admits a responder post unless stop() began (see stop(): no handler may be queued after it).
  bool gate_enter() noexcept {
    posting.fetch_add(1);
    if (stopped.load()) {
      posting.fetch_sub(1);
      return false;
    }
    return true;
  }

  void gate_exit() noexcept {
    posting.fetch_sub(1);
  }

  bool register_session(const std::shared_ptr<session>& s);
  void unregister_session(const session* s);

  const server_options options;
  const handler handle;
  net::io_context ioc; // declared before every I/O object: destroyed last
  acceptor_type acceptor;
  timer_type accept_retry;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> bound_port{0};

  std::atomic<size_t> active{0};
  std::atomic<size_t> in_flight{0};
  std::atomic<uint64_t> total{0};
  std::atomic<bool> draining{false}; // responses carry Connection: close
  std::atomic<bool> stopped{false};

private:
  void do_accept();
  void on_accept(beast::error_code ec, socket_type socket);
  void reject(socket_type& socket);
  void close_acceptor();
  bool on_io_thread() const noexcept;
  void run_thread();

  std::mutex lifecycle_mtx; // serialises start / stop_accepting / stop
  bool started = false;

  std::atomic<int> posting{0};
  std::mutex drain_mtx;
  std::condition_variable drain_cv;
  std::atomic<int> drain_waiters{0};

  std::mutex sessions_mtx;
  bool sessions_closed = false;
  std::unordered_map<const session*, std::weak_ptr<session>> sessions;

  // acceptor strand only
  clock_type::time_point last_limit_warning{};
  uint64_t refused_since_warning = 0;
  clock_type::time_point last_accept_warning{};
};

namespace {
thread_local const server_core* current_core = nullptr;
} // namespace

/// One connection. Every member function except post_response() runs on the connection's strand.
/// Why a request's head cannot be trusted to delimit its body or name its host (RFC 9112), or
/// "" when it can. Any Transfer-Encoding other than exactly `chunked` is refused: a server that
/// reads such a body differently from a proxy in front of it would answer the body's bytes as
/// a second request (request smuggling). The connection closes after the 400.
template <class Message>
std::string framing_error(const Message& msg) {
  auto codings = msg.count(bhttp::field::transfer_encoding);
  if (codings > 0) {
    if (codings > 1 || !beast::iequals(msg[bhttp::field::transfer_encoding], "chunked"))
      return "unsupported Transfer-Encoding (only \"chunked\" is accepted)";
    if (msg.count(bhttp::field::content_length) > 0)
      return "Transfer-Encoding and Content-Length together";
  }
  auto hosts = msg.count(bhttp::field::host);
  if (hosts > 1)
    return "more than one Host header";
  if (hosts == 0 && msg.version() >= 11)
    return "an HTTP/1.1 request needs a Host header";
  return {};
}

class session : public std::enable_shared_from_this<session> {
public:
  session(std::shared_ptr<server_core> core, socket_type socket)
    : core_(std::move(core)), socket_(std::move(socket)), timer_(socket_.get_executor()) {
    beast::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    remote_ = ec ? std::string{"?"} : format_endpoint(ep);
    socket_.set_option(tcp::no_delay(true), ec);
  }

  ~session() {
    if (phase_ != phase::closed)
      finish_close();
  }

  /// Called on the acceptor's strand: hands the session over to its own strand.
  void start() {
    if (!core_->register_session(shared_from_this())) {
      net::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
      return;
    }
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

  /// Any thread: routes a handler's response to the strand (inline if already on it).
  void post_response(uint64_t seq, response&& r) {
    if (!core_->gate_enter())
      return; // server stopped: nothing will write it
    net::dispatch(socket_.get_executor(),
                  [self = shared_from_this(), seq, r = std::move(r)]() mutable {
                    self->on_response(seq, std::move(r));
                  });
    core_->gate_exit();
  }

  /// Moves the deadline of request `seq` to `d` from now (see responder::answer_within). Runs
  /// inline when called on the connection's strand (a handler), else it is posted there.
  void post_response_deadline(uint64_t seq, std::chrono::milliseconds d) {
    if (!core_->gate_enter())
      return;
    net::dispatch(socket_.get_executor(), [self = shared_from_this(), seq, d] {
      if (self->phase_ == phase::handling && seq == self->seq_)
        self->set_deadline(d);
    });
    core_->gate_exit();
  }

  strand_type executor() noexcept {
    return socket_.get_executor();
  }

  void close() {
    if (phase_ == phase::closed)
      return;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    try {
      timer_.cancel();
    } catch (const std::exception&) {
      // cancel() only fails on a broken reactor; nothing left to do for this connection
    }
    finish_close();
  }

private:
  enum class phase { reading, handling, writing, lingering, closed };

  void finish_close() noexcept {
    phase_ = phase::closed;
    if (in_flight_counted_) {
      in_flight_counted_ = false;
      core_->finish_request();
    }
    core_->unregister_session(this);
    core_->active.fetch_sub(1);
  }

  // -- reading ---------------------------------------------------------------------------------

  void do_read() {
    if (phase_ == phase::closed)
      return;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(
      std::min<size_t>(core_->options.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    parser_->body_limit(static_cast<uint64_t>(core_->options.max_body_bytes));
    phase_ = phase::reading;
    if (buffer_.size() > 0)
      return read_header(); // a pipelined request's bytes are here: its header clock runs
    // Waiting for the next request may take up to the idle timeout; once its first bytes are
    // here, the rest of its headers must follow within the (shorter) header timeout.
    set_deadline(core_->options.idle_timeout);
    socket_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (self->phase_ != phase::reading)
                                return;
                              if (ec)
                                return self->on_read_error(ec);
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    auto header = core_->options.header_timeout;
    auto idle = core_->options.idle_timeout;
    reading_header_ = true;
    set_deadline(header.count() > 0 && (idle.count() <= 0 || header < idle) ? header : idle);
    bhttp::async_read_header(socket_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->reading_header_ = false;
                               self->on_header(ec);
                             });
  }

  void on_header(beast::error_code ec) {
    if (phase_ != phase::reading)
      return;
    if (ec)
      return on_read_error(ec);
    if (auto why = framing_error(parser_->get()); !why.empty()) {
      spdlog::debug("http {}: refused: {}", remote_, why);
      return send_transport_error(400, "Bad Request", why);
    }
    if (parser_->is_done())
      return dispatch_request(); // no body: the common GET path, no second read operation
    auto& msg = parser_->get();
    if (msg.version() >= 11 && beast::iequals(msg[bhttp::field::expect], "100-continue")) {
      // The body fits the limit (else the header read failed): ask the client to send it.
      net::async_write(socket_, net::buffer(continue_line.data(), continue_line.size()),
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec)
                           return self->close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    if (phase_ != phase::reading)
      return;
    set_deadline(core_->options.idle_timeout); // the body has the connection's own deadline
    bhttp::async_read(socket_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (self->phase_ != phase::reading)
                          return;
                        if (ec)
                          return self->on_read_error(ec);
                        self->dispatch_request();
                      });
  }

  void on_read_error(beast::error_code ec) {
    namespace e = bhttp;
    if (ec == e::error::body_limit) {
      spdlog::debug("http {}: body over {} bytes", remote_, core_->options.max_body_bytes);
      return send_transport_error(413, "Content Too Large",
                                  "the request body exceeds "
                                    + std::to_string(core_->options.max_body_bytes) + " bytes");
    }
    if (ec == e::error::header_limit || ec == e::error::buffer_overflow) {
      spdlog::debug("http {}: header over {} bytes", remote_, core_->options.max_header_bytes);
      return send_transport_error(431, "Request Header Fields Too Large",
                                  "the request line and headers exceed "
                                    + std::to_string(core_->options.max_header_bytes)
                                    + " bytes");
    }
    bool parse_error = ec.category() == e::make_error_code(e::error::bad_method).category();
    if (!parse_error || ec == e::error::end_of_stream || ec == e::error::partial_message
        || ec == e::error::short_read) {
      // the peer closed or reset, or our deadline closed the socket
      spdlog::debug("http {}: connection ends: {}", remote_, ec.message());
      return close();
    }
    spdlog::debug("http {}: malformed request: {}", remote_, ec.message());
    send_transport_error(400, "Bad Request", "malformed HTTP request: " + ec.message());
  }

  // -- handing the request over ------------------------------------------------------------------

  void dispatch_request();

  void on_response(uint64_t seq, response&& r) {
    if (phase_ != phase::handling || seq != seq_) {
      spdlog::debug("http {}: response to a closed or timed-out request dropped", remote_);
      return;
    }
    write_response(std::move(r), keep_alive_ && !core_->draining.load(std::memory_order_relaxed));
  }

  // -- writing ---------------------------------------------------------------------------------

  void send_transport_error(int status, std::string_view title, std::string detail) {
    version_ = 11;
    head_ = false;
    parser_.reset();
    write_response(make_problem(status, title, detail), false);
  }

  void write_response(response&& r, bool keep_alive) {
    try {
      int status = r.status;
      if (status < 200 || status > 599) {
        spdlog::debug("http {}: handler answered invalid status {}", remote_, status);
        r = make_problem(500, "Internal Server Error", "invalid response status");
        status = 500;
      }
      auto& res = res_.emplace(static_cast<bhttp::status>(status), version_);
      res.set(bhttp::field::server, "orderd");
      bool has_body = status != 204 && status != 304;
      if (has_body && !r.content_type.empty())
        res.set(bhttp::field::content_type, r.content_type);
      for (auto& [name, value] : r.headers) {
        if (acceptable_header(name, value))
          res.insert(name, value);
        else
          spdlog::debug("http {}: response header '{}' dropped", remote_, name);
      }
      res.keep_alive(keep_alive);
      if (has_body) {
        res.content_length(r.body.size());
        if (!head_)
          res.body() = std::move(r.body);
      }
    } catch (const std::exception& ex) {
      spdlog::error("http {}: cannot build response: {}", remote_, ex.what());
      return close();
    }
    close_after_write_ = !keep_alive;
    phase_ = phase::writing;
    set_deadline(core_->options.idle_timeout);
    bhttp::async_write(socket_, *res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_write(ec);
    });
  }

  void on_write(beast::error_code ec) {
    if (in_flight_counted_) {
      in_flight_counted_ = false;
      core_->finish_request();
    }
    if (phase_ != phase::writing)
      return;
    res_.reset();
    if (ec) {
      spdlog::debug("http {}: write failed: {}", remote_, ec.message());
      return close();
    }
    if (close_after_write_)
      return linger();
    do_read();
  }

  /// Half-closes and discards whatever the client still sends, so it reads our last response
  /// instead of a reset; closes on EOF, error, or after linger_time.
  void linger() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    phase_ = phase::lingering;
    buffer_.clear();
    set_deadline(linger_time);
    discard();
  }

  void discard() {
    socket_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (self->phase_ != phase::lingering)
                                return;
                              if (ec)
                                return self->close();
                              self->discard();
                            });
  }

  // -- deadlines -------------------------------------------------------------------------------
  // One lazily re-armed timer per connection: moving the deadline later costs a clock read, not a
  // timer operation; the timer only re-arms when it fires early or the deadline moves earlier.

  void set_deadline(std::chrono::milliseconds d) {
    if (d.count() <= 0) {
      deadline_ = clock_type::time_point::max();
      return;
    }
    deadline_ = clock_type::now() + d;
    if (!timer_armed_ || deadline_ < timer_expiry_)
      arm_timer();
  }

  void arm_timer() {
    timer_armed_ = true;
    timer_expiry_ = deadline_;
    timer_.expires_at(deadline_); // cancels a pending wait: its handler sees operation_aborted
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) { self->on_timer(ec); });
  }

  void on_timer(beast::error_code ec) {
    if (ec == net::error::operation_aborted || phase_ == phase::closed)
      return;
    timer_armed_ = false;
    if (deadline_ == clock_type::time_point::max())
      return;
    if (clock_type::now() < deadline_)
      return arm_timer();
    switch (phase_) {
      case phase::reading:
        spdlog::debug("http {}: {} timeout", remote_, reading_header_ ? "header" : "idle");
        return close();
      case phase::handling:
        spdlog::debug("http {}: no response in time", remote_);
        return write_response(make_problem(503, "Service Unavailable",
                                           "the server did not produce a response in time"),
                              false);
      default:
        return close();
    }
  }

  std::shared_ptr<server_core> core_; // first: the io_context outlives the I/O objects below
  socket_type socket_;
  timer_type timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> res_;
  std::string remote_;
  phase phase_ = phase::reading;
  uint64_t seq_ = 0;            // number of the request being handled
  unsigned version_ = 11;       // of the request being handled
  bool keep_alive_ = false;     // the request asked for keep-alive
  bool head_ = false;           // HEAD: Content-Length but no body
  bool close_after_write_ = false;
  bool in_flight_counted_ = false;
  bool timer_armed_ = false;
  bool reading_header_ = false; ///< a request's first bytes are here, its headers are not yet
  clock_type::time_point deadline_ = clock_type::time_point::max();
  clock_type::time_point timer_expiry_{};
};

namespace {

/// The RAII guard behind a responder: sends to the session, and answers 500 if the last copy of the
/// responder dies without having been called.
class session_reply final : public reply_slot {
public:
  session_reply(std::shared_ptr<session> s, uint64_t seq) : session_(std::move(s)), seq_(seq) {
  }

  ~session_reply() override {
    if (completed())
      return;
    try {
      complete(make_problem(500, "Internal Server Error", "the request was dropped unanswered"));
    } catch (...) {
      // allocation failure while destroying: the response timeout will close the connection
    }
  }

  void answer_within(std::chrono::milliseconds d) override {
    session_->post_response_deadline(seq_, d);
  }

private:
  void send(response&& r) override {
    session_->post_response(seq_, std::move(r));
  }

  std::shared_ptr<session> session_;
  uint64_t seq_;
};

} // namespace

void session::dispatch_request() {
  request req;
  try {
    auto& msg = parser_->get();
    req.method = std::string{msg.method_string()};
    req.target = std::string{msg.target()};
    split_target(req.target, req);
    for (const auto& field : msg) {
      auto name = field.name_string();
      auto& lower = req.headers
                      .emplace_back(std::string{name.data(), name.size()},
                                    std::string{field.value()})
                      .first;
      for (auto& c : lower)
        if (c >= 'A' && c <= 'Z')
          c = static_cast<char>(c + ('a' - 'A'));
    }
    req.body = std::move(msg.body());
    req.remote = remote_;
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    head_ = msg.method() == bhttp::verb::head;
  } catch (const std::exception& ex) {
    spdlog::error("http {}: cannot convert request: {}", remote_, ex.what());
    return send_transport_error(500, "Internal Server Error", "cannot process the request");
  }
  parser_.reset();
  if (buffer_.size() == 0 && buffer_.capacity() > buffer_keep_bytes)
    buffer_.shrink_to_fit();

  ++seq_;
  phase_ = phase::handling;
  in_flight_counted_ = true;
  core_->in_flight.fetch_add(1);
  core_->total.fetch_add(1, std::memory_order_relaxed);
  set_deadline(core_->options.response_timeout);

  auto slot = std::make_shared<session_reply>(shared_from_this(), seq_);
  try {
    // On this connection's strand. The handler may answer inline (dispatch then writes at once)
    // or keep a copy of the responder and answer later from any thread.
    core_->handle(std::move(req), responder{slot});
  } catch (const std::exception& ex) {
    spdlog::error("http {}: handler threw: {}", remote_, ex.what());
    slot->complete(make_problem(500, "Internal Server Error", "the request handler failed"));
  } catch (...) {
    spdlog::error("http {}: handler threw a non-exception", remote_);
    slot->complete(make_problem(500, "Internal Server Error", "the request handler failed"));
  }
}

// -- server_core ---------------------------------------------------------------------------------

bool server_core::register_session(const std::shared_ptr<session>& s) {
  std::lock_guard guard{sessions_mtx};
  if (sessions_closed)
    return false;
  sessions.emplace(s.get(), s);
  return true;
}

void server_core::unregister_session(const session* s) {
  std::lock_guard guard{sessions_mtx};
  sessions.erase(s);
}

bool server_core::on_io_thread() const noexcept {
  return current_core == this;
}

void server_core::run_thread() {
  current_core = this;
  for (;;) {
    try {
      ioc.run();
      break;
    } catch (const std::exception& ex) {
      spdlog::error("http: I/O handler threw: {}", ex.what());
    } catch (...) {
      spdlog::error("http: I/O handler threw a non-exception");
    }
  }
  current_core = nullptr;
}

uint16_t server_core::start() {
  std::lock_guard guard{lifecycle_mtx};
  if (stopped.load())
    throw std::logic_error("orderd::http::server: start() after stop()");
  if (started)
    throw std::logic_error("orderd::http::server: start() called twice");
  auto where = options.host + ":" + std::to_string(options.port);
  beast::error_code ec;
  tcp::endpoint ep;
  auto host = options.host.empty() ? std::string{"0.0.0.0"} : options.host;
  if (auto addr = net::ip::make_address(host, ec); !ec) {
    ep = tcp::endpoint{addr, options.port};
  } else {
    tcp::resolver resolver{ioc};
    auto results = resolver.resolve(host, std::to_string(options.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
      throw std::runtime_error("orderd::http::server: invalid listen address " + where + ": "
                               + (ec ? ec.message() : std::string{"no address"}));
    ep = results.begin()->endpoint();
  }
  auto fail = [&](const char* what) {
    beast::error_code ignored;
    acceptor.close(ignored);
    throw std::runtime_error("orderd::http::server: cannot " + std::string{what} + " " + where
                             + ": " + ec.message());
  };
  if (acceptor.open(ep.protocol(), ec); ec)
    fail("open a socket for");
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec)
    fail("set SO_REUSEADDR on");
  if (acceptor.bind(ep, ec); ec)
    fail("bind");
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec)
    fail("listen on");
  bound_port.store(acceptor.local_endpoint(ec).port());
  started = true;
  work.emplace(ioc.get_executor());
  do_accept(); // no thread runs yet: safe to start from here
  auto n = std::max<size_t>(options.threads, 1);
  threads.reserve(n);
  for (size_t i = 0; i < n; ++i)
    threads.emplace_back([self = shared_from_this()] { self->run_thread(); });
  spdlog::info("http: listening on {} with {} I/O thread(s)",
               format_endpoint(tcp::endpoint{ep.address(), bound_port.load()}), n);
  return bound_port.load();
}

void server_core::do_accept() {
  // acceptor strand
  acceptor.async_accept(net::make_strand(ioc),
                        [self = shared_from_this()](beast::error_code ec, socket_type socket) {
                          self->on_accept(ec, std::move(socket));
                        });
}

void server_core::on_accept(beast::error_code ec, socket_type socket) {
  // acceptor strand
  if (!acceptor.is_open())
    return; // stop_accepting() / stop()
  if (ec) {
    auto now = clock_type::now();
    if (now - last_accept_warning >= std::chrono::seconds{1}) {
      last_accept_warning = now;
      spdlog::warn("http: accept failed: {}", ec.message());
    }
    if (ec == net::error::connection_aborted)
      return do_accept();
    // e.g. out of file descriptors: back off instead of spinning
    accept_retry.expires_after(std::chrono::milliseconds{50});
    accept_retry.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && self->acceptor.is_open())
        self->do_accept();
    });
    return;
  }
  auto limit = options.max_connections;
  if (limit != 0 && active.load() >= limit) {
    reject(socket);
  } else {
    active.fetch_add(1);
    try {
      std::make_shared<session>(shared_from_this(), std::move(socket))->start();
    } catch (const std::exception& ex) {
      // make_shared failed before the session existed to decrement the count
      active.fetch_sub(1);
      spdlog::error("http: cannot start a session: {}", ex.what());
    }
  }
  do_accept();
}

void server_core::reject(socket_type& socket) {
  // acceptor strand; never blocks: the socket is made non-blocking first
  beast::error_code ignored;
  socket.non_blocking(true, ignored);
  // Read what the client already sent, so closing sends FIN rather than a reset that could
  // destroy the 503 before the client reads it.
  char sink[4096];
  for (int i = 0; i < 4; ++i) {
    beast::error_code ec;
    if (socket.read_some(net::buffer(sink), ec) == 0 || ec)
      break;
  }
  const auto& reply = busy_reply();
  socket.write_some(net::buffer(reply), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
  ++refused_since_warning;
  auto now = clock_type::now();
  if (now - last_limit_warning >= std::chrono::seconds{1}) {
    last_limit_warning = now;
    spdlog::warn("http: connection limit of {} reached; refused {} connection(s)",
                 options.max_connections, refused_since_warning);
    refused_since_warning = 0;
  }
}

void server_core::close_acceptor() {
  // acceptor strand
  beast::error_code ignored;
  acceptor.close(ignored);
  try {
    accept_retry.cancel();
  } catch (const std::exception&) {
  }
}

void server_core::stop_accepting() {
  draining.store(true);
  std::lock_guard guard{lifecycle_mtx};
  if (!started || stopped.load())
    return;
  auto done = std::make_shared<std::promise<void>>();
  auto closed = done->get_future();
  net::post(acceptor.get_executor(), [self = shared_from_this(), done] {
    self->close_acceptor();
    done->set_value();
  });
  if (!on_io_thread())
    closed.wait(); // the I/O threads run until stop(), which waits for lifecycle_mtx
}

bool server_core::drain(std::chrono::milliseconds timeout) {
  drain_waiters.fetch_add(1);
  bool idle;
  {
    std::unique_lock lock{drain_mtx};
    idle = drain_cv.wait_for(lock, timeout, [this] { return in_flight.load() == 0; });
  }
  drain_waiters.fetch_sub(1);
  return idle;
}

void server_core::stop() {
  std::lock_guard guard{lifecycle_mtx};
  if (stopped.load())
    return;
  draining.store(true);
  stopped.store(true);
  // Wait out responders that passed the gate before `stopped`: their handlers are queued now, and
  // none can be queued later, so once the threads run out of work nothing keeps a session alive.
  while (posting.load() != 0)
    std::this_thread::yield();
  if (started) {
    net::post(acceptor.get_executor(), [self = shared_from_this()] { self->close_acceptor(); });
    std::vector<std::shared_ptr<session>> open;
    {
      std::lock_guard lock{sessions_mtx};
      sessions_closed = true; // sessions accepted from now on close themselves
      open.reserve(sessions.size());
      for (auto& [ptr, weak] : sessions)
        if (auto s = weak.lock())
          open.push_back(std::move(s));
    }
    for (auto& s : open)
      net::post(s->executor(), [s] { s->close(); });
    open.clear();
    work.reset(); // the threads return once every aborted operation has completed
    for (auto& t : threads) {
      if (t.get_id() == std::this_thread::get_id())
        t.detach(); // stop() from a handler: this thread finishes once the handler returns
      else if (t.joinable())
        t.join();
    }
    spdlog::debug("http: stopped");
  }
  std::lock_guard lock{drain_mtx};
  drain_cv.notify_all();
}

} // namespace detail

// -- server ----------------------------------------------------------------------------------------

server::server(server_options options, handler h)
  : core_(std::make_shared<detail::server_core>(std::move(options), std::move(h))) {
}

server::~server() {
  try {
    stop();
  } catch (const std::exception& ex) {
    spdlog::error("http: stop failed: {}", ex.what());
  }
}

uint16_t server::start() {
  return core_->start();
}

void server::stop_accepting() {
  core_->stop_accepting();
}

bool server::drain(std::chrono::milliseconds timeout) {
  return core_->drain(timeout);
}

void server::stop() {
  core_->stop();
}

uint16_t server::port() const noexcept {
  return core_->bound_port;
}

size_t server::active_connections() const noexcept {
  return core_->active.load();
}

size_t server::in_flight() const noexcept {
  return core_->in_flight.load();
}

uint64_t server::requests_total() const noexcept {
  return core_->total.load();
}

} // namespace orderd::http
