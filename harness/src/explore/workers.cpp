#include "explore/workers.h"

#include <sched.h>

#include <algorithm>

#include "interleave/options.h"

namespace interleave {

unsigned available_cores() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<unsigned>(std::max(1, CPU_COUNT(&set)));
  return std::max(1U, std::thread::hardware_concurrency());
}

}  // namespace interleave

namespace interleave::detail {

WorkerPool& WorkerPool::instance() {
  // Never destroyed: its threads wait for work until the process ends. (Joining them from a static
  // destructor would hang in a fork()ed child, which has the pool's memory but not its threads.)
  static WorkerPool* const pool = new WorkerPool;
  return *pool;
}

void WorkerPool::run(unsigned workers, const std::function<void(unsigned)>& task) {
  std::unique_lock busy(busy_, std::try_to_lock);
  if (workers <= 1 || !busy.owns_lock()) {
    for (unsigned w = 0; w < std::max(workers, 1U); ++w) task(w);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    while (threads_.size() < workers - 1) {
      const auto slot = static_cast<unsigned>(threads_.size());
      threads_.emplace_back([this, slot] { loop(slot); });
    }
    task_ = &task;
    wanted_ = workers - 1;
    remaining_ = workers - 1;
    error_ = nullptr;
    ++generation_;
  }
  start_.notify_all();
  std::exception_ptr mine;
  try {
    task(0);
  } catch (...) {
    mine = std::current_exception();
  }
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return remaining_ == 0; });
  task_ = nullptr;
  if (mine) std::rethrow_exception(mine);
  if (error_) std::rethrow_exception(error_);
}

void WorkerPool::loop(unsigned slot) {
  std::uint64_t seen = 0;
  std::unique_lock lock(mutex_);
  while (true) {
    start_.wait(lock, [&] { return generation_ != seen; });
    seen = generation_;
    if (slot >= wanted_) continue;  // not needed this round
    const std::function<void(unsigned)>* task = task_;
    lock.unlock();
    std::exception_ptr error;
    try {
      (*task)(slot + 1);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_) error_ = error;
    if (--remaining_ == 0) done_.notify_all();
  }
}

}  // namespace interleave::detail
