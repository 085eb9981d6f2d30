// Deterministic tests of the cart registry and cart actors (customers, carts, checkout), on the
// same fixture as actors_test.cpp: the whole tree on CAF's test coordinator over the memory store.

#define CAF_SUITE carts
#include <caf/test/dsl.hpp>

#include "actor_fixture.hpp"

#include "actors/cart_actor.hpp"

namespace {

/// Stands in for the order registry in the lock test: it takes placements and answers none
/// until the test says so, so the cart stays locked for as long as the test needs.
struct held_orders_state {
  held_orders_state() = default;
  std::vector<caf::response_promise> held;
  static inline const char* name = "held-orders";
};

caf::behavior held_orders(caf::stateful_actor<held_orders_state>* self) {
  return {
    [=](place_atom, placement_request&) -> caf::response_promise {
      self->state.held.push_back(self->make_response_promise());
      return self->state.held.back();
    },
    // Promises are delivered from inside the actor (they need its execution context).
    [=](release_atom, caf::error& why) {
      for (auto& rp : self->state.held)
        rp.deliver(why);
      self->state.held.clear();
    },
  };
}

struct cart_fixture : fixture {
  std::string customer_id = make_uuid();

  cart_fixture() {
    seed(make_product("A", 10, 150));
    seed(make_product("B", 5, 250));
    customer c;
    c.id = customer_id;
    c.details = {"Ada", "ada@example.com", "", ""};
    c.version = 1;
    c.created_at = c.updated_at = t0;
    persistence::change_set cs;
    cs.ops.emplace_back(persistence::insert_customer{c});
    CAF_REQUIRE(db->apply({cs}).front().ok());
    boot();
  }

  caf::actor carts() {
    return svc->carts.get();
  }

  caf::expected<priced_cart> add(const std::string& sku, int64_t quantity) {
    return ask<priced_cart>(carts(), add_atom_v, customer_id, sku, quantity);
  }

  caf::expected<priced_cart> remove(const std::string& sku) {
    return ask<priced_cart>(carts(), remove_atom_v, customer_id, sku);
  }

  caf::expected<priced_cart> view() {
    return ask<priced_cart>(carts(), get_atom_v, customer_id);
  }

  caf::expected<placement_result> checkout() {
    placement_request req;
    return ask<placement_result>(carts(), checkout_atom_v, customer_id, req);
  }

  cart stored_cart() {
    auto c = db->find_cart(customer_id);
    CAF_REQUIRE(c.has_value());
    return *c;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cart_tests, cart_fixture)

CAF_TEST(adding items creates a durable cart priced at the current prices) {
  CAF_CHECK_EQUAL(code_name(view()), code_text(errc::not_found));
  CAF_REQUIRE(add("A", 2));
  auto c = add("A", 1); // the same sku again adds to its line
  CAF_REQUIRE(c);
  CAF_REQUIRE_EQUAL(c->lines.size(), 1u);
  CAF_CHECK_EQUAL(c->lines[0].quantity, 3);
  CAF_CHECK(c->lines[0].line_total_cents == std::optional<int64_t>{450});
  c = add("B", 1);
  CAF_REQUIRE(c);
  CAF_CHECK(c->total_cents == std::optional<int64_t>{700});
  CAF_CHECK(c->currency == std::optional<std::string>{"USD"});
  CAF_CHECK(stored_cart().lines == (std::vector<requested_line>{{"A", 3}, {"B", 1}}));
  CAF_CHECK_EQUAL(stored_cart().version, 3);
  // Refusals change nothing.
  CAF_CHECK_EQUAL(code_name(add("GHOST", 1)), code_text(errc::unknown_sku));
  CAF_CHECK_EQUAL(code_name(add("A", limits::max_quantity_per_line)),
                  code_text(errc::invalid_input));
  CAF_CHECK_EQUAL(code_name(remove("GHOST")), code_text(errc::not_found));
  CAF_CHECK_EQUAL(stored_cart().version, 3);
  auto after = remove("A");
  CAF_REQUIRE(after);
  CAF_CHECK(after->content.lines == (std::vector<requested_line>{{"B", 1}}));
}

CAF_TEST(requests for an unknown customer are not found) {
  auto nobody = make_uuid();
  CAF_CHECK_EQUAL(code_name(ask<priced_cart>(carts(), add_atom_v, nobody, std::string{"A"},
                                             int64_t{1})),
                  code_text(errc::not_found));
  CAF_CHECK(!db->find_cart(nobody));
  // The actor that answered does not linger.
  CAF_CHECK_EQUAL(stats_of(carts()).live_children, 0);
}

CAF_TEST(a successful checkout places the order and empties the cart) {
  CAF_REQUIRE(add("A", 2));
  CAF_REQUIRE(add("B", 1));
  auto res = checkout();
  CAF_REQUIRE(res);
  CAF_REQUIRE(!res->replayed);
  auto& o = res->placed;
  CAF_CHECK_EQUAL(o.customer_id, customer_id);
  CAF_CHECK_EQUAL(o.customer_email, "ada@example.com");
  CAF_CHECK(o.lines == (std::vector<order_line>{{"A", 2, 150}, {"B", 1, 250}}));
  CAF_CHECK(db->find_order(o.id) == o);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 8, 2, 0, 2}));
  // Emptied in the order's own change set, unlocked, and open again.
  CAF_CHECK(stored_cart().lines.empty());
  auto c = view();
  CAF_REQUIRE(c);
  CAF_CHECK(!c->locked);
  CAF_CHECK(c->content.lines.empty());
  CAF_CHECK(c->total_cents == std::optional<int64_t>{0});
  // An empty cart has nothing to check out.
  CAF_CHECK_EQUAL(code_name(checkout()), code_text(errc::conflict));
  CAF_CHECK_EQUAL(db->count_orders(), 1);
}

