// Mutex vs std::mutex: an uncontended lock/unlock pair, and two threads contending for one lock
// around a tiny critical section. Both variants run in one program so their ratio is meaningful.
//
// glibc gives std::mutex a non-atomic fast path while a process has only ever had one thread
// (__libc_single_threaded). That case is measured first, as "SingleThreadedProcess"; every later
// benchmark runs after a parked helper thread exists, which is the case that matters for a lock.
#include <benchmark/benchmark.h>

#include <mutex>
#include <thread>

#include "interleave/mutex.h"
#include "multithreaded_process.h"

namespace {

using interleave::bench::make_process_multithreaded;

template <class M>
void BM_UncontendedSingleThreadedProcess(benchmark::State& state) {
  M m;
  long counter = 0;
  for (auto _ : state) {
    m.lock();
    ++counter;
    m.unlock();
  }
  benchmark::DoNotOptimize(counter);
}

template <class M>
void BM_Uncontended(benchmark::State& state) {
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

// One lock shared by all benchmark threads; per-iteration time is wall time / total iterations.
template <class M>
void BM_Contended(benchmark::State& state) {
  static M m;
  static long counter = 0;
  for (auto _ : state) {
    m.lock();
    ++counter;
    m.unlock();
  }
  benchmark::DoNotOptimize(counter);
}

BENCHMARK(BM_UncontendedSingleThreadedProcess<std::mutex>)->Name("UncontendedSingleThreadedProcess/std::mutex");
BENCHMARK(BM_UncontendedSingleThreadedProcess<interleave::Mutex>)
    ->Name("UncontendedSingleThreadedProcess/interleave::Mutex");
BENCHMARK(BM_Uncontended<std::mutex>)->Name("Uncontended/std::mutex");
BENCHMARK(BM_Uncontended<interleave::Mutex>)->Name("Uncontended/interleave::Mutex");
BENCHMARK(BM_Contended<std::mutex>)->Name("Contended/std::mutex")->Threads(2)->UseRealTime();
BENCHMARK(BM_Contended<interleave::Mutex>)->Name("Contended/interleave::Mutex")->Threads(2)->UseRealTime();

}  // namespace
