// The bug-finding scoreboard: how many of the zoo's broken primitives (properties/zoo/) each way
// of running a test finds, and how fast.
//
// For every zoo bug, one fixed scenario of the property that catches it (the bodies of
// properties/scenarios/), run under seven strategies with N seeds each:
//   - the model (interleave::explore): random walk, PCT depth 1, 2 and 3, POS, `--budget` schedules;
//   - a plain loop on real std::threads (NativePlatform, no perturbation), `--budget` iterations;
//   - interleave::stress (the Perturbed platform, its default `light` perturbation), `--budget`
//     iterations.
// Each real-thread run happens in a forked child process, watched by this (single-threaded)
// process: a bug that deadlocks real threads cannot be cancelled in-process, so a child whose
// current iteration makes no progress for `--hang-ms` is killed and counted as having found the
// bug (hung); an INTERLEAVE_ASSERT on plain threads aborts, which the child turns into an exit
// code. The child also stops starting iterations after `--real-ms`.
//
// Controls run the library's correct primitives on the same scenarios (`--control-seeds`): a
// scenario that fails its control on some strategy proves nothing about the bug there, and the
// bug rows sharing that scenario and strategy are marked and not counted in the summary.
//
// The result is a markdown table (docs/scoreboard.md, written by ci/scoreboard.sh). Run with
// --help for the flags.
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../properties/scenarios/event_scenarios.h"
#include "../properties/scenarios/mutex_scenarios.h"
#include "../properties/scenarios/pipe_scenarios.h"
#include "../properties/scenarios/queue_scenarios.h"
#include "../properties/scenarios/semaphore_scenarios.h"
#include "../properties/zoo/broken_events.h"
#include "../properties/zoo/broken_mutexes.h"
#include "../properties/zoo/broken_pipes.h"
#include "../properties/zoo/broken_queues.h"
#include "../properties/zoo/broken_semaphores.h"
#include "interleave/event.h"
#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/native_platform.h"
#include "interleave/options.h"
#include "interleave/semaphore.h"
#include "interleave/stress.h"

