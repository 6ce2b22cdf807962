// SPDX-License-Identifier: Apache-2.0
//
// Counters, gauges and histograms with labels, rendered in the Prometheus text exposition format
// (version 0.0.4). Updating a metric is a relaxed atomic operation, safe from any thread; looking
// up a labelled series takes the family's lock, so hot paths keep the returned reference.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace constellation::core::metrics {

/// A monotonically increasing value. Names end in "_total".
class Counter {
 public:
  /// Adds v (v >= 0; a negative v is a bug).
  void inc(double v = 1.0);
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

/// A value that goes up and down.
class Gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void add(double v) { v_.fetch_add(v, std::memory_order_relaxed); }
  void sub(double v) { add(-v); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

/// Counts observations into cumulative buckets with the given upper bounds.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);
  const std::vector<double>& upper_bounds() const { return bounds_; }
  /// Non-cumulative count of bucket i (i == upper_bounds().size() is the +Inf bucket).
  std::uint64_t bucket_count(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

/// Default latency buckets in seconds: 0.5 ms to 10 s.
std::vector<double> default_latency_buckets();

enum class Kind { Counter, Gauge, Histogram };

/// All series of one metric name, one per combination of label values.
template <class M>
class Family {
 public:
  /// The series for these label values (one per label name, in order), created on first use.
  /// The reference stays valid as long as the registry.
  M& labels(std::initializer_list<std::string_view> values);
  M& labels(const std::vector<std::string>& values);
  /// The series of a family without labels.
  M& get() { return labels({}); }

  const std::string& name() const { return name_; }

 private:
  friend class Registry;
  Family(std::string name, std::string help, Kind kind, std::vector<std::string> label_names,
         std::vector<double> buckets)
      : name_(std::move(name)),
        help_(std::move(help)),
        kind_(kind),
        label_names_(std::move(label_names)),
        buckets_(std::move(buckets)) {}
  M& series(std::vector<std::string> values);
  void render(std::string& out) const;

  std::string name_;
  std::string help_;
  Kind kind_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> series_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

/// A set of metric families. Registering a name again with the same kind and label names returns
/// the existing family; anything else (a bad name, a counter without "_total", a clash) is a bug
/// and aborts. Thread-safe.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& counter(std::string_view name, std::string_view help, std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string_view name, std::string_view help, std::vector<std::string> label_names = {});
  HistogramFamily& histogram(std::string_view name, std::string_view help, std::vector<double> upper_bounds,
                             std::vector<std::string> label_names = {});

  /// Runs `fn` at the start of every render(), e.g. to set gauges computed on demand
  /// (queue depths, member counts). fn must not call render().
  void on_collect(std::function<void()> fn);

  /// The text exposition: families sorted by name, series by label values; HELP and TYPE lines
  /// for each; label values and help escaped as the format requires. Byte-identical for equal
  /// contents.
  std::string render() const;

 private:
  struct Entry {
    Kind kind;
    std::unique_ptr<CounterFamily> counter;
    std::unique_ptr<GaugeFamily> gauge;
    std::unique_ptr<HistogramFamily> histogram;
  };
  Entry& entry(std::string_view name, Kind kind, const std::vector<std::string>& label_names);
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> families_;
  std::vector<std::function<void()>> collectors_;
};

/// Formats a sample value as the exposition format wants: integers without a fraction,
/// "+Inf", "-Inf", "NaN", otherwise the shortest round-trip form.
std::string format_value(double v);

}  // namespace constellation::core::metrics
