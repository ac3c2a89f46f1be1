// ThreadSanitizer and fibers: a race between two fibers of one OS thread is reported when only
// ordinary (no_sync) switches separate the accesses, and not when a synchronizing switch does.
// Each scenario runs in a child process whose stderr goes to a file: a report makes TSan fail
// the child (exit code 66), and the parent reads the report. Skipped without TSan.
// Runtimes differ: clang 14's TSan follows the switch flags exactly; GCC 12's sometimes orders
// accesses that no_sync switches leave unordered (seen after a fiber's synchronizing start), so
// under GCC the "no report" cases below can pass without the mechanism they check; clang's
// build is the discriminating one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "interleave/detail/fiber.h"
#include "interleave/process.h"

namespace interleave::detail {
namespace {

constexpr std::size_t kStack = 64 * 1024;

int g_shared = 0;  // a plain int, no synchronization

__attribute__((noinline)) void write_shared(int value) { g_shared = value; }

struct Outcome {
  ExitStatus status;
  std::string stderr_text;
};

Outcome run_in_child(int (*scenario)()) {
  char path[] = "/tmp/interleave_fiber_tsan_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  Process child(
      [fd, scenario] {
        if (dup2(fd, STDERR_FILENO) < 0) return 90;
        return scenario();
      },
      "tsan scenario");
  child.start();
  Outcome outcome{child.join(), {}};
  close(fd);
  std::ifstream in(path);
  outcome.stderr_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  unlink(path);
  return outcome;
}

// Both fibers are started (synchronizing starts) and suspended; then A writes, A switches to B
// with the given flavour, and B writes.
struct TwoWriters {
  Fiber a{kStack};
  Fiber b{kStack};
  ExecutionContext* thread = &ThreadContext::current();
  bool synchronizing = false;
  bool ignore = false;
};

void writer_a(void* p) {
  auto* s = static_cast<TwoWriters*>(p);
  switch_fiber(s->a, *s->thread, false);  // started; wait for the thread
  if (s->ignore) tsan_ignore_begin();
  write_shared(1);
  if (s->ignore) tsan_ignore_end();
  switch_fiber(s->a, s->b, s->synchronizing);
  exit_fiber(s->a, *s->thread);
}

void writer_b(void* p) {
  auto* s = static_cast<TwoWriters*>(p);
  switch_fiber(s->b, *s->thread, false);
  if (s->ignore) tsan_ignore_begin();
  write_shared(2);
  if (s->ignore) tsan_ignore_end();
  exit_fiber(s->b, *s->thread);
}

int two_writers(bool synchronizing, bool ignore) {
  TwoWriters s;
  s.synchronizing = synchronizing;
  s.ignore = ignore;
  s.a.set_name("writer A");
  s.b.set_name("writer B");
  s.a.reset(&writer_a, &s);
  s.b.reset(&writer_b, &s);
  switch_fiber(*s.thread, s.a, true);
  switch_fiber(*s.thread, s.b, true);
  switch_fiber(*s.thread, s.a, false);  // A writes, switches to B, B writes and exits here
  return g_shared == 2 ? 0 : 91;
}

#define SKIP_WITHOUT_TSAN()                                                \
  do {                                                                     \
    if (!INTERLEAVE_TSAN) GTEST_SKIP() << "built without ThreadSanitizer"; \
  } while (false)

TEST(FiberTsan, RaceAcrossOrdinarySwitchIsReported) {
  SKIP_WITHOUT_TSAN();
  const Outcome o = run_in_child([] { return two_writers(false, false); });
  EXPECT_FALSE(o.status.success()) << o.status.describe();
  EXPECT_NE(o.stderr_text.find("ThreadSanitizer: data race"), std::string::npos) << o.stderr_text;
  EXPECT_NE(o.stderr_text.find("write_shared"), std::string::npos) << o.stderr_text;
  EXPECT_NE(o.stderr_text.find("writer A"), std::string::npos) << o.stderr_text;
}

TEST(FiberTsan, SynchronizingSwitchOrdersTheAccesses) {
  SKIP_WITHOUT_TSAN();
  const Outcome o = run_in_child([] { return two_writers(true, false); });
  EXPECT_TRUE(o.status.success()) << o.status.describe() << "\n" << o.stderr_text;
  EXPECT_EQ(o.stderr_text.find("ThreadSanitizer"), std::string::npos) << o.stderr_text;
}

TEST(FiberTsan, IgnoredAccessesAreNotReported) {
  SKIP_WITHOUT_TSAN();
  const Outcome o = run_in_child([] { return two_writers(false, true); });
  EXPECT_TRUE(o.status.success()) << o.status.describe() << "\n" << o.stderr_text;
  EXPECT_EQ(o.stderr_text.find("ThreadSanitizer"), std::string::npos) << o.stderr_text;
}

// The library's own bookkeeping (saved stack pointers, exception state, caches) must not show up
// as races: fibers that share no data, each started by an ordinary switch from another fiber.
struct Relay {
  // Written before the fibers exist: creating a TSan fiber orders the creator's past before it.
  ExecutionContext* thread = &ThreadContext::current();
  Fiber fibers[3]{Fiber(kStack), Fiber(kStack), Fiber(kStack)};
};

template <int I>
void relay_entry(void* p) {
  auto* r = static_cast<Relay*>(p);
  for (int round = 0; round < 3; ++round) {
    if constexpr (I < 2) {
      switch_fiber(r->fibers[I], r->fibers[I + 1], false);
    } else {
      switch_fiber(r->fibers[I], *r->thread, false);
    }
  }
  std::abort();  // never resumed after the last round
}

int relay() {
  Relay r;
  r.fibers[0].reset(&relay_entry<0>, &r);
  r.fibers[1].reset(&relay_entry<1>, &r);
  r.fibers[2].reset(&relay_entry<2>, &r);
  for (int round = 0; round < 3; ++round) switch_fiber(*r.thread, r.fibers[0], round == 0);
  return 0;
}

TEST(FiberTsan, SwitchingItselfIsNotReported) {
  SKIP_WITHOUT_TSAN();
  const Outcome o = run_in_child(&relay);
  EXPECT_TRUE(o.status.success()) << o.status.describe() << "\n" << o.stderr_text;
  EXPECT_EQ(o.stderr_text.find("ThreadSanitizer"), std::string::npos) << o.stderr_text;
}

// Destroying a fiber is like joining a thread: what it did happens before what follows, even
// though its last switch was an ordinary one.
struct Joined {
  ExecutionContext* thread = &ThreadContext::current();
  Fiber fiber{kStack};
};

int destroyed_fiber_is_joined() {
  {
    Joined j;
    j.fiber.reset(
        [](void* p) {
          auto* jp = static_cast<Joined*>(p);
          write_shared(1);
          switch_fiber(jp->fiber, *jp->thread, false);  // orders nothing
          std::abort();                                 // never resumed
        },
        &j);
    switch_fiber(*j.thread, j.fiber, true);
  }
  write_shared(2);
  return 0;
}

TEST(FiberTsan, DestroyingAFiberJoinsIt) {
  SKIP_WITHOUT_TSAN();
  const Outcome o = run_in_child(&destroyed_fiber_is_joined);
  EXPECT_TRUE(o.status.success()) << o.status.describe() << "\n" << o.stderr_text;
  EXPECT_EQ(o.stderr_text.find("ThreadSanitizer"), std::string::npos) << o.stderr_text;
}

// A fiber's stack is written by another fiber, then the fiber is abandoned and reset(): the new
// run reuses that stack memory. Like TSan does for a finished thread's stack, reset() must make
// TSan forget the old accesses; otherwise the other fiber's write and the new run's write to the
// same stack bytes are reported as a race.
struct ReusedStack {
  Fiber owner{kStack};
  Fiber helper{kStack};
  ExecutionContext* thread = &ThreadContext::current();
  std::atomic<volatile char*> slot{nullptr};  // atomic: the fibers are deliberately not ordered
  std::atomic<int> runs{0};
};

__attribute__((noinline)) void fill(volatile char* buffer, std::size_t size, char value) {
  for (std::size_t i = 0; i < size; ++i) buffer[i] = value;
}

constexpr std::size_t kBuffer = 64;

void owner_entry(void* p) {
  auto* s = static_cast<ReusedStack*>(p);
  volatile char buffer[kBuffer];
  fill(buffer, kBuffer, 1);
  if (s->runs.fetch_add(1, std::memory_order_relaxed) == 0) {
    s->slot.store(buffer, std::memory_order_relaxed);
    switch_fiber(s->owner, s->helper, true);  // the helper writes into `buffer`, then leaves
  } else {
    switch_fiber(s->owner, *s->thread, false);
  }
  std::abort();  // never resumed
}

void helper_entry(void* p) {
  auto* s = static_cast<ReusedStack*>(p);
  fill(s->slot.load(std::memory_order_relaxed), kBuffer, 2);
  switch_fiber(s->helper, *s->thread, false);  // no happens-before towards the thread
  std::abort();                                // never resumed
}

int reused_stack() {
  ReusedStack s;
  s.owner.reset(&owner_entry, &s);
  s.helper.reset(&helper_entry, &s);
  switch_fiber(*s.thread, s.owner, true);  // owner publishes its buffer; helper writes into it
  s.owner.reset(&owner_entry, &s);         // abandons the suspended run
  switch_fiber(*s.thread, s.owner, true);  // the new run writes the same stack bytes
  return s.runs.load(std::memory_order_relaxed) == 2 ? 0 : 92;
}

TEST(FiberTsan, ResetForgetsOtherFibersAccessesToTheStack) {
  SKIP_WITHOUT_TSAN();
  const Outcome o = run_in_child(&reused_stack);
  EXPECT_TRUE(o.status.success()) << o.status.describe() << "\n" << o.stderr_text;
  EXPECT_EQ(o.stderr_text.find("ThreadSanitizer"), std::string::npos) << o.stderr_text;
}

}  // namespace
}  // namespace interleave::detail
