// SPDX-License-Identifier: Apache-2.0
// Micro-benchmarks of the Raft stack: the core's replication path (3 in-memory cores, no I/O),
// the message codec, the lease/KV state machine, entry checksums, and one SQLite commit of a
// Ready batch (fsync included: run on a real disk). For whole-cluster comparisons with etcd and
// hashicorp/raft see bench/compare/raft/.
//   build/dev/bench/bench_raft --benchmark_min_time=0.2
#include "io/store/raft_store.hpp"
#include "lease/machine.hpp"
#include "raft/codec.hpp"
#include "sim/raft_harness.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

using namespace constellation;
using namespace constellation::raft;

namespace {

core::Bytes payload(std::size_t n) { return core::Bytes(n, 0x61); }

// Proposals per second through three cores exchanging messages in memory (batch of `range(0)`).
void BM_CoreReplicate(benchmark::State& state) {
  sim::RaftHarness h(3, 1);
  h.set_tracing(false);
  h.set_checking(false);
  h.campaign(1);
  h.stabilize();
  const auto batch = static_cast<std::size_t>(state.range(0));
  lease::Command cmd;
  cmd.op = lease::Op::Put;
  cmd.key = "bench";
  cmd.value = std::string(256, 'v');
  const core::Bytes bytes = cmd.encode();
  std::uint64_t n = 0;
  for (auto _ : state) {
    std::vector<core::Bytes> b(batch, bytes);
    (void)h.core(1).propose_batch(std::move(b));
    h.stabilize();
    h.delivered().clear();
    for (auto id : h.ids()) h.node(id).applied.clear();
    n += batch;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_CoreReplicate)->Arg(1)->Arg(16)->Arg(64);

void BM_CodecAppend(benchmark::State& state) {
  Message m;
  m.type = MsgType::App;
  m.term = Term(3);
  for (int i = 0; i < 16; ++i) {
    Entry e;
    e.term = Term(3);
    e.index = LogIndex(100 + i);
    e.data = payload(256);
    e.seal();
    m.entries.push_back(std::move(e));
  }
  for (auto _ : state) {
    auto b = encode(m);
    auto back = decode_message(b);
    benchmark::DoNotOptimize(back);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 16);
}
BENCHMARK(BM_CodecAppend);

void BM_EntryCrc(benchmark::State& state) {
  Entry e;
  e.data = payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(e.compute_crc());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_EntryCrc)->Arg(256)->Arg(65536);

void BM_LeaseMachinePut(benchmark::State& state) {
  lease::Machine m;
  lease::Command c;
  c.op = lease::Op::Put;
  c.value = std::string(256, 'v');
  std::uint64_t i = 0;
  for (auto _ : state) {
    c.key = "k" + std::to_string(i % 4096);
    auto b = c.encode();
    benchmark::DoNotOptimize(m.apply(++i, i, b));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(i));
}
BENCHMARK(BM_LeaseMachinePut);

// Serialising the whole state for a snapshot: `range(0)` keys of 256-byte values (the shape the
// peer comparison leaves behind: about 16 MB at 60,000 keys). Runs on the control loop.
void BM_LeaseMachineSnapshot(benchmark::State& state) {
  lease::Machine m;
  lease::Command c;
  c.op = lease::Op::Put;
  c.value = std::string(256, 'v');
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    c.key = "bench/c" + std::to_string(i % 64) + "/k" + std::to_string(i / 64);
    m.apply(static_cast<std::uint64_t>(i + 1), static_cast<std::uint64_t>(i + 1), c.encode());
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto snap = m.snapshot();
    bytes = snap.size();
    benchmark::DoNotOptimize(snap.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
}
BENCHMARK(BM_LeaseMachineSnapshot)->Arg(1000)->Arg(60000)->Unit(benchmark::kMillisecond);

// One transaction + fsync per Ready with `range(0)` entries of 256 bytes (the disk floor).
void BM_StoreCommit(benchmark::State& state) {
  const char* base = std::getenv("CST_BENCH_DIR");
  std::string dir = std::string(base ? base : "/var/tmp") + "/cst-bench-raftstore";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = io::store::RaftStore::open(dir);
  if (!store) {
    state.SkipWithError(store.error().message().c_str());
    return;
  }
  std::uint64_t index = 0;
  for (auto _ : state) {
    Ready rd;
    for (std::int64_t i = 0; i < state.range(0); ++i) {
      Entry e;
      e.term = Term(1);
      e.index = LogIndex(++index);
      e.data = payload(256);
      e.seal();
      rd.entries.push_back(std::move(e));
    }
    rd.hard_state = HardState{Term(1), 1, LogIndex(index)};
    if (!(*store)->save(rd)) state.SkipWithError("save failed");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(index));
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreCommit)->Arg(1)->Arg(64)->UseRealTime();

}  // namespace
