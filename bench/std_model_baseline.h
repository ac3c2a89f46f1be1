// The baseline half of std_model_benchmark.cpp (std_model_baseline.cpp): the scenarios of
// std_model_scenarios.h on interleave's own primitives over ModelPlatform.
#pragma once

#include <benchmark/benchmark.h>

namespace interleave::bench {

void counter_on_primitives(benchmark::State& state);
void queue_on_primitives(benchmark::State& state);

}  // namespace interleave::bench
