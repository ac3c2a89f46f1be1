// Options::trace_path / INTERLEAVE_TRACE: a failing exploration writes its schedule as Chrome Trace
// Event JSON and as a self-contained HTML swimlane page; a passing one writes nothing; a bad path
// is refused or reported without losing the report.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/options.h"
#include "interleave/thread.h"
#include "interleave_test_support.h"

namespace interleave {
namespace {

using test_support::read_text;
using test_support::ScopedEnv;
using test_support::TemporaryDirectory;

namespace fs = std::filesystem;
using nlohmann::json;

// counter += 1 as a read and a write: two threads lose updates.
struct UnlockedCounter {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<std::uint32_t> counter{0};
    auto increment = [&] {
      for (int i = 0; i < 3; ++i) counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    };
    BasicThread<P> thread1(increment);
    BasicThread<P> thread2(increment);
    thread1.start();
    thread2.start();
    thread1.join();
    thread2.join();
    INTERLEAVE_ASSERT(counter.load() == 6);
  }
};

struct LockedCounter {
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    typename P::template Atomic<std::uint32_t> counter{0};
    auto increment = [&] {
      std::lock_guard guard(lock);
      for (int i = 0; i < 3; ++i) counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    };
    BasicThread<P> thread1(increment);
    BasicThread<P> thread2(increment);
    thread1.start();
    thread2.start();
    thread1.join();
    thread2.join();
    INTERLEAVE_ASSERT(counter.load() == 6);
  }
};

// Two locks taken in opposite orders.
struct LockOrderInversion {
  template <Platform P>
  void operator()() const {
    BasicMutex<P> a;
    BasicMutex<P> b;
    BasicThread<P> thread1([&] {
      a.lock();
      b.lock();
      b.unlock();
      a.unlock();
    });
    BasicThread<P> thread2([&] {
      b.lock();
      a.lock();
      a.unlock();
      b.unlock();
    });
    thread1.start();
    thread2.start();
    thread1.join();
    thread2.join();
  }
};

// Contended locking, then a check that always fails: every schedule fails, with whatever waits,
// wakes and lock hand-overs it happened to have.
struct ContendedThenFails {
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    typename P::template Atomic<std::uint32_t> counter{0};
    auto work = [&] {
      for (int i = 0; i < 3; ++i) {
        lock.lock();
        counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        lock.unlock();
      }
    };
    BasicThread<P> thread1(work);
    BasicThread<P> thread2(work);
    thread1.start();
    thread2.start();
    thread1.join();
    thread2.join();
    INTERLEAVE_ASSERT(counter.load() == 0);
  }
};

Options traced(const std::string& path, std::uint64_t schedules = 1000) {
  Options o;
  o.schedules = schedules;
  o.trace_path = path;
  return o;
}

// The X event (a step) on lane `tid` whose time span holds `ts`, or nullptr.
const json* step_at(const json& events, std::uint32_t tid, double ts) {
  for (const json& e : events) {
    if (e["ph"] == "X" && e["tid"] == tid && e["ts"].get<double>() <= ts &&
        ts < e["ts"].get<double>() + e["dur"].get<double>()) {
      return &e;
    }
  }
  return nullptr;
}

