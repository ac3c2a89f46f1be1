// The scoreboard's runner: each bug under each strategy, N seeds each. Model strategies run
// interleave::explore in this process; each real-thread run happens in a forked child process,
// watched by this (single-threaded) process, which kills a child that makes no progress (a hang).
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "interleave/explore.h"
#include "interleave/options.h"
#include "interleave/stress.h"
#include "scoreboard.h"

namespace scoreboard {
namespace {

std::int64_t monotonic_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

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
  // DPOR searches the sequentially consistent model (and only it); it takes no seed: every seed
  // runs the same search.
  if (strategy.model_strategy == Strategy::dpor) options.memory_model = interleave::MemoryModel::sc;
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

// The bug's Relacy version under Relacy's random scheduler, in this process (Relacy runs its
// threads as its own fibers).
Outcome run_relacy(const Bug& bug, const Settings& settings, std::uint64_t seed) {
  const auto began = std::chrono::steady_clock::now();
  const RelacyOutcome result = bug.relacy(seed, settings.budget);
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - began;
  Outcome outcome;
  if (result.found) {
    outcome.found = true;
    outcome.schedules = result.schedules;
    outcome.milliseconds = took.count();
    outcome.how = result.how;
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

// Waits for the child, polling every half millisecond; one whose current iteration makes no
// progress for --hang-ms is killed, and its failure recorded as now. Returns whether it hung, and
// its wait status in `status`.
bool watch_child(pid_t pid, ChildRecord* record, const Settings& settings, std::int64_t forked_ns, int& status) {
  const std::int64_t hang_ns = static_cast<std::int64_t>(settings.hang_ms) * 1'000'000;
  std::uint64_t seen = 0;
  std::int64_t progress_ns = forked_ns;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return false;
    if (done < 0 && errno != EINTR) throw std::runtime_error(absl::StrCat("waitpid: ", std::strerror(errno)));
    const std::int64_t now = monotonic_ns();
    const std::uint64_t started = record->iterations_started.load(std::memory_order_relaxed);
    if (started != seen) {
      seen = started;
      progress_ns = now;
    } else if (now - progress_ns > hang_ns) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      record->failed_ns.store(now, std::memory_order_relaxed);
      return true;
    }
    const timespec pause{0, 500'000};
    nanosleep(&pause, nullptr);
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

  int status = 0;
  const bool hung = watch_child(pid, record, settings, forked_ns, status);

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

// One bug under one strategy, `seeds` seeds from --seed on; prints a progress line.
Row run_row(const Bug& bug, const StrategyInfo& strategy, int seeds, const Settings& settings) {
  Row row;
  row.bug = &bug;
  row.strategy = &strategy;
  if (strategy.kind == Kind::relacy && !bug.relacy) {
    row.unavailable = true;  // no Relacy version of this bug
    return row;
  }
  const auto row_began = std::chrono::steady_clock::now();
  for (int k = 0; k < seeds; ++k) {
    const std::uint64_t seed = settings.first_seed + static_cast<std::uint64_t>(k);
    const Outcome outcome = strategy.kind == Kind::model    ? run_model(bug, strategy, settings, seed)
                            : strategy.kind == Kind::relacy ? run_relacy(bug, settings, seed)
                                                            : run_real(bug, strategy, settings, seed);
    ++row.runs;
    if (outcome.found) {
      ++row.kinds[outcome.how];
      row.found.push_back(outcome);
    }
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - row_began;
  std::cerr << absl::StrFormat("%-28s %-18s found %2d/%d  (%.1f s)\n",
                               bug.control ? absl::StrCat(bug.name, " (control)") : bug.name, strategy.label,
                               row.found.size(), row.runs, took.count());
  return row;
}

}  // namespace

std::vector<Row> run_all(const std::vector<const Bug*>& bugs, const Settings& settings) {
  std::vector<Row> rows;
  for (const Bug* bug : bugs) {
    const int seeds = bug->control ? settings.control_seeds : settings.seeds;
    if (seeds == 0) continue;
    for (const StrategyInfo* strategy : settings.strategies) {
      // DPOR takes no seed: one run stands for all.
      const bool seedless = strategy->kind == Kind::model && strategy->model_strategy == Strategy::dpor;
      rows.push_back(run_row(*bug, *strategy, seedless ? 1 : seeds, settings));
    }
  }
  return rows;
}

}  // namespace scoreboard
