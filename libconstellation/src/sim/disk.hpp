// SPDX-License-Identifier: Apache-2.0
//
// A simulated disk holding named records (key → bytes), with the failure modes storage code must
// survive: writes are volatile until sync(); a crash loses unsynced writes, or keeps only a prefix
// of them (a torn batch); reads can be made to fail. Used behind a storage port in simulations.
#pragma once

#include <constellation/result.hpp>

#include "core/bytes.hpp"
#include "core/rng.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace constellation::sim {

struct DiskFaults {
  /// On crash, probability that a random prefix of the unsynced writes survives (a torn batch)
  /// instead of none of them.
  double torn_on_crash = 0.0;
  /// Probability that a read fails with Io.
  double read_error = 0.0;
  /// Probability that a synced record's bytes are flipped on crash (bit rot caught by checksums).
  double corrupt_on_crash = 0.0;
};

class Disk {
 public:
  explicit Disk(core::Rng& rng, DiskFaults faults = {}) : rng_(rng), faults_(faults) {}

  /// Buffers a write (visible to reads at once, durable only after sync()).
  void put(const std::string& key, core::Bytes value);
  /// Buffers a delete.
  void erase(const std::string& key);
  /// Buffers deleting every key in [from, to).
  void erase_range(const std::string& from, const std::string& to);
  /// Makes every buffered write durable.
  void sync();

  /// The current value (buffered writes included). Errors: NotFound, Io (injected read error).
  Result<core::Bytes> get(const std::string& key);
  /// Keys in [from, to), in order (buffered writes included).
  std::vector<std::string> keys(const std::string& from, const std::string& to) const;

  /// The process died: unsynced writes are lost (or torn), optionally a synced record rots.
  void crash();

  std::size_t unsynced() const { return pending_.size(); }
  std::uint64_t syncs() const { return syncs_; }
  void set_faults(const DiskFaults& f) { faults_ = f; }

 private:
  struct Op {
    enum Kind { Put, Erase, EraseRange } kind;
    std::string key;
    std::string key_end;
    core::Bytes value;
  };
  static void apply(std::map<std::string, core::Bytes>& m, const Op& op);

  core::Rng& rng_;
  DiskFaults faults_;
  std::map<std::string, core::Bytes> durable_;
  std::map<std::string, core::Bytes> view_;  // durable_ with pending_ applied
  std::vector<Op> pending_;
  std::uint64_t syncs_ = 0;
};

}  // namespace constellation::sim
