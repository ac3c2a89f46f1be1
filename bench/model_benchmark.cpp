// The model scheduler's speed, side by side with Relacy (relacy-dev) on the same scenarios, and
// with the raw fiber switch it is built on.
//
//   Counter/LockPerIncrement   2 threads x 1000 increments, the lock taken around each increment
//   Counter/LockAroundLoop     2 threads x 1000 increments under one lock (the tutorial's shape)
//   Queue/TwoByTwo             2 producers / 2 consumers move 100 items through a bounded queue of
//                              capacity 4 (interleave: Queue<int>; Relacy: a mutex, two condition
//                              variables and a ring of rl::var slots, the classic blocking queue)
//   RawFiberSwitch             one fiber switch, between two fixed call sites
//   CoinFlipSwitchFloor        two fibers and a fair coin at every point: the floor of a random
//                              walk's point (half of them switch, unpredictably)
//   YieldOnly                  2 threads x 1000 yields under the real scheduler: its own cost
//   ...-pct                    the counter and the queue under PCT, which rarely switches
//
// The counter is a plain int for interleave and an rl::var<int> for Relacy: in both tools the
// scheduling points are the lock operations (Relacy checks rl::var accesses for races, which the
// model's race detector will do for Shared<T>; plain accesses are not scheduling points in either).
// Counters reported: schedules_per_s, and for interleave ns_per_point (wall time per scheduling
// point).
#include <benchmark/benchmark.h>

#include <mutex>

#include "interleave/detail/fiber.h"
#include "interleave/detail/random.h"
#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/thread.h"
#include "model_scenarios.h"

#ifdef INTERLEAVE_HAVE_RELACY
#include "relacy_scenarios.h"
#endif

namespace {

using namespace interleave;

using bench::kSchedulesPerIteration;
using bench::TwoByTwoQueue;

template <bool LockPerIncrement>
struct Counter {
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    int counter = 0;
    auto increment = [&] {
      if (LockPerIncrement) {
        for (int i = 0; i < 1000; ++i) {
          std::lock_guard guard(lock);
          ++counter;
        }
      } else {
        std::lock_guard guard(lock);
        for (int i = 0; i < 1000; ++i) ++counter;
      }
    };
    BasicThread<P> a(increment);
    BasicThread<P> b(increment);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(counter == 2000);
  }
};

// Two threads that only yield, 1000 times each: every point is the scheduler's own work (pick,
// switch, count, record), with no primitive around it. Beside CoinFlipSwitchFloor, what the
// scheduler adds to random switching.
struct YieldOnly {
  template <Platform P>
  void operator()() const {
    int yields = 0;
    auto spin = [&] {
      for (int i = 0; i < 1000; ++i) {
        P::yield();
        ++yields;
      }
    };
    BasicThread<P> a(spin);
    BasicThread<P> b(spin);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(yields == 2000);
  }
};

// A short test, the size of most published concurrency bugs (about 20 steps): two threads x 8
// atomic increments. What a schedule costs beside its points: the per-schedule setup and teardown.
struct ShortIncrements {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<int> counter{0};
    auto add = [&] {
      for (int i = 0; i < 8; ++i) counter.fetch_add(1);
    };
    BasicThread<P> a(add);
    BasicThread<P> b(add);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(counter.load() == 16);
  }
};

template <class Body>
void run_interleave(benchmark::State& state, Body body, bool detector = true) {
  bench::run_schedules(state, body, detector);
}

void BM_Interleave_Short(benchmark::State& state) { run_interleave(state, ShortIncrements{}); }
BENCHMARK(BM_Interleave_Short)->Name("Short/TwoByEightIncrements/interleave")->UseRealTime();
void BM_Interleave_Queue(benchmark::State& state) { run_interleave(state, TwoByTwoQueue{}); }
BENCHMARK(BM_Interleave_Queue)->Name("Queue/TwoByTwo/interleave")->UseRealTime();

void BM_Interleave_CounterLockPerIncrement(benchmark::State& state) { run_interleave(state, Counter<true>{}); }

// SURW and the portfolio against the random walk above: what weighing the picks costs per schedule.
void BM_Surw_Short(benchmark::State& state) { bench::run_schedules(state, ShortIncrements{}, true, Strategy::surw); }
void BM_Portfolio_Short(benchmark::State& state) {
  bench::run_schedules(state, ShortIncrements{}, true, Strategy::portfolio);
}
void BM_Surw_Counter(benchmark::State& state) { bench::run_schedules(state, Counter<true>{}, true, Strategy::surw); }
BENCHMARK(BM_Surw_Short)->Name("Short/TwoByEightIncrements/interleave-surw")->UseRealTime();
BENCHMARK(BM_Portfolio_Short)->Name("Short/TwoByEightIncrements/interleave-portfolio")->UseRealTime();
BENCHMARK(BM_Surw_Counter)->Name("Counter/LockPerIncrement/interleave-surw")->UseRealTime();

