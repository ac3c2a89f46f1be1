// The scoreboard's parts (bench/scoreboard/): the bug table (bugs.cpp), the flags (flags.cpp), the
// runner that runs each bug under each strategy (run.cpp), the markdown writer (markdown.cpp), and
// main.cpp, which ties them together.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "interleave/explore.h"
#include "interleave/options.h"
#include "interleave/stress.h"

namespace scoreboard {

using interleave::Options;
using interleave::Platform;
using interleave::Strategy;
using interleave::StressResult;

// --- the bugs (bugs.cpp) -------------------------------------------------------------------------

// What a real-thread child shares with the watching parent (anonymous MAP_SHARED memory). Lock-free
// atomics work across processes.
struct ChildRecord {
  std::atomic<std::uint64_t> iterations_started{0};
  std::atomic<std::int64_t> began_ns{0};   // CLOCK_MONOTONIC, when the first iteration began
  std::atomic<std::int64_t> failed_ns{0};  // when the child saw the failure; 0 if it did not
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::int64_t>::is_always_lock_free);

// A Relacy run of a bug's Relacy version (relacy_bugs.cpp): whether one of `budget` random
// schedules failed, and how many schedules ran up to and including the first failing one.
struct RelacyOutcome {
  bool found = false;
  std::uint64_t schedules = 0;
  std::string how;  // what Relacy reported, in the model's words: "assertion", "deadlock", ...
};

// One bug: its name, the property and scenario that catch it, and its body three ways (four with
// a Relacy version).
struct Bug {
  std::string name;
  std::string property;
  std::string scenario;
  std::string origin;    // where a published bug comes from ("SCTBench CS/reorder_5"); empty for the zoo
  bool control = false;  // a correct primitive on a bug's scenario: no strategy may fail it
  std::function<interleave::Result(const Options&)> explore;
  std::function<void()> run_native_once;
  std::function<StressResult(const Options&, ChildRecord*)> stress;
  // The same program written for Relacy, run with its random scheduler from `seed` for at most
  // `budget` schedules; empty when there is none (or relacy-dev is not installed).
  std::function<RelacyOutcome(std::uint64_t seed, std::uint64_t budget)> relacy;
};

// Every zoo bug, then the controls (the library's correct primitives on the same scenarios), then
// the published bugs and their controls.
std::vector<Bug> all_bugs();

// The toolkit's zoo bugs (Condition, Barrier, Latch, Once, SharedMutex, RecursiveMutex), and the
// library's own primitives on the same scenarios as controls (toolkit_bugs.cpp).
void add_toolkit_bugs(std::vector<Bug>& bugs);
void add_toolkit_controls(std::vector<Bug>& bugs);

// Bugs re-implemented from the descriptions of published benchmark suites (SCTBench, ConVul,
// RADBench) in this project's test-body style, then correct versions of some as controls
// (published_bugs.cpp).
void add_published_bugs(std::vector<Bug>& bugs);

// The Relacy version of the published bug or control named `name`, or an empty function
// (relacy_bugs.cpp where relacy-dev is installed, else relacy_none.cpp).
std::function<RelacyOutcome(std::uint64_t, std::uint64_t)> relacy_version(const std::string& name, bool control);

// --- strategies ----------------------------------------------------------------------------------

enum class Kind { model, native_loop, perturbed, relacy };

struct StrategyInfo {
  const char* flag;   // what --strategies accepts
  const char* label;  // what the table shows
  Kind kind;
  Strategy model_strategy;
  int pct_depth;
};

inline constexpr StrategyInfo kStrategies[] = {
    {"random", "random walk", Kind::model, Strategy::random_walk, 3},
    {"pct1", "PCT d=1", Kind::model, Strategy::pct, 1},
    {"pct2", "PCT d=2", Kind::model, Strategy::pct, 2},
    {"pct3", "PCT d=3", Kind::model, Strategy::pct, 3},
    {"pos", "POS", Kind::model, Strategy::pos, 3},
    {"surw", "SURW", Kind::model, Strategy::surw, 3},
    {"portfolio", "portfolio", Kind::model, Strategy::portfolio, 3},
    {"dpor", "DPOR", Kind::model, Strategy::dpor, 3},
    {"threads", "std::thread loop", Kind::native_loop, Strategy::random_walk, 3},
    {"perturbed", "Perturbed (light)", Kind::perturbed, Strategy::random_walk, 3},
    {"relacy", "Relacy random", Kind::relacy, Strategy::random_walk, 3},
};

// --- settings and flags (flags.cpp) --------------------------------------------------------------

struct Settings {
  int seeds = 20;
  int control_seeds = 5;
  std::uint64_t first_seed = 1;
  std::uint64_t budget = 1000;
  std::uint64_t real_ms = 5000;
  std::uint64_t hang_ms = 200;
  std::string output = "-";
  std::string filter;
  std::vector<const StrategyInfo*> strategies;
  bool list = false;
};

// Prints `message` and the usage to standard error, and exits with status 2.
[[noreturn]] void bad_flag(const std::string& message);

// The settings the command line asks for; --help prints the usage and exits, a bad flag exits 2.
Settings parse_flags(int argc, char** argv);

// --- running (run.cpp) ---------------------------------------------------------------------------

struct Outcome {
  bool found = false;
  std::uint64_t schedules = 0;  // schedules (model) or iterations (real threads) up to the failure
  double milliseconds = 0;      // wall time to the failure
  std::string how;              // the failure kind
};

struct Row {
  const Bug* bug = nullptr;
  const StrategyInfo* strategy = nullptr;
  int runs = 0;
  std::vector<Outcome> found;  // the runs that found the bug
  bool unavailable = false;    // the strategy cannot run this bug (no Relacy version)
  std::map<std::string, int> kinds;
};

// Every bug under every strategy of `settings`, one row each, printing progress to standard error.
// Throws std::runtime_error when a run cannot be made (fork, mmap) or a child fails by itself.
std::vector<Row> run_all(const std::vector<const Bug*>& bugs, const Settings& settings);

// --- the table (markdown.cpp) --------------------------------------------------------------------

// The load average now, "1 / 5 / 15 min".
std::string load_average();

// The time now, "YYYY-MM-DD HH:MM UTC".
std::string utc_now();

// The whole markdown page: the run's header, how to read it, the summary, the per-bug and control
// tables and the scenarios.
std::string markdown(const std::vector<Row>& rows, const Settings& settings, const std::vector<const Bug*>& bugs,
                     const std::string& started_at, const std::string& load_before, double total_seconds,
                     const std::string& command);

}  // namespace scoreboard