// Checks everything the Chrome Trace Event format and Perfetto need, plus what the trace must
// say about this failure. Returns the parsed document.
json check_chrome_trace(const std::string& path, const Result& result, std::size_t fibers) {
  const std::string text = read_text(path);
  EXPECT_FALSE(text.empty()) << path;
  json doc = json::parse(text);  // throws (failing the test) on malformed JSON
  EXPECT_TRUE(doc.is_object());
  EXPECT_TRUE(doc["traceEvents"].is_array());
  const json& events = doc["traceEvents"];

  std::set<std::uint32_t> named_lanes;
  std::set<std::uint32_t> step_lanes;
  std::map<std::uint64_t, std::vector<const json*>> flows;
  std::vector<const json*> failure_markers;
  std::size_t steps = 0;
  for (const json& e : events) {
    for (const char* key : {"ph", "pid", "tid", "ts", "name"}) {
      EXPECT_TRUE(e.contains(key)) << "an event without \"" << key << "\": " << e.dump();
    }
    const std::string ph = e["ph"];
    EXPECT_TRUE(e["ts"].is_number()) << e.dump();
    EXPECT_TRUE(e["name"].is_string()) << e.dump();
    if (ph == "M" && e["name"] == "thread_name") {
      named_lanes.insert(e["tid"].get<std::uint32_t>());
      EXPECT_TRUE(e["args"]["name"].get<std::string>().starts_with("fiber ")) << e.dump();
    } else if (ph == "X") {
      ++steps;
      step_lanes.insert(e["tid"].get<std::uint32_t>());
      EXPECT_GT(e["dur"].get<double>(), 0) << e.dump();
      EXPECT_TRUE(e["args"]["step"].is_number_unsigned()) << e.dump();
      EXPECT_TRUE(e["args"]["what"].is_string()) << e.dump();
      if (e["args"].contains("operation")) {
        EXPECT_TRUE(e["name"].get<std::string>().starts_with(e["args"]["operation"].get<std::string>())) << e.dump();
      }
    } else if (ph == "s" || ph == "f") {
      flows[e["id"].get<std::uint64_t>()].push_back(&e);
    } else if (ph == "i") {
      failure_markers.push_back(&e);
    } else {
      EXPECT_EQ(ph, "M") << "unexpected event phase: " << e.dump();
    }
  }
  EXPECT_GT(steps, 0U);
  EXPECT_EQ(named_lanes.size(), fibers) << "one lane per fiber";
  for (const std::uint32_t lane : step_lanes) EXPECT_TRUE(named_lanes.contains(lane)) << "unnamed lane " << lane;

  // Flow events: one start and one finish per id, the finish bound to its enclosing slice, both
  // ends on a step, the arrow pointing forward in time.
  for (const auto& [id, ends] : flows) {
    EXPECT_EQ(ends.size(), 2U) << "flow id " << id;
    if (ends.size() != 2) continue;
    const json& start = *ends[0];
    const json& finish = *ends[1];
    EXPECT_EQ(start["ph"], "s") << start.dump();
    EXPECT_EQ(finish["ph"], "f") << finish.dump();
    EXPECT_EQ(finish["bp"], "e") << finish.dump();
    EXPECT_EQ(start["cat"], finish["cat"]);
    EXPECT_LT(start["ts"].get<double>(), finish["ts"].get<double>()) << start.dump() << " " << finish.dump();
    EXPECT_NE(step_at(events, start["tid"], start["ts"]), nullptr) << start.dump();
    EXPECT_NE(step_at(events, finish["tid"], finish["ts"]), nullptr) << finish.dump();
  }

  // The failure marker: on the failing fiber's lane, at the failing step, with the message.
  const Failure& failure = *result.failure;
  EXPECT_EQ(failure_markers.size(), 1U);
  if (!failure_markers.empty()) {
    const json& marker = *failure_markers.front();
    EXPECT_EQ(marker["tid"].get<std::uint32_t>(), failure.fiber);
    EXPECT_EQ(marker["s"], "t");
    EXPECT_EQ(marker["args"]["step"].get<std::uint64_t>(), failure.step);
    EXPECT_EQ(marker["args"]["message"].get<std::string>(), failure.message);
    EXPECT_NE(marker["name"].get<std::string>().find(std::string(to_string(failure.kind))), std::string::npos);
    const json* at = step_at(events, failure.fiber, marker["ts"].get<double>());
    EXPECT_NE(at, nullptr) << "the marker sits on the failing fiber's step";
    if (at != nullptr) {
      EXPECT_EQ((*at)["args"]["step"].get<std::uint64_t>(), failure.step);
    }
  }
  EXPECT_EQ(doc["otherData"]["reproduce"].get<std::string>(), result.reproduce);
  return doc;
}

