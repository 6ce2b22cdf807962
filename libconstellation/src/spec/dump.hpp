// SPDX-License-Identifier: Apache-2.0
//
// Deterministic JSON of specs and diagnostics: the golden tests compare it byte for byte, the
// API and `validate --json` print it, and spec_hash() hashes the parts that define a running
// instance.
#pragma once

#include "core/json.hpp"
#include "spec/types.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace constellation::spec {

/// Writes one service as a JSON object (fields in a fixed order, maps sorted).
void write_service(core::json::Writer& w, const ServiceSpec& s);
/// Writes a project as a JSON object.
void write_project(core::json::Writer& w, const Project& p);
/// Writes a diagnostic as {"severity","file","line","column","field","message"}.
void write_diagnostic(core::json::Writer& w, const Diagnostic& d);

/// A project as indented JSON text, with a trailing newline.
std::string to_json(const Project& p);

/// 64-bit FNV-1a of everything that defines the running instance: runtime, image, entrypoint,
/// command, environment, working directory, user, hostname, ports, volumes, networks, the
/// healthcheck (part of a container's configuration), init and the stop signal. Labels, checks,
/// placement, replicas and dependencies are left out: changing them does not restart anything.
/// Printed as 16 hex digits.
std::string spec_hash(const ServiceSpec& s);

}  // namespace constellation::spec
