// SPDX-License-Identifier: Apache-2.0
//
// Runs blocking provider calls on a worker thread and posts each result back to the caller's
// control loop, so the Reconciler (single-threaded, owned by that loop) never blocks on the
// network (ARCHITECTURE.md §4: "worker pool for blocking clients; results posted back").
//
//   loop:    Step s = rec.poll(now);  if (s.kind == List) worker.list(p, s.zone, [&](auto r) { rec.on_listed(...); });
//   worker:  provider.list(zone) ... then post(callback-with-result)
//   loop:    the callback runs, on the loop, through `post`.
#pragma once

#include "io/dns/provider.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace constellation::io::dns {

class ProviderWorker {
 public:
  /// Hands a completion to the control loop (e.g. asio::post(io_context, fn)). Called on the worker
  /// thread; must not block for long.
  using Post = std::function<void(std::function<void()>)>;

  explicit ProviderWorker(Post post);
  /// Stops and joins: the call in progress finishes, queued calls are dropped and their
  /// completions never run.
  ~ProviderWorker();
  ProviderWorker(const ProviderWorker&) = delete;
  ProviderWorker& operator=(const ProviderWorker&) = delete;

  /// Lists `zone` on the worker; `done` runs through `post`. `provider` must outlive the call.
  void list(Provider& provider, std::string zone, std::function<void(Result<std::vector<ObservedRecord>>)> done);
  /// Applies `batch` on the worker. `fence` is called on the worker thread (so it must be
  /// thread-safe, e.g. read an atomic lease snapshot); `done` runs through `post`.
  void apply(Provider& provider, Batch batch, FenceCheck fence, std::function<void(ApplyOutcome)> done);

  /// Calls queued or running.
  std::size_t pending() const;
  void stop();

 private:
  void run();
  Post post_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace constellation::io::dns
