// Options: every setting of an exploration, each overridable by one INTERLEAVE_* variable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace interleave {

enum class Strategy {
  random_walk,  // every scheduling point picks uniformly among runnable fibers
  pct,          // probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010), depth pct_depth
};

struct Options {
  // INTERLEAVE_STRATEGY=random|pct
  Strategy strategy = Strategy::random_walk;
  // INTERLEAVE_PCT_DEPTH=<1..64>: the bug depth PCT targets (d-1 priority change points).
  int pct_depth = 3;
  // INTERLEAVE_SEED=<decimal or 0x-hex>: the exploration's seed; schedule i uses (seed, i).
  std::uint64_t seed = 0x1eaf5eed;
  // INTERLEAVE_SCHEDULES=<n >= 1>: how many schedules to run (stops at the first failure).
  std::uint64_t schedules = 1000;
  // INTERLEAVE_MAX_STEPS=<n >= 1>: scheduling points per schedule before it is reported as a
  // livelock (a spin without progress, or an unbounded loop).
  std::uint64_t max_steps = 100'000;
  // INTERLEAVE_SPURIOUS_WAKEUPS=<0..1000>: per-mille chance that a futex wait returns at once, as
  // futex(2) allows. Algorithms must tolerate it; 0 turns the injection off.
  int spurious_wakeup_permille = 50;
  // INTERLEAVE_REPORT_STEPS=<0..100000>: how many of the last steps a failure report lists.
  int report_steps = 20;
  // INTERLEAVE_REPLAY=<token>: run only the schedule the token names (printed in every failure
  // report), instead of exploring.
  std::string replay;
  // INTERLEAVE_STACK_KIB=<16..1048576>: stack size of each fiber, in KiB.
  std::size_t stack_kib = 256;

  // Overrides fields from INTERLEAVE_* environment variables. Throws std::invalid_argument naming
  // the variable and the accepted form when a value is malformed or out of range, or when a
  // variable with the INTERLEAVE_ prefix is not one of the names above (a typo must not be
  // silently ignored).
  void apply_environment();

  // "strategy=pct pct_depth=3 seed=0x1eaf5eed schedules=1000 ..." — for reports.
  [[nodiscard]] std::string describe() const;
};

// "random" / "pct".
std::string_view to_string(Strategy s) noexcept;

}  // namespace interleave
