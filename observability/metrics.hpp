#pragma once

// A small process-wide metrics registry rendered in the Prometheus text exposition format
// (version 0.0.4). Plain C++ (no CAF, no Beast), so http/, actors/ and messaging/ all record
// into it. Recording is lock-free (relaxed atomics); the registry's mutexes guard only
// registration, the creation of a labelled child and rendering, none of which is on a hot path:
// callers look a child up once and keep the reference (children live as long as the registry).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace orderd::observability {

/// A monotonically increasing count.
class counter {
public:
  void inc(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<uint64_t> value_{0};
};

/// A value that goes up and down.
class gauge {
public:
  void set(double x) noexcept { value_.store(x, std::memory_order_relaxed); }
  void add(double x) noexcept { value_.fetch_add(x, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> value_{0.0};
};

/// Observations counted into fixed buckets (upper bounds, ascending; +Inf is implicit).
class histogram {
public:
  explicit histogram(std::vector<double> bounds);

  void observe(double x) noexcept;

  struct snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative; ///< one per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  snapshot read() const;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_; ///< bounds_.size() + 1, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

/// Bucket bounds for latencies in seconds: 0.5 ms .. 10 s.
std::vector<double> latency_buckets();

/// Bucket bounds 1, 2, 4, ... up to at least `max`.
std::vector<double> power_of_two_buckets(double max);

enum class metric_type { counter, gauge, histogram };

namespace detail {

/// One metric name with its HELP, TYPE, label names and labelled children.
template <class T>
class family {
public:
  family(std::string name, std::string help, std::vector<std::string> label_names,
         metric_type type, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      type_(type),
      bounds_(std::move(bounds)) {}

  /// The child with these label values (one per label name; extra or missing ones are padded or
  /// dropped). Created on first use; the reference stays valid for the registry's lifetime.
  T& with(std::vector<std::string> values);

  /// Calls `fn(label_values, child)` for each child, in label order.
  template <class Fn>
  void each(Fn fn) const {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [values, child] : children_)
      fn(values, *child);
  }

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }
  metric_type type() const noexcept { return type_; }

private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  metric_type type_;
  std::vector<double> bounds_;
  mutable std::mutex mtx_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

} // namespace detail

using counter_family = detail::family<counter>;
using gauge_family = detail::family<gauge>;
using histogram_family = detail::family<histogram>;

/// Metric families by name. Registering a name twice returns the first family (so every user
/// may register what it needs); registering it again with another kind throws
/// std::logic_error.
class registry {
public:
  /// The process-wide registry that GET /metrics renders.
  static registry& global();

  counter_family& counters(std::string_view name, std::string_view help,
                           std::vector<std::string> label_names = {});
  /// A gauge family. `exposed_as` counter is for monotonic values that are mirrored from
  /// elsewhere at scrape time (e.g. a supervisor's restart count): set, but typed counter.
  gauge_family& gauges(std::string_view name, std::string_view help,
                       std::vector<std::string> label_names = {},
                       metric_type exposed_as = metric_type::gauge);
  histogram_family& histograms(std::string_view name, std::string_view help,
                               std::vector<double> bounds,
                               std::vector<std::string> label_names = {});

  /// Shorthands for metrics without labels.
  counter& counter_metric(std::string_view name, std::string_view help) {
    return counters(name, help).with({});
  }
  gauge& gauge_metric(std::string_view name, std::string_view help) {
    return gauges(name, help).with({});
  }
  histogram& histogram_metric(std::string_view name, std::string_view help,
                              std::vector<double> bounds) {
    return histograms(name, help, std::move(bounds)).with({});
  }

  /// Every family, sorted by name, in the text exposition format.
  std::string render() const;

private:
  struct entry {
    std::unique_ptr<counter_family> counters;
    std::unique_ptr<gauge_family> gauges;
    std::unique_ptr<histogram_family> histograms;
  };
  entry& find_or_add(std::string_view name, metric_type kind);

  mutable std::mutex mtx_;
  std::map<std::string, entry, std::less<>> families_;
};

/// The media type of render()'s output.
inline constexpr std::string_view text_format_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// `text` escaped as a label value (backslash, double quote, line feed).
std::string escape_label_value(std::string_view text);

/// A sample value as Prometheus writes it: integers without a fraction, +Inf, -Inf, NaN.
std::string format_value(double x);

/// The gauge `orderd_dlq_messages`: messages waiting in the dead-letter queue(s). Registered at
/// 0; the RabbitMQ inbound bridge sets it when it learns the depth.
gauge& dlq_messages();

} // namespace orderd::observability
