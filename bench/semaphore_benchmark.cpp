// Semaphore vs std::counting_semaphore, in one program so their ratio is meaningful:
//   Uncontended   one thread: acquire + release of a semaphore holding one permit.
//   TryAcquire    one thread: try_acquire + release.
//   PingPong      two threads hand one permit back and forth through two semaphores; one
//                 iteration is a full round trip (two hand-offs, usually two sleeps and wakes).
//   Contended     2 benchmark threads use one semaphore with one permit as a lock.
//
// libstdc++ 12's release makes a futex wake call whenever the count was 0, even with nobody
// waiting. Results and the machine they came from: docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <atomic>
#include <semaphore>
#include <thread>

#include "interleave/semaphore.h"

namespace {

using StdSemaphore = std::counting_semaphore<>;

template <class S>
void BM_Uncontended(benchmark::State& state) {
  S s(1);
  for (auto _ : state) {
    s.acquire();
    s.release();
  }
}

template <class S>
void BM_TryAcquire(benchmark::State& state) {
  S s(1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.try_acquire());
    s.release();
  }
}

template <class S>
void BM_PingPong(benchmark::State& state) {
  S ping(0);
  S pong(0);
  std::atomic<bool> done{false};
  std::thread partner([&] {
    for (;;) {
      ping.acquire();
      if (done.load(std::memory_order_relaxed)) return;
      pong.release();
    }
  });
  for (auto _ : state) {
    ping.release();
    pong.acquire();
  }
  done.store(true, std::memory_order_relaxed);
  ping.release();
  partner.join();
}

// One semaphore shared by all benchmark threads; per-iteration time is wall time / iterations.
template <class S>
void BM_Contended(benchmark::State& state) {
  static S s(1);
  static long counter = 0;
  for (auto _ : state) {
    s.acquire();
    ++counter;
    s.release();
  }
  benchmark::DoNotOptimize(counter);
}

BENCHMARK(BM_Uncontended<StdSemaphore>)->Name("Uncontended/std::counting_semaphore");
BENCHMARK(BM_Uncontended<interleave::Semaphore>)->Name("Uncontended/interleave::Semaphore");
BENCHMARK(BM_TryAcquire<StdSemaphore>)->Name("TryAcquire/std::counting_semaphore");
BENCHMARK(BM_TryAcquire<interleave::Semaphore>)->Name("TryAcquire/interleave::Semaphore");
BENCHMARK(BM_PingPong<StdSemaphore>)->Name("PingPong/std::counting_semaphore")->UseRealTime();
BENCHMARK(BM_PingPong<interleave::Semaphore>)->Name("PingPong/interleave::Semaphore")->UseRealTime();
BENCHMARK(BM_Contended<StdSemaphore>)->Name("Contended/std::counting_semaphore")->Threads(2)->UseRealTime();
BENCHMARK(BM_Contended<interleave::Semaphore>)->Name("Contended/interleave::Semaphore")->Threads(2)->UseRealTime();

}  // namespace
