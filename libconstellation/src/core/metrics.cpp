// SPDX-License-Identifier: Apache-2.0
#include "core/metrics.hpp"

#include "core/assert.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace constellation::core::metrics {

namespace {

bool valid_metric_name(std::string_view n) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_label_name(std::string_view n) {
  if (n.empty() || n.starts_with("__")) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void append_escaped_label(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
}

void append_escaped_help(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
}

// {a="x",b="y"} plus an optional extra label (le for histogram buckets).
void append_labels(std::string& out, const std::vector<std::string>& names, const std::vector<std::string>& values,
                   std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out.push_back('{');
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!first) out.push_back(',');
    first = false;
    out += names[i];
    out += "=\"";
    append_escaped_label(out, values[i]);
    out.push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out.push_back(',');
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out.push_back('"');
  }
  out.push_back('}');
}

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::Counter: return "counter";
    case Kind::Gauge: return "gauge";
    case Kind::Histogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    return std::string(buf, r.ptr);
  }
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void Counter::inc(double v) {
  CST_ASSERT_MSG(v >= 0, "counters only go up");
  v_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  CST_ASSERT_MSG(std::is_sorted(bounds_.begin(), bounds_.end()) &&
                     std::adjacent_find(bounds_.begin(), bounds_.end()) == bounds_.end(),
                 "histogram bounds must be strictly increasing");
  if (!bounds_.empty() && std::isinf(bounds_.back())) bounds_.pop_back();  // +Inf is implicit
  counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);  // first bound >= v: le semantics
  counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::uint64_t Histogram::count() const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) n += counts_[i].load(std::memory_order_relaxed);
  return n;
}

std::vector<double> default_latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <class M>
M& Family<M>::labels(std::initializer_list<std::string_view> values) {
  std::vector<std::string> v;
  v.reserve(values.size());
  for (auto s : values) v.emplace_back(s);
  return series(std::move(v));
}

template <class M>
M& Family<M>::labels(const std::vector<std::string>& values) {
  return series(values);
}

template <class M>
M& Family<M>::series(std::vector<std::string> values) {
  CST_ASSERT_MSG(values.size() == label_names_.size(), "wrong number of label values");
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    std::unique_ptr<M> m;
    if constexpr (std::is_same_v<M, Histogram>) {
      m = std::make_unique<M>(buckets_);
    } else {
      m = std::make_unique<M>();
    }
    it = series_.emplace(std::move(values), std::move(m)).first;
  }
  return *it->second;
}

template <class M>
void Family<M>::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out.push_back(' ');
  append_escaped_help(out, help_);
  out += "\n# TYPE ";
  out += name_;
  out.push_back(' ');
  out += kind_name(kind_);
  out.push_back('\n');
  std::lock_guard lock(mu_);
  for (const auto& [values, m] : series_) {
    if constexpr (std::is_same_v<M, Histogram>) {
      std::uint64_t cumulative = 0;
      const auto& bounds = m->upper_bounds();
      for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += m->bucket_count(i);
        out += name_;
        out += "_bucket";
        append_labels(out, label_names_, values, "le", i < bounds.size() ? format_value(bounds[i]) : "+Inf");
        out.push_back(' ');
        out += std::to_string(cumulative);
        out.push_back('\n');
      }
      out += name_;
      out += "_sum";
      append_labels(out, label_names_, values);
      out.push_back(' ');
      out += format_value(m->sum());
      out.push_back('\n');
      out += name_;
      out += "_count";
      append_labels(out, label_names_, values);
      out.push_back(' ');
      out += std::to_string(cumulative);
      out.push_back('\n');
    } else {
      out += name_;
      append_labels(out, label_names_, values);
      out.push_back(' ');
      out += format_value(m->value());
      out.push_back('\n');
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Entry& Registry::entry(std::string_view name, Kind kind, const std::vector<std::string>& label_names) {
  CST_ASSERT_MSG(valid_metric_name(name), "invalid metric name");
  for (const auto& l : label_names) {
    CST_ASSERT_MSG(valid_label_name(l) && !(kind == Kind::Histogram && l == "le"), "invalid label name");
  }
  if (kind == Kind::Counter) CST_ASSERT_MSG(name.ends_with("_total"), "counter names end in _total");
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Entry{kind, nullptr, nullptr, nullptr}).first;
  }
  CST_ASSERT_MSG(it->second.kind == kind, "metric registered twice with different kinds");
  return it->second;
}

CounterFamily& Registry::counter(std::string_view name, std::string_view help, std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = entry(name, Kind::Counter, label_names);
  if (!e.counter) {
    e.counter.reset(new CounterFamily(std::string(name), std::string(help), Kind::Counter, std::move(label_names), {}));
  } else {
    CST_ASSERT_MSG(e.counter->label_names_ == label_names, "metric registered twice with different labels");
  }
  return *e.counter;
}

GaugeFamily& Registry::gauge(std::string_view name, std::string_view help, std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = entry(name, Kind::Gauge, label_names);
  if (!e.gauge) {
    e.gauge.reset(new GaugeFamily(std::string(name), std::string(help), Kind::Gauge, std::move(label_names), {}));
  } else {
    CST_ASSERT_MSG(e.gauge->label_names_ == label_names, "metric registered twice with different labels");
  }
  return *e.gauge;
}

HistogramFamily& Registry::histogram(std::string_view name, std::string_view help, std::vector<double> upper_bounds,
                                     std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = entry(name, Kind::Histogram, label_names);
  if (!e.histogram) {
    e.histogram.reset(new HistogramFamily(std::string(name), std::string(help), Kind::Histogram, std::move(label_names),
                                          std::move(upper_bounds)));
  } else {
    CST_ASSERT_MSG(e.histogram->label_names_ == label_names, "metric registered twice with different labels");
  }
  return *e.histogram;
}

void Registry::on_collect(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::string Registry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (const auto& fn : collectors) fn();
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, e] : families_) {
    switch (e.kind) {
      case Kind::Counter: e.counter->render(out); break;
      case Kind::Gauge: e.gauge->render(out); break;
      case Kind::Histogram: e.histogram->render(out); break;
    }
  }
  return out;
}

}  // namespace constellation::core::metrics
