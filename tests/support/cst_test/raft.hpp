// SPDX-License-Identifier: Apache-2.0
// Raft helpers for unit tests: a node in the embedded default's shape (one voter, quiet), and
// the state machine's put command.
#pragma once

#include <constellation/raft.hpp>
#include "lease/machine.hpp"

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

/// A put of `value` at `key`, as the node runtime submits it.
inline constellation::lease::Command put_command(std::string key, std::string value) {
  constellation::lease::Command c;
  c.op = constellation::lease::Op::Put;
  c.key = std::move(key);
  c.value = std::move(value);
  return c;
}

}  // namespace cst_test
