// What the model runtime reports: failures (the first one of a schedule is kept), deadlocks with
// each blocked fiber's operation and call site, and the test's fingerprint.
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include "model/runtime.h"
#include "where.h"

namespace interleave::detail::model {

void Runtime::record_failure(FailureKind kind, std::string message, interleave::source_location where) {
  if (failure_) return;  // the first failure is the one reported
  Failure f;
  f.kind = kind;
  f.message = std::move(message);
  f.where = location_text(where);
  // A report's run names the user's frames that led to the failure (read from the failing fiber's
  // stack: a failure found elsewhere, such as a deadlock, has no site).
  // The runtime's own work: instrumented code's hooks (the addr2line pipe's reads) pass through.
  if (full_trace_ && where.line() != 0 && current_ != kOsThread) {
    const IgnoreScope ignore;
    f.call_chain = call_chain(chained_site(where));
  }
  f.fiber = current_;
  f.fiber_name = std::string(names_.fiber(current_));
  f.step = steps_;
  if (kind == FailureKind::data_race) f.message += names_.fiber_legend();
  failure_ = std::move(f);
}

void Runtime::fail(FailureKind kind, std::string message, interleave::source_location where) {
  if (std::uncaught_exceptions() > 0) {
    // Found inside a destructor that runs while its fiber unwinds: it cannot unwind again.
    std::fprintf(stderr, "interleave: %s: %s (at %s) while a fiber was unwinding%s; aborting\n",
                 std::string(to_string(kind)).c_str(), message.c_str(), location_text(where).c_str(),
                 failure_ ? absl::StrCat(" after ", failure_->message).c_str() : "");
    std::abort();
  }
  record_failure(kind, std::move(message), where);
  aborting_ = true;
  throw Aborted{};
}

void Runtime::fail_later(FailureKind kind, std::string message, interleave::source_location where) noexcept {
  try {
    record_failure(kind, std::move(message), where);
  } catch (...) {
  }
  aborting_ = true;
}

void Runtime::report_deadlock() {
  resolve_code_locations();  // the sites of instrumented code the fibers are blocked at
  std::string message = "every live fiber is blocked and no deadline is pending:";
  const ObjectNumbers objects(trace_);
  for (std::uint32_t i = 0; i < fibers_.size(); ++i) {
    const FiberState& f = fibers_[i];
    if (f.status != Status::blocked) continue;
    absl::StrAppend(&message, "\n    ", names_.fiber_label(i), " blocked in ");
    if (const OperationFrame* outer_frame = f.operations.outermost()) {
      const OperationFrame& outer = *outer_frame;
      absl::StrAppend(&message, outer.name, " (object ", objects.of(outer.object), names_.object_suffix(outer.object),
                      ")");
      if (f.operations.depth > 1) absl::StrAppend(&message, ", inside ", f.operations.innermost()->name);
      // A full trace recorded the site of its last step, the user's line where the primitive's
      // was in a library header (std::lock_guard).
      const interleave::source_location site = full_trace_ && f.last_site.line() != 0 ? f.last_site : outer.where;
      const std::string at = location_text(site);
      if (!at.empty()) absl::StrAppend(&message, " at ", at, call_chain(site));
    } else if (f.blocked_on == BlockedOn::join) {
      absl::StrAppend(&message, "join of ", names_.fiber_label(f.join_target));
    } else {
      absl::StrAppend(&message, "futex wait (object ", objects.of(f.wait_word), names_.object_suffix(f.wait_word), ")");
      // The wait's own site, when it was given one (ModelPlatform::wait) and the trace is full.
      const std::string at = full_trace_ ? location_text(f.last_site) : std::string();
      if (!at.empty()) absl::StrAppend(&message, " at ", at, call_chain(f.last_site));
    }
  }
  record_failure(FailureKind::deadlock, std::move(message), {});
  aborting_ = true;
}

TestFingerprint Runtime::fingerprint(std::uint32_t steps) const noexcept {
  TestFingerprint f;
  f.steps = std::min(steps, fingerprint_size_);
  // FNV-1a (64-bit) over each point's fiber number (4 bytes, little-endian), what and operation
  // (each ended by a NUL), and whether it was a scheduling point or an event (one byte, 1 or 0):
  // the same bytes on every build and run. Which steps are scheduling points is part of what a
  // token's schedule means, so a token from a version that chose at other steps does not fit.
  std::uint64_t h = 14695981039346656037ULL;
  const auto add = [&h](unsigned char byte) {
    h ^= byte;
    h *= 1099511628211ULL;
  };
  for (std::uint32_t i = 0; i < f.steps; ++i) {
    const FingerprintPoint& p = fingerprint_points_[i];
    f.fibers = std::max(f.fibers, p.fiber + 1);
    for (int b = 0; b < 4; ++b) add(static_cast<unsigned char>(p.fiber >> (8 * b)));
    for (const char* c = p.what; *c != '\0'; ++c) add(static_cast<unsigned char>(*c));
    add(0);
    for (const char* c = p.operation != nullptr ? p.operation : ""; *c != '\0'; ++c)
      add(static_cast<unsigned char>(*c));
    add(0);
    add(p.choice ? 1 : 0);
  }
  f.hash = static_cast<std::uint32_t>(h ^ (h >> 32));
  return f;
}

std::string Runtime::describe_fingerprint(std::uint32_t steps) const {
  // Repeats of one point (a spin loop) are counted, not listed: the message stays short.
  std::string out;
  const std::uint32_t n = std::min(steps, fingerprint_size_);
  for (std::uint32_t i = 0; i < n;) {
    const FingerprintPoint& p = fingerprint_points_[i];
    std::uint32_t same = 1;
    while (i + same < n && fingerprint_points_[i + same].fiber == p.fiber &&
           std::string_view(fingerprint_points_[i + same].what) == p.what &&
           std::string_view(fingerprint_points_[i + same].operation ? fingerprint_points_[i + same].operation : "") ==
               (p.operation ? p.operation : "")) {
      ++same;
    }
    absl::StrAppend(&out, out.empty() ? "" : ", ", "fiber ", p.fiber, " ", p.what,
                    p.operation != nullptr ? absl::StrCat(" in ", p.operation) : std::string(),
                    same > 1 ? absl::StrCat(" (x", same, ")") : std::string());
    i += same;
  }
  return out;
}

}  // namespace interleave::detail::model
