// Parallel exploration: schedules per second with 1, 2, ... jobs (Options::jobs) on the same
// scenarios, so the speed-up is the ratio of two rows of one run. Wall time: the jobs run on
// several threads.
//
//   Parallel/Counter/<jobs>   2 threads x 1000 increments, the lock around each (long schedules)
//   Parallel/Queue/<jobs>     2 producers / 2 consumers, 100 items, capacity 4
//   Parallel/Short/<jobs>     2 threads x 2 locked increments (short schedules: the pool's own
//                             cost shows)
//
// Each iteration explores 400 schedules (one exploration), so the pool's start and stop are part
// of the measurement.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <mutex>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/thread.h"
#include "model_scenarios.h"

namespace {

using namespace interleave;

constexpr int kSchedules = 400;

template <int Increments>
struct Counter {
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    int counter = 0;
    auto increment = [&] {
      for (int i = 0; i < Increments; ++i) {
        std::lock_guard guard(lock);
        ++counter;
      }
    };
    BasicThread<P> a(increment);
    BasicThread<P> b(increment);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(counter == 2 * Increments);
  }
};

template <class Body>
void parallel(benchmark::State& state, Body body) {
  Options options;
  options.schedules = kSchedules;
  options.jobs = static_cast<unsigned>(state.range(0));
  for (auto _ : state) {
    const Result r = explore(options, body);
    if (r.failed()) state.SkipWithError(r.report().c_str());
  }
  state.counters["schedules_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kSchedules, benchmark::Counter::kIsRate);
}

void Parallel_Counter(benchmark::State& state) { parallel(state, Counter<1000>{}); }
void Parallel_Queue(benchmark::State& state) { parallel(state, bench::TwoByTwoQueue{}); }
void Parallel_Short(benchmark::State& state) { parallel(state, Counter<2>{}); }

void jobs(benchmark::internal::Benchmark* b) {
  const int cores = static_cast<int>(available_cores());
  for (int j = 1; j <= std::max(cores, 2); j *= 2) b->Arg(j);
  if ((cores & (cores - 1)) != 0) b->Arg(cores);  // the core count itself when not a power of two
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(Parallel_Counter)->Apply(jobs);
BENCHMARK(Parallel_Queue)->Apply(jobs);
BENCHMARK(Parallel_Short)->Apply(jobs);

}  // namespace
