// SPDX-License-Identifier: Apache-2.0
//
// The agent's control loop: one thread that owns every protocol core (gossip, Raft, health,
// catalog, provider, DNS planning). Other threads never touch those cores; they post work here
// and read the immutable snapshots the loop publishes (docs/adr/0002-threading-model.md).
#pragma once

#include <constellation/result.hpp>

#include "core/time.hpp"

#include <functional>
#include <future>
#include <memory>
#include <type_traits>

namespace constellation::agent {

class ControlLoop {
 public:
  using Task = std::function<void()>;
  using TimerId = std::uint64_t;

  ControlLoop();
  ~ControlLoop();
  ControlLoop(const ControlLoop&) = delete;
  ControlLoop& operator=(const ControlLoop&) = delete;

  /// Starts the loop's thread. Idempotent.
  void start();
  /// Runs the tasks already posted, then stops and joins the thread. Idempotent.
  void stop();
  bool running_in_loop() const;

  /// Runs task on the loop thread, soon. Thread-safe. Dropped after stop().
  void post(Task task);
  /// Runs task on the loop thread after d. Thread-safe.
  TimerId after(core::Duration d, Task task);
  /// Runs task every `interval` (first run after one interval) until cancelled or stopped.
  TimerId every(core::Duration interval, Task task);
  /// Cancels a timer; harmless if it already ran or never existed. Thread-safe.
  void cancel(TimerId id);

  /// Runs fn on the loop and waits for its result, at most `timeout`. For API handlers that must
  /// read or change core state. Errors: Timeout, Unavailable (the loop is stopped).
  template <class F>
  auto call(F fn, core::Duration timeout) -> Result<std::invoke_result_t<F>> {
    using R = std::invoke_result_t<F>;
    if (running_in_loop()) {
      if constexpr (std::is_void_v<R>) {
        fn();
        return Result<void>();
      } else {
        return fn();
      }
    }
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    post([promise, fn = std::move(fn)]() mutable {
      if constexpr (std::is_void_v<R>) {
        fn();
        promise->set_value();
      } else {
        promise->set_value(fn());
      }
    });
    if (future.wait_for(timeout) != std::future_status::ready) {
      return Error(Code::Timeout, "the control loop did not answer within " + core::format_duration(timeout));
    }
    if constexpr (std::is_void_v<R>) {
      future.get();
      return Result<void>();
    } else {
      return future.get();
    }
  }

  /// The loop's io_context (an asio::io_context), for adapters that run on the loop thread.
  /// Opaque here so that this header does not pull in Asio.
  void* io_context();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace constellation::agent
