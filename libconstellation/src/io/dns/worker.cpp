// SPDX-License-Identifier: Apache-2.0
#include "io/dns/worker.hpp"

#include <memory>

namespace constellation::io::dns {

ProviderWorker::ProviderWorker(Post post) : post_(std::move(post)), thread_([this] { run(); }) {}

ProviderWorker::~ProviderWorker() { stop(); }

void ProviderWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::size_t ProviderWorker::pending() const {
  std::lock_guard lock(mu_);
  return jobs_.size() + running_;
}

void ProviderWorker::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    job();
    std::lock_guard lock(mu_);
    --running_;
  }
}

void ProviderWorker::list(Provider& provider, std::string zone, std::function<void(Result<std::vector<ObservedRecord>>)> done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    jobs_.push_back([this, &provider, zone = std::move(zone), done = std::move(done)]() mutable {
      auto result = std::make_shared<Result<std::vector<ObservedRecord>>>(provider.list(zone));
      post_([done = std::move(done), result] { done(std::move(*result)); });
    });
  }
  cv_.notify_one();
}

void ProviderWorker::apply(Provider& provider, Batch batch, FenceCheck fence, std::function<void(ApplyOutcome)> done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    jobs_.push_back([this, &provider, batch = std::move(batch), fence = std::move(fence), done = std::move(done)]() mutable {
      auto outcome = std::make_shared<ApplyOutcome>(provider.apply(batch, fence));
      post_([done = std::move(done), outcome] { done(std::move(*outcome)); });
    });
  }
  cv_.notify_one();
}

}  // namespace constellation::io::dns
