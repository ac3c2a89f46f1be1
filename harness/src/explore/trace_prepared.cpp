// A failing schedule's trace prepared once for both of its formats (trace_prepared.h).
#include "explore/trace_prepared.h"

#include <absl/container/flat_hash_map.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

#include <algorithm>
#include <cstring>

#include "where.h"

namespace interleave::detail::trace {

using model::EdgeKind;
using model::ObjectNumbers;
using model::TraceEdge;
using model::TraceEntry;

// --- text ------------------------------------------------------------------------------------------

namespace {

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

}  // namespace

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

namespace {

// One mark per trace entry; the entries of one step share the step's slot on the time axis.
std::vector<Mark> marks_of(const TraceView& view) {
  const std::vector<TraceEntry>& entries = view.entries;
  std::vector<Mark> marks(entries.size());
  const ObjectNumbers objects(entries);  // as the report numbers them
  const auto number = [&objects](const void* object) { return objects.of(object); };

  std::size_t run_start = 0;  // entries with the same step are consecutive
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const TraceEntry& e = entries[i];
    Mark& m = marks[i];
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
        marks[k].dur = 0.9 / shared;  // a gap between slices, so rounding never makes them overlap
        marks[k].ts = static_cast<double>(e.step) + static_cast<double>(k - run_start) / shared;
      }
      run_start = i + 1;
    }
  }
  return marks;
}

// Wake and release/acquire edges from the runtime, spawn edges read from the trace.
std::vector<Arrow> arrows_of(const TraceView& view) {
  const std::vector<TraceEntry>& entries = view.entries;
  std::vector<Arrow> arrows;
  for (const TraceEdge& edge : view.edges) {
    if (edge.from >= edge.to || edge.to >= entries.size()) continue;
    arrows.push_back(
        Arrow{edge.from, edge.to, edge.kind == EdgeKind::wake ? ArrowKind::wake : ArrowKind::release_acquire});
  }
  // Spawn edges are in the trace itself: a spawn entry names the new fiber, whose first entry follows.
  absl::flat_hash_map<std::uint32_t, std::size_t> spawns;  // new fiber -> its spawn entry
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const TraceEntry& e = entries[i];
    if (e.spawned != UINT32_MAX && std::strcmp(e.what, "spawn") == 0) spawns.try_emplace(e.spawned, i);
    const auto it = spawns.find(e.fiber);
    if (it != spawns.end() && it->second < i) {
      arrows.push_back(Arrow{it->second, i, ArrowKind::spawn});
      spawns.erase(it);
    }
  }
  std::sort(arrows.begin(), arrows.end(),
            [](const Arrow& a, const Arrow& b) { return a.from != b.from ? a.from < b.from : a.to < b.to; });
  return arrows;
}

}  // namespace

Prepared prepare(const TraceView& view) {
  Prepared p;
  p.marks = marks_of(view);
  p.arrows = arrows_of(view);
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

}  // namespace interleave::detail::trace