std::string html_escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
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

void check_html(const std::string& path, const Result& result) {
  const std::string html = read_text(path);
  ASSERT_FALSE(html.empty()) << path;
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("<svg"), std::string::npos);
  // Self-contained: nothing fetched from a network, no external script, style sheet or font.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // It names the failure and carries the reproduce line.
  EXPECT_NE(html.find(std::string(to_string(result.failure->kind))), std::string::npos);
  EXPECT_NE(html.find(html_escaped(result.failure->message)), std::string::npos);
  EXPECT_NE(html.find(html_escaped(result.reproduce)), std::string::npos);
  EXPECT_NE(html.find("id=\"failure\""), std::string::npos);
}

TEST(TraceExport, LostUpdateWritesJsonAndHtml) {
  const TemporaryDirectory dir;
  const Result r = explore(traced(dir.file("counter.json")), UnlockedCounter{});
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.failure->kind, FailureKind::assertion) << r;
  ASSERT_EQ(r.trace_files, (std::vector<std::string>{dir.file("counter.json"), dir.file("counter.html")})) << r;
  EXPECT_TRUE(r.trace_error.empty()) << r.trace_error;
  EXPECT_NE(r.report().find("trace: " + dir.file("counter.json") + ", " + dir.file("counter.html")), std::string::npos)
      << r;
  const json doc = check_chrome_trace(dir.file("counter.json"), r, 3);
  check_html(dir.file("counter.html"), r);

  // Every recorded step is in the JSON, numbered as the report numbers them.
  std::set<std::uint64_t> steps;
  for (const json& e : doc["traceEvents"]) {
    if (e["ph"] == "X") steps.insert(e["args"]["step"].get<std::uint64_t>());
  }
  EXPECT_EQ(*steps.rbegin(), r.steps);
  for (const StepRecord& shown : r.last_steps) EXPECT_TRUE(steps.contains(shown.step)) << shown.step;
}

