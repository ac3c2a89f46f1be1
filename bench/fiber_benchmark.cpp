// Fiber context switches against swapcontext, in one program so the ratio is visible.
//
// Every benchmark reports `per_switch` (seconds per single switch; two switches per iteration).
//   FiberPingPong         two fibers switching to each other (the loop runs on fiber A)
//   FiberThreadRoundTrip  the thread's own context and one fiber: the scheduler's pattern
//   SwapcontextPingPong   the same round trip with swapcontext (a sigprocmask system call each)
//   FiberPooledTask       one task on a pooled fiber: a synchronizing switch in and one out
//   FiberCreateDestroy    mapping and unmapping a 64 KiB stack with its guard region
// The design target is <= 10 ns per fiber switch in a release build. Under ThreadSanitizer or
// AddressSanitizer the numbers mean nothing and swapcontext (which they do not track) is left out.
#include <benchmark/benchmark.h>
#include <ucontext.h>

#include <cstdlib>

#include "interleave/detail/fiber.h"

namespace {

using interleave::detail::ExecutionContext;
using interleave::detail::exit_fiber;
using interleave::detail::Fiber;
using interleave::detail::switch_fiber;
using interleave::detail::ThreadContext;

constexpr std::size_t kStack = 64 * 1024;

void report_per_switch(benchmark::State& state) {
  state.counters["per_switch"] = benchmark::Counter(static_cast<double>(state.iterations()) * 2.0,
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

struct PingPong {
  Fiber a{kStack};
  Fiber b{kStack};
  ExecutionContext* thread = &ThreadContext::current();
  benchmark::State* state = nullptr;
};

void BM_FiberPingPong(benchmark::State& state) {
  PingPong p;
  p.state = &state;
  p.a.reset(
      [](void* arg) {
        auto* pp = static_cast<PingPong*>(arg);
        for (auto _ : *pp->state) switch_fiber(pp->a, pp->b, false);
        exit_fiber(pp->a, *pp->thread);
      },
      &p);
  p.b.reset(
      [](void* arg) {
        auto* pp = static_cast<PingPong*>(arg);
        for (;;) switch_fiber(pp->b, pp->a, false);
      },
      &p);
  switch_fiber(*p.thread, p.a, true);
  report_per_switch(state);
}
BENCHMARK(BM_FiberPingPong);

struct RoundTrip {
  ExecutionContext* thread = &ThreadContext::current();
  Fiber fiber{kStack};
};

void BM_FiberThreadRoundTrip(benchmark::State& state) {
  RoundTrip r;
  r.fiber.reset(
      [](void* arg) {
        auto* rt = static_cast<RoundTrip*>(arg);
        for (;;) switch_fiber(rt->fiber, *rt->thread, false);
      },
      &r);
  switch_fiber(*r.thread, r.fiber, true);  // a fiber's first run starts with a synchronizing switch
  for (auto _ : state) switch_fiber(*r.thread, r.fiber, false);
  report_per_switch(state);
}
BENCHMARK(BM_FiberThreadRoundTrip);

#if !INTERLEAVE_TSAN && !INTERLEAVE_ASAN
ucontext_t g_main_context;
ucontext_t g_other_context;

void swap_back_forever() {
  for (;;) swapcontext(&g_other_context, &g_main_context);
}

void BM_SwapcontextPingPong(benchmark::State& state) {
  static char stack[kStack];
  getcontext(&g_other_context);
  g_other_context.uc_stack.ss_sp = stack;
  g_other_context.uc_stack.ss_size = sizeof stack;
  g_other_context.uc_link = nullptr;
  makecontext(&g_other_context, &swap_back_forever, 0);
  for (auto _ : state) swapcontext(&g_main_context, &g_other_context);
  report_per_switch(state);
}
BENCHMARK(BM_SwapcontextPingPong);
#endif

struct Pool {
  Fiber fiber{kStack};
  ExecutionContext* thread = &ThreadContext::current();
  long long work = 0;
};

void BM_FiberPooledTask(benchmark::State& state) {
  Pool pool;
  pool.fiber.reset(
      [](void* arg) {
        auto* p = static_cast<Pool*>(arg);
        for (;;) {
          ++p->work;                                 // the "task"
          switch_fiber(p->fiber, *p->thread, true);  // task finished
        }
      },
      &pool);
  for (auto _ : state) switch_fiber(*pool.thread, pool.fiber, true);  // task starts
  benchmark::DoNotOptimize(pool.work);
  report_per_switch(state);
}
BENCHMARK(BM_FiberPooledTask);

void BM_FiberCreateDestroy(benchmark::State& state) {
  for (auto _ : state) {
    Fiber f(kStack);
    benchmark::DoNotOptimize(f.stack_bottom());
  }
}
BENCHMARK(BM_FiberCreateDestroy);

}  // namespace
