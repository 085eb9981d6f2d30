// Scenario 6 of the benchmark harness: the store alone.
//
// Writes the same rows the server writes for `POST /api/v1/orders` (one change set per order:
// insert_order, adjust_stock for every line (available -> reserved), the order.created event and
// one inventory.updated event per line into the outbox) straight through the persistence::store
// interface, in batches (one transaction per batch, as the store writer does), with no HTTP and
// no actors. Like the server's relay, each batch also marks the events of the batch before it
// published (the relay's mark joins the writer's group commit). The change sets per second it
// reaches are the ceiling the server can approach with the same batch size.
//
//   orderd_store_bench [--data-dir DIR] [--skus N] [--seconds S] [--batch N]...
//                      [--synchronous FULL|NORMAL] [--random-ids] [--no-outbox] [--json FILE]
//                      [--database-url postgresql://...]
//
// With --database-url the store is PostgreSQL instead of SQLite (an empty database: the
// catalogue is inserted first); bench/postgres.sh runs it against a private server.
//
// Order ids are time-ordered (version 7) as the server makes them; --random-ids uses random
// version 4 ids instead (what the server did before), to measure what that costs. --no-outbox
// leaves the events out (what this benchmark measured before), to measure what they cost.
//
// Prints one line per batch size and, with --json, writes
//   {"synchronous": "FULL", "skus": N, "runs": [{"batch": 256, "change_sets": ..., "seconds": ...,
//    "change_sets_per_s": ..., "batches": ..., "batch_p50_ms": ..., "batch_p99_ms": ...,
//    "refused": 0}, ...]}
// A refused change set (there should be none) makes the program exit 1.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "domain/ids.hpp"
#include "domain/order.hpp"
#include "domain/time.hpp"
#include "events/catalogue.hpp"
#include "events/rules.hpp"
#include "persistence/postgres/postgres_store.hpp"
#include "persistence/sqlite/sqlite_store.hpp"

namespace fs = std::filesystem;
using namespace orderd;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string data_dir;
  int skus = 1000;
  double seconds = 5.0;
  std::vector<size_t> batches;
  std::string synchronous = "FULL";
  std::string json_path;
  bool random_ids = false;
  bool outbox = true;
  std::string database_url; // PostgreSQL instead of SQLite
};

bool random_order_ids = false; // --random-ids
bool with_outbox = true;       // not --no-outbox

[[noreturn]] void usage(const char* why) {
  std::cerr << "store_bench: " << why << "\n"
            << "usage: orderd_store_bench [--data-dir DIR] [--skus N] [--seconds S] "
               "[--batch N]... [--synchronous FULL|NORMAL] [--random-ids] [--no-outbox] "
               "[--json FILE] [--database-url URL]\n";
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    try {
      if (a == "--random-ids") {
        o.random_ids = true;
        continue;
      }
      if (a == "--no-outbox") {
        o.outbox = false;
        continue;
      }
      if (a == "--data-dir")
        o.data_dir = value();
      else if (a == "--skus")
        o.skus = std::stoi(value());
      else if (a == "--seconds")
        o.seconds = std::stod(value());
      else if (a == "--batch")
        o.batches.push_back(static_cast<size_t>(std::stoul(value())));
      else if (a == "--synchronous")
        o.synchronous = value();
      else if (a == "--database-url")
        o.database_url = value();
      else if (a == "--json")
        o.json_path = value();
      else if (a == "-h" || a == "--help")
        usage("help");
      else
        usage(("unknown argument " + a).c_str());
    } catch (const std::invalid_argument&) {
      usage(("bad number for " + a).c_str());
    } catch (const std::out_of_range&) {
      usage(("number out of range for " + a).c_str());
    }
  }
  if (o.skus < 3 || o.seconds <= 0)
    usage("--skus must be >= 3 and --seconds > 0");
  if (o.batches.empty())
    o.batches = {256, 64};
  for (auto b : o.batches)
    if (b == 0)
      usage("--batch must be > 0");
  return o;
}

std::string sku_name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "BENCH-%05d", i);
  return buf;
}

