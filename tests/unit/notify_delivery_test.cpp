// The blocking deliveries behind the notification transports: URL parsing, the e-mail message,
// maildir writes, the webhook signature, and that every network call gives up at its deadline.

#define CAF_SUITE notify_delivery
#include <caf/test/dsl.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <netdb.h>

#include "notify/delivery.hpp"
#include "notify/webhook_policy.hpp"

using namespace orderd;
using namespace orderd::notify;
using namespace std::chrono_literals;

namespace {

notification sample() {
  notification n;
  n.id = "0b7f3c1e-0000-4000-8000-000000000001";
  n.channel = notification_channel::email;
  n.recipient = "ada@example.com";
  n.subject = "Order 42 received";
  n.body = "Thank you.\n.a line starting with a dot\n";
  n.event_type = "order.created";
  n.created_at = 1'750'000'000'000;
  return n;
}

/// A listening socket on 127.0.0.1 that accepts nothing: connects succeed (the backlog takes
/// them), reads never return.
struct silent_listener {
  int fd = -1;
  uint16_t port = 0;
  silent_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~silent_listener() { ::close(fd); }
};

} // namespace

CAF_TEST(smtp and http urls are parsed) {
  auto smtp = parse_smtp_url("smtp://mail.local:2525");
  CAF_REQUIRE(smtp);
  CAF_CHECK_EQUAL(smtp->host, "mail.local");
  CAF_CHECK_EQUAL(smtp->port, 2525);
  CAF_CHECK_EQUAL(parse_smtp_url("smtp://mail.local")->port, 25);
  CAF_CHECK(!parse_smtp_url("http://mail.local"));
  CAF_CHECK(!parse_smtp_url("smtp://:25"));
  CAF_CHECK(!parse_smtp_url("smtp://host:99999"));
  auto hook = parse_http_url("http://127.0.0.1:8081/hooks/orders?x=1");
  CAF_REQUIRE(hook);
  CAF_CHECK_EQUAL(hook->host, "127.0.0.1");
  CAF_CHECK_EQUAL(hook->port, 8081);
  CAF_CHECK_EQUAL(hook->target, "/hooks/orders?x=1");
  CAF_CHECK_EQUAL(parse_http_url("http://example.com")->target, "/");
  CAF_CHECK_EQUAL(parse_http_url("http://example.com")->port, 80);
  CAF_CHECK(!parse_http_url("https://example.com/"));
}

CAF_TEST(an email is rendered with headers and crlf line ends) {
  auto text = render_email(sample(), "shop@example.com", sample().created_at);
  CAF_CHECK(text.find("From: <shop@example.com>\r\n") != std::string::npos);
  CAF_CHECK(text.find("To: <ada@example.com>\r\n") != std::string::npos);
  CAF_CHECK(text.find("Subject: Order 42 received\r\n") != std::string::npos);
  CAF_CHECK(text.find("Date: Sun, 15 Jun 2025 15:06:40 +0000\r\n") != std::string::npos);
  CAF_CHECK(text.find("\r\n\r\nThank you.\r\n.a line") != std::string::npos);
}