namespace {

using interleave::NativePlatform;
using interleave::Options;
using interleave::Platform;
using interleave::Strategy;
using interleave::StressResult;
namespace scenarios = interleave::scenarios;
namespace zoo = interleave::zoo;

// --- the bugs ------------------------------------------------------------------------------------

// What a real-thread child shares with the watching parent (anonymous MAP_SHARED memory). Lock-free
// atomics work across processes.
struct ChildRecord {
  std::atomic<std::uint64_t> iterations_started{0};
  std::atomic<std::int64_t> began_ns{0};   // CLOCK_MONOTONIC, when the first iteration began
  std::atomic<std::int64_t> failed_ns{0};  // when the child saw the failure; 0 if it did not
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::int64_t>::is_always_lock_free);

std::int64_t monotonic_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// One zoo bug: its name, the property and scenario that catch it, and its body three ways.
struct Bug {
  std::string name;
  std::string property;
  std::string scenario;
  bool control = false;  // a correct primitive on a bug's scenario: no strategy may fail it
  std::function<interleave::Result(const Options&)> explore;
  std::function<void()> run_native_once;
  std::function<StressResult(const Options&, ChildRecord*)> stress;
};

template <class Body>
Bug make_bug(std::string name, std::string property, std::string scenario, Body body, bool control = false) {
  auto shared = std::make_shared<Body>(std::move(body));
  Bug bug;
  bug.control = control;
  bug.name = std::move(name);
  bug.property = std::move(property);
  bug.scenario = std::move(scenario);
  bug.explore = [shared](const Options& options) { return interleave::explore(options, *shared); };
  bug.run_native_once = [shared] { shared->template operator()<NativePlatform>(); };
  bug.stress = [shared](const Options& options, ChildRecord* record) {
    return interleave::stress(
        options,
        [shared, record]<Platform P>() {
          record->iterations_started.fetch_add(1, std::memory_order_relaxed);
          shared->template operator()<P>();
        },
        "bench/scoreboard");
  };
  return bug;
}

template <class T>
std::string shown(const T& scenario) {
  std::ostringstream out;
  showValue(scenario, out);
  return out.str();
}

// The fixed scenarios: the shape the property suites generate, values from the middle of their
// ranges (properties/*_properties.cpp), except where a bug needs the edge of a range to show.
template <Platform P>
using RealMutex = interleave::BasicMutex<P>;
template <Platform P>
using RealSemaphore = interleave::BasicSemaphore<P>;
template <Platform P>
using RealEvent = interleave::BasicEvent<P>;

std::vector<Bug> all_bugs() {
  using namespace scenarios;
  const CounterScenario counter{.threads = 2, .increments = 2};
  const SemaphoreScenario semaphore{.permits = 1, .threads = 2, .rounds = 2};
  const QueueScenario queue{.capacity = 2, .producers = 2, .consumers = 2, .items_per_producer = 2};
  const QueueScenario close{.capacity = 2, .producers = 1, .consumers = 2, .items_per_producer = 2};
  const std::vector<int> messages{3, 1, 4};
  std::vector<Bug> bugs;
  bugs.push_back(make_bug("CheckThenSetMutex", "MutualExclusion", shown(counter),
                          mutual_exclusion<zoo::CheckThenSetMutex>(counter)));
  bugs.push_back(make_bug("MissingWakeMutex", "MutualExclusion", shown(counter),
                          mutual_exclusion<zoo::MissingWakeMutex>(counter)));
  bugs.push_back(make_bug("RacyTryLockMutex", "TryLockNeverGrantsAHeldLock", "3 threads (2 lock, 1 try_lock)",
                          try_lock_never_grants_a_held_lock<zoo::RacyTryLockMutex>(3)));
  bugs.push_back(
      make_bug("CheckThenDecrementSemaphore", "HoldersNeverExceedPermitsAndPermitsAreConserved", shown(semaphore),
               holders_never_exceed_permits_and_permits_are_conserved<zoo::CheckThenDecrementSemaphore>(semaphore)));
  bugs.push_back(make_bug("WakeBeforeAddSemaphore", "ReleaseNAdmitsNWaiters", "2 waiters, release(2)",
                          release_n_admits_n_waiters<zoo::WakeBeforeAddSemaphore>(2)));
  bugs.push_back(make_bug("ReleaseNWakesOneSemaphore", "ReleaseNAdmitsNWaiters", "2 waiters, release(2)",
                          release_n_admits_n_waiters<zoo::ReleaseNWakesOneSemaphore>(2)));
  bugs.push_back(make_bug("LostWakeupEvent", "SetReleasesEveryWaiter", "2 waiters",
                          set_releases_every_waiter<zoo::LostWakeupEvent>(2)));
  bugs.push_back(make_bug("FlagLoopEvent", "SetThenClearReleasesThoseWaiting", "2 waiters, 1 ms pause",
                          set_then_clear_releases_those_waiting<zoo::FlagLoopEvent>(2)));
  bugs.push_back(make_bug("SetWakesOneEvent", "SetThenClearReleasesThoseWaiting", "2 waiters, 1 ms pause",
                          set_then_clear_releases_those_waiting<zoo::SetWakesOneEvent>(2)));
  bugs.push_back(make_bug("UnlockedTailQueue", "PerProducerFifoNothingLostOrDuplicated", shown(queue),
                          fifo_nothing_lost_or_duplicated<zoo::UnlockedTailQueue>(queue)));
  bugs.push_back(make_bug("NotifyBeforePublishQueue", "PerProducerFifoNothingLostOrDuplicated", shown(queue),
                          fifo_nothing_lost_or_duplicated<zoo::NotifyBeforePublishQueue>(queue)));
  bugs.push_back(make_bug("CloseWithoutWakeQueue", "CloseDrainsThenRefuses", "capacity 2, 2 items, 2 consumers",
                          close_drains_then_refuses<zoo::CloseWithoutWakeQueue>(close)));
  bugs.push_back(make_bug("CloseWithoutWakePipe", "OrderThenEndOfStream", "capacity 1, 3 messages",
                          order_then_end_of_stream<zoo::CloseWithoutWakePipe>(1, messages)));
  bugs.push_back(make_bug("EofBeforeDrainPipe", "CloseKeepsDataUntilDrained", "2 messages, capacity 4",
                          close_keeps_data_until_drained<zoo::EofBeforeDrainPipe>(2)));
  // Capacity 1: the receiver that slept through a message stays asleep only while the ring is full
  // (the next send's wake-up would rescue it).
  bugs.push_back(make_bug("WakeBeforePublishPipe", "OrderThenEndOfStream", "capacity 1, 3 messages",
                          order_then_end_of_stream<zoo::WakeBeforePublishPipe>(1, messages)));
  bugs.push_back(make_bug("PollIgnoresClosePipe", "PollReportsReadinessAndConsumesNothing",
                          "capacity 1, 3 messages, closed",
                          poll_reports_readiness<zoo::PollIgnoresClosePipe>(1, messages, true)));

  // Controls: the library's own primitives on the same scenarios. A failure here would mean the
  // scenario, not the primitive, is at fault on that strategy (a false positive in the rows above).
  bugs.push_back(make_bug("Mutex", "MutualExclusion", shown(counter), mutual_exclusion<RealMutex>(counter), true));
  bugs.push_back(make_bug("Mutex", "TryLockNeverGrantsAHeldLock", "3 threads (2 lock, 1 try_lock)",
                          try_lock_never_grants_a_held_lock<RealMutex>(3), true));
  bugs.push_back(make_bug("Semaphore", "HoldersNeverExceedPermitsAndPermitsAreConserved", shown(semaphore),
                          holders_never_exceed_permits_and_permits_are_conserved<RealSemaphore>(semaphore), true));
  bugs.push_back(make_bug("Semaphore", "ReleaseNAdmitsNWaiters", "2 waiters, release(2)",
                          release_n_admits_n_waiters<RealSemaphore>(2), true));
  bugs.push_back(
      make_bug("Event", "SetReleasesEveryWaiter", "2 waiters", set_releases_every_waiter<RealEvent>(2), true));
  bugs.push_back(make_bug("Event", "SetThenClearReleasesThoseWaiting", "2 waiters, 1 ms pause",
                          set_then_clear_releases_those_waiting<RealEvent>(2), true));
  bugs.push_back(make_bug("Queue", "PerProducerFifoNothingLostOrDuplicated", shown(queue),
                          fifo_nothing_lost_or_duplicated<RealQueue>(queue), true));
  bugs.push_back(make_bug("Queue", "CloseDrainsThenRefuses", "capacity 2, 2 items, 2 consumers",
                          close_drains_then_refuses<RealQueue>(close), true));
  bugs.push_back(make_bug("Pipe", "OrderThenEndOfStream", "capacity 1, 3 messages",
                          order_then_end_of_stream<RealPipe>(1, messages), true));
  bugs.push_back(make_bug("Pipe", "CloseKeepsDataUntilDrained", "2 messages, capacity 4",
                          close_keeps_data_until_drained<RealPipe>(2), true));
  bugs.push_back(make_bug("Pipe", "PollReportsReadinessAndConsumesNothing", "capacity 1, 3 messages, closed",
                          poll_reports_readiness<RealPipe>(1, messages, true), true));
  return bugs;
}

// --- strategies ----------------------------------------------------------------------------------

enum class Kind { model, native_loop, perturbed };

struct StrategyInfo {
  const char* flag;   // what --strategies accepts
  const char* label;  // what the table shows
  Kind kind;
  Strategy model_strategy;
  int pct_depth;
};

constexpr StrategyInfo kStrategies[] = {
    {"random", "random walk", Kind::model, Strategy::random_walk, 3},
    {"pct1", "PCT d=1", Kind::model, Strategy::pct, 1},
    {"pct2", "PCT d=2", Kind::model, Strategy::pct, 2},
    {"pct3", "PCT d=3", Kind::model, Strategy::pct, 3},
    {"pos", "POS", Kind::model, Strategy::pos, 3},
    {"threads", "std::thread loop", Kind::native_loop, Strategy::random_walk, 3},
    {"perturbed", "Perturbed (light)", Kind::perturbed, Strategy::random_walk, 3},
};

// --- settings and flags --------------------------------------------------------------------------

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

constexpr std::string_view kUsage =
    "usage: scoreboard [--seeds=N] [--control-seeds=N] [--budget=N] [--real-ms=N] [--hang-ms=N] [--seed=N] "
    "[--output=PATH]\n"
    "                  [--filter=SUBSTRING] [--strategies=LIST] [--list] [--help]\n"
    "  --seeds=N          seeds per bug and strategy, 1..1000 (default 20)\n"
    "  --control-seeds=N  seeds per control (a correct primitive on a bug's scenario) and strategy,\n"
    "                     0..1000; 0 runs no control (default 5)\n"
    "  --budget=N         schedules per model run, iterations per real-thread run, 1..1000000 (default 1000)\n"
    "  --real-ms=N        a real-thread run starts no iteration after N ms, 1..3600000 (default 5000)\n"
    "  --hang-ms=N        a real-thread iteration without progress for N ms is a hang (found), 1..600000\n"
    "                     (default 200)\n"
    "  --seed=N           the first seed (decimal or 0x-hex); run k uses seed+k (default 1)\n"
    "  --output=PATH      where the markdown goes; - for standard output (default -)\n"
    "  --filter=SUBSTRING only the bugs whose name contains SUBSTRING (--list shows the names)\n"
    "  --strategies=LIST  comma-separated subset of random,pct1,pct2,pct3,pos,threads,perturbed (default all)\n"
    "  --list             print the bugs and their scenarios, and exit\n";

[[noreturn]] void bad_flag(const std::string& message) {
  std::cerr << "scoreboard: " << message << "\n" << kUsage;
  std::exit(2);
}

std::uint64_t parse_number(const std::string& flag, const std::string& text, std::uint64_t low, std::uint64_t high) {
  std::uint64_t value = 0;
  int base = 10;
  std::string_view digits = text;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    base = 16;
    digits.remove_prefix(2);
  }
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || value < low || value > high) {
    bad_flag(absl::StrCat("--", flag, "=", text, " is not accepted: expected an integer from ", low, " to ", high,
                          flag == "seed" ? " (decimal or 0x-hex)" : ""));
  }
  return value;
}

