// The scenarios std_model_benchmark.cpp runs twice: written with std::mutex and
// std::condition_variable (plain std:: code under interleave::std_runtime) and with
// interleave's BasicMutex and BasicCondition over ModelPlatform (std_model_baseline.cpp).
//
//   Counter/LockPerIncrement   2 threads x 1000 increments, the lock taken around each increment
//   Queue/TwoByTwo             2 producers / 2 consumers move 100 items through the classic
//                              blocking queue: a mutex, two condition variables and a ring of 4
#pragma once

#include <array>
#include <cstddef>
#include <mutex>

#include "interleave/explore.h"

namespace interleave::bench {

template <class Mutex, class Thread>
void lock_per_increment() {
  Mutex lock;
  int counter = 0;
  auto increment = [&] {
    for (int i = 0; i < 1000; ++i) {
      const std::lock_guard guard(lock);
      ++counter;
    }
  };
  Thread a(increment);
  Thread b(increment);
  if constexpr (requires { a.start(); }) {
    a.start();
    b.start();
  }
  a.join();
  b.join();
  INTERLEAVE_ASSERT(counter == 2000);
}

template <class Mutex, class Condition>
class ClassicQueue {
 public:
  void put(int value) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return size_ < slots_.size(); });
    slots_[(head_ + size_) % slots_.size()] = value;
    ++size_;
    not_empty_.notify_one();
  }
  int get() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return size_ > 0; });
    const int value = slots_[head_];
    head_ = (head_ + 1) % slots_.size();
    --size_;
    not_full_.notify_one();
    return value;
  }

 private:
  Mutex mutex_;
  Condition not_full_;
  Condition not_empty_;
  std::array<int, 4> slots_{};
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

template <class Mutex, class Condition, class Thread>
void two_by_two_queue() {
  ClassicQueue<Mutex, Condition> queue;
  int taken[2] = {0, 0};
  auto produce = [&] {
    for (int i = 1; i <= 50; ++i) queue.put(i);
  };
  auto consume = [&](int& sum) {
    for (int i = 0; i < 50; ++i) sum += queue.get();
  };
  Thread p1(produce);
  Thread p2(produce);
  Thread c1([&] { consume(taken[0]); });
  Thread c2([&] { consume(taken[1]); });
  if constexpr (requires { p1.start(); }) {
    p1.start();
    p2.start();
    c1.start();
    c2.start();
  }
  p1.join();
  p2.join();
  c1.join();
  c2.join();
  INTERLEAVE_ASSERT(taken[0] + taken[1] == 2 * (50 * 51 / 2));
}

}  // namespace interleave::bench