// The weak memory model (the default) against sequential consistency, per schedule, detector on.
void BM_Weak_Counter(benchmark::State& state) {
  bench::run_schedules(state, Counter<true>{}, true, Strategy::random_walk, MemoryModel::weak);
}
void BM_Sc_Counter(benchmark::State& state) {
  bench::run_schedules(state, Counter<true>{}, true, Strategy::random_walk, MemoryModel::sc);
}
void BM_Weak_Queue(benchmark::State& state) {
  bench::run_schedules(state, TwoByTwoQueue{}, true, Strategy::random_walk, MemoryModel::weak);
}
void BM_Sc_Queue(benchmark::State& state) {
  bench::run_schedules(state, TwoByTwoQueue{}, true, Strategy::random_walk, MemoryModel::sc);
}
BENCHMARK(BM_Weak_Counter)->Name("Counter/LockPerIncrement/memory-weak")->UseRealTime();
BENCHMARK(BM_Sc_Counter)->Name("Counter/LockPerIncrement/memory-sc")->UseRealTime();
BENCHMARK(BM_Weak_Queue)->Name("Queue/TwoByTwo/memory-weak")->UseRealTime();
BENCHMARK(BM_Sc_Queue)->Name("Queue/TwoByTwo/memory-sc")->UseRealTime();
void BM_Interleave_CounterLockAroundLoop(benchmark::State& state) { run_interleave(state, Counter<false>{}); }
BENCHMARK(BM_Interleave_CounterLockPerIncrement)->Name("Counter/LockPerIncrement/interleave")->UseRealTime();
BENCHMARK(BM_Interleave_CounterLockAroundLoop)->Name("Counter/LockAroundLoop/interleave")->UseRealTime();

void BM_Interleave_YieldOnly(benchmark::State& state) { run_interleave(state, YieldOnly{}, false); }
BENCHMARK(BM_Interleave_YieldOnly)->Name("YieldOnly/interleave-detector-off")->UseRealTime();

// The same with the race detector off: the scheduler alone.
void BM_Scheduler_Queue(benchmark::State& state) { run_interleave(state, TwoByTwoQueue{}, false); }
void BM_Scheduler_CounterLockPerIncrement(benchmark::State& state) { run_interleave(state, Counter<true>{}, false); }
void BM_Scheduler_CounterLockAroundLoop(benchmark::State& state) { run_interleave(state, Counter<false>{}, false); }
BENCHMARK(BM_Scheduler_Queue)->Name("Queue/TwoByTwo/interleave-detector-off")->UseRealTime();
BENCHMARK(BM_Scheduler_CounterLockPerIncrement)
    ->Name("Counter/LockPerIncrement/interleave-detector-off")
    ->UseRealTime();
BENCHMARK(BM_Scheduler_CounterLockAroundLoop)->Name("Counter/LockAroundLoop/interleave-detector-off")->UseRealTime();

// PCT (depth 3) switches only where a higher-priority fiber becomes runnable or at its change
// points, so few of its points switch: beside the random walk, what a point costs apart from
// switching.
void BM_Pct_CounterLockPerIncrement(benchmark::State& state) {
  bench::run_schedules(state, Counter<true>{}, false, Strategy::pct);
}
void BM_Pct_Queue(benchmark::State& state) { bench::run_schedules(state, TwoByTwoQueue{}, false, Strategy::pct); }
void BM_PctDetector_CounterLockPerIncrement(benchmark::State& state) {
  bench::run_schedules(state, Counter<true>{}, true, Strategy::pct);
}
void BM_PctDetector_Queue(benchmark::State& state) {
  bench::run_schedules(state, TwoByTwoQueue{}, true, Strategy::pct);
}
BENCHMARK(BM_PctDetector_CounterLockPerIncrement)->Name("Counter/LockPerIncrement/interleave-pct")->UseRealTime();
BENCHMARK(BM_PctDetector_Queue)->Name("Queue/TwoByTwo/interleave-pct")->UseRealTime();
BENCHMARK(BM_Pct_CounterLockPerIncrement)->Name("Counter/LockPerIncrement/interleave-pct-detector-off")->UseRealTime();
BENCHMARK(BM_Pct_Queue)->Name("Queue/TwoByTwo/interleave-pct-detector-off")->UseRealTime();

