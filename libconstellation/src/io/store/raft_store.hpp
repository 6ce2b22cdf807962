// SPDX-License-Identifier: Apache-2.0
//
// The Raft log, hard state and snapshot metadata in one SQLite database (<data>/raft.db), in WAL
// mode with synchronous=FULL: a Ready batch is one transaction and one fsync, so a crash at any
// point leaves either the whole batch or none of it, and nothing acknowledged is lost. Snapshot
// data lives in a second SQLite file (<data>/snapshots.db), written and fsynced before raft.db
// refers to it. Every entry carries its CRC32C; the hard state and snapshot carry one too.
// Damage is reported, never repaired silently: a file SQLite cannot read is an error (Corrupt)
// naming the file; an entry that fails its checksum cuts the log there and marks the node
// damaged (it neither votes nor campaigns until a leader repairs it; see raft::InitialState).
// One thread (the node runtime's storage thread) calls everything but put_snapshot(), which
// another may call concurrently. Design: docs/adr/0023-sqlite-log.md, 0063-snapshots-off-the-write-path.md.
#pragma once

#include <constellation/result.hpp>

#include "raft/raft.hpp"

#include <memory>
#include <string>
#include <vector>

namespace constellation::io::store {

struct RaftStoreOptions {
  /// WAL pages before SQLite checkpoints on commit. Default 4096 (16 MiB with 4 KiB pages).
  int wal_autocheckpoint_pages = 4096;
};

class RaftStore {
 public:
  /// Opens or creates `<dir>/raft.db`. Errors: Io (cannot open or create), Corrupt (the file is
  /// not a Constellation Raft database, or SQLite finds it malformed — the message names the
  /// file and what to do).
  static Result<std::unique_ptr<RaftStore>> open(const std::string& dir, RaftStoreOptions options = {});
  ~RaftStore();
  RaftStore(const RaftStore&) = delete;
  RaftStore& operator=(const RaftStore&) = delete;

  /// Everything persisted, checksums verified. `bootstrap` is copied into the result (the
  /// configuration for a new cluster). Errors: Corrupt (unreadable pages), Io.
  Result<raft::InitialState> load(const raft::ConfState& bootstrap);

  /// Persists the durable parts of a Ready (hard state, snapshot, entries) in one transaction,
  /// fsynced before it returns. Errors: Io (disk full, I/O error; the batch is not durable and
  /// the node must stop).
  Result<void> save(const raft::Ready& rd);
  /// Persists several consecutive Readys, in order, in one transaction with one fsync (group
  /// commit: the Readys a pipelining node took while the previous fsync ran). All or none.
  /// `compacted`, when given, is a snapshot already written with put_snapshot(): after the
  /// Readys, in the same transaction, it becomes the snapshot and the entries it covers are
  /// deleted — unless the stored snapshot is already as new (then it is ignored).
  Result<void> save(const std::vector<const raft::Ready*>& readys, const raft::Snapshot* compacted = nullptr);

  /// Writes a snapshot's data to snapshots.db, fsynced, without touching the log: a node
  /// compacting its log writes a large snapshot here, off the thread that appends entries, and
  /// records it with a later save(). May run concurrently with save(). Snapshots older than the
  /// recorded one are removed first. Errors: Io.
  Result<void> put_snapshot(const raft::Snapshot& s);

  /// Forces a new configuration into the log's tail (recovery after losing a majority; see
  /// docs/raft.md): appends a Config entry at last index + 1 with the given voters and a term
  /// one above the stored one, commits it, and clears the vote. Run while the node is stopped.
  /// Errors: Io, Corrupt, InvalidArgument (no voters).
  Result<raft::LogIndex> force_new_configuration(const raft::ConfState& conf);

  const std::string& path() const { return path_; }
  /// Transactions committed (one per save call that had something to write).
  std::uint64_t commits() const { return commits_; }

 private:
  struct Impl;
  RaftStore(std::string path, std::unique_ptr<Impl> impl);
  std::string path_;
  std::unique_ptr<Impl> impl_;
  std::uint64_t commits_ = 0;
};

}  // namespace constellation::io::store
