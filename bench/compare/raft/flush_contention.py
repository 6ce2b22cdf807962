#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""How long one durable append waits when 1, 2 or 3 processes flush the same disk at once.

The comparison runs three voters on one machine, so their fdatasyncs contend for one device;
this prints the median wait per append for each number of concurrent writers, once for a raw
400-byte append (as a Go WAL does) and once for a SQLite WAL commit of one entry plus a small
row (as raft.db does), so a run's one-client figures can be read against the disk's floor.

    bench/compare/raft/flush_contention.py [DIR]     # DIR defaults to /var/tmp
"""
import multiprocessing as mp
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

COMMITS = 1500


def raw_append(directory, out):
    d = tempfile.mkdtemp(dir=directory)
    try:
        fd = os.open(os.path.join(d, "wal"), os.O_RDWR | os.O_CREAT)
        os.posix_fallocate(fd, 0, 64 << 20)
        os.fsync(fd)
        waits, offset, record = [], 0, b"y" * 400
        for _ in range(COMMITS):
            t = time.perf_counter()
            os.pwrite(fd, record, offset)
            os.fdatasync(fd)
            waits.append(time.perf_counter() - t)
            offset += len(record)
        os.close(fd)
        out.put(statistics.median(waits) * 1e3)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def sqlite_commit(directory, out):
    d = tempfile.mkdtemp(dir=directory)
    try:
        db = sqlite3.connect(os.path.join(d, "raft.db"), isolation_level=None)
        for pragma in ("locking_mode=EXCLUSIVE", "journal_mode=WAL", "synchronous=FULL"):
            db.execute("PRAGMA " + pragma)
        db.execute("CREATE TABLE entries (idx INTEGER PRIMARY KEY, term INTEGER, data BLOB)")
        db.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB)")
        waits, data = [], b"x" * 300
        for i in range(COMMITS):
            t = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO entries VALUES (?, 5, ?)", (i + 1, data))
            db.execute("INSERT OR REPLACE INTO state VALUES ('hard_state', ?)", (b"%d" % i,))
            db.execute("COMMIT")
            waits.append(time.perf_counter() - t)
        db.close()
        out.put(statistics.median(waits) * 1e3)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "/var/tmp"
    print(f"median wait per durable append in {directory} (ms), by concurrent writers")
    print("| writer | 1 | 2 | 3 |")
    print("|---|---|---|---|")
    for name, fn in (("raw 400 B append + fdatasync", raw_append), ("SQLite WAL commit (synchronous=FULL)", sqlite_commit)):
        cells = []
        for writers in (1, 2, 3):
            q = mp.Queue()
            procs = [mp.Process(target=fn, args=(directory, q)) for _ in range(writers)]
            for p in procs:
                p.start()
            medians = [q.get() for _ in procs]
            for p in procs:
                p.join()
            cells.append(f"{statistics.mean(medians):.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
