// SPDX-License-Identifier: Apache-2.0
//
// Rendering: the built configuration → bytes (JSON or YAML, deterministic), their hash, and a
// cache that the control loop refreshes once per catalog change. Renderer is the pure,
// clock-free state machine: the caller offers snapshots with the current time, asks when the
// next render is due, and polls; readers on other threads share the immutable Rendered result.
//
// Debounce: a burst of changes renders once, `quiet` after the last change, and never later
// than `max_delay` after the first unrendered one (so a steady stream of changes cannot starve
// the output).
#pragma once

#include "catalog/model.hpp"
#include "core/time.hpp"
#include "provider/build.hpp"
#include "provider/dynamic.hpp"
#include "provider/options.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace constellation::provider {

/// The configuration as bytes in one format: JSON (sorted keys, two-space indent, trailing
/// newline) or YAML (yaml.hpp). Byte-for-byte deterministic.
std::string emit(const Config& config, Format format);

/// 64-bit FNV-1a (byte at a time).
std::uint64_t fnv1a_64(std::string_view bytes);

/// The content hash behind ETags: 64 bits, eight bytes at a time (multiply-xorshift mixing),
/// several times faster than FNV on multi-megabyte bodies. Stable across platforms and releases
/// of the same major version (ETags survive restarts).
std::uint64_t content_hash(std::string_view bytes);

/// "\"<16 lower-case hex digits>\"": a strong ETag for a hash.
std::string etag_of(std::uint64_t hash);

/// Diagnostics as a JSON array of objects {severity, node, instance, service, resource, label,
/// message}.
std::string diagnostics_json(const std::vector<Diagnostic>& diagnostics);

/// One rendered body.
struct Body {
  std::string bytes;
  /// content_hash(bytes).
  std::uint64_t hash = 0;
  std::string etag;
};

/// What a render of one target version produced.
struct VersionOutput {
  bool present = false;
  std::array<Body, 2> bodies;  // indexed by Format
  std::vector<Diagnostic> diagnostics;
  /// Number of routers and services emitted (all protocols).
  std::size_t routers = 0;
  std::size_t services = 0;
};

/// An immutable render of one snapshot, shared with readers (as shared_ptr<const Rendered>).
struct Rendered {
  /// Snapshot::generation it was rendered from.
  std::uint64_t generation = 0;
  /// Snapshot::complete: when false nothing is rendered and the endpoint answers 503.
  bool complete = false;
  std::array<VersionOutput, 2> versions;  // [0] v2, [1] v3

  /// The body for (version, format), or nullptr when that version was not rendered or the
  /// snapshot was incomplete.
  const Body* body(TraefikVersion v, Format f) const;
  /// The version's diagnostics, or nullptr when it was not rendered.
  const VersionOutput* version(TraefikVersion v) const;
};

/// A one-off render result.
struct RenderResult {
  std::string body;
  /// content_hash(body).
  std::uint64_t hash = 0;
  std::vector<Diagnostic> diagnostics;
};

/// Renders `snapshot` for one version and format. An incomplete snapshot is rendered anyway, with
/// a warning saying the endpoint would answer 503 for it. Errors: InvalidArgument for invalid
/// options (bad labels are diagnostics, never errors).
Result<RenderResult> render(const catalog::Snapshot& snapshot, const Options& options, TraefikVersion version,
                            Format format);

class Renderer {
 public:
  struct Settings {
    Options options;
    /// Versions rendered on every change. Default both.
    std::vector<TraefikVersion> versions{TraefikVersion::V2, TraefikVersion::V3};
    /// Render this long after the last change of a burst. Default 20 ms.
    core::Duration quiet = std::chrono::milliseconds(20);
    /// ... but no later than this after the first unrendered change. Default 200 ms.
    core::Duration max_delay = std::chrono::milliseconds(200);
  };

  /// Errors: InvalidArgument (invalid options, no version, quiet > max_delay).
  static Result<Renderer> create(Settings settings);

  /// Records a new snapshot at `now`. A snapshot equal to the one pending (or, with none pending,
  /// to the one last rendered) changes nothing.
  void offer(std::shared_ptr<const catalog::Snapshot> snapshot, core::Instant now);

  /// When poll() will render next; Instant::max() when nothing is pending.
  core::Instant deadline() const;

  /// Renders the pending snapshot if its deadline has passed. Returns true when latest() changed
  /// bytes (or completeness); a render giving the same bytes keeps the previous ETags.
  bool poll(core::Instant now);

  /// Renders the pending snapshot now, whatever the deadline (shutdown, tests, the CLI).
  bool flush();

  /// The last render, or nullptr before the first one.
  std::shared_ptr<const Rendered> latest() const { return latest_; }

  /// Renders done so far.
  std::uint64_t renders() const { return renders_; }

  /// Instances reused from the previous render in the last render (of the last version).
  std::size_t cache_hits() const { return caches_.empty() ? 0 : caches_.back().hits(); }

 private:
  explicit Renderer(Settings settings, std::vector<Builder> builders)
      : settings_(std::move(settings)), builders_(std::move(builders)), caches_(builders_.size()) {}
  bool render_pending();

  Settings settings_;
  std::vector<Builder> builders_;
  /// One per builder: instances unchanged since the last render are not decoded again.
  std::vector<InstanceCache> caches_;
  std::shared_ptr<const catalog::Snapshot> pending_;
  core::Instant first_change_;
  core::Instant last_change_;
  std::shared_ptr<const catalog::Snapshot> rendered_;
  std::shared_ptr<const Rendered> latest_;
  std::uint64_t renders_ = 0;
};

}  // namespace constellation::provider
