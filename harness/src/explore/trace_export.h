// Internal to the harness library: a failing schedule's full trace written as a Chrome Trace
// Event JSON file (Perfetto UI, chrome://tracing) and as a self-contained HTML/SVG swimlane page.
//
// Both show one lane per fiber, each recorded step as a mark named by its operation and object
// with its call site, arrows for the happens-before edges the runtime saw (wake -> wait return,
// release -> acquire, spawn -> the new fiber's first step), and the failure marked at its step.
//
// Time axis: the step number as the report prints it, one step to one microsecond of trace time.
// Entries that share a step (a wait returning in the step that woke it, a spurious wake-up) split
// that step's microsecond in the order they happened. The virtual clock's time (timed waits) is
// in each event's arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "interleave/explore.h"
#include "model/runtime.h"

namespace interleave::detail {

// What Options::trace_path and INTERLEAVE_TRACE accept.
inline constexpr const char* kTracePathForm =
    "a file path ending in .json or .html; both <name>.json (Chrome Trace Event format) and <name>.html "
    "(swimlanes) are written";

// A non-empty path ending in ".json" or ".html" with something before the extension.
[[nodiscard]] bool is_trace_path(std::string_view path) noexcept;

// Throws std::invalid_argument naming Options::trace_path and the accepted form when `path` is
// set but not a trace path.
void check_trace_path(std::string_view path);

// The failing schedule, as explore() holds it after the replay that recorded its full trace.
struct TraceView {
  const std::vector<model::TraceEntry>& entries;
  const std::vector<model::TraceEdge>& edges;
  const Result& result;                 // failure, reproduce line and configuration (Result::failure must be set)
  const model::Names* names = nullptr;  // the fibers' and objects' names, if any
};

// The HTML page draws at most this many of the last entries (the JSON has them all): a browser
// stays responsive, and the failure is at the end.
inline constexpr std::size_t kSwimlaneEntries = 4000;

[[nodiscard]] std::string chrome_trace_json(const TraceView& trace);
[[nodiscard]] std::string swimlane_html(const TraceView& trace, std::string_view json_name);

// Writes <name>.json and <name>.html for `path` (see kTracePathForm) and records the file names in
// result.trace_files, or why they could not be written in result.trace_error: a failure to write
// never loses the report.
void write_trace_files(std::string_view path, const std::vector<model::TraceEntry>& entries,
                       const std::vector<model::TraceEdge>& edges, Result& result, const model::Names* names = nullptr);

}  // namespace interleave::detail
