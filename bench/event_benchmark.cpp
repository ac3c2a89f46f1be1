// Event vs the textbook event (std::mutex + std::condition_variable + bool), in one program so
// their ratio is meaningful:
//   SetIsSetClear   one thread: set(), is_set(), clear() with nobody waiting.
//   IsSet           one thread: is_set() on a set event.
//   WaitOnSet       one thread: wait() on an event that is already set.
//   PingPong        two threads hand a turn back and forth through two events (wait, then clear
//                   before answering); one iteration is a full round trip.
//
// In PingPong the condition variable always sleeps while Event spins briefly first. Results and
// the machine they came from: docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "interleave/event.h"
#include "multithreaded_process.h"

namespace {

// The baseline: what one writes without a dedicated primitive.
class CondvarEvent {
 public:
  void set() {
    {
      std::lock_guard lock(mutex_);
      flag_ = true;
    }
    changed_.notify_all();
  }
  void clear() {
    std::lock_guard lock(mutex_);
    flag_ = false;
  }
  bool is_set() {
    std::lock_guard lock(mutex_);
    return flag_;
  }
  void wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return flag_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool flag_ = false;
};

template <class E>
void BM_SetIsSetClear(benchmark::State& state) {
  E e;
  for (auto _ : state) {
    e.set();
    benchmark::DoNotOptimize(e.is_set());
    e.clear();
  }
}

template <class E>
void BM_IsSet(benchmark::State& state) {
  E e;
  e.set();
  for (auto _ : state) benchmark::DoNotOptimize(e.is_set());
}

template <class E>
void BM_WaitOnSet(benchmark::State& state) {
  E e;
  e.set();
  for (auto _ : state) e.wait();
}

template <class E>
void BM_PingPong(benchmark::State& state) {
  E ping;
  E pong;
  std::atomic<bool> done{false};
  std::thread partner([&] {
    for (;;) {
      ping.wait();
      ping.clear();
      if (done.load(std::memory_order_relaxed)) return;
      pong.set();
    }
  });
  for (auto _ : state) {
    ping.set();
    pong.wait();
    pong.clear();
  }
  done.store(true, std::memory_order_relaxed);
  ping.set();
  partner.join();
}

using interleave::bench::make_process_multithreaded;

template <class E>
void BM_SetIsSetClearMT(benchmark::State& state) {
  make_process_multithreaded();
  BM_SetIsSetClear<E>(state);
}

BENCHMARK(BM_SetIsSetClearMT<CondvarEvent>)->Name("SetIsSetClear/mutex+condvar");
BENCHMARK(BM_SetIsSetClearMT<interleave::Event>)->Name("SetIsSetClear/interleave::Event");
BENCHMARK(BM_IsSet<CondvarEvent>)->Name("IsSet/mutex+condvar");
BENCHMARK(BM_IsSet<interleave::Event>)->Name("IsSet/interleave::Event");
BENCHMARK(BM_WaitOnSet<CondvarEvent>)->Name("WaitOnSet/mutex+condvar");
BENCHMARK(BM_WaitOnSet<interleave::Event>)->Name("WaitOnSet/interleave::Event");
BENCHMARK(BM_PingPong<CondvarEvent>)->Name("PingPong/mutex+condvar")->UseRealTime();
BENCHMARK(BM_PingPong<interleave::Event>)->Name("PingPong/interleave::Event")->UseRealTime();

}  // namespace
