// SPDX-License-Identifier: Apache-2.0
// Options for a Raft node in a unit test: the embedded default's shape (one voter), quiet.
#pragma once

#include <constellation/raft.hpp>

#include <string>

namespace cst_test {

/// A single voter (id 1) with its data in `data_dir`, its Raft port picked by the system and
/// its log off.
inline constellation::RaftOptions single_voter_options(const std::string& data_dir) {
  constellation::RaftOptions o;
  o.id = 1;
  o.data_dir = data_dir;
  o.voters[1] = "127.0.0.1:0";
  o.log_level = "off";
  return o;
}

}  // namespace cst_test
