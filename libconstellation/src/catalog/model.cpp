// SPDX-License-Identifier: Apache-2.0
#include "catalog/model.hpp"

namespace constellation::catalog {

std::string_view health_name(Health h) {
  switch (h) {
    case Health::Passing:
      return "passing";
    case Health::Warning:
      return "warning";
    case Health::Critical:
      return "critical";
    case Health::Maintenance:
      return "maintenance";
  }
  return "unknown";
}

std::string_view node_status_name(NodeStatus s) {
  switch (s) {
    case NodeStatus::Alive:
      return "alive";
    case NodeStatus::Suspect:
      return "suspect";
    case NodeStatus::Failed:
      return "failed";
    case NodeStatus::Left:
      return "left";
  }
  return "unknown";
}

}  // namespace constellation::catalog
