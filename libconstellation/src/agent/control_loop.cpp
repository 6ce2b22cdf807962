// SPDX-License-Identifier: Apache-2.0
#include "agent/control_loop.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace constellation::agent {

struct ControlLoop::Impl {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  std::thread::id loop_id;
  std::mutex mu;
  bool stopped = false;
  std::uint64_t next_timer = 0;
  std::map<TimerId, std::shared_ptr<asio::steady_timer>> timers;

  void arm(TimerId id, std::shared_ptr<asio::steady_timer> timer, core::Duration d, std::shared_ptr<Task> task,
           bool repeat) {
    timer->expires_after(d);
    timer->async_wait([this, id, timer, d, task, repeat](const std::error_code& ec) {
      if (ec) return;  // cancelled
      {
        std::lock_guard lock(mu);
        if (!timers.count(id)) return;
        if (!repeat) timers.erase(id);
      }
      (*task)();
      if (repeat) {
        std::lock_guard lock(mu);
        if (timers.count(id) && !stopped) arm(id, timer, d, task, true);
      }
    });
  }

  TimerId schedule(core::Duration d, Task task, bool repeat) {
    auto timer = std::make_shared<asio::steady_timer>(io);
    auto shared_task = std::make_shared<Task>(std::move(task));
    std::lock_guard lock(mu);
    if (stopped) return 0;
    TimerId id = ++next_timer;
    timers[id] = timer;
    // Arm on the loop thread: steady_timer is not thread-safe.
    asio::post(io, [this, id, timer, d, shared_task, repeat] {
      std::lock_guard inner(mu);
      if (timers.count(id)) arm(id, timer, d, shared_task, repeat);
    });
    return id;
  }
};

ControlLoop::ControlLoop() : impl_(std::make_unique<Impl>()) {}

ControlLoop::~ControlLoop() { stop(); }

void ControlLoop::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->thread.joinable() || impl_->stopped) return;
  impl_->work.emplace(impl_->io.get_executor());
  impl_->thread = std::thread([this] {
    impl_->loop_id = std::this_thread::get_id();
    impl_->io.run();
  });
}

void ControlLoop::stop() {
  std::map<TimerId, std::shared_ptr<asio::steady_timer>> timers;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
    timers.swap(impl_->timers);
  }
  asio::post(impl_->io, [timers = std::move(timers)] {
    for (auto& [id, t] : timers) t->cancel();
  });
  impl_->work.reset();  // run() returns once the queue drains
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool ControlLoop::running_in_loop() const { return std::this_thread::get_id() == impl_->loop_id; }

void ControlLoop::post(Task task) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) return;
  }
  asio::post(impl_->io, std::move(task));
}

ControlLoop::TimerId ControlLoop::after(core::Duration d, Task task) {
  return impl_->schedule(d, std::move(task), false);
}

ControlLoop::TimerId ControlLoop::every(core::Duration interval, Task task) {
  return impl_->schedule(interval, std::move(task), true);
}

void ControlLoop::cancel(TimerId id) {
  std::shared_ptr<asio::steady_timer> timer;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->timers.find(id);
    if (it == impl_->timers.end()) return;
    timer = it->second;
    impl_->timers.erase(it);
  }
  asio::post(impl_->io, [timer] { timer->cancel(); });
}

void* ControlLoop::io_context() { return &impl_->io; }

}  // namespace constellation::agent
