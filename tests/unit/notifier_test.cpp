// Deterministic tests of the notification channels: records written PENDING before delivery,
// delivery per channel, retries with backoff, the per-channel circuit breaker, dead-lettering
// after the last attempt, and the resume of PENDING records after a restart. Fake transports,
// the in-memory store and CAF's test clock: never run(); time moves by elapse().

#define CAF_SUITE notifications
// Before the test DSL: it defines a macro `allow`, the circuit breaker a member function.
#include "actors/notifier.hpp"

#include <caf/test/dsl.hpp>

#include "actor_fixture.hpp"

namespace {

/// What a fake transport saw and how it answers.
struct fake_endpoint {
  std::vector<notification> calls;
  int fail_next = 0; ///< the next n deliveries fail
  std::function<void(const notification&)> on_call; ///< a check run at each delivery
  std::vector<size_t> groups; ///< sizes of the groups a batching channel handed over
};

caf::behavior fake_transport(caf::event_based_actor*, std::shared_ptr<fake_endpoint> ep) {
  return {
    [=](deliver_atom, const notification& n) -> caf::result<bool> {
      ep->calls.push_back(n);
      if (ep->on_call)
        ep->on_call(n);
      if (ep->fail_next > 0) {
        --ep->fail_next;
        return fail(errc::unavailable, "connection refused");
      }
      return true;
    },
    [=](deliver_atom, const std::vector<notification>& group) {
      ep->groups.push_back(group.size());
      std::vector<std::string> reasons;
      for (auto& n : group) {
        ep->calls.push_back(n);
        if (ep->on_call)
          ep->on_call(n);
        reasons.emplace_back(ep->fail_next > 0 ? "disk full" : "");
        if (ep->fail_next > 0)
          --ep->fail_next;
      }
      return reasons;
    },
  };
}

runtime_options notify_options_for_tests() {
  auto opts = test_options();
  opts.notify.enabled = true;
  opts.notify.max_attempts = 4;
  opts.notify.backoff_base = 100ms;
  opts.notify.backoff_cap = 10s;
  opts.notify.jitter = false; // retry delays exactly 100, 200, 400 ms
  opts.notify.breaker_failures = 2;
  opts.notify.breaker_cooldown = 1s;
  opts.notify.stock_manager_email = "stock@example.com";
  opts.notify.webhook_urls = {"http://hooks.test/orders"};
  return opts;
}

struct notify_fixture : fixture {
  std::shared_ptr<fake_endpoint> mail = std::make_shared<fake_endpoint>();
  std::shared_ptr<fake_endpoint> hook = std::make_shared<fake_endpoint>();

  void boot_notifier(runtime_options opts = notify_options_for_tests(), size_t mail_batch = 1) {
    svc = std::make_shared<services>(opts, factory, [w = wall] { return *w; });
    if (mail_batch > 1)
      svc->transport_batch = [mail_batch](notification_channel ch) {
        return ch == notification_channel::email ? mail_batch : size_t{1};
      };
    auto mail_ep = mail;
    auto hook_ep = hook;
    svc->spawn_transport = [mail_ep, hook_ep](caf::event_based_actor* parent,
                                              notification_channel ch) -> caf::actor {
      if (ch == notification_channel::email)
        return parent->spawn<caf::linked>(fake_transport, mail_ep);
      if (ch == notification_channel::webhook)
        return parent->spawn<caf::linked>(fake_transport, hook_ep);
      return caf::actor{}; // push: record only
    };
    root = sys.spawn(root_supervisor_impl, svc);
    settle();
  }

  std::vector<notification> stored(std::optional<notification_channel> ch = std::nullopt) {
    persistence::notification_query q;
    q.channel = ch;
    q.limit = 100;
    return db->list_notifications(q).items;
  }

