// Fibers: switching order (with the thread, round robin, directly between fibers, on several
// threads at once) and reuse (a pooled entry loop, reset after exit or while suspended, destroying
// a suspended fiber). What a switch preserves, exceptions, stacks and misuse have files of their
// own: fiber_registers_test, fiber_exceptions_test, fiber_stack_test, fiber_misuse_test.
#include "interleave/detail/fiber.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fiber_task.h"

namespace interleave::detail {
namespace {

using fiber_task::kStack;
using fiber_task::Task;

TEST(Fiber, PingPongWithThreadContextRunsInOrder) {
  std::vector<std::string> log;
  Task task([&](Task& t) {
    log.push_back("fiber 1");
    t.yield();
    log.push_back("fiber 2");
    t.yield();
    log.push_back("fiber 3");
  });
  log.push_back("thread 1");
  task.resume();
  log.push_back("thread 2");
  task.resume();
  log.push_back("thread 3");
  EXPECT_FALSE(task.finished);
  task.resume();
  log.push_back("thread 4");
  EXPECT_TRUE(task.finished);
  EXPECT_FALSE(task.fiber.resumable());
  EXPECT_EQ(
      log, (std::vector<std::string>{"thread 1", "fiber 1", "thread 2", "fiber 2", "thread 3", "fiber 3", "thread 4"}));
}

TEST(Fiber, ManyFibersRoundRobin) {
  constexpr int kFibers = 24;
  constexpr int kRounds = 50;
  std::vector<std::pair<int, int>> log;
  std::vector<std::unique_ptr<Task>> tasks;
  for (int id = 0; id < kFibers; ++id) {
    tasks.push_back(std::make_unique<Task>([&log, id](Task& t) {
      for (int round = 0; round < kRounds; ++round) {
        log.emplace_back(round, id);
        t.yield();
      }
    }));
  }
  for (int round = 0; round <= kRounds; ++round) {
    for (auto& t : tasks) t->resume();
  }
  ASSERT_EQ(log.size(), static_cast<std::size_t>(kFibers * kRounds));
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i], std::make_pair(static_cast<int>(i) / kFibers, static_cast<int>(i) % kFibers)) << "entry " << i;
  }
  for (auto& t : tasks) EXPECT_TRUE(t->finished);
}

// Fibers switch directly to each other, not only through the thread: A -> B -> C -> thread.
TEST(Fiber, FibersSwitchDirectlyToEachOther) {
  struct Chain {
    Fiber fibers[3]{Fiber(kStack), Fiber(kStack), Fiber(kStack)};
    ExecutionContext* thread = &ThreadContext::current();
    std::string visited;
  } chain;
  struct Link {
    Chain* chain;
    int index;
  };
  Link links[3] = {{&chain, 0}, {&chain, 1}, {&chain, 2}};
  for (int i = 0; i < 3; ++i) {
    chain.fibers[i].reset(
        [](void* p) {
          auto* link = static_cast<Link*>(p);
          Chain& c = *link->chain;
          c.visited += static_cast<char>('A' + link->index);
          if (link->index < 2) {
            switch_fiber(c.fibers[link->index], c.fibers[link->index + 1], true);
          } else {
            switch_fiber(c.fibers[2], *c.thread, true);
          }
          c.visited += static_cast<char>('a' + link->index);
          exit_fiber(c.fibers[link->index], *c.thread);
        },
        &links[i]);
  }
  switch_fiber(*chain.thread, chain.fibers[0], true);
  EXPECT_EQ(chain.visited, "ABC");
  // A and B are suspended inside their switch to the next fiber; resume them in reverse order.
  for (int i = 2; i >= 0; --i) switch_fiber(*chain.thread, chain.fibers[i], true);
  EXPECT_EQ(chain.visited, "ABCcba");
}

