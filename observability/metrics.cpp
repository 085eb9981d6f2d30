#include "observability/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "util/name_table.hpp"

namespace orderd::observability {

// -- histogram ------------------------------------------------------------------------------------

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double x) noexcept {
  // A dozen bounds: a linear scan is as fast as a binary search and simpler.
  size_t i = 0;
  while (i < bounds_.size() && x > bounds_[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(x, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
  snapshot s;
  s.bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // Buckets, not count_, define the total: the three are updated separately, and a scrape
  // must never show a +Inf bucket different from _count.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> power_of_two_buckets(double max) {
  std::vector<double> out;
  for (double b = 1; ; b *= 2) {
    out.push_back(b);
    if (b >= max)
      break;
  }
  return out;
}

// -- families -------------------------------------------------------------------------------------

namespace detail {

template <class T>
T& family<T>::with(std::vector<std::string> values) {
  values.resize(label_names_.size());
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = children_[values];
  if (!slot) {
    if constexpr (std::is_same_v<T, histogram>)
      slot = std::make_unique<histogram>(bounds_);
    else
      slot = std::make_unique<T>();
  }
  return *slot;
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

} // namespace detail

// -- text format ----------------------------------------------------------------------------------

std::string escape_label_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

namespace {

std::string escape_help(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

/// `{a="x",b="y"}` (with `extra` appended, e.g. le="0.5"), or nothing without labels.
std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty())
    return {};
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0)
      out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty())
      out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

std::string_view type_name(metric_type t) {
  static constexpr name_table names{
    metric_type::histogram, {"counter", "gauge", "histogram"}, "untyped"};
  return names.name(t);
}

template <class Family>
void header(std::string& out, const Family& f) {
  out += "# HELP ";
  out += f.name();
  out += ' ';
  out += escape_help(f.help());
  out += "\n# TYPE ";
  out += f.name();
  out += ' ';
  out += type_name(f.type());
  out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out += name;
  out += labels;
  out += ' ';
  out += format_value(value);
  out += '\n';
}

} // namespace

std::string format_value(double x) {
  if (std::isnan(x))
    return "NaN";
  if (std::isinf(x))
    return x > 0 ? "+Inf" : "-Inf";
  char buf[32];
  if (x == std::floor(x) && std::fabs(x) < 1e15) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(x));
    return std::string(buf, end);
  }
  // Shortest round-trip digits, fixed notation unless the exponent is extreme (0.0005, not 5e-04).
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general);
  return std::string(buf, end);
}

// -- registry -------------------------------------------------------------------------------------

registry& registry::global() {
  static registry instance;
  return instance;
}

registry::entry& registry::find_or_add(std::string_view name, metric_type kind) {
  auto i = families_.find(name);
  if (i == families_.end())
    i = families_.emplace(std::string{name}, entry{}).first;
  auto& e = i->second;
  bool other_kind = (kind != metric_type::counter && e.counters)
                    || (kind != metric_type::gauge && e.gauges)
                    || (kind != metric_type::histogram && e.histograms);
  if (other_kind)
    throw std::logic_error("metric " + std::string{name} + " is registered with another type");
  return e;
}

counter_family& registry::counters(std::string_view name, std::string_view help,
                                   std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& e = find_or_add(name, metric_type::counter);
  if (!e.counters)
    e.counters = std::make_unique<counter_family>(std::string{name}, std::string{help},
                                                  std::move(label_names), metric_type::counter,
                                                  std::vector<double>{});
  return *e.counters;
}

gauge_family& registry::gauges(std::string_view name, std::string_view help,
                               std::vector<std::string> label_names, metric_type exposed_as) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& e = find_or_add(name, metric_type::gauge);
  if (!e.gauges)
    e.gauges = std::make_unique<gauge_family>(std::string{name}, std::string{help},
                                              std::move(label_names), exposed_as,
                                              std::vector<double>{});
  return *e.gauges;
}

histogram_family& registry::histograms(std::string_view name, std::string_view help,
                                       std::vector<double> bounds,
                                       std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& e = find_or_add(name, metric_type::histogram);
  if (!e.histograms)
    e.histograms = std::make_unique<histogram_family>(std::string{name}, std::string{help},
                                                      std::move(label_names),
                                                      metric_type::histogram, std::move(bounds));
  return *e.histograms;
}

std::string registry::render() const {
  std::string out;
  out.reserve(8192);
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [name, e] : families_) {
    if (e.counters) {
      header(out, *e.counters);
      e.counters->each([&](const std::vector<std::string>& values, const counter& c) {
        sample(out, name, label_set(e.counters->label_names(), values),
               static_cast<double>(c.value()));
      });
    } else if (e.gauges) {
      header(out, *e.gauges);
      e.gauges->each([&](const std::vector<std::string>& values, const gauge& g) {
        sample(out, name, label_set(e.gauges->label_names(), values), g.value());
      });
    } else if (e.histograms) {
      header(out, *e.histograms);
      auto& names = e.histograms->label_names();
      e.histograms->each([&](const std::vector<std::string>& values, const histogram& h) {
        auto s = h.read();
        auto bucket = name + "_bucket";
        for (size_t i = 0; i < s.bounds.size(); ++i)
          sample(out, bucket, label_set(names, values, "le", format_value(s.bounds[i])),
                 static_cast<double>(s.cumulative[i]));
        sample(out, bucket, label_set(names, values, "le", "+Inf"),
               static_cast<double>(s.count));
        sample(out, name + "_sum", label_set(names, values), s.sum);
        sample(out, name + "_count", label_set(names, values), static_cast<double>(s.count));
      });
    }
  }
  return out;
}

gauge& dlq_messages() {
  static gauge& g = registry::global().gauge_metric(
    "orderd_dlq_messages", "Messages waiting in the dead-letter queue (set by the AMQP inbound "
                           "bridge; 0 until it reports).");
  return g;
}

} // namespace orderd::observability
