#define CAF_SUITE http_server
#include <caf/test/dsl.hpp>

#include "http/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using namespace orderd::http;
using namespace std::chrono_literals;

namespace {

using client_response = bhttp::response<bhttp::string_body>;

server_options test_options() {
  server_options opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  opts.idle_timeout = 5s;
  return opts;
}

response json(std::string body, int status = 200) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string str(std::optional<std::string_view> x) {
  return x ? std::string{*x} : std::string{"<none>"};
}

std::string str(boost::beast::string_view x) {
  return std::string{x.data(), x.size()};
}

/// Polls `pred` for up to two seconds (for counters the server updates on its own threads).
template <class Pred>
bool eventually(Pred pred) {
  for (auto deadline = std::chrono::steady_clock::now() + 2s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(1ms))
    if (pred())
      return true;
  return pred();
}

/// A plain synchronous client: one TCP connection.
struct client {
  net::io_context ioc;
  tcp::socket socket{ioc};
  boost::beast::flat_buffer buffer;

  explicit client(uint16_t port) {
    socket.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  }

  client_response request(bhttp::verb method, std::string target, std::string body = {},
                          bool keep_alive = true) {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    req.set(bhttp::field::host, "localhost");
    req.set("X-Custom-Header", "Value");
    req.keep_alive(keep_alive);
    if (!body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = std::move(body);
      req.prepare_payload();
    }
    bhttp::write(socket, req);
    return read();
  }

  client_response get(std::string target) {
    return request(bhttp::verb::get, std::move(target));
  }

  client_response read() {
    client_response res;
    bhttp::read(socket, buffer, res);
    return res;
  }

  void write_raw(std::string_view bytes) {
    net::write(socket, net::buffer(bytes.data(), bytes.size()));
  }

  /// Everything the server sends until it closes the connection.
  std::string read_all() {
    std::string out{static_cast<const char*>(buffer.data().data()), buffer.size()};
    buffer.clear();
    char chunk[4096];
    boost::system::error_code ec;
    while (!ec) {
      auto n = socket.read_some(net::buffer(chunk), ec);
      out.append(chunk, n);
    }
    return out;
  }