Settings parse_flags(int argc, char** argv) {
  Settings settings;
  std::string strategies = "random,pct1,pct2,pct3,pos,threads,perturbed";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (arg == "--list") {
      settings.list = true;
      continue;
    }
    const std::size_t equals = arg.find('=');
    if (!arg.starts_with("--") || equals == std::string_view::npos) {
      bad_flag(absl::StrCat("unknown argument '", std::string(arg),
                            "': every flag has the form --name=value (or --list, --help)"));
    }
    const std::string name(arg.substr(2, equals - 2));
    const std::string value(arg.substr(equals + 1));
    if (name == "seeds") {
      settings.seeds = static_cast<int>(parse_number(name, value, 1, 1000));
    } else if (name == "control-seeds") {
      settings.control_seeds = static_cast<int>(parse_number(name, value, 0, 1000));
    } else if (name == "budget") {
      settings.budget = parse_number(name, value, 1, 1'000'000);
    } else if (name == "real-ms") {
      settings.real_ms = parse_number(name, value, 1, 3'600'000);
    } else if (name == "hang-ms") {
      settings.hang_ms = parse_number(name, value, 1, 600'000);
    } else if (name == "seed") {
      settings.first_seed = parse_number(name, value, 0, UINT64_MAX - 1000);
    } else if (name == "output") {
      if (value.empty()) bad_flag("--output= is empty: expected a file path, or - for standard output");
      settings.output = std::string(value);
    } else if (name == "filter") {
      settings.filter = std::string(value);
    } else if (name == "strategies") {
      strategies = std::string(value);
    } else {
      bad_flag(absl::StrCat(
          "unknown flag '--", name,
          "': accepted are --seeds, --control-seeds, --budget, --real-ms, --hang-ms, --seed, --output, --filter, "
          "--strategies, --list, --help"));
    }
  }
  for (absl::string_view piece : absl::StrSplit(strategies, ',')) {
    const std::string wanted(piece);
    const auto* it = std::find_if(std::begin(kStrategies), std::end(kStrategies),
                                  [&](const StrategyInfo& s) { return wanted == s.flag; });
    if (it == std::end(kStrategies)) {
      bad_flag(absl::StrCat("--strategies=", strategies, ": '", wanted,
                            "' is not a strategy; accepted are random, pct1, pct2, pct3, pos, threads, perturbed "
                            "(comma-separated)"));
    }
    if (std::find(settings.strategies.begin(), settings.strategies.end(), it) == settings.strategies.end()) {
      settings.strategies.push_back(it);
    }
  }
  return settings;
}

