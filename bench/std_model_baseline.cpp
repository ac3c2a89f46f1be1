// The baseline half of std_model_benchmark.cpp, in a library of its own: compiled without the
// compiler's ThreadSanitizer instrumentation, as code over interleave's platform is.
#include "std_model_baseline.h"

#include "interleave/condition.h"
#include "interleave/mutex.h"
#include "interleave/thread.h"
#include "model_scenarios.h"
#include "std_model_scenarios.h"

namespace interleave::bench {

void counter_on_primitives(benchmark::State& state) {
  run_schedules(
      state, []<Platform P>() { lock_per_increment<BasicMutex<P>, BasicThread<P>>(); }, true);
}

void queue_on_primitives(benchmark::State& state) {
  run_schedules(
      state, []<Platform P>() { two_by_two_queue<BasicMutex<P>, BasicCondition<P>, BasicThread<P>>(); }, true);
}

}  // namespace interleave::bench