CAF_TEST(maildir writes go through tmp into new) {
  auto dir = std::filesystem::temp_directory_path() / ("orderd-maildir-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto n = sample();
  CAF_CHECK_EQUAL(write_maildir(dir.string(), "shop@example.com", n), "");
  auto file = dir / "new" / (n.id + ".eml");
  CAF_REQUIRE(std::filesystem::exists(file));
  CAF_CHECK(std::filesystem::is_empty(dir / "tmp"));
  std::ifstream in{file};
  std::stringstream content;
  content << in.rdbuf();
  CAF_CHECK(content.str().find("Subject: Order 42 received") != std::string::npos);
  std::filesystem::remove_all(dir);
  // A directory that cannot be made is a failure with a reason, not an exception.
  CAF_CHECK_NOT_EQUAL(write_maildir("/proc/orderd-no-such-dir", "shop@example.com", n), "");
}

CAF_TEST(a maildir batch syncs once and a message that cannot be written fails alone) {
  auto dir = std::filesystem::temp_directory_path()
             / ("orderd-maildir-batch-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::vector<orderd::notification> group(3, sample());
  group[0].id = "first";
  group[1].id = "no/such/sub/dir"; // its tmp file cannot be created
  group[2].id = "third";
  auto reasons = write_maildir_batch(dir.string(), "shop@example.com", group);
  CAF_REQUIRE_EQUAL(reasons.size(), 3u);
  CAF_CHECK_EQUAL(reasons[0], "");
  CAF_CHECK_NOT_EQUAL(reasons[1], "");
  CAF_CHECK_EQUAL(reasons[2], "");
  CAF_CHECK(std::filesystem::exists(dir / "new" / "first.eml"));
  CAF_CHECK(std::filesystem::exists(dir / "new" / "third.eml"));
  CAF_CHECK(std::filesystem::is_empty(dir / "tmp"));
  std::filesystem::remove_all(dir);
  // A maildir that cannot be made fails every message, with the reason.
  auto failed = write_maildir_batch("/proc/orderd-no-such-dir", "shop@example.com", group);
  CAF_REQUIRE_EQUAL(failed.size(), 3u);
  for (auto& why : failed)
    CAF_CHECK_NOT_EQUAL(why, "");
}

CAF_TEST(webhook signatures are hmac sha256 in hex) {
  // RFC 4231, test case 2.
  CAF_CHECK_EQUAL(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

CAF_TEST(deliveries to a silent server give up at their deadline) {
  silent_listener silent;
  auto n = sample();
  auto started = std::chrono::steady_clock::now();
  auto why = send_smtp({"127.0.0.1", silent.port}, "shop@example.com", n, 300ms);
  CAF_CHECK(why.find("timed out") != std::string::npos);
  n.recipient = "http://127.0.0.1:" + std::to_string(silent.port) + "/hook";
  n.body = "{}";
  auto hook_why = post_webhook(n, "", webhook_policy{"127.0.0.1"}, 300ms);
  CAF_CHECK(!hook_why.empty());
  auto took = std::chrono::steady_clock::now() - started;
  CAF_CHECK(took < 3s);
}

CAF_TEST(a refused connection fails at once with a reason) {
  silent_listener probe;
  auto port = probe.port;
  ::close(probe.fd); // nothing listens there any more
  probe.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto why = send_smtp({"127.0.0.1", port}, "shop@example.com", sample(), 2s);
  CAF_CHECK(why.find("SMTP connect") != std::string::npos);
}

CAF_TEST(webhooks never reach internal addresses unless their host is listed) {
  webhook_policy open;
  for (auto url : {"http://127.0.0.1:9/x", "http://localhost/x", "http://api.localhost/",
                   "http://LOCALHOST./x", "http://10.1.2.3/", "http://192.168.0.1/",
                   "http://172.16.5.5/", "http://169.254.169.254/latest/meta-data",
                   "http://100.64.0.1/", "http://0.0.0.0/", "http://[::1]:8080/",
                   "http://[fe80::1]/", "http://[fd00::1]/", "http://[::ffff:127.0.0.1]/",
                   "ftp://example.com/"})
    if (!open.refusal(url))
      CAF_FAIL(std::string{url} << " is not refused");
  for (auto url : {"http://hooks.example.com/x", "http://93.184.216.34/", "http://172.32.0.1/"})
    if (open.refusal(url))
      CAF_FAIL(std::string{url} << " is refused: " << *open.refusal(url));
  // A listed host may be anything (the operator said so); with a list, nothing else may be.
  webhook_policy listed{"127.0.0.1:9090, Hooks.Example.com "};
  CAF_CHECK(!listed.refusal("http://127.0.0.1:9090/a"));
  CAF_CHECK(listed.refusal("http://127.0.0.1:9091/a"));
  CAF_CHECK(!listed.refusal("http://hooks.example.COM/x"));
  CAF_CHECK(listed.refusal("http://other.example.com/"));
  // After resolution: an unlisted name may not land on an internal address.
  CAF_CHECK(!open.may_connect("http://hooks.example.com/", "127.0.0.1"));
  CAF_CHECK(!open.may_connect("http://hooks.example.com/", "::ffff:10.0.0.1"));
  CAF_CHECK(open.may_connect("http://hooks.example.com/", "93.184.216.34"));
  CAF_CHECK(listed.may_connect("http://127.0.0.1:9090/", "127.0.0.1"));
  CAF_CHECK(!webhook_policy::is_internal("not-an-address"));
  CAF_CHECK(webhook_policy::is_internal("fd12:3456::1"));
  CAF_CHECK(!webhook_policy::is_internal("2001:db8::1"));
}

CAF_TEST(a webhook to a name that resolves to loopback is refused before connecting) {
  // This machine's own name resolves to one of its addresses (Debian: 127.0.1.1 in /etc/hosts):
  // not caught by the URL's text, only by the check of what the name resolves to.
  char name[256] = {};
  CAF_REQUIRE(gethostname(name, sizeof name - 1) == 0);
  addrinfo* found = nullptr;
  if (getaddrinfo(name, nullptr, nullptr, &found) != 0)
    CAF_FAIL(std::string{name} << " does not resolve");
  bool internal = true;
  for (auto* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    auto* where = a->ai_family == AF_INET
                    ? static_cast<void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                    : static_cast<void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    inet_ntop(a->ai_family, where, text, sizeof text);
    internal = internal && webhook_policy::is_internal(text);
  }
  freeaddrinfo(found);
  if (!internal)
    CAF_FAIL(std::string{name} << " resolves to a public address here");
  silent_listener listener; // on loopback: a connection would be accepted by the kernel
  auto n = sample();
  n.recipient = "http://" + std::string{name} + ":" + std::to_string(listener.port) + "/hook";
  n.body = "{}";
  webhook_policy open;
  CAF_REQUIRE(!open.refusal(n.recipient)); // the text alone does not tell
  auto why = post_webhook(n, "", open, 2s);
  CAF_MESSAGE("the delivery said: " << why);
  CAF_CHECK(why.find("refused") != std::string::npos);
  // Nothing reached the listener: no pending connection to accept.
  ::fcntl(listener.fd, F_SETFL, O_NONBLOCK);
  CAF_CHECK_EQUAL(::accept(listener.fd, nullptr, nullptr), -1);
}