// --- running -------------------------------------------------------------------------------------

struct Outcome {
  bool found = false;
  std::uint64_t schedules = 0;  // schedules (model) or iterations (real threads) up to the failure
  double milliseconds = 0;      // wall time to the failure
  std::string how;              // the failure kind
};

// "assertion", "deadlock", "step bound exceeded", ...: the model's failure kind in the table's words.
std::string model_kind(interleave::FailureKind kind) {
  if (kind == interleave::FailureKind::assertion) return "assertion";
  std::string text(interleave::to_string(kind));
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

Outcome run_model(const Bug& bug, const StrategyInfo& strategy, const Settings& settings, std::uint64_t seed) {
  Options options;
  options.strategy = strategy.model_strategy;
  options.pct_depth = strategy.pct_depth;
  options.seed = seed;
  options.schedules = settings.budget;
  // One scheduler thread, so that schedules to the first failure are counted one after another
  // and this process stays single-threaded for the real-thread children it forks. The failing
  // schedule is reported as found: shrinking it is work after the detection this measures.
  options.jobs = 1;
  options.shrink_runs = 0;
  const auto began = std::chrono::steady_clock::now();
  const interleave::Result result = bug.explore(options);
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - began;
  Outcome outcome;
  if (result.failed()) {
    outcome.found = true;
    outcome.schedules = result.schedules_run;
    outcome.milliseconds = took.count();
    outcome.how = model_kind(result.failure->kind);
  }
  return outcome;
}

// Exit codes of a real-thread child.
constexpr int kChildPassed = 0;
constexpr int kChildFound = 10;  // an assertion failed or an exception escaped
constexpr int kChildInternalError = 11;

ChildRecord* g_child_record = nullptr;

// On plain threads INTERLEAVE_ASSERT prints and aborts: record when, and leave with kChildFound.
extern "C" void on_abort_in_child(int) {
  if (g_child_record != nullptr) g_child_record->failed_ns.store(monotonic_ns(), std::memory_order_relaxed);
  _exit(kChildFound);
}

[[noreturn]] void child_main(const Bug& bug, const StrategyInfo& strategy, const Settings& settings, std::uint64_t seed,
                             ChildRecord* record) {
  // Quiet: each failure would print its report. No core files.
  const int null = open("/dev/null", O_WRONLY);
  if (null >= 0) {
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  g_child_record = record;
  struct sigaction action {};
  action.sa_handler = on_abort_in_child;
  sigaction(SIGABRT, &action, nullptr);

  try {
    record->began_ns.store(monotonic_ns(), std::memory_order_relaxed);
    if (strategy.kind == Kind::native_loop) {
      const std::int64_t stop_ns = monotonic_ns() + static_cast<std::int64_t>(settings.real_ms) * 1'000'000;
      for (std::uint64_t i = 0; i < settings.budget; ++i) {
        if (i > 0 && monotonic_ns() >= stop_ns) break;
        record->iterations_started.store(i + 1, std::memory_order_relaxed);
        try {
          bug.run_native_once();
        } catch (...) {
          record->failed_ns.store(monotonic_ns(), std::memory_order_relaxed);
          _exit(kChildFound);
        }
      }
      _exit(kChildPassed);
    }
    Options options;
    options.seed = seed;
    options.stress_iterations = settings.budget;
    options.stress_milliseconds = settings.real_ms;
    // The watching parent declares hangs; stress's own watchdog only backs it up.
    options.stress_timeout_ms = settings.hang_ms * 10 + 1000;
    const StressResult result = bug.stress(options, record);
    if (result.failed()) {
      record->failed_ns.store(monotonic_ns(), std::memory_order_relaxed);
      _exit(kChildFound);
    }
    _exit(kChildPassed);
  } catch (...) {
    _exit(kChildInternalError);
  }
}

Outcome run_real(const Bug& bug, const StrategyInfo& strategy, const Settings& settings, std::uint64_t seed) {
  void* memory = mmap(nullptr, sizeof(ChildRecord), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw std::runtime_error(absl::StrCat("mmap: ", std::strerror(errno)));
  auto* record = new (memory) ChildRecord;
  struct Unmap {
    void* memory;
    ~Unmap() { munmap(memory, sizeof(ChildRecord)); }
  } unmap{memory};

  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const std::int64_t forked_ns = monotonic_ns();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) child_main(bug, strategy, settings, seed, record);

  const std::int64_t hang_ns = static_cast<std::int64_t>(settings.hang_ms) * 1'000'000;
  std::uint64_t seen = 0;
  std::int64_t progress_ns = forked_ns;
  int status = 0;
  bool hung = false;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) throw std::runtime_error(absl::StrCat("waitpid: ", std::strerror(errno)));
    const std::int64_t now = monotonic_ns();
    const std::uint64_t started = record->iterations_started.load(std::memory_order_relaxed);
    if (started != seen) {
      seen = started;
      progress_ns = now;
    } else if (now - progress_ns > hang_ns) {
      hung = true;
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      record->failed_ns.store(now, std::memory_order_relaxed);
      break;
    }
    const timespec pause{0, 500'000};
    nanosleep(&pause, nullptr);
  }

  Outcome outcome;
  const std::int64_t began = record->began_ns.load() != 0 ? record->began_ns.load() : forked_ns;
  if (hung || (WIFEXITED(status) && WEXITSTATUS(status) == interleave::kHungExitCode)) {
    outcome.how = "hung";
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == kChildPassed) {
    return outcome;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == kChildFound) {
    outcome.how = "assertion";
  } else if (WIFSIGNALED(status)) {
    outcome.how = absl::StrCat("signal ", WTERMSIG(status));
  } else {
    throw std::runtime_error(absl::StrCat("the child running ", bug.name, " under ", strategy.label,
                                          " failed by itself (exit status ", status, ")"));
  }
  outcome.found = true;
  outcome.schedules = record->iterations_started.load();
  const std::int64_t failed = record->failed_ns.load() != 0 ? record->failed_ns.load() : monotonic_ns();
  outcome.milliseconds = static_cast<double>(failed - began) / 1e6;
  return outcome;
}

// --- the table -----------------------------------------------------------------------------------

struct Row {
  const Bug* bug = nullptr;
  const StrategyInfo* strategy = nullptr;
  int runs = 0;
  std::vector<Outcome> found;  // the runs that found the bug
  std::map<std::string, int> kinds;
};

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  return values.empty() ? 0 : sum / static_cast<double>(values.size());
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

std::string format_ms(double ms) {
  if (ms < 10) return absl::StrFormat("%.2f", ms);
  if (ms < 100) return absl::StrFormat("%.1f", ms);
  return absl::StrFormat("%.0f", ms);
}

std::string format_count(double n) {
  return n == static_cast<double>(static_cast<std::uint64_t>(n)) ? absl::StrCat(static_cast<std::uint64_t>(n))
                                                                 : absl::StrFormat("%.1f", n);
}

std::string read_first(const char* path, std::string_view key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(key)) continue;
    std::string value = line.substr(line.find_first_of(":=") + 1);
    value.erase(0, value.find_first_not_of(" \t\""));
    while (!value.empty() && (value.back() == '"' || value.back() == ' ')) value.pop_back();
    return value;
  }
  return "unknown";
}

