// Shared by the model benchmarks: how a scenario is explored and timed, and the queue scenario.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

#include "interleave/explore.h"
#include "interleave/queue.h"
#include "interleave/shared.h"
#include "interleave/thread.h"

namespace interleave::bench {

inline constexpr int kSchedulesPerIteration = 100;

// Explores `body` for kSchedulesPerIteration schedules per benchmark iteration on one thread
// (jobs = 1: the cost of the scheduler itself; parallel_benchmark.cpp measures jobs), with the race
// detector on or off, under `strategy` (the random walk unless told), and reports schedules_per_s, ns_per_point
// (time per step), points_per_schedule (steps) and choices_per_schedule (picks among two or more
// runnable fibers).
template <class Body>
void run_schedules(benchmark::State& state, Body body, bool detector, Strategy strategy = Strategy::random_walk,
                   MemoryModel model = MemoryModel::weak) {
  const bool was = set_race_detector(detector);
  Options options;
  options.strategy = strategy;
  options.memory_model = model;
  options.schedules = kSchedulesPerIteration;
  options.jobs = 1;
  std::uint64_t points = 0;
  std::uint64_t choices = 0;
  for (auto _ : state) {
    const Result r = explore(options, body);
    if (r.failed()) state.SkipWithError(r.report().c_str());
    points += r.total_steps;
    choices += r.total_choice_points;
  }
  (void)set_race_detector(was);
  const double schedules = static_cast<double>(state.iterations()) * kSchedulesPerIteration;
  state.counters["schedules_per_s"] = benchmark::Counter(schedules, benchmark::Counter::kIsRate);
  state.counters["points_per_schedule"] = static_cast<double>(points) / schedules;
  state.counters["choices_per_schedule"] = static_cast<double>(choices) / schedules;
  state.counters["ns_per_point"] =
      benchmark::Counter(static_cast<double>(points) * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// 2 producers / 2 consumers move 100 items through a bounded queue of capacity 4.
struct TwoByTwoQueue {
  template <Platform P>
  void operator()() const {
    BasicQueue<int, P> queue(4);
    typename P::template Atomic<int> taken_sum{0};
    auto produce = [&] {
      for (int i = 0; i < 50; ++i) queue.put(i);
    };
    auto consume = [&] {
      for (int i = 0; i < 50; ++i) taken_sum.fetch_add(*queue.get());
    };
    BasicThread<P> p1(produce);
    BasicThread<P> p2(produce);
    BasicThread<P> c1(consume);
    BasicThread<P> c2(consume);
    p1.start();
    p2.start();
    c1.start();
    c2.start();
    p1.join();
    p2.join();
    c1.join();
    c2.join();
    INTERLEAVE_ASSERT(taken_sum.load() == 2 * (49 * 50 / 2));
  }
};

}  // namespace interleave::bench
