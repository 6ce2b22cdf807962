// SPDX-License-Identifier: Apache-2.0
//
// Structured logging: a record is a level, a component, a sentence and typed fields; a Sink
// decides where it goes. The agent writes JSON lines to stderr; tests capture records in memory.
#pragma once

#include "core/json.hpp"
#include "core/time.hpp"

#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace constellation::core::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

/// "debug", "info", "warn", "error".
std::string_view level_name(Level level);
/// Parses a level name (case-sensitive, as level_name prints). Errors: InvalidArgument.
Result<Level> parse_level(std::string_view name);

using Field = std::pair<std::string_view, json::Value>;

struct Record {
  WallTime time;
  Level level;
  std::string_view component;
  std::string_view message;
  std::span<const Field> fields;
};

/// Where records go. write() may be called from several threads at once; implementations
/// serialise as they need. write() must not throw.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const Record& record) = 0;
};

/// Drops everything.
class NullSink final : public Sink {
 public:
  void write(const Record&) override {}
  static NullSink& instance();
};

/// One JSON object per line, written with a single write(2) per record to a file descriptor
/// (stderr by default): {"ts":"<RFC 3339>","level":"info","component":"gossip","msg":"…",<fields>}.
/// Field names that collide with those four keys are prefixed with "field.".
class JsonLinesSink final : public Sink {
 public:
  explicit JsonLinesSink(int fd = 2) : fd_(fd) {}
  void write(const Record& record) override;
  /// The line write() would emit, without the newline.
  static std::string format(const Record& record);

 private:
  int fd_;
  std::mutex mu_;
};

/// Keeps records in memory, for tests.
class MemorySink final : public Sink {
 public:
  struct Entry {
    Level level;
    std::string component;
    std::string message;
    json::Value fields;  // object
  };
  void write(const Record& record) override;
  std::vector<Entry> entries() const;
  /// Number of entries whose message contains `text`.
  std::size_t count(std::string_view text) const;

 private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

/// A cheap handle: sink + clock + component name + minimum level. Copy it freely; the sink and
/// clock must outlive every copy.
class Logger {
 public:
  /// Logs nothing.
  Logger();
  Logger(Sink& sink, const Clock& clock, std::string component, Level min_level = Level::Info);

  /// A logger for a sub-component ("gossip" → "gossip.transport").
  Logger child(std::string_view name) const;
  bool enabled(Level level) const { return level >= min_; }
  void set_level(Level level) { min_ = level; }

  void log(Level level, std::string_view message, std::initializer_list<Field> fields = {}) const;
  void debug(std::string_view message, std::initializer_list<Field> fields = {}) const {
    log(Level::Debug, message, fields);
  }
  void info(std::string_view message, std::initializer_list<Field> fields = {}) const {
    log(Level::Info, message, fields);
  }
  void warn(std::string_view message, std::initializer_list<Field> fields = {}) const {
    log(Level::Warn, message, fields);
  }
  void error(std::string_view message, std::initializer_list<Field> fields = {}) const {
    log(Level::Error, message, fields);
  }

 private:
  Sink* sink_;
  const Clock* clock_;
  std::string component_;
  Level min_;
};

}  // namespace constellation::core::log
