// The race detector's cost.
//
//   SharedAccess/read, SharedAccess/write   one checked Shared<int> access on the model path (inside
//                                          an exploration, detector on), in the common case: the
//                                          fiber's own epoch, a loop of accesses between scheduling
//                                          points
//   SharedAccess/native                    the same loop with Shared<int, NativePlatform> (a plain int)
//   Counter/LockPerIncrement/detector_{on,off}
//                                          model_benchmark's counter scenario (2 threads x 1000
//                                          increments, the lock around each) with the counter a
//                                          Shared<int>, 100 schedules per iteration, the detector on
//                                          and off in the same program
//   Counter/LockAroundLoop/detector_{on,off}  the tutorial-shaped counter, likewise
//   Queue/TwoByTwo/detector_{on,off}       model_benchmark's queue scenario (no Shared cells: what the
//                                          clocks on atomics alone cost)
#include <benchmark/benchmark.h>

#include <mutex>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/queue.h"
#include "interleave/shared.h"
#include "interleave/thread.h"
#include "model_scenarios.h"

namespace {

using namespace interleave;

constexpr int kAccessesPerSchedule = 100'000;

// One schedule of a body that accesses a Shared<int> kAccessesPerSchedule times; the time per
// access is the schedule's time over the accesses (the schedule's own cost is a few microseconds).
template <bool Write>
void BM_SharedAccess(benchmark::State& state) {
  Options options;
  options.schedules = 1;
  for (auto _ : state) {
    const Result r = explore(options, []<Platform P>() {
      Shared<int, P> cell{0};
      int sum = 0;
      for (int i = 0; i < kAccessesPerSchedule; ++i) {
        if constexpr (Write) {
          cell.write(i);
        } else {
          sum += cell.read();
        }
      }
      benchmark::DoNotOptimize(sum);
    });
    if (r.failed()) state.SkipWithError(r.report().c_str());
  }
  state.counters["ns_per_access"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kAccessesPerSchedule * 1e-9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SharedAccess<false>)->Name("SharedAccess/read")->UseRealTime();
BENCHMARK(BM_SharedAccess<true>)->Name("SharedAccess/write")->UseRealTime();

void BM_SharedAccessNative(benchmark::State& state) {
  for (auto _ : state) {
    Shared<int, NativePlatform> cell{0};
    int sum = 0;
    for (int i = 0; i < kAccessesPerSchedule; ++i) {
      cell.write(i);
      benchmark::DoNotOptimize(cell);
      sum += cell.read();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.counters["ns_per_access"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 2 * kAccessesPerSchedule * 1e-9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SharedAccessNative)->Name("SharedAccess/native")->UseRealTime();

template <bool LockPerIncrement>
struct Counter {
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    Shared<int, P> counter{0};
    auto increment = [&] {
      if (LockPerIncrement) {
        for (int i = 0; i < 1000; ++i) {
          std::lock_guard guard(lock);
          counter.write(counter.read() + 1);
        }
      } else {
        std::lock_guard guard(lock);
        for (int i = 0; i < 1000; ++i) counter.write(counter.read() + 1);
      }
    };
    BasicThread<P> a(increment);
    BasicThread<P> b(increment);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(counter.read() == 2000);
  }
};

template <class Body>
void run(benchmark::State& state, bool detector, Body body) {
  bench::run_schedules(state, body, detector);
}

void BM_CounterPerIncrementOn(benchmark::State& s) { run(s, true, Counter<true>{}); }
void BM_CounterPerIncrementOff(benchmark::State& s) { run(s, false, Counter<true>{}); }
void BM_CounterAroundLoopOn(benchmark::State& s) { run(s, true, Counter<false>{}); }
void BM_CounterAroundLoopOff(benchmark::State& s) { run(s, false, Counter<false>{}); }
void BM_QueueOn(benchmark::State& s) { run(s, true, bench::TwoByTwoQueue{}); }
void BM_QueueOff(benchmark::State& s) { run(s, false, bench::TwoByTwoQueue{}); }
BENCHMARK(BM_CounterPerIncrementOn)->Name("Counter/LockPerIncrement/detector_on")->UseRealTime();
BENCHMARK(BM_CounterPerIncrementOff)->Name("Counter/LockPerIncrement/detector_off")->UseRealTime();
BENCHMARK(BM_CounterAroundLoopOn)->Name("Counter/LockAroundLoop/detector_on")->UseRealTime();
BENCHMARK(BM_CounterAroundLoopOff)->Name("Counter/LockAroundLoop/detector_off")->UseRealTime();
BENCHMARK(BM_QueueOn)->Name("Queue/TwoByTwo/detector_on")->UseRealTime();
BENCHMARK(BM_QueueOff)->Name("Queue/TwoByTwo/detector_off")->UseRealTime();

}  // namespace