TEST(TraceExport, DeadlockWritesTheBlockedFibers) {
  const TemporaryDirectory dir;
  const Result r = explore(traced(dir.file("deadlock.json"), 10'000), LockOrderInversion{});
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  ASSERT_EQ(r.trace_files.size(), 2U) << r;
  check_chrome_trace(dir.file("deadlock.json"), r, 3);
  check_html(dir.file("deadlock.html"), r);
  EXPECT_NE(read_text(dir.file("deadlock.html")).find("DEADLOCK"), std::string::npos);
}

// Arrows: every wait that returned because a wake picked it has an arrow from that wake, on
// another lane; every release -> acquire arrow joins a release write to a later acquiring
// operation of another fiber on the same object. Some schedules hand the lock over through a wait.
TEST(TraceExport, ArrowsJoinWakesToWaitsAndReleasesToAcquires) {
  std::size_t wake_arrows = 0;
  std::size_t release_acquire_arrows = 0;
  std::size_t spawn_arrows = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const TemporaryDirectory dir;
    Options o = traced(dir.file("t.json"), 1);
    o.seed = seed;
    o.shrink_runs = 0;  // shrinking would take every preemption, and so every contended wait, away
    const Result r = explore(o, ContendedThenFails{});
    ASSERT_TRUE(r.failed());
    ASSERT_EQ(r.trace_files.size(), 2U) << r;
    const json doc = check_chrome_trace(dir.file("t.json"), r, 3);
    const json& events = doc["traceEvents"];
    std::map<std::uint64_t, const json*> starts;
    std::set<const json*> woken_with_arrow;
    for (const json& e : events) {
      if (e["ph"] == "s") starts[e["id"].get<std::uint64_t>()] = &e;
    }
    for (const json& e : events) {
      if (e["ph"] != "f") continue;
      const json& start = *starts.at(e["id"].get<std::uint64_t>());
      const json* from = step_at(events, start["tid"], start["ts"]);
      const json* to = step_at(events, e["tid"], e["ts"]);
      ASSERT_NE(from, nullptr);
      ASSERT_NE(to, nullptr);
      const std::string from_what = (*from)["args"]["what"];
      const std::string to_what = (*to)["args"]["what"];
      if (e["cat"] == "wake") {
        ++wake_arrows;
        EXPECT_EQ(from_what, "futex wake");
        EXPECT_EQ(to_what, "woken");
        EXPECT_NE(start["tid"], e["tid"]);
        EXPECT_EQ((*from)["args"]["object"], (*to)["args"]["object"]) << "the same futex word";
        woken_with_arrow.insert(to);
      } else if (e["cat"] == "release_acquire") {
        ++release_acquire_arrows;
        EXPECT_TRUE(from_what.starts_with("atomic ") && from_what != "atomic load") << from_what;
        EXPECT_TRUE(to_what.starts_with("atomic ") && to_what != "atomic store") << to_what;
        EXPECT_NE(start["tid"], e["tid"]);
        EXPECT_EQ((*from)["args"]["object"], (*to)["args"]["object"]) << "the same atomic object";
      } else {
        EXPECT_EQ(e["cat"], "spawn");
        ++spawn_arrows;
        EXPECT_TRUE(from_what.starts_with("spawn fiber ")) << from_what;
      }
    }
    for (const json& e : events) {
      if (e["ph"] == "X" && e["args"]["what"] == "woken") {
        EXPECT_TRUE(woken_with_arrow.contains(&e)) << "a woken wait without its wake arrow: " << e.dump();
      }
    }
  }
  EXPECT_GT(wake_arrows, 0U) << "no schedule handed the lock over through a futex wait";
  EXPECT_GT(release_acquire_arrows, 0U);
  EXPECT_EQ(spawn_arrows, 2U * 20U);
}

TEST(TraceExport, AnHtmlPathWritesBothFiles) {
  const TemporaryDirectory dir;
  const Result r = explore(traced(dir.file("page.html")), UnlockedCounter{});
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.trace_files, (std::vector<std::string>{dir.file("page.json"), dir.file("page.html")})) << r;
  check_chrome_trace(dir.file("page.json"), r, 3);
  check_html(dir.file("page.html"), r);
}

TEST(TraceExport, UserTextIsEscapedInBothFormats) {
  const TemporaryDirectory dir;
  const Result r = explore(traced(dir.file("escape.json")), []<Platform P>() {
    typename P::template Atomic<int> value{0};
    INTERLEAVE_ASSERT(value.load() == 0 && std::string("quote\" <b>tag</b> & tab\t") == "back\\slash");
  });
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.trace_files.size(), 2U) << r;
  const json doc = check_chrome_trace(dir.file("escape.json"), r, 1);
  EXPECT_EQ(doc["otherData"]["message"].get<std::string>(), r.failure->message);
  const std::string html = read_text(dir.file("escape.html"));
  EXPECT_EQ(html.find("<b>tag</b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;tag&lt;/b&gt;"), std::string::npos);
  check_html(dir.file("escape.html"), r);
}

// An exception's message may hold any bytes: control characters are escaped, and bytes that are
// not UTF-8 become U+FFFD, so the JSON still parses.
TEST(TraceExport, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  const TemporaryDirectory dir;
  const Result r = explore(traced(dir.file("bytes.json")), []<Platform P>() {
    typename P::template Atomic<int> value{0};
    if (value.load() == 0) throw std::runtime_error("byte \xff, control \x01, <b>tag</b>, \xc3\xa9");
  });
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.failure->kind, FailureKind::exception) << r;
  ASSERT_EQ(r.trace_files.size(), 2U) << r;
  const json doc = json::parse(read_text(dir.file("bytes.json")));
  const std::string message = doc["otherData"]["message"];
  EXPECT_NE(message.find("byte \xef\xbf\xbd, control \x01, <b>tag</b>, \xc3\xa9"), std::string::npos) << message;
  const std::string html = read_text(dir.file("bytes.html"));
  EXPECT_NE(html.find("byte \xef\xbf\xbd, control \x01, &lt;b&gt;tag&lt;/b&gt;, \xc3\xa9"), std::string::npos);
}

