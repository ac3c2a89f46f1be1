// The failing schedule's trace as a self-contained HTML/SVG swimlane page (trace_export.h).
#include <absl/container/flat_hash_map.h>
#include <absl/strings/str_cat.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "explore/trace_export.h"
#include "explore/trace_prepared.h"

namespace interleave::detail {

using namespace trace;  // NOLINT(google-build-using-namespace): the prepared trace this page draws

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

}  // namespace interleave::detail
