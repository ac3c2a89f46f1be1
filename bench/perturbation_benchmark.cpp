// What the Perturbed platform buys, and what it costs.
//
// Detection: two deliberately broken primitives, each run 100 times as the same 2-thread body,
// once on plain std::threads (NativePlatform) and once on the Perturbed platform (light and heavy
// rates); the counter `detected` is how many of the 100 runs broke the primitive's invariant.
//   - UnlockedCounter: increment = atomic load, then atomic store (2 threads x 1000 increments).
//   - LateTailQueue: a locked ring whose producers store the new tail after unlocking
//     (2 producers x 200 items; an item is lost when both claim one slot).
// Cost: Native against Perturbed with the perturbation off (no scope installed, and inside a
// PerturbationScope with Perturbation::off()), on an uncontended Mutex lock+unlock and a Queue
// put+get.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "../properties/zoo/stress_broken.h"
#include "interleave/mutex.h"
#include "interleave/native_platform.h"
#include "interleave/perturbed_platform.h"
#include "interleave/queue.h"
#include "interleave/thread.h"

namespace {

using interleave::BasicMutex;
using interleave::BasicQueue;
using interleave::BasicThread;
using interleave::NativePlatform;
using interleave::Perturbation;
using interleave::PerturbationScope;
using interleave::PerturbedPlatform;
using interleave::Platform;

// The broken primitives the stress tests require the harness to catch (properties/zoo).
using interleave::zoo::LateTailQueue;
using interleave::zoo::UnlockedCounter;

// Each returns true when the invariant held.
template <Platform P>
bool unlocked_counter_run() {
  UnlockedCounter<P> counter;
  auto work = [&] {
    for (int i = 0; i < 1000; ++i) counter.increment();
  };
  BasicThread<P> a(work), b(work);
  a.start();
  b.start();
  a.join();
  b.join();
  return counter.value() == 2000;
}

template <Platform P>
bool late_tail_queue_run() {
  constexpr std::uint32_t kItems = 200;
  LateTailQueue<P> queue(2 * kItems);
  auto produce = [&](std::uint32_t base) {
    return [&queue, base] {
      for (std::uint32_t i = 0; i < kItems; ++i) queue.put(base + i);
    };
  };
  BasicThread<P> a(produce(0)), b(produce(kItems));
  a.start();
  b.start();
  a.join();
  b.join();
  std::vector<std::uint32_t> got;
  std::uint32_t item = 0;
  while (queue.try_get(item)) got.push_back(item);
  std::sort(got.begin(), got.end());
  got.erase(std::unique(got.begin(), got.end()), got.end());
  return got.size() == 2 * kItems;
}

constexpr int kRuns = 100;

enum Mode { kPlain = 0, kLight = 1, kHeavy = 2 };

template <bool (*Native)(), bool (*Perturbed)()>
void Detection(benchmark::State& state) {
  const auto mode = static_cast<Mode>(state.range(0));
  int detected = 0;
  for (auto _ : state) {
    detected = 0;
    for (int run = 0; run < kRuns; ++run) {
      bool held = true;
      if (mode == kPlain) {
        held = Native();
      } else {
        const PerturbationScope scope(0x1eaf5eedULL + static_cast<std::uint64_t>(run) * 0x9e3779b97f4a7c15ULL,
                                      mode == kLight ? Perturbation::light() : Perturbation::heavy());
        held = Perturbed();
      }
      if (!held) ++detected;
    }
  }
  state.counters["detected"] = detected;
  state.counters["runs"] = kRuns;
  state.SetLabel(mode == kPlain ? "plain std::thread" : mode == kLight ? "perturbed light" : "perturbed heavy");
}

BENCHMARK_TEMPLATE(Detection, unlocked_counter_run<NativePlatform>, unlocked_counter_run<PerturbedPlatform<>>)
    ->Name("Detection/UnlockedCounter")
    ->ArgName("mode")
    ->DenseRange(kPlain, kHeavy)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_TEMPLATE(Detection, late_tail_queue_run<NativePlatform>, late_tail_queue_run<PerturbedPlatform<>>)
    ->Name("Detection/LateTailQueue")
    ->ArgName("mode")
    ->DenseRange(kPlain, kHeavy)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// --- cost with the perturbation off --------------------------------------------------------------

// A second thread exists, as in any program that locks: glibc's single-thread shortcuts are off.
struct SecondThread {
  SecondThread() : thread([] {}) { thread.join(); }
  std::thread thread;
};

template <class P, bool Scoped>
void MutexLockUnlock(benchmark::State& state) {
  static SecondThread second;
  std::optional<PerturbationScope> scope;
  if (Scoped) scope.emplace(1, Perturbation::off());
  BasicMutex<P> m;
  for (auto _ : state) {
    m.lock();
    m.unlock();
  }
  benchmark::DoNotOptimize(&m);
}
BENCHMARK_TEMPLATE(MutexLockUnlock, NativePlatform, false)->Name("OffCost/Mutex/Native");
BENCHMARK_TEMPLATE(MutexLockUnlock, PerturbedPlatform<>, false)->Name("OffCost/Mutex/PerturbedNoScope");
BENCHMARK_TEMPLATE(MutexLockUnlock, PerturbedPlatform<>, true)->Name("OffCost/Mutex/PerturbedOff");

template <class P, bool Scoped>
void QueuePutGet(benchmark::State& state) {
  std::optional<PerturbationScope> scope;
  if (Scoped) scope.emplace(1, Perturbation::off());
  BasicQueue<std::uint64_t, P> q(1024);
  std::uint64_t n = 0;
  for (auto _ : state) {
    q.put(n++);
    benchmark::DoNotOptimize(q.get());
  }
}
BENCHMARK_TEMPLATE(QueuePutGet, NativePlatform, false)->Name("OffCost/Queue/Native");
BENCHMARK_TEMPLATE(QueuePutGet, PerturbedPlatform<>, false)->Name("OffCost/Queue/PerturbedNoScope");
BENCHMARK_TEMPLATE(QueuePutGet, PerturbedPlatform<>, true)->Name("OffCost/Queue/PerturbedOff");

}  // namespace