CAF_TEST(a checkout refused for stock unlocks the cart and marks it with the short lines) {
  CAF_REQUIRE(add("A", 2));
  CAF_REQUIRE(add("B", 6));
  auto res = checkout();
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(code_name(res), code_text(errc::insufficient_stock));
  CAF_CHECK_EQUAL(short_lines_of(res.error()), (std::vector<short_line>{{"B", 6, 5}}));
  CAF_CHECK_EQUAL(db->count_orders(), 0);
  CAF_CHECK_EQUAL(stored_stock("A"), (stock_level{"A", 10, 0, 0, 1}));
  // The lines stay, the mark is durable, and the cart is not locked.
  auto stored = stored_cart();
  CAF_CHECK(stored.status == cart_status::stock_unavailable);
  CAF_CHECK(stored.short_lines == (std::vector<short_line>{{"B", 6, 5}}));
  CAF_CHECK(stored.lines == (std::vector<requested_line>{{"A", 2}, {"B", 6}}));
  auto c = view();
  CAF_REQUIRE(c);
  CAF_CHECK(!c->locked);
  CAF_CHECK(c->content.status == cart_status::stock_unavailable);
  // The customer adjusts: the mark goes, and the next checkout succeeds.
  CAF_REQUIRE(remove("B"));
  CAF_CHECK(stored_cart().status == cart_status::open);
  CAF_CHECK(stored_cart().short_lines.empty());
  CAF_REQUIRE(add("B", 5));
  auto again = checkout();
  CAF_REQUIRE(again);
  CAF_CHECK_EQUAL(again->placed.total_cents, 2 * 150 + 5 * 250);
  CAF_CHECK(stored_cart().lines.empty());
}

