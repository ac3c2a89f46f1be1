// The failing schedule's trace as Chrome Trace Event JSON and as an HTML/SVG swimlane page
// (trace_export.h).
#include "explore/trace_export.h"

#include <absl/container/flat_hash_map.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "quote.h"
#include "where.h"

namespace interleave::detail {

namespace {

using model::EdgeKind;
using model::ObjectNumbers;
using model::TraceEdge;
using model::TraceEntry;

// --- text ------------------------------------------------------------------------------------------

// Messages carry user text (assertion expressions, exception messages): any byte that is not part
// of valid UTF-8 becomes U+FFFD, so the JSON parses and the page renders.
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    if (byte < 0x80) {
      length = 1;
    } else if (byte >= 0xc2 && byte <= 0xdf) {
      length = 2;
    } else if (byte >= 0xe0 && byte <= 0xef) {
      length = 3;
    } else if (byte >= 0xf0 && byte <= 0xf4) {
      length = 4;
    }
    bool ok = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; ok && k < length; ++k) ok = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    if (ok && length == 3) {
      const auto second = static_cast<unsigned char>(text[i + 1]);
      ok = !(byte == 0xe0 && second < 0xa0) && !(byte == 0xed && second >= 0xa0);  // overlong, surrogate
    }
    if (ok && length == 4) {
      const auto second = static_cast<unsigned char>(text[i + 1]);
      ok = !(byte == 0xf0 && second < 0x90) && !(byte == 0xf4 && second >= 0x90);  // overlong, > U+10FFFF
    }
    if (ok) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out.append("\xef\xbf\xbd");
      ++i;
    }
  }
  return out;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : valid_utf8(text)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string html_text(std::string_view text) {
  std::string out;
  for (const char c : valid_utf8(text)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Trace time in microseconds, exact to the 1/10000 the layout uses.
std::string time_text(double microseconds) { return absl::StrFormat("%.4f", microseconds); }

// --- the trace, prepared once for both formats --------------------------------------------------

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

const char* arrow_name(ArrowKind kind) {
  switch (kind) {
    case ArrowKind::wake:
      return "wake";
    case ArrowKind::release_acquire:
      return "release_acquire";
    case ArrowKind::spawn:
      return "spawn";
  }
  return "edge";
}

const char* arrow_label(ArrowKind kind) {
  switch (kind) {
    case ArrowKind::wake:
      return "futex wake -> wait returns";
    case ArrowKind::release_acquire:
      return "release -> acquire";
    case ArrowKind::spawn:
      return "spawn -> first step";
  }
  return "edge";
}

const char* arrow_color(ArrowKind kind) {
  switch (kind) {
    case ArrowKind::wake:
      return "#8e44ad";
    case ArrowKind::release_acquire:
      return "#2e9e44";
    case ArrowKind::spawn:
      return "#9ca3af";
  }
  return "#000";
}

struct Prepared {
  std::vector<Mark> marks;
  std::vector<Arrow> arrows;
  std::vector<std::uint32_t> fibers;                            // ascending: one lane each
  absl::flat_hash_map<std::uint32_t, std::string> fiber_names;  // those the test named
  std::optional<std::size_t> failing_mark;
  double failure_ts = 0;
};

Prepared prepare(const TraceView& view) {
  const std::vector<TraceEntry>& entries = view.entries;
  Prepared p;
  p.marks.resize(entries.size());

  const ObjectNumbers objects(entries);  // as the report numbers them
  const auto number = [&objects](const void* object) { return objects.of(object); };

  std::size_t run_start = 0;  // entries with the same step are consecutive
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const TraceEntry& e = entries[i];
    Mark& m = p.marks[i];
    m.step = e.step;
    m.fiber = e.fiber;
    m.what = e.what;
    if (e.spawned != UINT32_MAX) absl::StrAppend(&m.what, " fiber ", e.spawned);
    m.operation_object = number(e.operation_object);
    m.object = number(e.object);
    if (view.names != nullptr) {
      m.object_name = view.names->object_suffix(e.object);
      m.operation_object_name = view.names->object_suffix(e.operation_object);
    }
    if (e.operation != nullptr) m.operation = e.operation;
    m.location = location_text(e.where);  // the primitive operation's call site, or the atomic's own
    m.now_ns = e.now_ns;
    if (i + 1 == entries.size() || entries[i + 1].step != e.step) {
      const auto shared = static_cast<double>(i + 1 - run_start);
      for (std::size_t k = run_start; k <= i; ++k) {
        p.marks[k].dur = 0.9 / shared;  // a gap between slices, so rounding never makes them overlap
        p.marks[k].ts = static_cast<double>(e.step) + static_cast<double>(k - run_start) / shared;
      }
      run_start = i + 1;
    }
  }

  for (const TraceEdge& edge : view.edges) {
    if (edge.from >= edge.to || edge.to >= entries.size()) continue;
    p.arrows.push_back(
        Arrow{edge.from, edge.to, edge.kind == EdgeKind::wake ? ArrowKind::wake : ArrowKind::release_acquire});
  }
  // Spawn edges are in the trace itself: a spawn entry names the new fiber, whose first entry follows.
  absl::flat_hash_map<std::uint32_t, std::size_t> spawns;  // new fiber -> its spawn entry
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const TraceEntry& e = entries[i];
    if (e.spawned != UINT32_MAX && std::strcmp(e.what, "spawn") == 0) spawns.try_emplace(e.spawned, i);
    const auto it = spawns.find(e.fiber);
    if (it != spawns.end() && it->second < i) {
      p.arrows.push_back(Arrow{it->second, i, ArrowKind::spawn});
      spawns.erase(it);
    }
  }
  std::sort(p.arrows.begin(), p.arrows.end(),
            [](const Arrow& a, const Arrow& b) { return a.from != b.from ? a.from < b.from : a.to < b.to; });

  const Failure& failure = *view.result.failure;
  for (const Mark& m : p.marks) p.fibers.push_back(m.fiber);
  p.fibers.push_back(failure.fiber);
  std::sort(p.fibers.begin(), p.fibers.end());
  p.fibers.erase(std::unique(p.fibers.begin(), p.fibers.end()), p.fibers.end());
  if (view.names != nullptr) {
    for (const std::uint32_t fiber : p.fibers) {
      const std::string_view name = view.names->fiber(fiber);
      if (!name.empty()) p.fiber_names.try_emplace(fiber, name);
    }
  }

  // The failure is marked on the failing fiber's last entry of the failing step, if it has one.
  for (std::size_t i = p.marks.size(); i-- > 0;) {
    if (p.marks[i].step == failure.step && p.marks[i].fiber == failure.fiber) {
      p.failing_mark = i;
      break;
    }
    if (p.marks[i].step < failure.step) break;
  }
  p.failure_ts = p.failing_mark ? p.marks[*p.failing_mark].middle() : static_cast<double>(failure.step);
  return p;
}