/// The change set the order actor builds for a new order (see actors/order_actor.cpp):
/// insert_order, one adjust_stock per line moving the quantity from available to reserved, and
/// the events (order.created; inventory.updated for each stock move, built inside the writer's
/// transaction as actors/outbox.cpp does).
persistence::change_set make_order(std::mt19937_64& rng, const std::vector<std::string>& skus,
                                   uint64_t n) {
  std::uniform_int_distribution<size_t> pick(0, skus.size() - 1);
  std::uniform_int_distribution<int> lines(1, 3);
  std::uniform_int_distribution<int> qty(1, 3);
  order o;
  o.id = random_order_ids ? make_uuid() : make_time_ordered_uuid(system_now_ms());
  o.customer_id = "bench-" + std::to_string(n % 10000);
  o.customer_email = "bench@example.com";
  o.status = order_status::pending;
  auto count = lines(rng);
  while (static_cast<int>(o.lines.size()) < count) {
    auto& sku = skus[pick(rng)];
    bool dup = std::any_of(o.lines.begin(), o.lines.end(),
                           [&](const order_line& l) { return l.sku == sku; });
    if (!dup) // the server merges lines naming the same SKU
      o.lines.push_back({sku, qty(rng), 1999});
  }
  o.total_cents = compute_total(o.lines);
  o.currency = "USD";
  o.created_at = o.updated_at = system_now_ms();
  persistence::change_set cs;
  cs.tag = n;
  for (auto& c : stock_changes_for_placement(o.lines))
    cs.ops.emplace_back(persistence::adjust_stock{c.sku, c.available_delta, c.reserved_delta,
                                                  c.sold_delta, o.created_at});
  events::origin from{"store-bench", make_uuid()};
  if (with_outbox)
    cs.ops.emplace_back(persistence::append_event{events::order_created(from, o)});
  auto at = o.created_at;
  cs.ops.insert(cs.ops.begin(), persistence::insert_order{std::move(o)});
  if (with_outbox)
    cs.ops.emplace_back(persistence::append_stock_events{
      [from, at](const std::vector<stock_move>& moves) {
        return events::stock_events(from, moves, at); // the server's rules, inventory.low too
      }});
  return cs;
}

struct run_result {
  size_t batch = 0;
  uint64_t change_sets = 0;
  uint64_t batches = 0;
  uint64_t refused = 0;
  double seconds = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto idx = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

run_result run_batches(persistence::store& st, const std::vector<std::string>& skus,
                       size_t batch_size, double seconds, std::mt19937_64& rng,
                       uint64_t& next_tag) {
  run_result r;
  r.batch = batch_size;
  std::vector<double> batch_ms;
  // Build the batch before starting its clock: the server's actors build change sets in
  // parallel with the writer, so building is not on the writer's critical path.
  auto deadline = clock_type::now() + std::chrono::duration<double>(seconds);
  clock_type::duration busy{};
  do {
    std::vector<persistence::change_set> batch;
    batch.reserve(batch_size);
    for (size_t i = 0; i < batch_size; ++i)
      batch.push_back(make_order(rng, skus, next_tag++));
    if (with_outbox) {
      // The relay: read what is unpublished (on a reader's thread in the server, so untimed)
      // and mark it published in this batch's transaction.
      persistence::mark_events_published mark;
      mark.at = system_now_ms();
      auto unpublished = st.unpublished_events(4 * batch_size);
      if (!unpublished.empty()) {
        mark.through = unpublished.back().seq;
        persistence::change_set cs;
        cs.ops.emplace_back(std::move(mark));
        batch.push_back(std::move(cs));
      }
    }
    auto t0 = clock_type::now();
    auto results = st.apply(batch);
    auto t1 = clock_type::now();
    busy += t1 - t0;
    batch_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    for (auto& res : results)
      if (!res.ok()) {
        if (r.refused++ == 0)
          std::cerr << "store_bench: change set refused: " << res.detail << "\n";
      }
    r.change_sets += batch_size;
    ++r.batches;
  } while (clock_type::now() < deadline);
  r.seconds = std::chrono::duration<double>(busy).count();
  r.p50_ms = percentile(batch_ms, 50);
  r.p99_ms = percentile(batch_ms, 99);
  return r;
}

} // namespace