CAF_TEST(a locked cart refuses changes until the checkout is answered) {
  CAF_REQUIRE(add("A", 2));
  auto holder = sys.spawn(held_orders);
  // The slot holds the only strong reference to the registry: keep it alive meanwhile, or
  // the root would see it stop (unreachable) and put a fresh one back into the slot.
  auto real_orders = svc->orders.get();
  svc->orders.set(holder);
  placement_request req;
  auto pending = submit<placement_result>(carts(), checkout_atom_v, customer_id, req);
  settle();
  CAF_REQUIRE_EQUAL(state_of<held_orders_state>(holder).held.size(), 1u);
  CAF_CHECK(!pending->has_value());
  CAF_CHECK_EQUAL(code_name(add("A", 1)), code_text(errc::conflict));
  CAF_CHECK_EQUAL(code_name(remove("A")), code_text(errc::conflict));
  CAF_CHECK_EQUAL(code_name(checkout()), code_text(errc::conflict));
  auto locked = view();
  CAF_REQUIRE(locked);
  CAF_CHECK(locked->locked);
  CAF_CHECK_EQUAL(stored_cart().version, 1);
  // The placement fails for another reason: the cart unlocks unchanged.
  caf::anon_send(holder, release_atom_v, fail(errc::unavailable, "order registry restarting"));
  settle();
  auto answered = reply(pending);
  CAF_CHECK_EQUAL(code_name(answered), code_text(errc::unavailable));
  CAF_CHECK(stored_cart().lines == (std::vector<requested_line>{{"A", 2}}));
  CAF_CHECK(add("A", 1));
  svc->orders.set(real_orders);
  caf::anon_send_exit(holder, caf::exit_reason::user_shutdown);
}

CAF_TEST(a crashed cart actor is rebuilt from the store on the next request) {
  CAF_REQUIRE(add("A", 2));
  self->send(carts(), crash_atom_v, customer_id);
  settle();
  auto stats = stats_of(carts());
  CAF_CHECK_EQUAL(stats.live_children, 0);
  CAF_CHECK_EQUAL(stats.restarts, 1);
  auto c = view();
  CAF_REQUIRE(c);
  CAF_CHECK(c->content.lines == (std::vector<requested_line>{{"A", 2}}));
  CAF_CHECK(add("B", 1));
  CAF_CHECK_EQUAL(stored_cart().version, 2);
}

CAF_TEST(an idle cart actor passivates and comes back with its cart) {
  CAF_REQUIRE(add("A", 2));
  CAF_CHECK_EQUAL(stats_of(carts()).live_children, 1);
  elapse(svc->options.cart_idle_timeout);
  settle();
  CAF_CHECK_EQUAL(stats_of(carts()).live_children, 0);
  auto c = view();
  CAF_REQUIRE(c);
  CAF_CHECK(c->content.lines == (std::vector<requested_line>{{"A", 2}}));
}

CAF_TEST(a checkout places the order with the current e-mail of the customer) {
  CAF_REQUIRE(add("A", 1)); // the cart actor is live while the customer changes
  auto updated = ask<customer>(carts(), update_atom_v, customer_id,
                               customer_details{"Ada", "ada.king@example.com", "", ""});
  CAF_REQUIRE(updated);
  auto res = checkout();
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->placed.customer_email, "ada.king@example.com");
}

CAF_TEST(customers are created updated and deleted through the registry) {
  auto created = ask<customer>(carts(), create_atom_v,
                               customer_details{"Bob", "bob@example.com", "", ""});
  CAF_REQUIRE(created);
  CAF_CHECK(is_uuid(created->id));
  CAF_CHECK_EQUAL(created->version, 1);
  CAF_CHECK(db->find_customer(created->id) == *created);
  auto taken = ask<customer>(carts(), create_atom_v,
                             customer_details{"Eve", "BOB@example.com", "", ""});
  CAF_CHECK_EQUAL(code_name(taken), code_text(errc::conflict));
  auto updated = ask<customer>(carts(), update_atom_v, created->id,
                               customer_details{"Robert", "bob@example.com", "", ""});
  CAF_REQUIRE(updated);
  CAF_CHECK_EQUAL(updated->version, 2);
  CAF_CHECK_EQUAL(updated->details.name, "Robert");
  // Deleting the customer with a live cart drops the cart and stops its actor.
  CAF_REQUIRE(add("A", 1));
  CAF_REQUIRE(ask<bool>(carts(), delete_atom_v, customer_id));
  CAF_CHECK(!db->find_customer(customer_id));
  CAF_CHECK(!db->find_cart(customer_id));
  CAF_CHECK_EQUAL(stats_of(carts()).live_children, 0);
  CAF_CHECK_EQUAL(code_name(view()), code_text(errc::not_found));
  CAF_CHECK_EQUAL(code_name(ask<bool>(carts(), delete_atom_v, customer_id)),
                  code_text(errc::not_found));
}

CAF_TEST_FIXTURE_SCOPE_END()
