// Condition (and ProcessCondition), RecursiveMutex, Latch, Barrier, SharedMutex and Once against
// their std:: counterparts, uncontended, on native threads, in one program so that each ratio
// compares two rows of one run. Every benchmark first makes the process multi-threaded (a parked helper
// thread), which is the case that matters for synchronization (see mutex_benchmark.cpp: glibc
// takes a non-atomic path in a process that has only ever had one thread). One more row, a
// two-thread Condition ping-pong, shows the sleeping path.
#include <benchmark/benchmark.h>

#include <barrier>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "interleave/barrier.h"
#include "interleave/condition.h"
#include "interleave/latch.h"
#include "interleave/mutex.h"
#include "interleave/once.h"
#include "interleave/process_condition.h"
#include "interleave/recursive_mutex.h"
#include "interleave/shared_mutex.h"
#include "multithreaded_process.h"

namespace {

using interleave::bench::make_process_multithreaded;

// --- Condition: notify_one with nobody waiting (the common case for a notifier), and a
// two-thread ping-pong through one mutex and condition (each round trip: two waits, two notifies).

template <class Condition>
void BM_NotifyOneNobodyWaiting(benchmark::State& state) {
  make_process_multithreaded();
  Condition c;
  for (auto _ : state) c.notify_one();
}
BENCHMARK(BM_NotifyOneNobodyWaiting<std::condition_variable>)
    ->Name("Condition.NotifyOneNobodyWaiting/std::condition_variable");
BENCHMARK(BM_NotifyOneNobodyWaiting<std::condition_variable_any>)
    ->Name("Condition.NotifyOneNobodyWaiting/std::condition_variable_any");
BENCHMARK(BM_NotifyOneNobodyWaiting<interleave::Condition>)
    ->Name("Condition.NotifyOneNobodyWaiting/interleave::Condition");
BENCHMARK(BM_NotifyOneNobodyWaiting<interleave::ProcessCondition>)
    ->Name("Condition.NotifyOneNobodyWaiting/interleave::ProcessCondition");

template <class Mutex, class Condition>
void BM_PingPong(benchmark::State& state) {
  make_process_multithreaded();
  Mutex m;
  Condition c;
  long turn = 0;  // even: main's turn, odd: the partner's
  bool stop = false;
  std::thread partner([&] {
    std::unique_lock lock(m);
    for (;;) {
      c.wait(lock, [&] { return turn % 2 == 1 || stop; });
      if (stop) return;
      ++turn;
      c.notify_one();
    }
  });
  for (auto _ : state) {
    std::unique_lock lock(m);
    ++turn;
    c.notify_one();
    c.wait(lock, [&] { return turn % 2 == 0; });
  }
  {
    std::lock_guard g(m);
    stop = true;
  }
  c.notify_one();
  partner.join();
}
BENCHMARK(BM_PingPong<std::mutex, std::condition_variable>)
    ->Name("Condition.PingPong/std::mutex+std::condition_variable")
    ->UseRealTime();
BENCHMARK(BM_PingPong<interleave::Mutex, interleave::Condition>)
    ->Name("Condition.PingPong/interleave::Mutex+interleave::Condition")
    ->UseRealTime();
// Process-shared futexes and mutex, on threads of one process (what crossing processes adds is
// the kernel's shared futex hashing, on both sides alike).
BENCHMARK(BM_PingPong<interleave::ProcessMutex, interleave::ProcessCondition>)
    ->Name("Condition.PingPong/interleave::ProcessMutex+interleave::ProcessCondition")
    ->UseRealTime();

// --- RecursiveMutex: an outer and a nested lock, then both unlocks.

template <class M>
void BM_RecursiveLockTwice(benchmark::State& state) {
  make_process_multithreaded();
  M m;
  long counter = 0;
  for (auto _ : state) {
    m.lock();
    m.lock();
    ++counter;
    m.unlock();
    m.unlock();
  }
  benchmark::DoNotOptimize(counter);
}
BENCHMARK(BM_RecursiveLockTwice<std::recursive_mutex>)->Name("RecursiveMutex.LockTwice/std::recursive_mutex");
BENCHMARK(BM_RecursiveLockTwice<interleave::RecursiveMutex>)
    ->Name("RecursiveMutex.LockTwice/interleave::RecursiveMutex");

// --- Latch: a latch of one, counted down and waited on by the same thread (no sleeping).

template <class L>
void BM_LatchCountDownAndWait(benchmark::State& state) {
  make_process_multithreaded();
  for (auto _ : state) {
    L latch(1);
    latch.count_down();
    latch.wait();
    benchmark::DoNotOptimize(&latch);
  }
}
BENCHMARK(BM_LatchCountDownAndWait<std::latch>)->Name("Latch.CountDownAndWait/std::latch");
BENCHMARK(BM_LatchCountDownAndWait<interleave::Latch>)->Name("Latch.CountDownAndWait/interleave::Latch");

// --- Barrier: one party, so every arrive_and_wait completes a phase (with an empty completion).

void BM_BarrierOneParty_std(benchmark::State& state) {
  make_process_multithreaded();
  long phases = 0;
  auto completion = [&phases]() noexcept { ++phases; };
  std::barrier barrier(1, completion);
  for (auto _ : state) barrier.arrive_and_wait();
  benchmark::DoNotOptimize(phases);
}
void BM_BarrierOneParty_interleave(benchmark::State& state) {
  make_process_multithreaded();
  long phases = 0;
  interleave::Barrier barrier(1, [&phases] { ++phases; });
  for (auto _ : state) barrier.arrive_and_wait();
  benchmark::DoNotOptimize(phases);
}
BENCHMARK(BM_BarrierOneParty_std)->Name("Barrier.OneParty/std::barrier");
BENCHMARK(BM_BarrierOneParty_interleave)->Name("Barrier.OneParty/interleave::Barrier");

// --- SharedMutex: a shared lock+unlock, and an exclusive one.

template <class M>
void BM_SharedLock(benchmark::State& state) {
  make_process_multithreaded();
  M m;
  for (auto _ : state) {
    m.lock_shared();
    m.unlock_shared();
  }
}
template <class M>
void BM_ExclusiveLock(benchmark::State& state) {
  make_process_multithreaded();
  M m;
  long counter = 0;
  for (auto _ : state) {
    m.lock();
    ++counter;
    m.unlock();
  }
  benchmark::DoNotOptimize(counter);
}
BENCHMARK(BM_SharedLock<std::shared_mutex>)->Name("SharedMutex.Shared/std::shared_mutex");
BENCHMARK(BM_SharedLock<interleave::SharedMutex>)->Name("SharedMutex.Shared/interleave::SharedMutex");
BENCHMARK(BM_ExclusiveLock<std::shared_mutex>)->Name("SharedMutex.Exclusive/std::shared_mutex");
BENCHMARK(BM_ExclusiveLock<interleave::SharedMutex>)->Name("SharedMutex.Exclusive/interleave::SharedMutex");

// --- Once: a call after the run succeeded (every call but the first), and a fresh flag's first
// call.

void BM_OnceDone_std(benchmark::State& state) {
  make_process_multithreaded();
  std::once_flag flag;
  int runs = 0;
  for (auto _ : state) std::call_once(flag, [&] { ++runs; });
  benchmark::DoNotOptimize(runs);
}
void BM_OnceDone_interleave(benchmark::State& state) {
  make_process_multithreaded();
  interleave::Once once;
  int runs = 0;
  for (auto _ : state) interleave::call_once(once, [&] { ++runs; });
  benchmark::DoNotOptimize(runs);
}
void BM_OnceFirstCall_std(benchmark::State& state) {
  make_process_multithreaded();
  int runs = 0;
  for (auto _ : state) {
    std::once_flag flag;
    std::call_once(flag, [&] { ++runs; });
  }
  benchmark::DoNotOptimize(runs);
}
void BM_OnceFirstCall_interleave(benchmark::State& state) {
  make_process_multithreaded();
  int runs = 0;
  for (auto _ : state) {
    interleave::Once once;
    interleave::call_once(once, [&] { ++runs; });
  }
  benchmark::DoNotOptimize(runs);
}
BENCHMARK(BM_OnceDone_std)->Name("Once.Done/std::call_once");
BENCHMARK(BM_OnceDone_interleave)->Name("Once.Done/interleave::call_once");
BENCHMARK(BM_OnceFirstCall_std)->Name("Once.FirstCall/std::call_once");
BENCHMARK(BM_OnceFirstCall_interleave)->Name("Once.FirstCall/interleave::call_once");

}  // namespace
