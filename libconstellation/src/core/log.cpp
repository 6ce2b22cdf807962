// SPDX-License-Identifier: Apache-2.0
#include "core/log.hpp"

#include <unistd.h>
#include <cerrno>

namespace constellation::core::log {

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}

Result<Level> parse_level(std::string_view name) {
  for (Level l : {Level::Debug, Level::Info, Level::Warn, Level::Error}) {
    if (name == level_name(l)) return l;
  }
  return Error(Code::InvalidArgument,
               "unknown log level '" + std::string(name) + "' (expected debug, info, warn or error)");
}

NullSink& NullSink::instance() {
  static NullSink sink;
  return sink;
}

std::string JsonLinesSink::format(const Record& record) {
  json::Writer w;
  w.begin_object();
  w.key("ts").value(record.time.to_rfc3339());
  w.key("level").value(level_name(record.level));
  w.key("component").value(record.component);
  w.key("msg").value(record.message);
  for (const auto& [k, v] : record.fields) {
    if (k == "ts" || k == "level" || k == "component" || k == "msg") {
      w.key(std::string("field.").append(k));
    } else {
      w.key(k);
    }
    w.value(v);
  }
  w.end_object();
  return std::move(w).take();
}

void JsonLinesSink::write(const Record& record) {
  std::string line = format(record);
  line.push_back('\n');
  std::lock_guard lock(mu_);
  const char* p = line.data();
  std::size_t n = line.size();
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // nowhere left to report a logging failure
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void MemorySink::write(const Record& record) {
  Entry e{record.level, std::string(record.component), std::string(record.message), json::Value::object()};
  for (const auto& [k, v] : record.fields) e.fields[k] = v;
  std::lock_guard lock(mu_);
  entries_.push_back(std::move(e));
}

std::vector<MemorySink::Entry> MemorySink::entries() const {
  std::lock_guard lock(mu_);
  return entries_;
}

std::size_t MemorySink::count(std::string_view text) const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& e : entries_) n += e.message.find(text) != std::string::npos;
  return n;
}

namespace {
const ManualClock& null_clock() {
  static const ManualClock clock;
  return clock;
}
}  // namespace

Logger::Logger() : sink_(&NullSink::instance()), clock_(&null_clock()), min_(Level::Error) {}

Logger::Logger(Sink& sink, const Clock& clock, std::string component, Level min_level)
    : sink_(&sink), clock_(&clock), component_(std::move(component)), min_(min_level) {}

Logger Logger::child(std::string_view name) const {
  Logger l = *this;
  if (!l.component_.empty()) l.component_.push_back('.');
  l.component_.append(name);
  return l;
}

void Logger::log(Level level, std::string_view message, std::initializer_list<Field> fields) const {
  if (!enabled(level)) return;
  Record r{clock_->wall_now(), level, component_, message, std::span<const Field>(fields.begin(), fields.size())};
  sink_->write(r);
}

}  // namespace constellation::core::log
