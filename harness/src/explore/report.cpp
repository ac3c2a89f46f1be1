// What an exploration reports: failure kinds, the last steps, and Result::report().
#include "explore/report.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>

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

std::vector<StepRecord> describe_steps(const std::vector<TraceEntry>& trace, std::size_t first, std::size_t last) {
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
    if (e.operation != nullptr) {
      r.operation = e.operation;
      r.where = location_text(e.where);
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace detail

std::string Result::report() const {
  if (!failure) {
    return absl::StrFormat("interleave: passed %d schedules (%s), %d scheduling points in all\n", schedules_run,
                           configuration, total_steps);
  }
  const auto plural = [](std::uint64_t n, const char* word) { return absl::StrCat(n, " ", word, n == 1 ? "" : "s"); };
  std::string where_found;
  if (schedule.strategy == Strategy::choices) {
    where_found = absl::StrCat("replay of a shrunk schedule, ", plural(preemptions, "preemption"));
  } else {
    where_found = absl::StrCat(
        schedule.strategy == Strategy::pct ? absl::StrCat("pct:", schedule.pct_depth) : std::string("random"),
        absl::StrFormat(", seed 0x%x, ", schedule.seed),
        replayed ? absl::StrCat("replay of schedule ", schedule.index)
                 : absl::StrCat("schedule ", schedule.index, " of ", schedules_planned),
        shrunk ? absl::StrCat(", shrunk to ", plural(preemptions, "preemption"), " from ", found_preemptions, " in ",
                              plural(shrink_runs, "run"))
               : absl::StrCat(", ", plural(preemptions, "preemption")));
  }
  std::string out = absl::StrFormat("interleave: %s after %d steps (%s)\n", std::string(to_string(failure->kind)),
                                    steps, where_found);
  absl::StrAppend(&out, "  ", failure->message, "\n");
  absl::StrAppend(&out, "  in fiber ", failure->fiber, " at step ", failure->step,
                  failure->where.empty() ? "" : absl::StrCat(", ", failure->where), "\n");
  if (!last_steps.empty()) {
    absl::StrAppend(&out, "  last ", last_steps.size(), " steps:\n");
    for (const StepRecord& r : last_steps) {
      absl::StrAppend(&out, absl::StrFormat("    #%-6d fiber %-3d %-24s", r.step, r.fiber, r.what));
      if (r.object != 0) absl::StrAppend(&out, " object #", r.object);
      if (!r.operation.empty()) absl::StrAppend(&out, "  in ", r.operation);
      if (!r.where.empty()) absl::StrAppend(&out, " at ", r.where);
      absl::StrAppend(&out, "\n");
    }
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
