// Plain std:: code under the model (interleave::std_runtime: this file is compiled with the
// compiler's ThreadSanitizer instrumentation) beside the same scenarios written over interleave's
// own primitives (std_model_baseline.cpp, not instrumented), explored in the same process with the
// race detector on. The scenarios: std_model_scenarios.h. Counters as in model_benchmark.cpp:
// schedules_per_s, points_per_schedule, ns_per_point. Results: docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model_scenarios.h"
#include "std_model_baseline.h"
#include "std_model_scenarios.h"

namespace {

using namespace interleave::bench;

void BM_Std_Counter(benchmark::State& state) {
  run_schedules(
      state, [] { lock_per_increment<std::mutex, std::thread>(); }, true);
}

void BM_Std_Queue(benchmark::State& state) {
  run_schedules(
      state, [] { two_by_two_queue<std::mutex, std::condition_variable, std::thread>(); }, true);
}

// The C library's string functions in an instrumented program, outside any exploration: through
// the std runtime's wrappers (which the program's calls reach), and the C library's own (looked up
// past the program, as the runtime does) in the same run.
template <class F>
F c_library(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

struct Texts {
  std::string haystack = std::string(1 << 20, 'a');  // 1 MiB of 'a'
  std::string same = haystack;
  std::string needle = "aaaaaaab";  // absent: every position matches seven bytes first
};

void BM_Memcmp(benchmark::State& state, bool runtime) {
  const Texts t;
  using F = int (*)(const void*, const void*, std::size_t);
  static const F c = c_library<F>("memcmp");
  const F f = runtime ? static_cast<F>(&std::memcmp) : c;
  for (auto _ : state) benchmark::DoNotOptimize(f(t.haystack.data(), t.same.data(), t.haystack.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * (1 << 20));
}

void BM_Strcmp(benchmark::State& state, bool runtime) {
  const Texts t;
  using F = int (*)(const char*, const char*);
  static const F c = c_library<F>("strcmp");
  const F f = runtime ? static_cast<F>(&std::strcmp) : c;
  for (auto _ : state) benchmark::DoNotOptimize(f(t.haystack.c_str(), t.same.c_str()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * (1 << 20));
}

void BM_Strstr(benchmark::State& state, bool runtime) {
  const Texts t;
  using F = const char* (*)(const char*, const char*);
  static const F c = c_library<F>("strstr");
  const F f = runtime ? static_cast<F>(&std::strstr) : c;
  for (auto _ : state) benchmark::DoNotOptimize(f(t.haystack.c_str(), t.needle.c_str()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * (1 << 20));
}

// A plain access that finds its own epoch already recorded (FastTrack's same-epoch case, the
// common one): one schedule whose body reads (or writes) one heap int 2^20 times with nothing
// in between that synchronizes. ns_per_access is the whole schedule's time per access (the
// schedule's own cost, a few microseconds, is under 0.1% of it).
template <bool Write>
void BM_PlainAccessSameEpoch(benchmark::State& state) {
  constexpr int kAccesses = 1 << 20;
  const bool was = interleave::set_race_detector(true);
  interleave::Options options;
  options.schedules = 1;
  options.jobs = 1;
  for (auto _ : state) {
    const interleave::Result r = interleave::explore(options, [] {
      auto* cell = new int(0);
      volatile int* v = cell;
      int sum = 0;
      for (int i = 0; i < kAccesses; ++i) {
        if constexpr (Write) {
          *v = i;
        } else {
          sum += *v;
        }
      }
      benchmark::DoNotOptimize(sum);
      delete cell;
    });
    if (r.failed()) state.SkipWithError(r.report().c_str());
  }
  (void)interleave::set_race_detector(was);
  state.counters["ns_per_access"] = benchmark::Counter(static_cast<double>(state.iterations()) * kAccesses * 1e-9,
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK_TEMPLATE(BM_PlainAccessSameEpoch, false)->Name("PlainAccess/SameEpochRead")->UseRealTime();
BENCHMARK_TEMPLATE(BM_PlainAccessSameEpoch, true)->Name("PlainAccess/SameEpochWrite")->UseRealTime();

BENCHMARK_CAPTURE(BM_Memcmp, runtime, true)->Name("Strings/Memcmp1MiB/through_the_runtime");
BENCHMARK_CAPTURE(BM_Memcmp, c_library, false)->Name("Strings/Memcmp1MiB/c_library");
BENCHMARK_CAPTURE(BM_Strcmp, runtime, true)->Name("Strings/Strcmp1MiB/through_the_runtime");
BENCHMARK_CAPTURE(BM_Strcmp, c_library, false)->Name("Strings/Strcmp1MiB/c_library");
BENCHMARK_CAPTURE(BM_Strstr, runtime, true)->Name("Strings/Strstr1MiBAbsent/through_the_runtime");
BENCHMARK_CAPTURE(BM_Strstr, c_library, false)->Name("Strings/Strstr1MiBAbsent/c_library");

BENCHMARK(counter_on_primitives)->Name("Counter/LockPerIncrement/primitives")->UseRealTime();
BENCHMARK(BM_Std_Counter)->Name("Counter/LockPerIncrement/std")->UseRealTime();
BENCHMARK(queue_on_primitives)->Name("Queue/TwoByTwo/primitives")->UseRealTime();
BENCHMARK(BM_Std_Queue)->Name("Queue/TwoByTwo/std")->UseRealTime();

}  // namespace
