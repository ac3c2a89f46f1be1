// What a failure report shows, on the small programs a user writes first: a lost update, a data
// race, a lock-order deadlock and a stale read under the weak memory model. Each report must name
// this file's lines for the decisive steps (not the library's), show every preemption of the
// reported schedule, use the names the test gave its threads and objects, and end with the one
// reproduce line, whose token replays the same report.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>
#include <version>

#include "interleave/explore.h"
#include "interleave/model_platform.h"
#include "interleave/mutex.h"
#include "interleave/names.h"
#include "interleave/shared.h"
#include "interleave/thread.h"

namespace interleave {
namespace {

using P = ModelPlatform;
using Word = P::Atomic<std::uint32_t>;

Options options(std::uint64_t schedules) {
  Options o;
  o.schedules = schedules;
  o.progress = Progress::off;
  o.jobs = 1;
  return o;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string here(int line) { return "report_test.cpp:" + std::to_string(line); }

// The lines of a report that describe the failure itself: all but the header, which says how the
// schedule was found ("schedule 5 of 1000" against "replay of a shrunk schedule"), and the
// configuration, which names the run's own settings (the replay's token among them).
std::vector<std::string> body_of(const Result& r) {
  std::vector<std::string> lines = lines_of(r.report());
  if (!lines.empty()) lines.erase(lines.begin());
  std::erase_if(lines, [](const std::string& l) { return l.rfind("  configuration: ", 0) == 0; });
  return lines;
}

// The checks every report must pass; `lines` are this file's lines of the decisive steps.
void expect_a_good_report(const Result& found, const std::function<Result(Options)>& run, const std::vector<int>& lines,
                          const std::vector<std::string>& names) {
  ASSERT_TRUE(found.failed());
  const std::string report = found.report();
  for (const int line : lines) EXPECT_NE(report.find(here(line)), std::string::npos) << here(line) << "\n" << report;
  for (const std::string& name : names) EXPECT_NE(report.find(name), std::string::npos) << name << "\n" << report;
  // No step points into the library's or the standard library's headers.
  EXPECT_EQ(report.find("include/interleave/"), std::string::npos) << report;
  EXPECT_EQ(report.find("include/c++/"), std::string::npos) << report;
  // Every preemption of the reported schedule is marked, however far from the end it lies.
  std::size_t marked = 0;
  for (std::size_t at = report.find("preempted here"); at != std::string::npos;
       at = report.find("preempted here", at + 1)) {
    ++marked;
  }
  EXPECT_EQ(marked, found.preemptions) << report;
  // One reproduce line, the last, naming the token that replays this report.
  const std::vector<std::string> all = lines_of(report);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back().rfind("reproduce: INTERLEAVE_REPLAY=" + found.reproduce_token() + " ", 0), 0U) << report;
  std::size_t reproduce_lines = 0;
  for (const std::string& l : all) reproduce_lines += l.find("INTERLEAVE_REPLAY=") != std::string::npos ? 1 : 0;
  EXPECT_EQ(reproduce_lines, 1U) << report;

  Options replay = options(1);
  replay.replay = found.reproduce_token();
  const Result again = run(replay);
  ASSERT_TRUE(again.failed()) << again;
  EXPECT_EQ(body_of(again), body_of(found)) << "the replay's report differs:\n" << again << "\nfrom:\n" << found;
}

// --- A lost update: two threads increment a counter with a load and a store -----------------------

// Atomic: both threads run the lambda that records them (on fibers that ThreadSanitizer, in the
// tsan preset, takes for threads).
std::atomic<int> g_load_line{0};
std::atomic<int> g_store_line{0};

void lost_update() {
  Word counter{0};
  name(counter, "counter");
  const auto increment = [&] {
    g_load_line.store(__LINE__ + 1, std::memory_order_relaxed);
    const std::uint32_t seen = counter.load(std::memory_order_relaxed);
    g_store_line.store(__LINE__ + 1, std::memory_order_relaxed);
    counter.store(seen + 1, std::memory_order_relaxed);
  };
  BasicThread<P> left(increment, "left");
  BasicThread<P> right(increment, "right");
  left.start();
  right.start();
  left.join();
  right.join();
  INTERLEAVE_ASSERT(counter.load() == 2U, "an increment was lost");
}

TEST(Report, ALostUpdateNamesTheLoadAndTheStoreAndTheThreads) {
  const auto run = [](Options o) { return explore(o, lost_update); };
  // Sequentially consistent: the update is lost only by an interleaving (the weak model also
  // loses it without one, by a stale read, and the shrunk schedule may then have no preemption).
  Options o = options(1000);
  o.memory_model = MemoryModel::sc;
  const Result found = run(o);
  ASSERT_TRUE(found.failed());
  EXPECT_EQ(found.failure->kind, FailureKind::assertion) << found;
  EXPECT_GE(found.preemptions, 1U) << found;
  expect_a_good_report(found, run, {g_load_line.load(), g_store_line.load()},
                       {"(left)", "(right)", "\"counter\"", "an increment was lost"});
}

// --- A data race: a plain write against a plain read ---------------------------------------------

int g_write_line = 0;
int g_read_line = 0;

void unordered_balance() {
  Shared<int, P> balance{0};
  name(balance, "balance");
  BasicThread<P> depositor(
      [&] {
        g_write_line = __LINE__ + 1;
        balance.write(100);
      },
      "depositor");
  depositor.start();
  g_read_line = __LINE__ + 1;
  (void)balance.read();
  depositor.join();
}

TEST(Report, ADataRaceNamesBothAccessesAndTheObject) {
  const auto run = [](Options o) { return explore(o, unordered_balance); };
  const Result found = run(options(1000));
  ASSERT_TRUE(found.failed());
  EXPECT_EQ(found.failure->kind, FailureKind::data_race) << found;
  // Both accesses are in the race message itself, not only in the step list.
  EXPECT_NE(found.failure->message.find(here(g_write_line)), std::string::npos) << found;
  EXPECT_NE(found.failure->message.find(here(g_read_line)), std::string::npos) << found;
  expect_a_good_report(found, run, {g_write_line, g_read_line}, {"(depositor)", "balance"});
}

// --- A lock-order deadlock: two threads take two mutexes in opposite orders ----------------------

int g_second_lock_in_forward = 0;
int g_second_lock_in_backward = 0;

void lock_order_inversion() {
  BasicMutex<P> accounts;
  BasicMutex<P> audit;
  name(accounts, "accounts");
  name(audit, "audit");
  BasicThread<P> forward(
      [&] {
        const std::lock_guard first(accounts);
        g_second_lock_in_forward = __LINE__ + 1;
        const std::lock_guard second(audit);
      },
      "forward");
  BasicThread<P> backward(
      [&] {
        const std::lock_guard first(audit);
        g_second_lock_in_backward = __LINE__ + 1;
        const std::lock_guard second(accounts);
      },
      "backward");
  forward.start();
  backward.start();
  forward.join();
  backward.join();
}

TEST(Report, ADeadlockNamesEachBlockedThreadAtItsOwnLine) {
  const auto run = [](Options o) { return explore(o, lock_order_inversion); };
  const Result found = run(options(1000));
  ASSERT_TRUE(found.failed());
  EXPECT_EQ(found.failure->kind, FailureKind::deadlock) << found;
  // The blocked list: each thread, by name, blocked at the line of its second lock.
  const std::string& m = found.failure->message;
  EXPECT_NE(m.find(here(g_second_lock_in_forward)), std::string::npos) << found;
  EXPECT_NE(m.find(here(g_second_lock_in_backward)), std::string::npos) << found;
  expect_a_good_report(found, run, {g_second_lock_in_forward, g_second_lock_in_backward},
                       {"(forward)", "(backward)", "accounts", "audit"});
}

// --- A stale read: a flag published with a relaxed store -----------------------------------------

int g_stale_load_line = 0;

void relaxed_publication() {
  Word data{0};
  Word ready{0};
  name(data, "data");
  name(ready, "ready");
  BasicThread<P> writer(
      [&] {
        data.store(42, std::memory_order_relaxed);
        ready.store(1, std::memory_order_relaxed);  // should be release
      },
      "writer");
  BasicThread<P> reader(
      [&] {
        if (ready.load(std::memory_order_acquire) == 1) {
          g_stale_load_line = __LINE__ + 1;
          const std::uint32_t seen = data.load(std::memory_order_relaxed);
          INTERLEAVE_ASSERT(seen == 42U, "ready was set but data is stale");
        }
      },
      "reader");
  writer.start();
  reader.start();
  writer.join();
  reader.join();
}

TEST(Report, AStaleReadNamesTheLoadThatReadAnOlderStore) {
  const auto run = [](Options o) {
    o.memory_model = MemoryModel::weak;
    return explore(o, relaxed_publication);
  };
  const Result found = run(options(10'000));
  ASSERT_TRUE(found.failed());
  EXPECT_EQ(found.failure->kind, FailureKind::assertion) << found;
  ASSERT_FALSE(found.stale_reads.empty()) << found;
  EXPECT_NE(found.stale_reads.front().find(here(g_stale_load_line)), std::string::npos) << found;
  expect_a_good_report(found, run, {g_stale_load_line}, {"(reader)", "\"data\"", "ready was set but data is stale"});
}

// --- Call chains: one helper called from two lines -----------------------------------------------
// A report names the helper's line and, after it, the user's line that called it: which caller
// raced, failed or blocked. The callers are read from the stack in the report's run (debug
// information: this test is built with -g), so they need std::source_location (g++ 11+, clang 15+).
// The lines are atomics: threads record them (on fibers that ThreadSanitizer takes for threads).

bool call_chains_supported() {
#if defined(__cpp_lib_source_location)
  return true;
#else
  return false;
#endif
}

std::atomic<int> g_helper_write_line{0};
std::atomic<int> g_teller_call_line{0};
std::atomic<int> g_main_call_line{0};

void add_to(Shared<int, P>& balance, int amount) {
  const int before = balance.read();
  g_helper_write_line.store(__LINE__ + 1, std::memory_order_relaxed);
  balance.write(before + amount);
}

void unlocked_deposits() {
  Shared<int, P> balance{0};
  BasicThread<P> teller(
      [&] {
        g_teller_call_line.store(__LINE__ + 1, std::memory_order_relaxed);
        add_to(balance, 100);
      },
      "teller");
  teller.start();
  g_main_call_line.store(__LINE__ + 1, std::memory_order_relaxed);
  add_to(balance, 50);
  teller.join();
}

TEST(Report, ARaceInsideAHelperNamesTheCallerOfEachAccess) {
  if (!call_chains_supported()) GTEST_SKIP() << "call chains need std::source_location";
  const auto run = [](Options o) { return explore(o, unlocked_deposits); };
  const Result found = run(options(1000));
  ASSERT_TRUE(found.failed());
  EXPECT_EQ(found.failure->kind, FailureKind::data_race) << found;
  const std::string& m = found.failure->message;
  EXPECT_NE(m.find(here(g_helper_write_line.load())), std::string::npos) << found;
  EXPECT_NE(m.find("called from"), std::string::npos) << found;
  EXPECT_NE(m.find(here(g_teller_call_line.load())), std::string::npos) << found;
  EXPECT_NE(m.find(here(g_main_call_line.load())), std::string::npos) << found;
  expect_a_good_report(found, run, {g_helper_write_line.load(), g_teller_call_line.load(), g_main_call_line.load()},
                       {"(teller)"});
}

std::atomic<int> g_audit_assert_line{0};
std::atomic<int> g_audit_call_line{0};

void audit(const Word& balance) {
  g_audit_assert_line.store(__LINE__ + 1, std::memory_order_relaxed);
  INTERLEAVE_ASSERT(balance.load() <= 100U, "the balance went over its limit");
}

void check_then_deposit() {
  Word balance{50};
  const auto deposit = [&] {
    if (balance.load() <= 50U) balance.fetch_add(50);
  };
  BasicThread<P> first(deposit, "first");
  BasicThread<P> second(deposit, "second");
  first.start();
  second.start();
  first.join();
  second.join();
  g_audit_call_line.store(__LINE__ + 1, std::memory_order_relaxed);
  audit(balance);
}

TEST(Report, AFailedAssertionInsideAHelperNamesItsCaller) {
  if (!call_chains_supported()) GTEST_SKIP() << "call chains need std::source_location";
  const auto run = [](Options o) { return explore(o, check_then_deposit); };
  const Result found = run(options(1000));
  ASSERT_TRUE(found.failed());
  EXPECT_EQ(found.failure->kind, FailureKind::assertion) << found;
  EXPECT_NE(found.failure->where.find(here(g_audit_assert_line.load())), std::string::npos) << found;
  EXPECT_NE(found.failure->call_chain.find(", called from "), std::string::npos) << found;
  EXPECT_NE(found.failure->call_chain.find(here(g_audit_call_line.load())), std::string::npos) << found;
  // The report's line for the failure carries the chain.
  EXPECT_NE(found.report().find(here(g_audit_assert_line.load()) + ", called from "), std::string::npos) << found;
  expect_a_good_report(found, run, {g_audit_assert_line.load(), g_audit_call_line.load()},
                       {"the balance went over its limit"});
}

std::atomic<int> g_second_lock_in_helper{0};
std::atomic<int> g_forward_call_line{0};
std::atomic<int> g_backward_call_line{0};

void lock_both(BasicMutex<P>& first, BasicMutex<P>& second) {
  first.lock();
  g_second_lock_in_helper.store(__LINE__ + 1, std::memory_order_relaxed);
  second.lock();
  second.unlock();
  first.unlock();
}

void helper_lock_order_inversion() {
  BasicMutex<P> accounts;
  BasicMutex<P> audit_log;
  BasicThread<P> forward(
      [&] {
        g_forward_call_line.store(__LINE__ + 1, std::memory_order_relaxed);
        lock_both(accounts, audit_log);
      },
      "forward");
  BasicThread<P> backward(
      [&] {
        g_backward_call_line.store(__LINE__ + 1, std::memory_order_relaxed);
        lock_both(audit_log, accounts);
      },
      "backward");
  forward.start();
  backward.start();
  forward.join();
  backward.join();
}

TEST(Report, ADeadlockInsideAHelperNamesWhereEachThreadCalledIt) {
  if (!call_chains_supported()) GTEST_SKIP() << "call chains need std::source_location";
  const auto run = [](Options o) { return explore(o, helper_lock_order_inversion); };
  const Result found = run(options(1000));
  ASSERT_TRUE(found.failed());
  EXPECT_EQ(found.failure->kind, FailureKind::deadlock) << found;
  const std::string& m = found.failure->message;
  EXPECT_NE(m.find(here(g_second_lock_in_helper.load()) + ", called from "), std::string::npos) << found;
  EXPECT_NE(m.find(here(g_forward_call_line.load())), std::string::npos) << found;
  EXPECT_NE(m.find(here(g_backward_call_line.load())), std::string::npos) << found;
  expect_a_good_report(found, run,
                       {g_second_lock_in_helper.load(), g_forward_call_line.load(), g_backward_call_line.load()},
                       {"(forward)", "(backward)"});
}

}  // namespace
}  // namespace interleave
