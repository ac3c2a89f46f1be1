// Options: every setting of an exploration, each overridable by one INTERLEAVE_* variable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace interleave {

// How often the Perturbed platform (perturbed_platform.h) delays a thread before one of its
// operations, in per-mille of operations: sched_yield, a short spin (1-256 pause instructions) or a
// short sleep (1-50 microseconds). The rest of the operations run at once. off(): no delays at all.
struct Perturbation {
  int yield_permille = 0;
  int spin_permille = 0;
  int sleep_permille = 0;

  static constexpr Perturbation off() noexcept { return {}; }
  static constexpr Perturbation light() noexcept { return {20, 30, 2}; }
  static constexpr Perturbation heavy() noexcept { return {100, 100, 20}; }

  [[nodiscard]] bool enabled() const noexcept { return yield_permille + spin_permille + sleep_permille > 0; }
  // "off", "light", "heavy", or "yield=<n>,spin=<n>,sleep=<n>" (what INTERLEAVE_PERTURB accepts).
  [[nodiscard]] std::string describe() const;
  // Parses what describe() prints. Throws std::invalid_argument naming `text` and the accepted form.
  static Perturbation parse(std::string_view text);
  friend bool operator==(const Perturbation&, const Perturbation&) = default;
};

enum class Strategy {
  random_walk,  // every scheduling point picks uniformly among runnable fibers
  pct,          // probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010), depth pct_depth
  pos,          // partial order sampling (Yuan et al., CAV 2018): random priorities per pending
                // operation, re-drawn for operations that conflict with the one that ran
  portfolio,    // the default: each schedule index runs one of SURW, POS and PCT, drawn from (seed,
                // index); a token names the member that made its schedule (docs/harness.md)
  surw,         // selectively uniform random walk (after Zhao et al., ASPLOS 2025): each pick weighs a
                // fiber by the choice points it has left, estimated from the schedules before it, so
                // the interleavings of the fibers' steps come out close to uniformly
  dpor,         // bounded-exhaustive: every interleaving up to equivalence (dynamic partial-order
                // reduction with sleep sets), each execution chosen from the ones before it;
                // `schedules` caps the executions (docs/harness.md)
  choices,      // a schedule given decision by decision: what shrinking produces (replay tokens
                // only; not an exploration strategy)
};

// How the model runs atomic operations (see docs/memory-model.md).
enum class MemoryModel {
  weak,  // the C++ memory model: a load may read an older store that coherence and happens-before
         // allow (a recorded choice of the schedule); release/acquire, fences and seq_cst follow it
  sc,    // sequential consistency: every load reads the latest store (the model before weak existed)
};

// Whether explore() prints a progress line (see Options::progress).
enum class Progress {
  automatic,  // on a terminal, unless the CI environment variable is set
  on,         // always (on a terminal one updating line; elsewhere a line every few seconds)
  off,
};

struct Options {
  // INTERLEAVE_STRATEGY=portfolio|random|pct|pos|surw|dpor
  Strategy strategy = Strategy::portfolio;
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
  // INTERLEAVE_MEMORY_MODEL=weak|sc: whether a load may read an older store than the latest one
  // (weak, the C++ memory model) or every operation is sequentially consistent (sc).
  MemoryModel memory_model = MemoryModel::weak;
  // INTERLEAVE_STORE_HISTORY=<1..64>: weak only: how many stores each atomic object keeps that a
  // load may still read (the latest and older ones).
  int store_history = 7;
  // INTERLEAVE_SPURIOUS_CAS_FAILURES=<0..1000>: weak only: per-mille chance that a
  // compare_exchange_weak that would succeed fails spuriously, as the standard allows.
  int spurious_cas_permille = 50;
  // INTERLEAVE_REPORT_STEPS=<0..100000>: how many of the last steps a failure report lists.
  int report_steps = 20;
  // INTERLEAVE_REPLAY=<token>: run only the schedule the token names (printed in every failure
  // report), instead of exploring. The token carries its test's fingerprint: one from another
  // test (or from this one before it changed) is an error, ReplayMismatch (explore.h).
  std::string replay;
  // INTERLEAVE_STACK_KIB=<16..1048576>: stack size of each fiber, in KiB.
  std::size_t stack_kib = 256;
  // INTERLEAVE_WATCHDOG_MS=<n>: a fiber that makes no scheduling point for this long (wall clock)
  // -- a spin on a plain variable, a real lock, a sleep -- is reported: "fiber N made no
  // scheduling point for ..." with its last step and the reproduce line; the program then exits
  // with kHungExitCode (124, stress.h), as a running fiber cannot be unwound. With any job count.
  // 0 turns the watchdog off. Raise it for a body that computes longer than this between
  // scheduling points.
  std::uint64_t watchdog_ms = 10'000;

