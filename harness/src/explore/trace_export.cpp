// The failing schedule's trace as Chrome Trace Event JSON, and both trace files written
// (trace_export.h; the HTML page is trace_swimlanes.cpp).
#include "explore/trace_export.h"

#include <absl/strings/str_cat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "explore/trace_prepared.h"
#include "quote.h"

namespace interleave::detail {

using namespace trace;  // NOLINT(google-build-using-namespace): the prepared trace this file writes

// --- paths -------------------------------------------------------------------------------------------

bool is_trace_path(std::string_view path) noexcept {
  for (const std::string_view extension : {std::string_view(".json"), std::string_view(".html")}) {
    if (path.size() > extension.size() && path.substr(path.size() - extension.size()) == extension &&
        path[path.size() - extension.size() - 1] != '/') {
      return true;
    }
  }
  return false;
}

void check_trace_path(std::string_view path) {
  if (path.empty() || is_trace_path(path)) return;
  throw std::invalid_argument(
      absl::StrCat("interleave: trace path ", quote_input(path),
                   " (Options::trace_path, INTERLEAVE_TRACE) is not valid; accepted: ", std::string(kTracePathForm)));
}

// --- Chrome Trace Event JSON -------------------------------------------------------------------------

std::string chrome_trace_json(const TraceView& view) {
  const Prepared p = prepare(view);
  const Result& result = view.result;
  const Failure& failure = *result.failure;
  std::string out = "{\"traceEvents\":[\n";
  bool first = true;
  const auto event = [&out, &first](const char* ph, std::uint32_t tid, const std::string& ts, const std::string& name,
                                    const std::string& rest) {
    absl::StrAppend(&out, first ? "" : ",\n", "{\"ph\":\"", ph, "\",\"pid\":1,\"tid\":", tid, ",\"ts\":", ts,
                    ",\"name\":", json_string(name), rest, "}");
    first = false;
  };

  event("M", 0, "0", "process_name",
        absl::StrCat(",\"args\":{\"name\":",
                     json_string(absl::StrCat("interleave: ", std::string(to_string(failure.kind)))), "}"));
  for (const std::uint32_t fiber : p.fibers) {
    event("M", fiber, "0", "thread_name", absl::StrCat(",\"args\":{\"name\":", json_string(fiber_name(p, fiber)), "}"));
    event("M", fiber, "0", "thread_sort_index", absl::StrCat(",\"args\":{\"sort_index\":", fiber, "}"));
  }
  for (const Mark& m : p.marks) {
    std::string args = absl::StrCat(",\"cat\":\"step\",\"dur\":", time_text(m.dur), ",\"args\":{\"step\":", m.step,
                                    ",\"what\":", json_string(m.what));
    if (m.object != 0) absl::StrAppend(&args, ",\"object\":", m.object);
    if (!m.operation.empty()) {
      absl::StrAppend(&args, ",\"operation\":", json_string(m.operation));
      if (m.operation_object != 0) absl::StrAppend(&args, ",\"operation_object\":", m.operation_object);
    }
    if (!m.location.empty()) absl::StrAppend(&args, ",\"location\":", json_string(m.location));
    absl::StrAppend(&args, ",\"virtual_time_ns\":", m.now_ns, "}");
    event("X", m.fiber, time_text(m.ts), m.name(), args);
  }
  // Flow events bind to the slices around their timestamps: the middle of each end's step.
  std::uint64_t id = 0;
  for (const Arrow& a : p.arrows) {
    ++id;
    const std::string common = absl::StrCat(",\"cat\":\"", arrow_name(a.kind), "\",\"id\":", id);
    event("s", p.marks[a.from].fiber, time_text(p.marks[a.from].middle()), arrow_label(a.kind), common);
    event("f", p.marks[a.to].fiber, time_text(p.marks[a.to].middle()), arrow_label(a.kind),
          absl::StrCat(common, ",\"bp\":\"e\""));
  }
  std::string args = absl::StrCat(",\"cat\":\"failure\",\"s\":\"t\",\"args\":{\"step\":", failure.step,
                                  ",\"message\":", json_string(failure.message));
  if (!failure.where.empty()) absl::StrAppend(&args, ",\"location\":", json_string(failure.where));
  absl::StrAppend(&args, ",\"reproduce\":", json_string(result.reproduce), "}");
  event("i", failure.fiber, time_text(p.failure_ts), absl::StrCat("FAILURE: ", std::string(to_string(failure.kind))),
        args);

  absl::StrAppend(&out, "\n],\n\"otherData\":{\"report\":", json_string(headline(result)),
                  ",\"message\":", json_string(failure.message), ",\"reproduce\":", json_string(result.reproduce),
                  ",\"configuration\":", json_string(result.configuration), ",\"time_axis\":",
                  json_string("ts is the step number (1 step = 1 us); entries sharing a step split it"), "}}\n");
  return out;
}

// --- files ---------------------------------------------------------------------------------------------

namespace {

// Empty on success, else why not.
std::string write_file(const std::string& path, const std::string& text) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return absl::StrCat("cannot open '", path, "' for writing: ", std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int write_errno = errno;
  if (std::fclose(file) != 0 || !written) {
    return absl::StrCat("cannot write '", path, "': ", std::strerror(written ? errno : write_errno));
  }
  return {};
}

}  // namespace

void write_trace_files(std::string_view path, const std::vector<model::TraceEntry>& entries,
                       const std::vector<model::TraceEdge>& edges, Result& result, const model::Names* names) {
  result.trace_files.clear();
  result.trace_error.clear();
  if (!result.failure) return;
  if (!is_trace_path(path)) {
    result.trace_error = absl::StrCat("trace path ", quote_input(path), " is not valid; accepted: ", kTracePathForm);
    return;
  }
  const std::string stem(path.substr(0, path.size() - 5));  // both extensions have five characters
  const std::string json_path = stem + ".json";
  const std::string html_path = stem + ".html";
  const TraceView view{entries, edges, result, names};
  try {
    if (std::string error = write_file(json_path, chrome_trace_json(view)); !error.empty()) {
      result.trace_error = std::move(error);
      return;
    }
    result.trace_files.push_back(json_path);
    const std::size_t slash = json_path.rfind('/');
    const std::string json_name = slash == std::string::npos ? json_path : json_path.substr(slash + 1);
    if (std::string error = write_file(html_path, swimlane_html(view, json_name)); !error.empty()) {
      result.trace_error = std::move(error);
      return;
    }
    result.trace_files.push_back(html_path);
  } catch (const std::exception& e) {
    result.trace_error = absl::StrCat("cannot write the trace: ", e.what());
  }
}

}  // namespace interleave::detail
