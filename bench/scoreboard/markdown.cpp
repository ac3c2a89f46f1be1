// The scoreboard's markdown page (docs/scoreboard.md): the run's header (machine, compiler,
// budgets), how to read the tables, the summary per strategy, the per-bug and control tables, and
// the scenarios.
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>
#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "scoreboard.h"

namespace scoreboard {
namespace {

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
    if (row.unavailable) continue;  // no Relacy version of this bug: no row
    const bool none = row.found.empty();
    absl::StrAppend(&out, "| ", row.bug->name, " | ", controls ? absl::StrCat(row.bug->property, " | ") : "",
                    row.strategy->label, " | ", row.found.size(), "/", row.runs, " | ",
                    none ? "—" : format_count(mean(schedules)), " | ", none ? "—" : format_count(median(schedules)),
                    " | ", none ? "—" : format_ms(mean(ms)), " | ", none ? "—" : format_ms(median(ms)), " | ",
                    none ? "—" : absl::StrJoin(kinds, ", "),
                    control_failed(row, rows) ? " (control failed too: not counted)" : "", " |\n");
  }
}

// The run's header: when, on what, with which seeds and budgets.
void append_header(std::string& out, const Settings& settings, const std::string& started_at,
                   const std::string& load_before, double total_seconds, const std::string& command) {
  absl::StrAppend(&out, "# Bug-finding scoreboard\n\n");
  absl::StrAppend(&out, "Generated by `bench/scoreboard` (`ci/scoreboard.sh`); do not edit by hand.\n\n");
  absl::StrAppend(&out, "- **Run:** ", started_at, ", ", absl::StrFormat("%.1f", total_seconds), " s in all: `",
                  command, "`\n");
  absl::StrAppend(&out, "- **Machine:** ", machine_description(), "; load average (1/5/15 min) ", load_before,
                  " before the run, ", load_average(),
                  " after. A shared virtual machine: other work ran beside this, so times are noisy.\n");
  absl::StrAppend(&out, "- **Compiler:** ", compiler(), "\n");
  absl::StrAppend(&out, "- **Seeds:** ", settings.seeds, " per bug and strategy (seeds ", settings.first_seed, "..",
                  settings.first_seed + static_cast<std::uint64_t>(settings.seeds) - 1,
                  "), except DPOR, which takes no seed: one run per bug.\n");
  absl::StrAppend(&out, "- **Budget:** model strategies: ", settings.budget,
                  " schedules per seed (`Options::schedules`) on one scheduler thread (`jobs = 1`), the failing "
                  "schedule reported as found (`shrink_runs = 0`: shrinking comes after the detection measured "
                  "here), default options otherwise (race detector on, 5% spurious wake-ups). Real threads: ",
                  settings.budget, " iterations of the body per seed and no new iteration after ", settings.real_ms,
                  " ms; an iteration that makes no progress for ", settings.hang_ms,
                  " ms is a hang: the bug is found, and that wait is part of its time. Each real-thread seed runs in "
                  "a forked child process. Relacy: ",
                  settings.budget, " iterations of its random scheduler per seed.\n\n");
}

void append_how_to_read(std::string& out) {
  absl::StrAppend(&out, "## How to read this\n\n");
  absl::StrAppend(
      &out,
      "Each row is one bug under one strategy: a deliberately broken primitive of `properties/zoo/`, or a "
      "program re-implemented from a published benchmark suite (SCTBench, ConVul, RADBench; its origin is "
      "listed under Scenarios). *found* counts the "
      "seeds whose run failed within the budget. Over those seeds only, *schedules* is how many schedules "
      "(model) or iterations of the body (real threads) ran up to and including the failing one, and *ms* is "
      "the wall time from the start of the run to the failure (for the model, until `explore` returned, which "
      "includes replaying the failing schedule once; for real threads, until the failure was seen, including "
      "the hang wait for a deadlock). A dash means no seed found the bug. The model strategies run the body on "
      "fibers under interleave's scheduler; *std::thread loop* runs it on plain `std::thread`s "
      "(`NativePlatform`) with nothing added; *Perturbed (light)* runs it under `interleave::stress` with the "
      "default perturbation; *portfolio* runs each schedule with one of SURW (half of them), POS and PCT d=3, "
      "drawn per schedule; *SURW* weighs each fiber by the choice points it has left, estimated from the "
      "schedules before (uniform over interleavings when the estimates are right); *DPOR* searches every interleaving "
      "up to equivalence under the sequentially "
      "consistent model, one execution after another in a fixed order (every seed runs the same search; "
      "*schedules* counts its executions); *Relacy random* runs the bug's Relacy version (the same threads, operations "
      "and "
      "check, written for Relacy 2.4) under Relacy's random scheduler with the same budget (a zoo bug has none: "
      "n/a). The model replays any failure exactly from its token; a real-thread failure "
      "cannot be replayed exactly (rerunning its seed only makes it likelier). *how* names what caught it: an "
      "assertion, a deadlock (the model sees every thread "
      "blocked at once), or a hang (real threads, declared after the wait above). Every row of one bug runs "
      "the same body on the same scenario (listed at the end): for a zoo bug, one fixed shape of the property "
      "that catches it in `properties/`. The controls at the end run the library's correct primitives on the "
      "same scenarios, and the fixed versions of published programs: a scenario that fails them on some "
      "strategy proves nothing about the bug there.\n\n");
}

