// SPDX-License-Identifier: Apache-2.0
// Conversions between the public catalog types (constellation/catalog.hpp) and the internal
// model (catalog/model.hpp).
#pragma once

#include <constellation/catalog.hpp>

#include "catalog/model.hpp"

namespace constellation::services {

HealthStatus to_public(catalog::Health h);
catalog::Health to_internal(HealthStatus h);
CatalogInstance to_public(const catalog::Instance& in);
CatalogNode to_public(const catalog::NodeView& view);
CatalogSnapshot to_public(const catalog::Snapshot& s);
/// Errors: InvalidArgument (a node id that is not 32 hex digits).
Result<catalog::NodeEntry> to_internal(const CatalogNode& n);

}  // namespace constellation::services