  /// True if the server closed the connection (the next read sees EOF).
  bool closed_by_server() {
    char byte;
    boost::system::error_code ec;
    socket.read_some(net::buffer(&byte, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }
};

/// The body of a response (CAF_CHECK_EQUAL must not see a reference into a temporary).
std::string body_of(client_response res) {
  return std::move(res.body());
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

} // namespace

CAF_TEST(a GET round trip delivers the decoded path and query) {
  std::promise<request> seen;
  server srv{test_options(), [&](request&& req, responder reply) {
               seen.set_value(req);
               auto r = json(R"({"status":"ok"})");
               r.headers.emplace_back("X-Test", "yes");
               r.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: x"); // dropped: CR LF
               reply(std::move(r));
             }};
  client c{srv.start()};
  std::string target = "/api/v1/caf%C3%A9%20bar?status=PENDING&q=a+b%26c&empty=&flag&status=DONE";
  auto res = c.get(target);
  CAF_CHECK_EQUAL(res.result_int(), 200u);
  CAF_CHECK_EQUAL(res.body(), R"({"status":"ok"})");
  CAF_CHECK_EQUAL(str(res[bhttp::field::server]), "orderd");
  CAF_CHECK_EQUAL(str(res[bhttp::field::content_type]), "application/json");
  CAF_CHECK_EQUAL(str(res[bhttp::field::content_length]), "15");
  CAF_CHECK_EQUAL(str(res["X-Test"]), "yes");
  CAF_CHECK_EQUAL(res.count("X-Evil"), 0u);
  CAF_CHECK(res.keep_alive());
  auto req = seen.get_future().get();
  CAF_CHECK_EQUAL(req.method, "GET");
  CAF_CHECK_EQUAL(req.target, target);
  CAF_CHECK_EQUAL(req.path, "/api/v1/caf\xC3\xA9 bar");
  CAF_REQUIRE_EQUAL(req.query.size(), 5u);
  CAF_CHECK_EQUAL(req.query[1].first, "q");
  CAF_CHECK_EQUAL(req.query[1].second, "a b&c");
  CAF_CHECK_EQUAL(req.query[2].second, "");
  CAF_CHECK_EQUAL(req.query[3].first, "flag");
  CAF_CHECK_EQUAL(str(req.query_param("status")), "PENDING"); // the first match
  CAF_CHECK_EQUAL(str(req.query_param("missing")), "<none>");
  CAF_CHECK_EQUAL(str(req.header("x-custom-header")), "Value");
  CAF_CHECK_EQUAL(str(req.header("host")), "localhost");
  bool lower_cased = false;
  for (auto& [name, value] : req.headers)
    lower_cased |= name == "x-custom-header";
  CAF_CHECK(lower_cased);
  CAF_CHECK(req.body.empty());
  CAF_CHECK(starts_with(req.remote, "127.0.0.1:"));
  CAF_CHECK_EQUAL(srv.requests_total(), 1u);
}

CAF_TEST(a POST body reaches the handler) {
  server srv{test_options(), [](request&& req, responder reply) {
               auto r = json(req.method + " " + req.body + " " + str(req.header("content-type")),
                             201);
               r.headers.emplace_back("Location", "/api/v1/orders/1");
               reply(std::move(r));
             }};
  client c{srv.start()};
  auto res = c.request(bhttp::verb::post, "/api/v1/orders", R"({"items":[1,2,3]})");
  CAF_CHECK_EQUAL(res.result_int(), 201u);
  CAF_CHECK_EQUAL(res.body(), R"(POST {"items":[1,2,3]} application/json)");
  CAF_CHECK_EQUAL(str(res[bhttp::field::location]), "/api/v1/orders/1");
}

CAF_TEST(a reply from another thread arrives) {
  std::mutex mtx;
  std::vector<std::thread> workers;
  std::atomic<bool> other_thread{false};
  server srv{test_options(), [&](request&& req, responder reply) {
               std::lock_guard guard{mtx};
               auto io_thread = std::this_thread::get_id();
               workers.emplace_back([reply, io_thread, path = req.path, &other_thread] {
                 std::this_thread::sleep_for(20ms); // the handler has long returned
                 other_thread = std::this_thread::get_id() != io_thread;
                 reply(json("late " + path));
               });
             }};
  client c{srv.start()};
  auto res = c.get("/slow");
  CAF_CHECK_EQUAL(res.result_int(), 200u);
  CAF_CHECK_EQUAL(res.body(), "late /slow");
  CAF_CHECK(other_thread.load());
  // the connection stays usable after a late reply
  CAF_CHECK_EQUAL(body_of(c.get("/again")), "late /again");
  std::lock_guard guard{mtx};
  for (auto& t : workers)
    t.join();
}

CAF_TEST(keep-alive serves two requests on one connection and honours Connection close) {
  std::mutex mtx;
  std::vector<std::string> remotes;
  server srv{test_options(), [&](request&& req, responder reply) {
               std::lock_guard guard{mtx};
               remotes.push_back(req.remote);
               reply(json(req.path));
             }};
  client c{srv.start()};
  CAF_CHECK_EQUAL(body_of(c.get("/one")), "/one");
  CAF_CHECK_EQUAL(body_of(c.get("/two")), "/two");
  CAF_CHECK_EQUAL(srv.active_connections(), size_t{1});
  auto last = c.request(bhttp::verb::get, "/three", {}, false);
  CAF_CHECK_EQUAL(last.body(), "/three");
  CAF_CHECK(!last.keep_alive());
  CAF_CHECK(c.closed_by_server());
  std::lock_guard guard{mtx};
  CAF_REQUIRE_EQUAL(remotes.size(), 3u);
  CAF_CHECK_EQUAL(remotes[0], remotes[1]);
  CAF_CHECK_EQUAL(srv.requests_total(), 3u);
  c.socket.close(); // the server lingers until the client closes too
  CAF_CHECK(eventually([&] { return srv.active_connections() == 0; }));
}

CAF_TEST(an oversized body gets 413 and the handler never sees it) {
  auto opts = test_options();
  opts.max_body_bytes = 1024;
  std::atomic<int> calls{0};
  server srv{opts, [&](request&&, responder reply) {
               ++calls;
               reply(json("ok"));
             }};
  auto port = srv.start();
  {
    client c{port};
    auto res = c.request(bhttp::verb::post, "/big", std::string(4096, 'x'));
    CAF_CHECK_EQUAL(res.result_int(), 413u);
    CAF_CHECK_EQUAL(str(res[bhttp::field::content_type]), "application/problem+json");
    CAF_CHECK(res.body().find(R"("status":413)") != std::string::npos);
    CAF_CHECK(res.body().find(R"("title":"Content Too Large")") != std::string::npos);
    CAF_CHECK(!res.keep_alive());
  }
  {
    // A too-large Content-Length is refused before any body byte is sent.
    client c{port};
    c.write_raw("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
    CAF_CHECK_EQUAL(c.read().result_int(), 413u);
    CAF_CHECK(c.closed_by_server());
  }
  {
    // exactly at the limit is fine
    client c{port};
    CAF_CHECK_EQUAL(c.request(bhttp::verb::post, "/ok", std::string(1024, 'x')).result_int(),
                    200u);
  }
  CAF_CHECK_EQUAL(calls.load(), 1);
}

CAF_TEST(oversized headers get 431) {
  auto opts = test_options();
  opts.max_header_bytes = 1024;
  server srv{opts, [](request&&, responder reply) { reply(json("ok")); }};
  client c{srv.start()};
  c.write_raw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
  auto res = c.read();
  CAF_CHECK_EQUAL(res.result_int(), 431u);
  CAF_CHECK(res.body().find(R"("status":431)") != std::string::npos);
}

CAF_TEST(garbage gets 400 and the server still serves the next connection) {
  server srv{test_options(), [](request&&, responder reply) { reply(json("ok")); }};
  auto port = srv.start();
  {
    client c{port};
    static constexpr char garbage[] = "\x16\x03\x01\x02\x00 garbage\r\n\r\n"; // with a NUL
    c.write_raw(std::string_view{garbage, sizeof garbage - 1});
    auto text = c.read_all(); // until the server closes
    CAF_CHECK(starts_with(text, "HTTP/1.1 400 Bad Request\r\n"));
    CAF_CHECK(text.find("application/problem+json") != std::string::npos);
    CAF_CHECK(text.find(R"("status":400)") != std::string::npos);
  }
  {
    client c{port};
    c.write_raw("GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n");
    CAF_CHECK(starts_with(c.read_all(), "HTTP/1.1 400 Bad Request\r\n"));
  }
  client c{port};
  CAF_CHECK_EQUAL(body_of(c.get("/")), "ok");
}

CAF_TEST(a body the server cannot delimit is refused and never read as a second request) {
  std::atomic<int> handled{0};
  server srv{test_options(), [&](request&&, responder reply) {
               ++handled;
               reply(json("ok"));
             }};
  auto port = srv.start();
  // Each body is a complete request of its own: answering it would be a smuggling desync.
  const std::string smuggled = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::string coding : {"identity", "chunked, identity", "xchunked", "gzip, chunked"}) {
    client c{port};
    c.write_raw("POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding
                + "\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n\r\n"
                + smuggled);
    auto text = c.read_all(); // until the server closes
    CAF_CHECK(starts_with(text, "HTTP/1.1 400 Bad Request\r\n"));
    // Refused by our framing check, or by Beast's parser when chunked is last but a
    // Content-Length is there too.
    CAF_CHECK(text.find("Transfer-Encoding") != std::string::npos
              || text.find("bad Content-Length") != std::string::npos);
    // Exactly one response: the body was not answered.
    CAF_CHECK_EQUAL(text.find("HTTP/1.1", 1), std::string::npos);
  }
  {
    client c{port};
    c.write_raw("POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n"
                + smuggled);
    auto text = c.read_all();
    CAF_CHECK(starts_with(text, "HTTP/1.1 400 Bad Request\r\n"));
    CAF_CHECK_EQUAL(text.find("HTTP/1.1", 1), std::string::npos);
  }
  {
    client c{port};
    c.write_raw("POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                "Content-Length: 3\r\n\r\n0\r\n\r\n");
    CAF_CHECK(starts_with(c.read_all(), "HTTP/1.1 400 Bad Request\r\n"));
  }
  CAF_CHECK_EQUAL(handled.load(), 0);
  // Plain chunked still works.
  client c{port};
  c.write_raw("POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n"
              "Connection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  CAF_CHECK(starts_with(c.read_all(), "HTTP/1.1 200 OK\r\n"));
  CAF_CHECK_EQUAL(handled.load(), 1);
}

CAF_TEST(HTTP/1.1 without exactly one Host gets 400) {
  std::atomic<int> handled{0};
  server srv{test_options(), [&](request&&, responder reply) {
               ++handled;
               reply(json("ok"));
             }};
  auto port = srv.start();
  {
    client c{port};
    c.write_raw("GET /health HTTP/1.1\r\n\r\n");
    auto text = c.read_all();
    CAF_CHECK(starts_with(text, "HTTP/1.1 400 Bad Request\r\n"));
    CAF_CHECK(text.find("Host") != std::string::npos);
  }
  {
    client c{port};
    c.write_raw("GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    CAF_CHECK(starts_with(c.read_all(), "HTTP/1.1 400 Bad Request\r\n"));
  }
  CAF_CHECK_EQUAL(handled.load(), 0);
  // HTTP/1.0 needs no Host.
  client c{port};
  c.write_raw("GET /health HTTP/1.0\r\n\r\n");
  auto text = c.read_all();
  CAF_CHECK(text.find(" 200 OK\r\n") != std::string::npos);
  CAF_CHECK_EQUAL(handled.load(), 1);
}

CAF_TEST(Expect 100-continue gets an interim response) {
  server srv{test_options(), [](request&& req, responder reply) { reply(json(req.body)); }};
  client c{srv.start()};
  c.write_raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  std::string interim;
  net::read_until(c.socket, net::dynamic_buffer(interim), "\r\n\r\n");
  CAF_CHECK_EQUAL(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  c.write_raw("hello");
  CAF_CHECK_EQUAL(body_of(c.read()), "hello");
}

CAF_TEST(connections over the limit are refused) {
  auto opts = test_options();
  opts.max_connections = 1;
  server srv{opts, [](request&&, responder reply) { reply(json("ok")); }};
  auto port = srv.start();
  std::optional<client> first{std::in_place, port};
  CAF_CHECK_EQUAL(body_of(first->get("/")), "ok"); // accepted for sure now
  CAF_CHECK_EQUAL(srv.active_connections(), size_t{1});
  {
    client second{port};
    auto text = second.read_all();
    CAF_CHECK(starts_with(text, "HTTP/1.1 503 Service Unavailable\r\n"));
    CAF_CHECK(text.find(R"("status":503)") != std::string::npos);
  }
  first.reset();
  CAF_CHECK(eventually([&] { return srv.active_connections() == 0; }));
  client third{port};
  CAF_CHECK_EQUAL(body_of(third.get("/")), "ok");
}

CAF_TEST(a dropped responder yields 500) {
  server srv{test_options(), [](request&& req, responder reply) {
               if (req.path == "/throw")
                 throw std::runtime_error("boom");
               // "/drop": the responder goes out of scope unanswered
             }};
  client c{srv.start()};
  auto dropped = c.get("/drop");
  CAF_CHECK_EQUAL(dropped.result_int(), 500u);
  CAF_CHECK_EQUAL(str(dropped[bhttp::field::content_type]), "application/problem+json");
  CAF_CHECK(dropped.keep_alive());
  CAF_CHECK_EQUAL(c.get("/throw").result_int(), 500u);
  // in_flight drops when the write completes, which may be just after the client read it
  CAF_CHECK(eventually([&] { return srv.in_flight() == 0; }));
}

CAF_TEST(only the first call of a responder counts) {
  std::atomic<bool> answered{false}; // CAF checks are not thread-safe: check on the test thread
  server srv{test_options(), [&](request&&, responder reply) {
               auto copy = reply;
               reply(json("first"));
               copy(json("second"));
               answered = copy.answered();
             }};
  client c{srv.start()};
  CAF_CHECK_EQUAL(body_of(c.get("/")), "first");
  CAF_CHECK(eventually([&] { return answered.load(); })); // set after the reply is sent
  CAF_CHECK_EQUAL(body_of(c.get("/")), "first"); // no stray second response on the connection
}

CAF_TEST(a handler that never answers gets 503 after the response timeout) {
  auto opts = test_options();
  opts.response_timeout = 50ms;
  std::promise<responder> kept;
  server srv{opts, [&](request&&, responder reply) { kept.set_value(std::move(reply)); }};
  client c{srv.start()};
  auto res = c.get("/");
  CAF_CHECK_EQUAL(res.result_int(), 503u);
  CAF_CHECK_EQUAL(str(res[bhttp::field::retry_after]), "1");
  CAF_CHECK(c.closed_by_server());
  auto reply = kept.get_future().get();
  reply(json("too late")); // harmless no-op
  c.socket.close();
  CAF_CHECK(eventually([&] { return srv.in_flight() == 0 && srv.active_connections() == 0; }));
}

CAF_TEST(a route deadline set with answer_within replaces the response timeout) {
  auto opts = test_options();
  opts.response_timeout = 60s; // the test would time out if this applied
  std::promise<responder> kept;
  server srv{opts, [&](request&& req, responder reply) {
               if (req.target == "/quick") {
                 // Set from another thread, as a bridge actor does when it asks a second actor.
                 std::thread([reply] { reply.answer_within(50ms); }).join();
                 kept.set_value(std::move(reply));
                 return;
               }
               reply.answer_within(50ms);
               reply(json("in time")); // an answer before the deadline is sent as usual
             }};
  client c{srv.start()};
  CAF_CHECK_EQUAL(body_of(c.get("/ok")), "in time");
  auto res = c.get("/quick");
  CAF_CHECK_EQUAL(res.result_int(), 503u);
  CAF_CHECK(c.closed_by_server());
  kept.get_future().get()(json("too late")); // harmless no-op
}

CAF_TEST(an idle keep-alive connection is closed after the idle timeout) {
  auto opts = test_options();
  opts.idle_timeout = 50ms;
  server srv{opts, [](request&&, responder reply) { reply(json("ok")); }};
  client c{srv.start()};
  CAF_CHECK_EQUAL(body_of(c.get("/")), "ok");
  CAF_CHECK(c.closed_by_server()); // blocks until the server gives up on the connection
  CAF_CHECK(eventually([&] { return srv.active_connections() == 0; }));
}

CAF_TEST(slow headers are cut off by the header timeout while an idle connection may wait) {
  auto opts = test_options();
  opts.idle_timeout = 30s;
  opts.header_timeout = 300ms;
  server srv{opts, [](request&&, responder reply) { reply(json("ok")); }};
  auto endpoint = srv.start();
  // A request whose headers never finish: closed long before the idle timeout could do it.
  client slow{endpoint};
  auto sent = std::chrono::steady_clock::now();
  slow.write_raw("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  CAF_CHECK(slow.closed_by_server());
  // Which deadline closed it (the margin is 50-fold: no timing is measured here).
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - sent, opts.idle_timeout / 2);
  // A connection that sends nothing for longer than the header timeout is merely idle: it is
  // kept, and its request, once sent, is served.
  client idle{endpoint};
  std::this_thread::sleep_for(opts.header_timeout * 2);
  CAF_CHECK_EQUAL(body_of(idle.get("/")), "ok");
}

CAF_TEST(drain waits for an in-flight slow reply) {
  std::promise<responder> kept;
  server srv{test_options(), [&](request&&, responder reply) { kept.set_value(std::move(reply)); }};
  auto port = srv.start();
  auto answer = std::async(std::launch::async, [port] {
    client c{port};
    return c.get("/slow");
  });
  auto reply = kept.get_future().get(); // the request is in flight now
  CAF_CHECK_EQUAL(srv.in_flight(), size_t{1});
  srv.stop_accepting();
  try {
    client refused{port};
    CAF_FAIL("connected after stop_accepting()");
  } catch (const boost::system::system_error&) {
    // expected: connection refused
  }
  CAF_CHECK(!srv.drain(20ms)); // still waiting for the reply
  auto drained = std::async(std::launch::async, [&srv] { return srv.drain(5s); });
  reply(json("done"));
  CAF_CHECK(drained.get());
  auto res = answer.get();
  CAF_CHECK_EQUAL(res.body(), "done");
  CAF_CHECK(!res.keep_alive()); // shutting down: the client should go elsewhere
  CAF_CHECK_EQUAL(srv.in_flight(), size_t{0});
  srv.stop();
}

CAF_TEST(stop is idempotent and a responder may outlive the server) {
  std::promise<responder> kept;
  responder reply;
  {
    server srv{test_options(),
               [&](request&&, responder r) { kept.set_value(std::move(r)); }};
    auto port = srv.start();
    client idle{port}; // an idle keep-alive connection
    auto waiting = std::async(std::launch::async, [port] {
      client c{port};
      try {
        c.get("/hold");
        return std::string{"answered"};
      } catch (const boost::system::system_error&) {
        return std::string{"closed"};
      }
    });
    reply = kept.get_future().get();
    srv.stop();
    CAF_CHECK_EQUAL(waiting.get(), "closed");
    CAF_CHECK(idle.closed_by_server());
    CAF_CHECK_EQUAL(srv.active_connections(), size_t{0});
    CAF_CHECK_EQUAL(srv.in_flight(), size_t{0});
    srv.stop(); // again: a no-op
    reply(json("after stop")); // harmless
  } // the destructor calls stop() a third time
  reply(json("after the server is gone")); // still harmless
  reply = responder{}; // the session and the io_context are released here
}

CAF_TEST(start reports an address in use) {
  server first{test_options(), [](request&&, responder reply) { reply(json("ok")); }};
  auto opts = test_options();
  opts.port = first.start();
  server second{opts, [](request&&, responder reply) { reply(json("ok")); }};
  bool thrown = false;
  try {
    second.start();
  } catch (const std::runtime_error& ex) {
    thrown = std::string{ex.what()}.find("in use") != std::string::npos;
  }
  CAF_CHECK(thrown);
}

CAF_TEST(a 204 response carries no body and HEAD gets no body) {
  server srv{test_options(), [](request&& req, responder reply) {
               reply(json("ignored", req.method == "HEAD" ? 200 : 204));
             }};
  client c{srv.start()};
  auto res = c.get("/");
  CAF_CHECK_EQUAL(res.result_int(), 204u);
  CAF_CHECK(res.body().empty());
  bhttp::request<bhttp::empty_body> head{bhttp::verb::head, "/", 11};
  head.set(bhttp::field::host, "x");
  bhttp::write(c.socket, head);
  bhttp::response_parser<bhttp::string_body> parser;
  parser.skip(true); // a HEAD response has no body, whatever its Content-Length
  bhttp::read(c.socket, c.buffer, parser);
  CAF_CHECK_EQUAL(parser.get().result_int(), 200u);
  CAF_CHECK_EQUAL(str(parser.get()[bhttp::field::content_length]), "7");
  CAF_CHECK_EQUAL(c.get("/").result_int(), 204u); // framing intact after the HEAD
}