TEST(TraceExport, APassingExplorationWritesNothing) {
  const TemporaryDirectory dir;
  const Result r = explore(traced(dir.file("pass.json"), 200), LockedCounter{});
  ASSERT_TRUE(r.passed()) << r;
  EXPECT_TRUE(r.trace_files.empty());
  EXPECT_EQ(dir.entries(), 0U);
  EXPECT_EQ(r.report().find("trace:"), std::string::npos) << r;
  EXPECT_EQ(r.report().find("trace not written"), std::string::npos) << r;
}

TEST(TraceExport, AnUnwritablePathIsReportedAndTheReportIsKept) {
  const TemporaryDirectory dir;
  const std::string path = dir.file("no/such/directory/t.json");
  const Result r = explore(traced(path), UnlockedCounter{});
  ASSERT_TRUE(r.failed());
  EXPECT_TRUE(r.trace_files.empty());
  EXPECT_NE(r.trace_error.find(path), std::string::npos) << r.trace_error;
  EXPECT_NE(r.trace_error.find("No such file or directory"), std::string::npos) << r.trace_error;
  const std::string report = r.report();
  EXPECT_NE(report.find("trace not written: cannot open '" + path + "' for writing"), std::string::npos) << report;
  EXPECT_NE(report.find("ASSERTION FAILED"), std::string::npos) << report;
  EXPECT_NE(report.find(r.failure->message), std::string::npos) << report;
  EXPECT_NE(report.find("\nreproduce: INTERLEAVE_REPLAY="), std::string::npos) << report;
}

TEST(TraceExport, APathWithoutJsonOrHtmlIsRefusedBeforeRunning) {
  bool ran = false;
  try {
    (void)explore(traced("trace.txt"), [&ran]<Platform P>() { ran = true; });
    ADD_FAILURE() << "a trace path ending in .txt was accepted";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'trace.txt'"), std::string::npos) << message;
    EXPECT_NE(message.find(".json or .html"), std::string::npos) << message;
  }
  EXPECT_FALSE(ran);
}

TEST(TraceExport, TheEnvironmentVariableSetsThePathAndRefusesMalformedOnes) {
  {
    const ScopedEnv trace("INTERLEAVE_TRACE", "out/x.json");
    Options o;
    o.apply_environment();
    EXPECT_EQ(o.trace_path, "out/x.json");
    EXPECT_NE(o.describe().find(" trace=out/x.json"), std::string::npos) << o.describe();
  }
  for (const char* bad : {"", "x.txt", ".json", "dir/.html", "x.json.gz"}) {
    const ScopedEnv trace("INTERLEAVE_TRACE", bad);
    Options o;
    try {
      o.apply_environment();
      ADD_FAILURE() << "INTERLEAVE_TRACE='" << bad << "' was accepted";
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("INTERLEAVE_TRACE='" + std::string(bad) + "'"), std::string::npos) << message;
      EXPECT_NE(message.find("ending in .json or .html"), std::string::npos) << message;
    }
  }
}

TEST(TraceExport, TheEnvironmentVariableWritesTheTrace) {
  const TemporaryDirectory dir;
  const ScopedEnv trace("INTERLEAVE_TRACE", dir.file("env.json").c_str());
  Options o;
  o.schedules = 1000;
  const Result r = explore(o, UnlockedCounter{});
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.trace_files.size(), 2U) << r;
  EXPECT_TRUE(fs::exists(dir.file("env.json")));
  EXPECT_TRUE(fs::exists(dir.file("env.html")));
}

}  // namespace
}  // namespace interleave