  // Settings of interleave::stress() (stress.h), which runs the body on real threads and processes.
  // It uses `seed` too: iteration i perturbs with seed + i * 0x9e3779b97f4a7c15.
  //
  // INTERLEAVE_STRESS_ITERATIONS=<n >= 1>: how many times stress() runs the body (it stops at the
  // first failure, or earlier when stress_milliseconds is spent).
  std::uint64_t stress_iterations = 200;
  // INTERLEAVE_STRESS_MILLISECONDS=<n>: a time budget for stress(): no new iteration starts once
  // it is spent (the first one always runs). 0: no budget, run every iteration.
  std::uint64_t stress_milliseconds = 0;
  // INTERLEAVE_STRESS_TIMEOUT_MS=<n >= 1>: an iteration still running after this long is reported
  // as hung (the program then exits, as real threads cannot be cancelled), and a child process
  // still running half this long after its join() began is killed and reported.
  std::uint64_t stress_timeout_ms = 30'000;
  // INTERLEAVE_PERTURB=off|light|heavy|yield=<n>,spin=<n>,sleep=<n> (per-mille, summing to at
  // most 1000; a missing kind is 0): the delays stress() injects before each platform operation.
  // light is the default: per unit of time it found both broken primitives of
  // bench/perturbation_benchmark.cpp more often than heavy (docs/benchmarks.md).
  Perturbation perturbation = Perturbation::light();
  // INTERLEAVE_RACE_DETECTOR=on|off: whether explore() runs the model's happens-before race
  // detector (docs/detector.md) for this exploration. Unset: the process-wide setting applies
  // (interleave::set_race_detector, on unless changed).
  std::optional<bool> race_detector;
  // INTERLEAVE_SHRINK_RUNS=<n>: a failing schedule is shrunk before it is reported: a simpler
  // schedule with the same bug (same failure kind and place) and as few preemptions, spurious
  // wake-ups and out-of-order wakes as this many runs of the body can find; the report and its
  // reproduce line then name the shrunk schedule. 0 reports the schedule as found.
  std::uint64_t shrink_runs = 1000;
  // INTERLEAVE_JOBS=<1..1024>|auto: threads exploring disjoint schedule indices at once, each with
  // its own scheduler. 1 (the default): one thread, so a body may use whatever it captures. 0
  // (auto): the cores this process may run on. Whatever the count, an exploration reports the same
  // failure: the one of the lowest failing schedule index. With more than one job the body runs
  // on several threads at once: state it shares outside itself (captured counters, vectors,
  // files) must be read-only or guarded by a real lock. Opt in where the body keeps to itself.
  unsigned jobs = 1;
  // INTERLEAVE_PROGRESS=auto|on|off: a progress line on stderr (schedules done, rate, failures)
  // for explorations that run longer than about 2 s. auto: only on a terminal, and never when the
  // CI environment variable is set.
  Progress progress = Progress::automatic;
  // INTERLEAVE_REGRESSIONS=<directory>|off: where the regression files of INTERLEAVE_PROPERTY and
  // INTERLEAVE_TEST tests are read and written (<directory>/<Suite>.txt; regressions.h), or off to
  // neither replay nor record cases. Empty (the default): the test program's own directory
  // (INTERLEAVE_REGRESSIONS_DIR when it was compiled with that definition, else regressions/ beside
  // the test's source file). explore() and explore_test() outside those macros never use it.
  std::string regressions;
  // Sharding: this process explores only the schedule indices i with i % shard_count ==
  // shard_index, so that shard_count processes (or machines) together run each index once. Set
  // from GoogleTest's GTEST_TOTAL_SHARDS and GTEST_SHARD_INDEX (both or neither; index < total),
  // which Bazel and other runners set; see take_over_test_sharding() for GoogleTest programs.
  std::uint64_t shard_count = 1;
  std::uint64_t shard_index = 0;
  // INTERLEAVE_TRACE=<name>.json or <name>.html: when explore() finds a failure, it writes the
  // failing schedule's full trace to both <name>.json (Chrome Trace Event format: open it in
  // Perfetto UI or chrome://tracing) and <name>.html (a self-contained swimlane page), and the
  // report names them. One lane per fiber, each step a mark with its operation, object and call
  // site; arrows for futex wake -> wait return, release -> acquire on one atomic object and spawn
  // -> first step; the failure marked at its step. The time axis is the report's step number
  // (1 step = 1 us in the JSON). Empty: no trace. A relative path is relative to the working
  // directory (ctest runs a test in its build directory). A path that cannot be written is
  // reported in the report, which is otherwise complete.
  std::string trace_path;
  // INTERLEAVE_EXPECTED_FAILURE_REPORTS=on|off: whether a test that expects a property to fail
  // (property_fails, interleave/rapidcheck.h) prints the full report of the failure it found, or
  // (off, the default) one line naming it.
  bool expected_failure_reports = false;

  // Overrides fields from INTERLEAVE_* environment variables. Throws std::invalid_argument naming
  // the variable and the accepted form when a value is malformed or out of range, or when a
  // variable with the INTERLEAVE_ prefix is not one of the names above (a typo must not be
  // silently ignored).
  void apply_environment();

  // "strategy=pct pct_depth=3 seed=0x1eaf5eed schedules=1000 ..." — for reports.
  [[nodiscard]] std::string describe() const;
};

// "random" / "pct" / "choices".
std::string_view to_string(Strategy s) noexcept;
// "weak" / "sc".
std::string_view to_string(MemoryModel m) noexcept;

// For a GoogleTest program's main() (interleave::gtest_main calls it before InitGoogleTest): takes
// GTEST_TOTAL_SHARDS / GTEST_SHARD_INDEX over from GoogleTest, which would otherwise give each
// shard a slice of the tests. Then every shard runs every test, each on its own slice of every
// exploration's schedule indices. Removes the two variables from the environment; later
// Options::apply_environment() calls use the values taken. Throws std::invalid_argument when they
// are malformed.
void take_over_test_sharding();

// The cores this process may run on (what jobs = 0 means).
unsigned available_cores() noexcept;

}  // namespace interleave