// The pool pattern: one reset, then an entry loop that runs task after task.
TEST(Fiber, PooledFiberRunsManyTasks) {
  struct Worker {
    Fiber fiber{kStack};
    ExecutionContext* thread = &ThreadContext::current();
    std::function<void()> task;
    bool stop = false;
    int ran = 0;
  } worker;
  worker.fiber.reset(
      [](void* p) {
        auto* w = static_cast<Worker*>(p);
        while (!w->stop) {
          w->task();
          ++w->ran;
          switch_fiber(w->fiber, *w->thread, true);  // task finished
        }
        exit_fiber(w->fiber, *w->thread);
      },
      &worker);
  long long sum = 0;
  constexpr int kTasks = 2000;
  for (int i = 0; i < kTasks; ++i) {
    worker.task = [&sum, i] { sum += i; };
    switch_fiber(*worker.thread, worker.fiber, true);  // task starts
  }
  worker.stop = true;
  switch_fiber(*worker.thread, worker.fiber, true);
  EXPECT_EQ(worker.ran, kTasks);
  EXPECT_EQ(sum, static_cast<long long>(kTasks) * (kTasks - 1) / 2);
  EXPECT_FALSE(worker.fiber.resumable());
}

TEST(Fiber, ResetAfterExitReusesTheFiber) {
  // Few rounds: under TSan a reset after a run renews the TSan fiber, which is slow with GCC.
  constexpr int kRounds = 40;
  struct State {
    Fiber fiber{kStack};
    ExecutionContext* thread = &ThreadContext::current();
    int value = 0;
  } state;
  for (int i = 0; i < kRounds; ++i) {
    state.fiber.reset(
        [](void* p) {
          auto* s = static_cast<State*>(p);
          ++s->value;
          exit_fiber(s->fiber, *s->thread);
        },
        &state);
    EXPECT_TRUE(state.fiber.resumable());
    switch_fiber(*state.thread, state.fiber, true);
    EXPECT_FALSE(state.fiber.resumable());
  }
  EXPECT_EQ(state.value, kRounds);
}

// A run abandoned while suspended (as after a deadlock) is discarded by reset().
TEST(Fiber, ResetWhileSuspendedAbandonsTheRun) {
  constexpr int kRounds = 40;
  struct State {
    Fiber fiber{kStack};
    ExecutionContext* thread = &ThreadContext::current();
    int started = 0;
    int finished = 0;
  } state;
  auto entry = [](void* p) {
    auto* s = static_cast<State*>(p);
    ++s->started;
    volatile char buffer[512];  // leaves ASan redzones behind on the abandoned stack
    buffer[0] = 1;
    (void)buffer[0];
    switch_fiber(s->fiber, *s->thread, true);
    ++s->finished;
    exit_fiber(s->fiber, *s->thread);
  };
  for (int i = 0; i < kRounds; ++i) {
    state.fiber.reset(entry, &state);
    switch_fiber(*state.thread, state.fiber, true);
    EXPECT_TRUE(state.fiber.resumable());  // suspended, never resumed
  }
  EXPECT_EQ(state.started, kRounds);
  EXPECT_EQ(state.finished, 0);
  switch_fiber(*state.thread, state.fiber, true);
  EXPECT_EQ(state.finished, 1);
}

// Destroying a fiber that is suspended (its run is abandoned) releases it cleanly.
TEST(Fiber, DestroyingASuspendedFiberIsClean) {
  for (int i = 0; i < 10; ++i) {
    Task task([](Task& t) {
      volatile char buffer[1024];
      buffer[0] = 1;
      (void)buffer[0];
      t.yield();
      FAIL() << "never resumed";
    });
    task.resume();
    EXPECT_FALSE(task.finished);
  }
}

// Every OS thread has its own ThreadContext and runs its own fibers at the same time.
TEST(Fiber, EachThreadHasItsOwnContext) {
  constexpr int kThreads = 3;
  constexpr int kSwitches = 2000;
  int counts[kThreads] = {};
  ExecutionContext* contexts[kThreads] = {};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&counts, &contexts, i] {
      contexts[i] = &ThreadContext::current();
      Task task([&counts, i](Task& t) {
        for (int k = 0; k < kSwitches; ++k) {
          ++counts[i];
          t.yield();
        }
      });
      for (int k = 0; k <= kSwitches; ++k) task.resume();
      if (!task.finished) counts[i] = -1;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(counts[i], kSwitches);
    EXPECT_NE(contexts[i], &ThreadContext::current());
    for (int j = 0; j < i; ++j) EXPECT_NE(contexts[i], contexts[j]);
  }
}

}  // namespace
}  // namespace interleave::detail
