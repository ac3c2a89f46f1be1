// Internal to the harness library: a failing schedule's trace prepared once for both formats
// trace_export.h writes (marks, arrows, one lane per fiber, the failure's place), and the text
// escaping both need.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/strings/str_cat.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "explore/trace_export.h"

namespace interleave::detail::trace {

struct Mark {
  std::uint64_t step = 0;
  std::uint32_t fiber = 0;
  double ts = 0;  // trace time: the step, plus its share of the step when entries share one
  double dur = 1;
  std::string what;  // "futex wait", "spawn fiber 2"
  std::uint32_t object = 0;
  std::string operation;  // may be empty
  std::uint32_t operation_object = 0;
  std::string object_name;            // ' "queue"' when the test named it; else empty
  std::string operation_object_name;  // the same for the operation's object
  std::string location;               // may be empty
  std::int64_t now_ns = 0;

  [[nodiscard]] double middle() const { return ts + dur / 2; }
  // Named by operation and object: "Mutex::lock #1: futex wait", or "atomic load #2".
  [[nodiscard]] std::string name() const {
    if (!operation.empty()) {
      return absl::StrCat(operation,
                          operation_object != 0 ? absl::StrCat(" #", operation_object, operation_object_name) : "",
                          ": ", what);
    }
    return absl::StrCat(what, object != 0 ? absl::StrCat(" #", object, object_name) : "");
  }
};

enum class ArrowKind { wake, release_acquire, spawn };

struct Arrow {
  std::size_t from = 0;
  std::size_t to = 0;
  ArrowKind kind = ArrowKind::wake;
};

struct Prepared {
  std::vector<Mark> marks;
  std::vector<Arrow> arrows;
  std::vector<std::uint32_t> fibers;                            // ascending: one lane each
  absl::flat_hash_map<std::uint32_t, std::string> fiber_names;  // those the test named
  std::optional<std::size_t> failing_mark;
  double failure_ts = 0;
};

// Text for the formats. Messages carry user text (assertion expressions, exception messages): any
// byte that is not part of valid UTF-8 becomes U+FFFD, so the JSON parses and the page renders.
[[nodiscard]] std::string json_string(std::string_view text);  // quoted and escaped
[[nodiscard]] std::string html_text(std::string_view text);    // escaped
// Trace time in microseconds, exact to the 1/10000 the layout uses.
[[nodiscard]] std::string time_text(double microseconds);

[[nodiscard]] const char* arrow_name(ArrowKind kind);   // "wake", "release_acquire", "spawn"
[[nodiscard]] const char* arrow_label(ArrowKind kind);  // for a reader: "release -> acquire"
[[nodiscard]] const char* arrow_color(ArrowKind kind);

[[nodiscard]] Prepared prepare(const TraceView& view);
// "fiber 1 (alice)", "fiber 0 (main)", "fiber 2".
[[nodiscard]] std::string fiber_name(const Prepared& p, std::uint32_t fiber);
// The report's first line.
[[nodiscard]] std::string headline(const Result& result);

}  // namespace interleave::detail::trace