int main(int argc, char** argv) {
  auto opt = parse(argc, argv);
  random_order_ids = opt.random_ids;
  with_outbox = opt.outbox;
  bool own_dir = opt.data_dir.empty();
  try {
    if (own_dir) {
      auto base = fs::temp_directory_path() / ("orderd-store-bench-" + make_uuid());
      fs::create_directories(base);
      opt.data_dir = base.string();
    } else {
      fs::create_directories(opt.data_dir);
    }
    auto db = (fs::path(opt.data_dir) / "store_bench.db").string();
    for (auto suffix : {"", "-wal", "-shm"})
      fs::remove(db + suffix);

    std::unique_ptr<persistence::store_factory> factory;
    if (opt.database_url.empty()) {
      persistence::sqlite_options so;
      so.synchronous = opt.synchronous;
      factory = std::make_unique<persistence::sqlite_store_factory>(db, so);
    } else {
      factory = std::make_unique<persistence::postgres_store_factory>(
        persistence::postgres_options{opt.database_url});
      opt.synchronous = "postgres";
    }
    auto st = factory->open();

    // The catalogue: opt.skus products with more stock than any run can take.
    std::vector<std::string> skus;
    {
      std::vector<persistence::change_set> batch;
      auto now = system_now_ms();
      for (int i = 0; i < opt.skus; ++i) {
        product p;
        p.sku = sku_name(i);
        p.name = "Bench product " + std::to_string(i);
        p.category = "bench";
        p.price_cents = 1999;
        p.currency = "USD";
        p.available = 1'000'000'000;
        p.created_at = p.updated_at = now;
        skus.push_back(p.sku);
        persistence::change_set cs;
        cs.ops.emplace_back(persistence::insert_product{std::move(p)});
        batch.push_back(std::move(cs));
      }
      for (auto& res : st->apply(batch))
        if (!res.ok())
          throw std::runtime_error("catalogue load refused: " + res.detail);
    }

    std::mt19937_64 rng{42};
    uint64_t tag = 0;
    std::vector<run_result> runs;
    for (auto b : opt.batches) {
      // A short warm-up so every run starts with a hot page cache and statement cache.
      run_batches(*st, skus, b, std::min(0.2, opt.seconds / 5), rng, tag);
      auto r = run_batches(*st, skus, b, opt.seconds, rng, tag);
      std::printf("store_bench: synchronous=%s batch=%zu: %llu change sets in %.2f s = %.0f/s "
                  "(batch p50 %.2f ms, p99 %.2f ms, %llu refused)\n",
                  opt.synchronous.c_str(), b, static_cast<unsigned long long>(r.change_sets),
                  r.seconds, r.change_sets / r.seconds, r.p50_ms, r.p99_ms,
                  static_cast<unsigned long long>(r.refused));
      std::fflush(stdout);
      runs.push_back(r);
    }

    if (!opt.json_path.empty()) {
      std::ostringstream js;
      js << "{\"synchronous\": \"" << opt.synchronous << "\", \"outbox\": "
         << (opt.outbox ? "true" : "false") << ", \"skus\": " << opt.skus
         << ", \"runs\": [";
      for (size_t i = 0; i < runs.size(); ++i) {
        auto& r = runs[i];
        js << (i ? ", " : "") << "{\"batch\": " << r.batch << ", \"change_sets\": "
           << r.change_sets << ", \"batches\": " << r.batches << ", \"seconds\": " << r.seconds
           << ", \"change_sets_per_s\": " << (r.change_sets / r.seconds)
           << ", \"batch_p50_ms\": " << r.p50_ms << ", \"batch_p99_ms\": " << r.p99_ms
           << ", \"refused\": " << r.refused << "}";
      }
      js << "]}\n";
      std::ofstream out(opt.json_path);
      out << js.str();
      if (!out)
        throw std::runtime_error("cannot write " + opt.json_path);
    }

    st.reset();
    if (own_dir)
      fs::remove_all(opt.data_dir);
    uint64_t refused = 0;
    for (auto& r : runs)
      refused += r.refused;
    return refused == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "store_bench: " << e.what() << "\n";
    if (own_dir && !opt.data_dir.empty()) {
      std::error_code ec;
      fs::remove_all(opt.data_dir, ec);
    }
    return 1;
  }
}
