// SPDX-License-Identifier: Apache-2.0
#include "provider/render.hpp"

#include "core/json.hpp"
#include "provider/yaml.hpp"

#include <algorithm>

namespace constellation::provider {

namespace {

std::size_t index_of(TraefikVersion v) { return v == TraefikVersion::V2 ? 0 : 1; }
std::size_t index_of(Format f) { return f == Format::Json ? 0 : 1; }

Body make_body(std::string bytes) {
  Body b;
  b.hash = content_hash(bytes);
  b.etag = etag_of(b.hash);
  b.bytes = std::move(bytes);
  return b;
}

}  // namespace

std::string emit(const Config& config, Format format) {
  Value v = to_value(config);
  if (format == Format::Yaml) return to_yaml(v);
  std::string out = core::json::serialize(v, {.sort_keys = true, .ascii_only = false, .indent = 2});
  out.push_back('\n');
  return out;
}

std::uint64_t fnv1a_64(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::uint64_t content_hash(std::string_view bytes) {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  constexpr std::uint64_t kMix = 0xFF51AFD7ED558CCDULL;
  auto mix = [](std::uint64_t h, std::uint64_t w) {
    w *= kMul;
    w ^= w >> 32;
    h = (h ^ w) * kMix;
    return h ^ (h >> 29);
  };
  std::uint64_t h = 0x6A09E667F3BCC909ULL ^ (static_cast<std::uint64_t>(bytes.size()) * kMul);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w = 0;
    for (int i = 7; i >= 0; --i) w = (w << 8) | p[i];  // little-endian, whatever the host
    h = mix(h, w);
  }
  std::uint64_t tail = 0;
  for (std::size_t i = n; i > 0; --i) tail = (tail << 8) | p[i - 1];
  h = mix(h, tail ^ (static_cast<std::uint64_t>(n) << 56));
  h ^= h >> 33;
  h *= kMix;
  h ^= h >> 33;
  return h;
}

std::string etag_of(std::uint64_t hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (int i = 15; i >= 0; --i) out += kHex[(hash >> (4 * i)) & 0xF];
  out += '"';
  return out;
}

std::string diagnostics_json(const std::vector<Diagnostic>& diagnostics) {
  core::json::Writer w;
  w.begin_array();
  for (const auto& d : diagnostics) {
    w.begin_object();
    w.key("severity").value(severity_name(d.severity));
    w.key("node").value(d.node);
    w.key("instance").value(d.instance);
    w.key("service").value(d.service);
    w.key("resource").value(d.resource);
    w.key("label").value(d.label);
    w.key("message").value(d.message);
    w.end_object();
  }
  w.end_array();
  return std::move(w).take();
}

const Body* Rendered::body(TraefikVersion v, Format f) const {
  const auto& out = versions[index_of(v)];
  if (!complete || !out.present) return nullptr;
  return &out.bodies[index_of(f)];
}

const VersionOutput* Rendered::version(TraefikVersion v) const {
  const auto& out = versions[index_of(v)];
  return out.present ? &out : nullptr;
}

Result<RenderResult> render(const catalog::Snapshot& snapshot, const Options& options, TraefikVersion version,
                            Format format) {
  CST_TRY_ASSIGN(Builder builder, Builder::create(options, version));
  RenderResult out;
  Config config = builder.build(snapshot, out.diagnostics);
  if (!snapshot.complete) {
    out.diagnostics.push_back(Diagnostic{Severity::Warning, "", "", "", "", "",
                                         "the state is not complete (a node without a full cluster view): the "
                                         "endpoint answers 503 for it instead of this configuration"});
    normalize(out.diagnostics);
  }
  out.body = emit(config, format);
  out.hash = content_hash(out.body);
  return out;
}

Result<Renderer> Renderer::create(Settings settings) {
  if (settings.versions.empty()) return Error(Code::InvalidArgument, "versions: at least one Traefik version is needed");
  if (settings.quiet < core::Duration::zero() || settings.max_delay < settings.quiet) {
    return Error(Code::InvalidArgument, "debounce: quiet must be >= 0 and <= max_delay");
  }
  std::sort(settings.versions.begin(), settings.versions.end());
  settings.versions.erase(std::unique(settings.versions.begin(), settings.versions.end()), settings.versions.end());
  std::vector<Builder> builders;
  for (auto v : settings.versions) {
    CST_TRY_ASSIGN(Builder b, Builder::create(settings.options, v));
    builders.push_back(std::move(b));
  }
  return Renderer(std::move(settings), std::move(builders));
}

void Renderer::offer(std::shared_ptr<const catalog::Snapshot> snapshot, core::Instant now) {
  if (!snapshot) return;
  auto same = [&](const std::shared_ptr<const catalog::Snapshot>& s) { return s && (s == snapshot || *s == *snapshot); };
  if (pending_ ? same(pending_) : same(rendered_)) return;
  if (!pending_) first_change_ = now;
  last_change_ = now;
  pending_ = std::move(snapshot);
}

core::Instant Renderer::deadline() const {
  if (!pending_) return core::Instant::max();
  return std::min(last_change_ + settings_.quiet, first_change_ + settings_.max_delay);
}

bool Renderer::poll(core::Instant now) {
  if (!pending_ || now < deadline()) return false;
  return render_pending();
}

bool Renderer::flush() {
  if (!pending_) return false;
  return render_pending();
}

bool Renderer::render_pending() {
  auto snapshot = std::move(pending_);
  pending_.reset();
  auto out = std::make_shared<Rendered>();
  out->generation = snapshot->generation;
  out->complete = snapshot->complete;
  if (snapshot->complete) {
    for (std::size_t i = 0; i < builders_.size(); ++i) {
      const Builder& builder = builders_[i];
      auto& vo = out->versions[index_of(builder.version())];
      vo.present = true;
      Config config = builder.build(*snapshot, vo.diagnostics, &caches_[i]);
      for (Section s : {Section::HttpRouters, Section::TcpRouters, Section::UdpRouters}) vo.routers += config[s].size();
      for (Section s : {Section::HttpServices, Section::TcpServices, Section::UdpServices}) vo.services += config[s].size();
      Value tree = to_value(std::move(config));
      std::string json = core::json::serialize(tree, {.sort_keys = true, .ascii_only = false, .indent = 2});
      json.push_back('\n');
      vo.bodies[index_of(Format::Json)] = make_body(std::move(json));
      vo.bodies[index_of(Format::Yaml)] = make_body(to_yaml(tree));
    }
  }
  ++renders_;
  rendered_ = snapshot;
  bool changed = !latest_ || latest_->complete != out->complete;
  if (!changed) {
    for (std::size_t v = 0; v < 2 && !changed; ++v) {
      for (std::size_t f = 0; f < 2 && !changed; ++f) {
        changed = latest_->versions[v].present != out->versions[v].present ||
                  latest_->versions[v].bodies[f].hash != out->versions[v].bodies[f].hash ||
                  latest_->versions[v].bodies[f].bytes.size() != out->versions[v].bodies[f].bytes.size();
      }
      changed = changed || latest_->versions[v].diagnostics != out->versions[v].diagnostics;
    }
  }
  latest_ = std::move(out);
  return changed;
}

}  // namespace constellation::provider