#ifdef INTERLEAVE_HAVE_RELACY
template <class F>
void run_relacy(benchmark::State& state, F simulate) {
  for (auto _ : state) {
    if (!simulate(kSchedulesPerIteration)) state.SkipWithError("Relacy reported a failure");
  }
  const double schedules = static_cast<double>(state.iterations()) * kSchedulesPerIteration;
  state.counters["schedules_per_s"] = benchmark::Counter(schedules, benchmark::Counter::kIsRate);
}
void BM_Relacy_CounterLockPerIncrement(benchmark::State& state) {
  run_relacy(state, [](int n) { return relacy_counter(n, true); });
}
void BM_Relacy_CounterLockAroundLoop(benchmark::State& state) {
  run_relacy(state, [](int n) { return relacy_counter(n, false); });
}
BENCHMARK(BM_Relacy_CounterLockPerIncrement)->Name("Counter/LockPerIncrement/relacy")->UseRealTime();
BENCHMARK(BM_Relacy_CounterLockAroundLoop)->Name("Counter/LockAroundLoop/relacy")->UseRealTime();
void BM_Relacy_Queue(benchmark::State& state) {
  run_relacy(state, [](int n) { return relacy_queue(n); });
}
BENCHMARK(BM_Relacy_Queue)->Name("Queue/TwoByTwo/relacy")->UseRealTime();
void BM_Relacy_Short(benchmark::State& state) {
  run_relacy(state, [](int n) { return relacy_short(n); });
}
BENCHMARK(BM_Relacy_Short)->Name("Short/TwoByEightIncrements/relacy")->UseRealTime();
#endif

// The floor: a round trip between the thread's context and one fiber is two switches.
void BM_RawFiberSwitch(benchmark::State& state) {
  struct RoundTrip {
    detail::Fiber fiber{64 * 1024};
    detail::ExecutionContext* thread = &detail::ThreadContext::current();
  } r;
  r.fiber.reset(
      [](void* arg) {
        auto* rt = static_cast<RoundTrip*>(arg);
        for (;;) detail::switch_fiber(rt->fiber, *rt->thread, false);
      },
      &r);
  for (auto _ : state) detail::switch_fiber(*r.thread, r.fiber, false);
  state.counters["ns_per_switch"] = benchmark::Counter(static_cast<double>(state.iterations()) * 2e-9,
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_RawFiberSwitch)->Name("RawFiberSwitch");

// The floor for a random walk over two fibers: at every point a fair coin decides whether the
// other fiber runs next, so half the points switch, and no branch predictor can tell which. Each
// fiber alternates between two call sites (as a body alternates lock and unlock), so a switch
// also resumes the other fiber at a call site the return-stack buffer did not expect, as a real
// scheduler's switches do. No bookkeeping at all: what remains is the cost of random switching.
struct CoinFlipPair {
  detail::Fiber fibers[2]{detail::Fiber{64 * 1024}, detail::Fiber{64 * 1024}};
  detail::ExecutionContext* thread = &detail::ThreadContext::current();
  detail::Xoshiro256 rng;
  int current = 0;
  std::int64_t points_left = 0;
};
CoinFlipPair* g_coin_flip = nullptr;

[[gnu::noinline]] void coin_flip_point() {
  CoinFlipPair& p = *g_coin_flip;
  if (--p.points_left < 0) {
    detail::switch_fiber(p.fibers[p.current], *p.thread, false);
    return;
  }
  if ((p.rng.next() >> 63) != 0) {
    const int from = p.current;
    p.current = 1 - from;
    detail::switch_fiber(p.fibers[from], p.fibers[p.current], false);
  }
}
[[gnu::noinline]] void coin_flip_site_a() { coin_flip_point(); }
[[gnu::noinline]] void coin_flip_site_b() { coin_flip_point(); }

void BM_CoinFlipSwitchFloor(benchmark::State& state) {
  CoinFlipPair pair;
  pair.rng.seed(42);
  g_coin_flip = &pair;
  for (auto& fiber : pair.fibers) {
    fiber.reset(
        [](void*) {
          for (;;) {
            coin_flip_site_a();
            coin_flip_site_b();
          }
        },
        nullptr);
  }
  constexpr std::int64_t kPoints = 100000;
  for (auto _ : state) {
    pair.points_left = kPoints;
    detail::switch_fiber(*pair.thread, pair.fibers[pair.current], false);
  }
  g_coin_flip = nullptr;
  state.counters["ns_per_point"] = benchmark::Counter(static_cast<double>(state.iterations()) * kPoints * 1e-9,
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CoinFlipSwitchFloor)->Name("CoinFlipSwitchFloor")->UseRealTime();

}  // namespace
