// RapidCheck integration: explore schedules inside a RapidCheck property.
//
//   RC_GTEST_PROP(Queue, NothingLost, ()) {
//     const auto scenario = *generate_scenario();      // threads, operations, items...
//     interleave::check_schedules([&]<interleave::Platform P>() { run(scenario) under P });
//   }
//
// The exploration seed is drawn from RapidCheck's random source, so RapidCheck's reproduce string
// (RC_PARAMS="reproduce=...") replays the scenario and its schedules together, and RapidCheck
// shrinks the scenario (fewer threads, fewer operations) while the failure persists. A failing
// exploration fails the property with interleave's full report.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <utility>

#include "interleave/explore.h"

namespace interleave {

// Schedules explored per generated scenario, unless Options say otherwise.
inline constexpr std::uint64_t kSchedulesPerScenario = 40;

template <class Body>
void check_schedules(Body&& body, Options options = [] {
  Options o;
  o.schedules = kSchedulesPerScenario;
  return o;
}()) {
  options.seed = *rc::gen::arbitrary<std::uint64_t>().as("interleave seed");
  const Result result = explore(std::move(options), std::forward<Body>(body));
  if (result.failed()) RC_FAIL(result.report());
}

}  // namespace interleave
