// SPDX-License-Identifier: Apache-2.0
#include "sim/scheduler.hpp"

#include "core/assert.hpp"

#include <algorithm>
#include <cmath>

namespace constellation::sim {

Scheduler::TimerId Scheduler::at(Instant t, Task task) {
  if (t < now_) t = now_;
  TimerId id = ++next_seq_;
  heap_.push_back(Event{t, id, id, std::move(task)});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  live_.insert(id);
  return id;
}

bool Scheduler::cancel(TimerId id) {
  if (live_.erase(id) == 0) return false;
  cancelled_.insert(id);
  return true;
}

bool Scheduler::step() {
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    Event e = std::move(heap_.back());
    heap_.pop_back();
    if (cancelled_.erase(e.id) > 0) continue;
    live_.erase(e.id);
    CST_ASSERT(e.at >= now_);
    now_ = e.at;
    ++events_run_;
    e.task();
    return true;
  }
  return false;
}

void Scheduler::run_until(Instant t) {
  for (;;) {
    // Skip cancelled events at the top before looking at the next time.
    while (!heap_.empty() && cancelled_.count(heap_.front().id)) {
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      cancelled_.erase(heap_.back().id);
      heap_.pop_back();
    }
    if (heap_.empty() || heap_.front().at > t) break;
    step();
  }
  if (t > now_) now_ = t;
}

bool Scheduler::run_until(const std::function<bool()>& pred, Instant deadline) {
  if (pred()) return true;
  for (;;) {
    while (!heap_.empty() && cancelled_.count(heap_.front().id)) {
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      cancelled_.erase(heap_.back().id);
      heap_.pop_back();
    }
    if (heap_.empty() || heap_.front().at > deadline) {
      if (deadline > now_) now_ = deadline;
      return pred();
    }
    step();
    if (pred()) return true;
  }
}

NodeClock::NodeClock(const Scheduler& scheduler, double rate, Duration offset)
    : sched_(scheduler), rate_(rate), anchor_global_(scheduler.now()), anchor_local_(scheduler.now() + offset) {
  CST_ASSERT(rate > 0);
}

namespace {
Instant local_at(Instant global, Instant anchor_global, Instant anchor_local, double rate) {
  double elapsed = static_cast<double>((global - anchor_global).count()) * rate;
  return anchor_local + Duration(static_cast<std::int64_t>(std::llround(elapsed)));
}
}  // namespace

Instant NodeClock::now() const { return local_at(sched_.now(), anchor_global_, anchor_local_, rate_); }

core::WallTime NodeClock::wall_now() const {
  // The simulated epoch: 2026-01-01T00:00:00Z at global time zero.
  return core::WallTime{1767225600LL * 1000000000LL + now().nanos() + wall_step_.count()};
}

void NodeClock::set_rate(double rate) {
  CST_ASSERT(rate > 0);
  anchor_local_ = now();
  anchor_global_ = sched_.now();
  rate_ = rate;
}

Instant NodeClock::to_global(Instant local) const {
  double delta = static_cast<double>((local - anchor_local_).count()) / rate_;
  Instant g = anchor_global_ + Duration(static_cast<std::int64_t>(std::llround(delta)));
  // Rounding can land a nanosecond early or late: take the first instant that reads >= local.
  while (local_at(g, anchor_global_, anchor_local_, rate_) < local) g += Duration(1);
  while (local_at(g - Duration(1), anchor_global_, anchor_local_, rate_) >= local && g > anchor_global_)
    g -= Duration(1);
  return g < sched_.now() ? sched_.now() : g;
}

}  // namespace constellation::sim