std::string fiber_name(const Prepared& p, std::uint32_t fiber) {
  const auto named = p.fiber_names.find(fiber);
  if (named != p.fiber_names.end()) return absl::StrCat("fiber ", fiber, " (", named->second, ")");
  return fiber == 0 ? std::string("fiber 0 (main)") : absl::StrCat("fiber ", fiber);
}

std::string headline(const Result& result) {
  const std::string report = result.report();
  return report.substr(0, report.find('\n'));
}

}  // namespace

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

// --- HTML / SVG swimlanes ----------------------------------------------------------------------------

namespace {

constexpr int kAxisHeight = 28;
constexpr int kLaneHeight = 56;
constexpr int kPitch = 16;   // horizontal distance between consecutive entries
constexpr int kMargin = 24;  // left and right of the first and last entry

const char* mark_class(const Mark& m) {
  const std::string_view what = m.what;
  if (what.substr(0, 7) == "atomic ") return "atomic";
  if (what == "futex wake") return "wake";
  if (what == "futex wait" || what == "woken" || what == "wait timed out" || what == "spurious wake-up") {
    return "wait";
  }
  if (what.substr(0, 5) == "spawn" || what.substr(0, 4) == "join" || what == "finish") return "thread";
  return "other";
}

constexpr const char* kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #1d2330; background: #fff; }
h1 { font-size: 18px; margin: 0 0 8px; color: #b3261e; }
pre { background: #f4f5f8; padding: 6px 8px; margin: 4px 0; white-space: pre-wrap; word-break: break-all; }
pre.message { border-left: 4px solid #b3261e; }
.meta { color: #555; margin: 4px 0; }
.legend span { margin-right: 14px; white-space: nowrap; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin-right: 4px; vertical-align: -1px; }
.row { display: flex; border: 1px solid #d5d8e0; margin-top: 8px; }
.labels { flex: none; width: 120px; background: #fafbfc; border-right: 1px solid #d5d8e0; }
.labels div { height: 56px; line-height: 56px; padding-left: 8px; font-weight: 600; }
#lanes { overflow-x: auto; flex: 1; }
#info { min-height: 3.6em; margin-top: 6px; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 13px; }
svg text { font: 11px ui-monospace, monospace; fill: #555; }
.lane { stroke: #e3e5eb; stroke-width: 1; }
.mark { stroke: #fff; stroke-width: 1; cursor: pointer; }
.mark:hover { stroke: #000; stroke-width: 2; }
.atomic, i.atomic { fill: #3b6fd8; background: #3b6fd8; }
.wait, i.wait { fill: #e08a00; background: #e08a00; }
.wake, i.wake { fill: #8e44ad; background: #8e44ad; }
.thread, i.thread { fill: #6b7280; background: #6b7280; }
.other, i.other { fill: #1b998b; background: #1b998b; }
.arrow { fill: none; stroke-width: 1.5; opacity: 0.85; }
.arrow-wake { stroke: #8e44ad; }
.arrow-release_acquire { stroke: #2e9e44; }
.arrow-spawn { stroke: #9ca3af; stroke-dasharray: 4 3; }
.failure-line { stroke: #b3261e; stroke-width: 2; stroke-dasharray: 5 3; }
.failure-ring { fill: none; stroke: #b3261e; stroke-width: 3; }
svg text.failure-label { fill: #b3261e; font-weight: 700; }
)";

constexpr const char* kScript = R"(
(function () {
  var lanes = document.getElementById('lanes'), info = document.getElementById('info');
  lanes.addEventListener('mouseover', function (event) {
    var target = event.target.closest('[data-hover]');
    if (target) info.textContent = target.querySelector('title').textContent;
  });
  var failure = document.getElementById('failure');
  if (failure) {
    lanes.scrollLeft = Math.max(0, Number(failure.getAttribute('data-x')) - lanes.clientWidth * 0.7);
    info.textContent = failure.querySelector('title').textContent;
  }
})();
)";

}  // namespace

// The HTML page of a failure's last steps: one lane per fiber, a mark per step, arrows for the
// happens-before edges, the failure marked. Each part is one method.
class Swimlanes {
 public:
  explicit Swimlanes(const TraceView& view)
      : p_(prepare(view)),
        result_(view.result),
        failure_(*view.result.failure),
        first_(p_.marks.size() > kSwimlaneEntries ? p_.marks.size() - kSwimlaneEntries : 0),
        shown_(p_.marks.size() - first_),
        width_(2 * kMargin + static_cast<int>(shown_ > 0 ? shown_ - 1 : 0) * kPitch),
        height_(kAxisHeight + static_cast<int>(p_.fibers.size()) * kLaneHeight) {
    for (std::size_t i = 0; i < p_.fibers.size(); ++i) lane_of_[p_.fibers[i]] = static_cast<int>(i);
  }

  std::string html(std::string_view json_name) const {
    std::string out;
    header(out, json_name);
    lanes(out);
    arrows(out);
    marks(out);
    failure(out);
    absl::StrAppend(&out, "</svg>\n</div>\n</div>\n<div id=\"info\">Hover a mark or an arrow.</div>\n<script>", kScript,
                    "</script>\n</body>\n</html>\n");
    return out;
  }

 private:
  [[nodiscard]] int x_of(std::size_t index) const { return kMargin + static_cast<int>(index - first_) * kPitch; }
  [[nodiscard]] int y_of(std::uint32_t fiber) const {
    const auto lane = lane_of_.find(fiber);
    return kAxisHeight + (lane == lane_of_.end() ? 0 : lane->second) * kLaneHeight + kLaneHeight / 2;
  }

  // The head, the failure's message, reproduce line and configuration, the legend.
  void header(std::string& out, std::string_view json_name) const {
    const std::string title = headline(result_);
    absl::StrAppend(&out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
                    html_text(title), "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n");
    absl::StrAppend(&out, "<header>\n<h1>", html_text(title), "</h1>\n<pre class=\"message\">",
                    html_text(failure_.message), "</pre>\n<p class=\"meta\">in fiber ", failure_.fiber, " at step ",
                    failure_.step, failure_.where.empty() ? "" : ", ", html_text(failure_.where), "</p>\n",
                    "<pre class=\"reproduce\">reproduce: ", html_text(result_.reproduce), "</pre>\n",
                    "<p class=\"meta\">configuration: ", html_text(result_.configuration), "</p>\n");
    absl::StrAppend(
        &out,
        "<p class=\"meta legend\"><span><i class=\"atomic\"></i>atomic</span><span><i class=\"wait\"></i>futex "
        "wait / return</span><span><i class=\"wake\"></i>futex wake</span><span><i "
        "class=\"thread\"></i>spawn / join / finish</span><span><i class=\"other\"></i>other</span>"
        "<span style=\"color:#8e44ad\">&#8594; wake to wait return</span><span style=\"color:#2e9e44\">"
        "&#8594; release to acquire</span><span style=\"color:#6b7280\">&#8674; spawn</span></p>\n");
    absl::StrAppend(&out,
                    "<p class=\"meta\">One lane per fiber; left to right, the schedule's steps in order (the "
                    "step numbers of the report). Hover a mark for its operation, object and call site. ");
    if (first_ > 0) {
      absl::StrAppend(&out, "Showing the last ", shown_, " of ", p_.marks.size(), " entries (from step ",
                      p_.marks[first_].step, "); ");
    } else {
      absl::StrAppend(&out, "All ", p_.marks.size(), " entries of the ", result_.steps,
                      " steps (a wait's return or a fiber's finish shares its step); ");
    }
    absl::StrAppend(&out, "the full trace is in ", html_text(json_name),
                    " (Chrome Trace Event format: open it in Perfetto UI or chrome://tracing).</p>\n</header>\n");
  }

  // The fiber labels, the svg with its arrow heads, one line per lane and the step axis.
  void lanes(std::string& out) const {
    absl::StrAppend(&out, "<div class=\"row\">\n<div class=\"labels\" style=\"padding-top:", kAxisHeight, "px\">");
    for (const std::uint32_t fiber : p_.fibers)
      absl::StrAppend(&out, "<div>", html_text(fiber_name(p_, fiber)), "</div>");
    absl::StrAppend(&out, "</div>\n<div id=\"lanes\">\n<svg width=\"", width_, "\" height=\"", height_,
                    "\" viewBox=\"0 0 ", width_, " ", height_,
                    "\" role=\"img\" aria-label=\"schedule swimlanes\">\n<defs>");
    for (const ArrowKind kind : {ArrowKind::wake, ArrowKind::release_acquire, ArrowKind::spawn}) {
      absl::StrAppend(&out, "<marker id=\"head-", arrow_name(kind),
                      "\" viewBox=\"0 0 10 10\" refX=\"16\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
                      "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"",
                      arrow_color(kind), "\"/></marker>");
    }
    absl::StrAppend(&out, "</defs>\n");
    for (std::size_t lane = 0; lane < p_.fibers.size(); ++lane) {
      const int y = kAxisHeight + static_cast<int>(lane) * kLaneHeight + kLaneHeight / 2;
      absl::StrAppend(&out, "<line class=\"lane\" x1=\"0\" y1=\"", y, "\" x2=\"", width_, "\" y2=\"", y, "\"/>\n");
    }
    for (std::size_t i = first_; i < p_.marks.size(); i += 10) {
      absl::StrAppend(&out, "<text x=\"", x_of(i), "\" y=\"14\" text-anchor=\"middle\">", p_.marks[i].step, "</text>");
    }
    absl::StrAppend(&out, "\n");
  }

  void arrows(std::string& out) const {
    for (const Arrow& a : p_.arrows) {
      if (a.from < first_) continue;
      const int x1 = x_of(a.from);
      const int y1 = y_of(p_.marks[a.from].fiber);
      const int x2 = x_of(a.to);
      const int y2 = y_of(p_.marks[a.to].fiber);
      const int bend = std::max(12, (x2 - x1) / 2);
      absl::StrAppend(&out, "<path class=\"arrow arrow-", arrow_name(a.kind), "\" marker-end=\"url(#head-",
                      arrow_name(a.kind), ")\" d=\"M", x1, ",", y1, " C", x1 + bend, ",", y1, " ", x2 - bend, ",", y2,
                      " ", x2, ",", y2, "\"><title>", html_text(arrow_label(a.kind)), ": step ", p_.marks[a.from].step,
                      " (fiber ", p_.marks[a.from].fiber, ") to step ", p_.marks[a.to].step, " (fiber ",
                      p_.marks[a.to].fiber, ")</title></path>\n");
    }
  }

  void marks(std::string& out) const {
    for (std::size_t i = first_; i < p_.marks.size(); ++i) {
      const Mark& m = p_.marks[i];
      std::string hover = absl::StrCat("step ", m.step, ", ", fiber_name(p_, m.fiber), ": ", m.what,
                                       m.object != 0 ? absl::StrCat(" (object #", m.object, m.object_name, ")") : "");
      if (!m.operation.empty()) {
        absl::StrAppend(&hover, "\nin ", m.operation,
                        m.operation_object != 0
                            ? absl::StrCat(" (object #", m.operation_object, m.operation_object_name, ")")
                            : "");
      }
      if (!m.location.empty()) absl::StrAppend(&hover, "\nat ", m.location);
      if (m.now_ns != 0) absl::StrAppend(&hover, "\nvirtual time ", m.now_ns, " ns");
      absl::StrAppend(&out, "<circle class=\"mark ", mark_class(m), "\" data-hover=\"1\" cx=\"", x_of(i), "\" cy=\"",
                      y_of(m.fiber), "\" r=\"5\"><title>", html_text(hover), "</title></circle>\n");
    }
  }

  // The failure: a line across the lanes at its step and a ring on the failing fiber's mark.
  void failure(std::string& out) const {
    const int x = p_.failing_mark && *p_.failing_mark >= first_ ? x_of(*p_.failing_mark) : width_ - kMargin;
    const int y = y_of(failure_.fiber);
    std::string hover = absl::StrCat(std::string(to_string(failure_.kind)), " at step ", failure_.step, " in ",
                                     fiber_name(p_, failure_.fiber), "\n", failure_.message);
    if (!failure_.where.empty()) absl::StrAppend(&hover, "\nat ", failure_.where);
    absl::StrAppend(&out, "<g id=\"failure\" data-hover=\"1\" data-x=\"", x, "\"><title>", html_text(hover),
                    "</title><line class=\"failure-line\" x1=\"", x, "\" y1=\"18\" x2=\"", x, "\" y2=\"", height_,
                    "\"/><circle class=\"failure-ring\" cx=\"", x, "\" cy=\"", y,
                    "\" r=\"9\"/><text class=\"failure-label\" x=\"", x - 6, "\" y=\"", kAxisHeight - 2,
                    "\" text-anchor=\"end\">", html_text(std::string(to_string(failure_.kind))), "</text></g>\n");
  }

  Prepared p_;
  const Result& result_;
  const Failure& failure_;
  std::size_t first_;
  std::size_t shown_;
  int width_;
  int height_;
  absl::flat_hash_map<std::uint32_t, int> lane_of_;
};

std::string swimlane_html(const TraceView& view, std::string_view json_name) { return Swimlanes(view).html(json_name); }

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

void write_trace_files(std::string_view path, const std::vector<TraceEntry>& entries,
                       const std::vector<TraceEdge>& edges, Result& result, const model::Names* names) {
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
