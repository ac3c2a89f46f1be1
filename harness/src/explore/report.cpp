// What an exploration reports: failure kinds, the last steps, and Result::report().
#include "explore/report.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "where.h"

namespace interleave {

std::string_view to_string(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::assertion:
      return "ASSERTION FAILED";
    case FailureKind::exception:
      return "UNCAUGHT EXCEPTION";
    case FailureKind::deadlock:
      return "DEADLOCK";
    case FailureKind::step_bound:
      return "STEP BOUND EXCEEDED";
    case FailureKind::unjoined_fiber:
      return "UNJOINED FIBER";
    case FailureKind::contract_violation:
      return "CONTRACT VIOLATION";
    case FailureKind::nondeterminism:
      return "NONDETERMINISTIC TEST";
    case FailureKind::data_race:
      return "DATA RACE";
    case FailureKind::resources_exhausted:
      return "RESOURCES EXHAUSTED";
  }
  return "FAILURE";
}

namespace detail {

using model::ObjectNumbers;
using model::TraceEntry;

std::vector<StepRecord> describe_steps(const std::vector<TraceEntry>& trace, std::size_t first, std::size_t last,
                                       const model::Names* names) {
  std::vector<StepRecord> out;
  const ObjectNumbers objects(trace);
  for (std::size_t i = first; i < last; ++i) {
    const TraceEntry& e = trace[i];
    StepRecord r;
    r.step = e.step;
    r.fiber = e.fiber;
    r.what = e.what;
    if (e.spawned != UINT32_MAX) absl::StrAppend(&r.what, " fiber ", e.spawned);
    r.object = objects.of(e.object);
    if (names != nullptr) {
      r.fiber_name = std::string(names->fiber(e.fiber));
      if (e.object != nullptr) r.object_name = names->object(e.object);
    }
    if (e.operation != nullptr) r.operation = e.operation;
    r.where = location_text(e.where);  // the primitive operation's call site, or the atomic's own
    if (e.preempted != UINT32_MAX) {
      r.preempted = e.preempted;
      for (std::size_t j = i + 1; j < trace.size(); ++j) {
        if (trace[j].fiber == e.preempted) {
          r.resumes_at = trace[j].step;
          break;
        }
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<StepRecord> describe_preemptions(const std::vector<TraceEntry>& trace, std::size_t last_first,
                                             const model::Names* names) {
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < last_first && i < trace.size(); ++i) {
    if (trace[i].preempted != UINT32_MAX) at.push_back(i);
  }
  if (at.size() > Result::kPreemptionsShown) at.erase(at.begin(), at.end() - Result::kPreemptionsShown);
  // Windows of entries around each, merged when they touch or nearly do (a gap of fewer than
  // three entries is shown rather than elided, so an elision always skips whole steps).
  std::vector<std::pair<std::size_t, std::size_t>> windows;
  for (const std::size_t i : at) {
    const std::size_t begin = i > Result::kStepsAroundPreemption ? i - Result::kStepsAroundPreemption : 0;
    const std::size_t end = std::min(i + Result::kStepsAroundPreemption, last_first);
    if (!windows.empty() && begin <= windows.back().second + 2) {
      windows.back().second = end;
    } else {
      windows.emplace_back(begin, end);
    }
  }
  std::vector<StepRecord> out;
  for (const auto& [begin, end] : windows) {
    std::vector<StepRecord> part = describe_steps(trace, begin, end, names);
    out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  return out;
}

}  // namespace detail

namespace {

// One line per step; a line across before a step that follows a preemption; "..." where steps
// are left out.
std::string fiber_column(const StepRecord& r) {
  return r.fiber_name.empty() ? absl::StrCat(r.fiber) : absl::StrCat(r.fiber, " (", r.fiber_name, ")");
}

void append_steps(std::string& out, const std::vector<StepRecord>& steps) {
  int width = 3;  // the fiber column, as wide as its widest named fiber
  for (const StepRecord& r : steps) width = std::max(width, static_cast<int>(fiber_column(r).size()));
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const StepRecord& r = steps[i];
    if (i > 0 && r.step > steps[i - 1].step + 1) absl::StrAppend(&out, "    ...\n");
    if (r.preempted) {
      absl::StrAppend(&out, "    ---- fiber ", *r.preempted, " preempted here (it could still run); ",
                      r.resumes_at != 0 ? absl::StrCat("it runs again at step #", r.resumes_at)
                                        : std::string("it never runs again"),
                      " ----\n");
    }
    absl::StrAppend(&out, absl::StrFormat("    #%-6d fiber %-*s %-24s", r.step, width, fiber_column(r), r.what));
    if (r.object != 0) absl::StrAppend(&out, " object #", r.object);
    if (!r.object_name.empty()) absl::StrAppend(&out, " \"", r.object_name, "\"");
    if (!r.operation.empty()) absl::StrAppend(&out, "  in ", r.operation);
    if (!r.where.empty()) absl::StrAppend(&out, " at ", r.where);
    absl::StrAppend(&out, "\n");
  }
}

}  // namespace

std::string Result::report() const {
  if (!failure && schedule.strategy == Strategy::dpor) {
    if (schedules_run == 0) {
      return "interleave: ran no execution here: a DPOR search is one search, not split into shards, and shard 0 "
             "runs all of it\n";
    }
    if (exhausted) {
      return absl::StrFormat(
          "interleave: explored all %d interleavings up to equivalence: no failure (DPOR: %d executions, %d of them "
          "cut short as equivalent to one explored; %s), %d scheduling points in all\n",
          equivalence_classes, schedules_run, schedules_run - equivalence_classes, configuration, total_steps);
    }
    return absl::StrFormat(
        "interleave: passed %d executions (%d interleavings up to equivalence), but the DPOR search stopped at the "
        "limit of %d executions with interleavings left unexplored: this is no proof (raise INTERLEAVE_SCHEDULES, or "
        "make the test smaller; %s), %d scheduling points in all\n",
        schedules_run, equivalence_classes, schedules_planned, configuration, total_steps);
  }
  if (!failure) {
    return absl::StrFormat("interleave: passed %d schedules (%s), %d scheduling points in all\n", schedules_run,
                           configuration, total_steps);
  }
  const auto plural = [](std::uint64_t n, const char* word) { return absl::StrCat(n, " ", word, n == 1 ? "" : "s"); };
  std::string where_found;
  if (schedule.strategy == Strategy::choices) {
    where_found = absl::StrCat("replay of a shrunk schedule, ", plural(preemptions, "preemption"));
  } else {
    where_found = absl::StrCat(schedule.strategy == Strategy::pct ? absl::StrCat("pct:", schedule.pct_depth)
                                                                  : std::string(to_string(schedule.strategy)),
                               absl::StrFormat(", seed 0x%x, ", schedule.seed),
                               replayed ? absl::StrCat("replay of schedule ", schedule.index)
                                        : absl::StrCat("schedule ", schedule.index, " of ", schedules_planned),
                               shrunk ? absl::StrCat(", shrunk to ", plural(preemptions, "preemption"), " from ",
                                                     found_preemptions, " in ", plural(shrink_runs, "run"))
                                      : absl::StrCat(", ", plural(preemptions, "preemption")));
  }
  std::string out = absl::StrFormat("interleave: %s after %d steps (%s)\n", std::string(to_string(failure->kind)),
                                    steps, where_found);
  absl::StrAppend(&out, "  ", failure->message, "\n");
  absl::StrAppend(&out, "  in fiber ", failure->fiber,
                  failure->fiber_name.empty() ? "" : absl::StrCat(" (", failure->fiber_name, ")"), " at step ",
                  failure->step, failure->where.empty() ? "" : absl::StrCat(", ", failure->where, failure->call_chain),
                  "\n");
  if (!preemption_steps.empty()) {
    const auto marked = std::count_if(preemption_steps.begin(), preemption_steps.end(),
                                      [](const StepRecord& r) { return r.preempted.has_value(); });
    absl::StrAppend(&out, "  ", marked == 1 ? "the preemption" : absl::StrCat("the last ", marked, " preemptions"),
                    " before the last steps, with the steps around ", marked == 1 ? "it" : "them", ":\n");
    append_steps(out, preemption_steps);
  }
  if (!last_steps.empty()) {
    absl::StrAppend(&out, "  last ", last_steps.size(), " steps:\n");
    append_steps(out, last_steps);
  }
  if (!stale_reads.empty()) {
    absl::StrAppend(&out, "  found under the weak memory model; ",
                    stale_reads.size() == 1 ? std::string("a load read a stale value")
                                            : absl::StrCat(stale_reads.size(), " loads read stale values"),
                    " (an older store than the latest, as the C++ memory model allows):\n");
    for (const std::string& line : stale_reads) absl::StrAppend(&out, "    ", line, "\n");
  }
  if (!trace_files.empty()) {
    absl::StrAppend(&out, "  trace: ", absl::StrJoin(trace_files, ", "),
                    " (the .json opens in Perfetto UI or chrome://tracing, the .html in any browser)\n");
  }
  if (!trace_error.empty()) absl::StrAppend(&out, "  trace not written: ", trace_error, "\n");
  absl::StrAppend(&out, "  configuration: ", configuration, "\n");
  absl::StrAppend(&out, "reproduce: ", reproduce, "\n");
  return out;
}

}  // namespace interleave
