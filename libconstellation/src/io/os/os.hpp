// SPDX-License-Identifier: Apache-2.0
//
// Small facts and services of the operating system the composition layer needs: the host name,
// entropy for seeds and identities, a data directory with an exclusive lock, and files replaced
// atomically.
#pragma once

#include <constellation/result.hpp>

#include "core/ids.hpp"

#include <cstdint>
#include <string>

namespace constellation::io::os {

/// The kernel's host name (uname nodename). Errors: Io.
Result<std::string> hostname();

/// 64 bits from the kernel's CSPRNG (getrandom(2)), for seeding core::Rng.
std::uint64_t random_seed();

/// Creates `path` and its parents (mode 0700) if missing. Errors: Io naming the path.
Result<void> make_dirs(const std::string& path);

/// Reads a whole file. Errors: NotFound, Io.
Result<std::string> read_file(const std::string& path);

/// Replaces `path` with `contents` atomically (write a temporary file, fsync, rename, fsync the
/// directory): readers see the old or the new contents, never a mix. Errors: Io.
Result<void> write_file_atomic(const std::string& path, const std::string& contents, unsigned mode = 0600);

/// An exclusive advisory lock (flock) on `<dir>/LOCK`, held while the object lives: two agents
/// never share a data directory.
class DirLock {
 public:
  /// Errors: Unavailable when another process holds the lock, Io otherwise.
  static Result<DirLock> acquire(const std::string& dir);
  DirLock(DirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// Loads the node identity from `<dir>/node-id`, or creates it with fresh random bits.
/// Errors: Corrupt (a file that is not 32 hex digits), Io.
Result<core::NodeId> load_or_create_node_id(const std::string& dir);

}  // namespace constellation::io::os