  notification only(notification_channel ch) {
    auto xs = stored(ch);
    CAF_REQUIRE_EQUAL(xs.size(), 1u);
    return xs.front();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(notification_tests, notify_fixture)

CAF_TEST(an order created event notifies by email push and webhook) {
  boot_notifier();
  seed(make_product("SKU-1", 10, 500));
  // Every record is durable (and PENDING) before its transport sees it.
  size_t durable_before_delivery = 0;
  auto check = [this, &durable_before_delivery](const notification& n) {
    auto stored_n = db->find_notification(n.id);
    if (stored_n && stored_n->status == notification_status::pending)
      ++durable_before_delivery;
  };
  mail->on_call = check;
  hook->on_call = check;
  auto o = place_ok({{"SKU-1", 2}});
  settle();
  auto email = only(notification_channel::email);
  CAF_CHECK_EQUAL(email.recipient, "customer@example.com");
  CAF_CHECK_EQUAL(email.subject, "Order " + o.id + " received");
  CAF_CHECK_EQUAL(email.event_type, "order.created");
  CAF_CHECK(email.status == notification_status::sent);
  CAF_CHECK_EQUAL(email.attempts, 1);
  auto push = only(notification_channel::push);
  CAF_CHECK_EQUAL(push.recipient, "customer-1");
  CAF_CHECK(push.status == notification_status::sent);
  auto webhook = only(notification_channel::webhook);
  CAF_CHECK_EQUAL(webhook.recipient, "http://hooks.test/orders");
  CAF_CHECK(webhook.status == notification_status::sent);
  CAF_CHECK(webhook.body.find(o.id) != std::string::npos); // the event envelope
  CAF_REQUIRE_EQUAL(mail->calls.size(), 1u);
  // The transport got the record as written: PENDING, with its id, before its first attempt.
  CAF_CHECK_EQUAL(mail->calls[0].id, email.id);
  CAF_CHECK(mail->calls[0].status == notification_status::pending);
  CAF_CHECK_EQUAL(durable_before_delivery, 2u);
}

CAF_TEST(a failing webhook is retried opens its breaker and is dead lettered) {
  boot_notifier();
  seed(make_product("SKU-1", 10, 500));
  hook->fail_next = 100;
  place_ok({{"SKU-1", 1}});
  settle();
  CAF_CHECK_EQUAL(hook->calls.size(), 1u);
  auto first = only(notification_channel::webhook);
  CAF_CHECK(first.status == notification_status::pending);
  CAF_CHECK_EQUAL(first.attempts, 1);
  CAF_CHECK_EQUAL(first.last_error, "connection refused");
  // Other channels do not wait for the failing one.
  CAF_CHECK(only(notification_channel::email).status == notification_status::sent);

  elapse(100ms); // first retry: fails, the second failure opens the breaker
  CAF_CHECK_EQUAL(hook->calls.size(), 2u);
  elapse(200ms); // second retry is due, but the breaker is open: nothing is attempted
  CAF_CHECK_EQUAL(hook->calls.size(), 2u);
  CAF_CHECK_EQUAL(only(notification_channel::webhook).attempts, 2);
  elapse(1s); // cooldown over: one trial, which fails and reopens the breaker
  CAF_CHECK_EQUAL(hook->calls.size(), 3u);
  elapse(400ms);
  CAF_CHECK_EQUAL(hook->calls.size(), 3u);
  elapse(1s); // the fourth and last attempt
  CAF_CHECK_EQUAL(hook->calls.size(), 4u);
  auto dead = only(notification_channel::webhook);
  CAF_CHECK(dead.status == notification_status::failed);
  CAF_CHECK_EQUAL(dead.attempts, 4);
  CAF_CHECK_EQUAL(dead.last_error, "connection refused");
  elapse(10s); // nothing more is tried
  CAF_CHECK_EQUAL(hook->calls.size(), 4u);
}

CAF_TEST(a channel recovers when its endpoint comes back) {
  boot_notifier();
  seed(make_product("SKU-1", 10, 500));
  hook->fail_next = 1;
  place_ok({{"SKU-1", 1}});
  settle();
  CAF_CHECK_EQUAL(only(notification_channel::webhook).attempts, 1);
  elapse(100ms);
  auto n = only(notification_channel::webhook);
  CAF_CHECK(n.status == notification_status::sent);
  CAF_CHECK_EQUAL(n.attempts, 2);
  CAF_CHECK_EQUAL(n.last_error, "");
}

CAF_TEST(pending notifications are resumed after a restart) {
  notification n;
  n.id = make_uuid();
  n.channel = notification_channel::email;
  n.recipient = "ada@example.com";
  n.subject = "Left over";
  n.attempts = 1;
  n.last_error = "crashed";
  n.created_at = n.updated_at = t0;
  CAF_REQUIRE(db->apply({{{persistence::insert_notification{n}}}}).front().ok());
  boot_notifier();
  CAF_REQUIRE_EQUAL(mail->calls.size(), 1u);
  auto resumed = db->find_notification(n.id);
  CAF_REQUIRE(resumed);
  CAF_CHECK(resumed->status == notification_status::sent);
  CAF_CHECK_EQUAL(resumed->attempts, 2);
}

CAF_TEST(a batching channel hands its transport several at once and retries a failed one alone) {
  // Five PENDING e-mails from an earlier run: the channel reads them back together.
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    notification n;
    n.id = make_uuid();
    n.channel = notification_channel::email;
    n.recipient = "ada@example.com";
    n.subject = "Left over " + std::to_string(i);
    n.created_at = n.updated_at = t0 + i;
    CAF_REQUIRE(db->apply({{{persistence::insert_notification{n}}}}).front().ok());
    ids.push_back(n.id);
  }
  mail->fail_next = 1; // the first of the group fails, the others go through
  boot_notifier(notify_options_for_tests(), 4);
  CAF_REQUIRE(!mail->groups.empty());
  CAF_CHECK_EQUAL(mail->groups.front(), 4u); // at most the batch, in one call
  elapse(1s); // past the failed one's retry delay (100 ms)
  for (auto& id : ids) {
    auto n = db->find_notification(id);
    CAF_REQUIRE(n);
    CAF_CHECK(n->status == notification_status::sent);
  }
  // Each delivered once; the failed one twice (its retry), nobody else again.
  CAF_CHECK_EQUAL(mail->calls.size(), 6u);
  CAF_CHECK_EQUAL(db->find_notification(mail->calls.front().id)->attempts, 2);
}

CAF_TEST(a full channel leaves records in the store and reads them back when it drains) {
  // 7 PENDING e-mails from an earlier run, more than the channel may hold (3) and more than
  // one read brings back (2): they come back from the store in reads of 2, as the queue drains.
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    notification n;
    n.id = make_time_ordered_uuid(t0 + i);
    n.channel = notification_channel::email;
    n.recipient = "ada@example.com";
    n.subject = "Left over " + std::to_string(i);
    n.created_at = n.updated_at = t0 + i;
    ids.push_back(n.id);
    CAF_REQUIRE(db->apply({{{persistence::insert_notification{n}}}}).front().ok());
  }
  auto opts = notify_options_for_tests();
  opts.notify.channel_queue_limit = 3;
  opts.notify.resume_batch = 2;
  boot_notifier(opts);
  CAF_REQUIRE_EQUAL(mail->calls.size(), 7u);
  // Oldest first, each once.
  for (size_t i = 0; i < ids.size(); ++i)
    CAF_CHECK_EQUAL(mail->calls[i].id, ids[i]);
  for (auto& n : stored(notification_channel::email))
    CAF_CHECK(n.status == notification_status::sent);
}

CAF_TEST(an ad hoc notification is answered once durable and then delivered) {
  boot_notifier();
  notification n;
  n.channel = notification_channel::email;
  n.recipient = "ada@example.com";
  n.subject = "Hello";
  n.body = "Just saying hello.";
  auto res = submit<notification>(svc->notifier.get(), notify_atom_v, n);
  settle();
  auto created = reply(res);
  CAF_REQUIRE(created);
  CAF_CHECK(!created->id.empty());
  CAF_CHECK(created->status == notification_status::pending);
  CAF_CHECK_EQUAL(created->created_at, t0);
  auto stored_n = db->find_notification(created->id);
  CAF_REQUIRE(stored_n);
  CAF_CHECK(stored_n->status == notification_status::sent);
}

CAF_TEST(low stock mails the stock manager) {
  boot_notifier();
  auto p = make_product("SKU-1", 5, 500);
  p.low_stock_threshold = 3;
  seed(p);
  place_ok({{"SKU-1", 3}});
  settle();
  bool mailed = false;
  for (auto& n : stored(notification_channel::email))
    if (n.event_type == "inventory.low") {
      mailed = true;
      CAF_CHECK_EQUAL(n.recipient, "stock@example.com");
      CAF_CHECK_EQUAL(n.subject, "Low stock: SKU-1");
      CAF_CHECK(n.status == notification_status::sent);
    }
  CAF_CHECK(mailed);
}

CAF_TEST(events render the audience from their payload) {
  event_record e;
  e.type = "stock.rejected";
  e.id = "e-1";
  e.payload = R"({"id":"e-1","type":"stock.rejected","data":{"customer_id":"c-9","items":[]}})";
  auto who = audience_of(e);
  CAF_CHECK_EQUAL(who.customer_id, "c-9");
  CAF_CHECK_EQUAL(who.email, "");
  CAF_CHECK_EQUAL(who.order_id, "");
  notify_options opts;
  auto records = render_notifications(e, who, opts);
  CAF_REQUIRE_EQUAL(records.size(), 1u); // no e-mail known, no webhooks: push only
  CAF_CHECK(records[0].channel == notification_channel::push);
  CAF_CHECK_EQUAL(records[0].subject, "Your order could not be placed");
}

CAF_TEST_FIXTURE_SCOPE_END()
