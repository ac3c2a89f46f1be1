// ScheduleId: names one schedule exactly, and encodes to a printable token (INTERLEAVE_REPLAY).
//
// A schedule is determined by the strategy and its parameters, the exploration seed, the
// schedule's index, and the settings that change decisions (spurious wake-up rate, step bound).
// Running the same test body with the same ScheduleId makes the same decisions in the same order.
//
// Token form (one word, shell-safe, fields in this order):
//   random.s=<seed hex>.i=<index>.w=<spurious per-mille>.m=<max steps>
//   pct.d=<depth>.k=<step estimate>.s=<seed hex>.i=<index>.w=<spurious per-mille>.m=<max steps>
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "interleave/options.h"

namespace interleave {

struct ScheduleId {
  Strategy strategy = Strategy::random_walk;
  int pct_depth = 3;                 // pct only: 1..64
  std::uint64_t pct_step_estimate = 0;  // pct only: the step count change points are drawn from, >= 1
  std::uint64_t seed = 0;
  std::uint64_t index = 0;
  int spurious_wakeup_permille = 0;  // 0..1000
  std::uint64_t max_steps = 1;       // >= 1

  [[nodiscard]] std::string token() const;
  // Parses a token. Throws std::invalid_argument naming what is wrong and the accepted form.
  static ScheduleId parse(std::string_view token);

  friend bool operator==(const ScheduleId&, const ScheduleId&) = default;
};

}  // namespace interleave