std::string machine_description() {
  int processors = 0;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("processor")) ++processors;
  }
  utsname name{};
  uname(&name);
  return absl::StrCat(read_first("/proc/cpuinfo", "model name"), ", ", processors, " logical cores, ",
                      read_first("/etc/os-release", "PRETTY_NAME"), ", Linux ", name.release);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return absl::StrCat(one, " / ", five, " / ", fifteen);
}

std::string compiler() {
#if defined(__clang__)
  std::string text = absl::StrCat("clang ", __clang_version__);
#else
  std::string text = absl::StrCat("g++ ", __VERSION__);
#endif
#if defined(NDEBUG) && defined(__OPTIMIZE__)
  absl::StrAppend(&text, ", optimized, NDEBUG");
#else
  absl::StrAppend(&text, ", NOT an optimized release build");
#endif
  return text;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
  return text;
}

// True when a bug row's control (the correct primitive, same property, scenario and strategy)
// failed too: that strategy's finds on this scenario are not evidence of the bug.
bool control_failed(const Row& row, const std::vector<Row>& rows) {
  if (row.bug->control) return false;
  return std::any_of(rows.begin(), rows.end(), [&](const Row& other) {
    return other.bug->control && other.strategy == row.strategy && other.bug->property == row.bug->property &&
           other.bug->scenario == row.bug->scenario && !other.found.empty();
  });
}

