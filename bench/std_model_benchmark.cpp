// Plain std:: code under the model (interleave::std_runtime: this file is compiled with the
// compiler's ThreadSanitizer instrumentation) beside the same scenarios written over interleave's
// own primitives (std_model_baseline.cpp, not instrumented), explored in the same process with the
// race detector on. The scenarios: std_model_scenarios.h. Counters as in model_benchmark.cpp:
// schedules_per_s, points_per_schedule, ns_per_point. Results: docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <mutex>
#include <thread>

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

BENCHMARK(counter_on_primitives)->Name("Counter/LockPerIncrement/primitives")->UseRealTime();
BENCHMARK(BM_Std_Counter)->Name("Counter/LockPerIncrement/std")->UseRealTime();
BENCHMARK(queue_on_primitives)->Name("Queue/TwoByTwo/primitives")->UseRealTime();
BENCHMARK(BM_Std_Queue)->Name("Queue/TwoByTwo/std")->UseRealTime();

}  // namespace