// The summary per strategy, over the bug rows (a row whose control failed counts as not found).
void append_summary(std::string& out, const std::vector<Row>& rows, const Settings& settings,
                    const std::vector<const Bug*>& bugs) {
  const auto bug_count = std::count_if(bugs.begin(), bugs.end(), [](const Bug* bug) { return !bug->control; });
  absl::StrAppend(&out, "## Summary\n\n",
                  "Over the bugs of the table below; a row whose control failed on the same strategy (see "
                  "Controls) counts as not found.\n\n");
  absl::StrAppend(&out,
                  "| strategy | bugs found by at least one seed | by every seed | seed runs that found the bug | "
                  "median of the per-bug median ms |\n|---|---|---|---|---|\n");
  for (const StrategyInfo* strategy : settings.strategies) {
    int any = 0, every = 0, finds = 0, runs = 0, available = 0;
    std::vector<double> medians;
    for (const Row& row : rows) {
      if (row.strategy != strategy || row.bug->control || row.unavailable) continue;
      ++available;
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
    const std::string of = available == bug_count ? absl::StrCat(" / ", bug_count)
                                                  : absl::StrCat(" / ", available, " (of ", bug_count, ")");
    absl::StrAppend(&out, "| ", strategy->label, " | ", any, of, " | ", every, of, " | ", finds, " / ", runs, " | ",
                    medians.empty() ? "—" : format_ms(median(medians)), " |\n");
  }
}

// One line per bug, one column per strategy: median schedules to the bug over the seeds that found
// it, and how many seeds did.
void append_side_by_side(std::string& out, const std::vector<Row>& rows, const Settings& settings,
                         const std::vector<const Bug*>& bugs) {
  absl::StrAppend(&out, "\n## Side by side: median schedules to the bug (seeds that found it)\n\n| bug |");
  for (const StrategyInfo* strategy : settings.strategies) absl::StrAppend(&out, " ", strategy->label, " |");
  absl::StrAppend(&out, "\n|---|");
  for (std::size_t i = 0; i < settings.strategies.size(); ++i) absl::StrAppend(&out, "---|");
  absl::StrAppend(&out, "\n");
  for (const Bug* bug : bugs) {
    if (bug->control) continue;
    absl::StrAppend(&out, "| ", bug->name, " |");
    for (const StrategyInfo* strategy : settings.strategies) {
      const auto row =
          std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.bug == bug && r.strategy == strategy; });
      if (row == rows.end() || row->unavailable) {
        absl::StrAppend(&out, " n/a |");
        continue;
      }
      std::vector<double> schedules;
      for (const Outcome& o : row->found) schedules.push_back(static_cast<double>(o.schedules));
      absl::StrAppend(&out, " ", schedules.empty() ? "—" : format_count(median(schedules)), " (", row->found.size(),
                      "/", row->runs, ") |");
    }
    absl::StrAppend(&out, "\n");
  }
}

}  // namespace

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return absl::StrCat(one, " / ", five, " / ", fifteen);
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
  return text;
}

std::string markdown(const std::vector<Row>& rows, const Settings& settings, const std::vector<const Bug*>& bugs,
                     const std::string& started_at, const std::string& load_before, double total_seconds,
                     const std::string& command) {
  std::string out;
  append_header(out, settings, started_at, load_before, total_seconds, command);
  append_how_to_read(out);
  append_summary(out, rows, settings, bugs);
  append_side_by_side(out, rows, settings, bugs);
  absl::StrAppend(&out, "\n## Per bug\n\n");
  append_rows(out, rows, false);
  if (std::any_of(rows.begin(), rows.end(), [](const Row& row) { return row.bug->control; })) {
    absl::StrAppend(
        &out, "\n## Controls: the correct primitives on the same scenarios\n\n",
        "The library's own Mutex, Semaphore, Event, Queue and Pipe, run on each bug's scenario, and fixed "
        "versions of published programs, with ",
        settings.control_seeds,
        " seeds per strategy and the same budget. Any failure here is a false "
        "positive of that scenario on that strategy, which would discount the bug rows above that use it.\n\n");
    append_rows(out, rows, true);
  }
  absl::StrAppend(&out, "\n## Scenarios\n\n| bug | origin | property | scenario |\n|---|---|---|---|\n");
  for (const Bug* bug : bugs) {
    if (bug->control) continue;
    absl::StrAppend(&out, "| ", bug->name, " | ", bug->origin.empty() ? "zoo (properties/zoo/)" : bug->origin, " | ",
                    bug->property, " | ", bug->scenario, " |\n");
  }
  return out;
}

}  // namespace scoreboard