// The per-row table, of the bugs or of the controls.
void append_rows(std::string& out, const std::vector<Row>& rows, bool controls) {
  absl::StrAppend(&out, controls ? "| primitive | property | strategy |" : "| bug | strategy |",
                  " found | mean schedules | median schedules | mean ms | median ms | how |\n");
  absl::StrAppend(&out, controls ? "|---|---|---|" : "|---|---|", "---|---|---|---|---|---|\n");
  for (const Row& row : rows) {
    if (row.bug->control != controls) continue;
    std::vector<double> schedules, ms;
    for (const Outcome& o : row.found) {
      schedules.push_back(static_cast<double>(o.schedules));
      ms.push_back(o.milliseconds);
    }
    std::vector<std::string> kinds;
    for (const auto& [kind, count] : row.kinds) kinds.push_back(absl::StrCat(kind, " ", count));
    const bool none = row.found.empty();
    absl::StrAppend(&out, "| ", row.bug->name, " | ", controls ? absl::StrCat(row.bug->property, " | ") : "",
                    row.strategy->label, " | ", row.found.size(), "/", row.runs, " | ",
                    none ? "—" : format_count(mean(schedules)), " | ", none ? "—" : format_count(median(schedules)),
                    " | ", none ? "—" : format_ms(mean(ms)), " | ", none ? "—" : format_ms(median(ms)), " | ",
                    none ? "—" : absl::StrJoin(kinds, ", "),
                    control_failed(row, rows) ? " (control failed too: not counted)" : "", " |\n");
  }
}

std::string markdown(const std::vector<Row>& rows, const Settings& settings, const std::vector<const Bug*>& bugs,
                     const std::string& started_at, const std::string& load_before, double total_seconds,
                     const std::string& command) {
  std::string out;
  absl::StrAppend(&out, "# Bug-finding scoreboard\n\n");
  absl::StrAppend(&out, "Generated by `bench/scoreboard` (`ci/scoreboard.sh`); do not edit by hand.\n\n");
  absl::StrAppend(&out, "- **Run:** ", started_at, ", ", absl::StrFormat("%.1f", total_seconds), " s in all: `",
                  command, "`\n");
  absl::StrAppend(&out, "- **Machine:** ", machine_description(), "; load average (1/5/15 min) ", load_before,
                  " before the run, ", load_average(),
                  " after. A shared virtual machine: other work ran beside this, so times are noisy.\n");
  absl::StrAppend(&out, "- **Compiler:** ", compiler(), "\n");
  absl::StrAppend(&out, "- **Seeds:** ", settings.seeds, " per bug and strategy (seeds ", settings.first_seed, "..",
                  settings.first_seed + static_cast<std::uint64_t>(settings.seeds) - 1, ").\n");
  absl::StrAppend(&out, "- **Budget:** model strategies: ", settings.budget,
                  " schedules per seed (`Options::schedules`) on one scheduler thread (`jobs = 1`), the failing "
                  "schedule reported as found (`shrink_runs = 0`: shrinking comes after the detection measured "
                  "here), default options otherwise (race detector on, 5% spurious wake-ups). Real threads: ",
                  settings.budget, " iterations of the body per seed and no new iteration after ", settings.real_ms,
                  " ms; an iteration that makes no progress for ", settings.hang_ms,
                  " ms is a hang: the bug is found, and that wait is part of its time. Each real-thread seed runs in "
                  "a forked child process.\n\n");

  absl::StrAppend(&out, "## How to read this\n\n");
  absl::StrAppend(
      &out,
      "Each row is one deliberately broken primitive of `properties/zoo/` under one strategy. *found* counts the "
      "seeds whose run failed within the budget. Over those seeds only, *schedules* is how many schedules "
      "(model) or iterations of the body (real threads) ran up to and including the failing one, and *ms* is "
      "the wall time from the start of the run to the failure (for the model, until `explore` returned, which "
      "includes replaying the failing schedule once; for real threads, until the failure was seen, including "
      "the hang wait for a deadlock). A dash means no seed found the bug. The model strategies run the body on "
      "fibers under interleave's scheduler; *std::thread loop* runs it on plain `std::thread`s "
      "(`NativePlatform`) with nothing added; *Perturbed (light)* runs it under `interleave::stress` with the "
      "default perturbation. The model replays any failure exactly from its token; a real-thread failure "
      "cannot be replayed exactly (rerunning its seed only makes it likelier). *how* names what caught it: an "
      "assertion, a deadlock (the model sees every thread "
      "blocked at once), or a hang (real threads, declared after the wait above). Every row of one bug runs "
      "the same body on the same scenario (listed at the end), one fixed shape of the property that catches "
      "it in `properties/`. The controls at the end run the library's correct primitives on the same "
      "scenarios: a scenario that fails them on some strategy proves nothing about the bug there.\n\n");

  // Summary per strategy.
  const auto bug_count = std::count_if(bugs.begin(), bugs.end(), [](const Bug* bug) { return !bug->control; });
  absl::StrAppend(&out, "## Summary\n\n",
                  "Over the bugs of the table below; a row whose control failed on the same strategy (see "
                  "Controls) counts as not found.\n\n");
  absl::StrAppend(&out,
                  "| strategy | bugs found by at least one seed | by every seed | seed runs that found the bug | "
                  "median of the per-bug median ms |\n|---|---|---|---|---|\n");
  for (const StrategyInfo* strategy : settings.strategies) {
    int any = 0, every = 0, finds = 0, runs = 0;
    std::vector<double> medians;
    for (const Row& row : rows) {
      if (row.strategy != strategy || row.bug->control) continue;
      const int n = control_failed(row, rows) ? 0 : static_cast<int>(row.found.size());
      any += n > 0;
      every += n == row.runs;
      finds += n;
      runs += row.runs;
      std::vector<double> ms;
      for (const Outcome& o : row.found) ms.push_back(o.milliseconds);
      if (n == 0) ms.clear();
      if (!ms.empty()) medians.push_back(median(ms));
    }
    absl::StrAppend(&out, "| ", strategy->label, " | ", any, " / ", bug_count, " | ", every, " / ", bug_count, " | ",
                    finds, " / ", runs, " | ", medians.empty() ? "—" : format_ms(median(medians)), " |\n");
  }

  absl::StrAppend(&out, "\n## Per bug\n\n");
  append_rows(out, rows, false);
  if (std::any_of(rows.begin(), rows.end(), [](const Row& row) { return row.bug->control; })) {
    absl::StrAppend(
        &out, "\n## Controls: the correct primitives on the same scenarios\n\n",
        "The library's own Mutex, Semaphore, Event, Queue and Pipe, run on each bug's scenario with ",
        settings.control_seeds,
        " seeds per strategy and the same budget. Any failure here is a false "
        "positive of that scenario on that strategy, which would discount the bug rows above that use it.\n\n");
    append_rows(out, rows, true);
  }
  absl::StrAppend(&out, "\n## Scenarios\n\n| bug | property (properties/) | scenario |\n|---|---|---|\n");
  for (const Bug* bug : bugs) {
    if (bug->control) continue;
    absl::StrAppend(&out, "| ", bug->name, " | ", bug->property, " | ", bug->scenario, " |\n");
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse_flags(argc, argv);
  const std::vector<Bug> every_bug = all_bugs();
  std::vector<const Bug*> bugs;
  for (const Bug& bug : every_bug) {
    if (bug.name.find(settings.filter) != std::string::npos) bugs.push_back(&bug);
  }
  if (settings.list) {
    for (const Bug& bug : every_bug) {
      std::cout << bug.name << (bug.control ? " (control)" : "") << ": " << bug.property << ", " << bug.scenario
                << "\n";
    }
    return 0;
  }
  if (bugs.empty()) {
    std::vector<std::string> names;
    for (const Bug& bug : every_bug) names.push_back(bug.name);
    bad_flag(absl::StrCat("--filter=", settings.filter, " matches no bug; the bugs are: ", absl::StrJoin(names, ", ")));
  }
  // Open the output before the long run, so a bad path fails at once.
  std::ofstream file;
  if (settings.output != "-") {
    file.open(settings.output, std::ios::trunc);
    if (!file)
      bad_flag(absl::StrCat("--output=", settings.output, ": cannot open for writing: ", std::strerror(errno)));
  }
  std::vector<std::string> words;
  words.push_back("scoreboard");
  for (int i = 1; i < argc; ++i) words.emplace_back(argv[i]);
  const std::string command = absl::StrJoin(words, " ");

  const std::string started_at = utc_now();
  const std::string load_before = load_average();
  const auto began = std::chrono::steady_clock::now();
  std::vector<Row> rows;
  try {
    for (const Bug* bug : bugs) {
      const int seeds = bug->control ? settings.control_seeds : settings.seeds;
      if (seeds == 0) continue;
      for (const StrategyInfo* strategy : settings.strategies) {
        Row row;
        row.bug = bug;
        row.strategy = strategy;
        const auto row_began = std::chrono::steady_clock::now();
        for (int k = 0; k < seeds; ++k) {
          const std::uint64_t seed = settings.first_seed + static_cast<std::uint64_t>(k);
          const Outcome outcome = strategy->kind == Kind::model ? run_model(*bug, *strategy, settings, seed)
                                                                : run_real(*bug, *strategy, settings, seed);
          ++row.runs;
          if (outcome.found) {
            ++row.kinds[outcome.how];
            row.found.push_back(outcome);
          }
        }
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - row_began;
        std::cerr << absl::StrFormat("%-28s %-18s found %2d/%d  (%.1f s)\n",
                                     bug->control ? absl::StrCat(bug->name, " (control)") : bug->name, strategy->label,
                                     row.found.size(), row.runs, took.count());
        rows.push_back(std::move(row));
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "scoreboard: " << e.what() << "\n";
    return 1;
  }
  const std::chrono::duration<double> total = std::chrono::steady_clock::now() - began;
  const std::string text = markdown(rows, settings, bugs, started_at, load_before, total.count(), command);
  if (settings.output == "-") {
    std::cout << text;
  } else {
    file << text;
    file.close();
    if (!file) {
      std::cerr << "scoreboard: writing " << settings.output << " failed\n";
      return 1;
    }
    std::cerr << "scoreboard: wrote " << settings.output << "\n";
  }
  return 0;
}
