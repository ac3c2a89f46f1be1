// Fibers: switching order, reuse, preserved register and floating-point state, exceptions,
// stacks and their guard regions, misuse.
#include "interleave/detail/fiber.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "interleave/process.h"

#if INTERLEAVE_ASAN
// Exercise the fake-stack hand-offs: locals of instrumented functions live on per-fiber fake
// stacks, and a broken hand-off crashes or reports false errors.
extern "C" __attribute__((used, visibility("default"))) const char* __asan_default_options() {
  return "detect_stack_use_after_return=1";
}
#endif

// Loads base+1..base+5 into rbx, r12, r13, r14, r15, calls fn(arg) and returns a bit mask of
// those registers that no longer hold their value afterwards (bit 0 = rbx ... bit 4 = r15).
extern "C" unsigned interleave_test_check_callee_saved(std::uint64_t base, void (*fn)(void*), void* arg);
asm(R"(
        .text
        .p2align 4
        .globl  interleave_test_check_callee_saved
        .hidden interleave_test_check_callee_saved
        .type   interleave_test_check_callee_saved, @function
interleave_test_check_callee_saved:
        .cfi_startproc
        pushq   %rbp
        .cfi_def_cfa_offset 16
        .cfi_offset %rbp, -16
        pushq   %rbx
        .cfi_def_cfa_offset 24
        .cfi_offset %rbx, -24
        pushq   %r12
        .cfi_def_cfa_offset 32
        .cfi_offset %r12, -32
        pushq   %r13
        .cfi_def_cfa_offset 40
        .cfi_offset %r13, -40
        pushq   %r14
        .cfi_def_cfa_offset 48
        .cfi_offset %r14, -48
        pushq   %r15
        .cfi_def_cfa_offset 56
        .cfi_offset %r15, -56
        pushq   %rdi
        .cfi_def_cfa_offset 64
        leaq    1(%rdi), %rbx
        leaq    2(%rdi), %r12
        leaq    3(%rdi), %r13
        leaq    4(%rdi), %r14
        leaq    5(%rdi), %r15
        movq    %rsi, %rax
        movq    %rdx, %rdi
        callq   *%rax
        movq    (%rsp), %rcx
        xorl    %eax, %eax
        leaq    1(%rcx), %rdx
        cmpq    %rdx, %rbx
        je      1f
        orl     $1, %eax
1:      leaq    2(%rcx), %rdx
        cmpq    %rdx, %r12
        je      2f
        orl     $2, %eax
2:      leaq    3(%rcx), %rdx
        cmpq    %rdx, %r13
        je      3f
        orl     $4, %eax
3:      leaq    4(%rcx), %rdx
        cmpq    %rdx, %r14
        je      4f
        orl     $8, %eax
4:      leaq    5(%rcx), %rdx
        cmpq    %rdx, %r15
        je      5f
        orl     $16, %eax
5:      addq    $8, %rsp
        .cfi_def_cfa_offset 56
        popq    %r15
        .cfi_def_cfa_offset 48
        popq    %r14
        .cfi_def_cfa_offset 40
        popq    %r13
        .cfi_def_cfa_offset 32
        popq    %r12
        .cfi_def_cfa_offset 24
        popq    %rbx
        .cfi_def_cfa_offset 16
        popq    %rbp
        .cfi_def_cfa_offset 8
        ret
        .cfi_endproc
        .size   interleave_test_check_callee_saved, .-interleave_test_check_callee_saved
)");

namespace interleave::detail {
namespace {

constexpr std::size_t kStack = 64 * 1024;

// A fiber running a std::function once, then switching back to `home` for good. Its switches
// synchronize, since the tests share data between the fiber and the thread (under TSan an
// ordinary switch orders nothing: fiber_tsan_test checks that).
struct Task {
  explicit Task(std::function<void(Task&)> body, std::size_t stack = kStack)
      : fiber(stack), home(&ThreadContext::current()), body_(std::move(body)) {
    fiber.reset(&run, this);
  }
  static void run(void* self) {
    auto* t = static_cast<Task*>(self);
    t->body_(*t);
    t->finished = true;
    exit_fiber(t->fiber, *t->home);
  }
  // From inside the body: back to the thread until resumed.
  void yield() { switch_fiber(fiber, *home, true); }
  // From the thread: run the fiber until it yields or finishes.
  void resume() { switch_fiber(*home, fiber, true); }

  Fiber fiber;
  ExecutionContext* home;
  bool finished = false;

 private:
  std::function<void(Task&)> body_;
};

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

struct RegisterProbe {
  Fiber fiber{kStack};
  ExecutionContext* thread = &ThreadContext::current();
  unsigned fiber_mask = ~0u;
};

TEST(Fiber, CalleeSavedRegistersArePreservedAcrossSwitches) {
  RegisterProbe probe;
  probe.fiber.reset(
      [](void* p) {
        auto* pr = static_cast<RegisterProbe*>(p);
        // Holds different values in the same registers while the thread side is suspended.
        pr->fiber_mask = interleave_test_check_callee_saved(
            0xf1be700000000000ull,
            [](void* q) {
              auto* r = static_cast<RegisterProbe*>(q);
              switch_fiber(r->fiber, *r->thread, true);
            },
            pr);
        exit_fiber(pr->fiber, *pr->thread);
      },
      &probe);
  const unsigned thread_mask = interleave_test_check_callee_saved(
      0x7417ead000000000ull,
      [](void* q) {
        auto* r = static_cast<RegisterProbe*>(q);
        switch_fiber(*r->thread, r->fiber, true);
      },
      &probe);
  EXPECT_EQ(thread_mask, 0u) << "thread side lost callee-saved registers (bit 0 rbx, 1 r12 .. 4 r15)";
  switch_fiber(*probe.thread, probe.fiber, true);
  EXPECT_EQ(probe.fiber_mask, 0u) << "fiber side lost callee-saved registers (bit 0 rbx, 1 r12 .. 4 r15)";
}

std::uint32_t read_mxcsr() {
  std::uint32_t value = 0;
  asm volatile("stmxcsr %0" : "=m"(value));
  return value;
}

std::uint16_t read_x87_control() {
  std::uint16_t value = 0;
  asm volatile("fnstcw %0" : "=m"(value));
  return value;
}

constexpr std::uint32_t kMxcsrRounding = 0x6000;  // RC bits
constexpr std::uint16_t kX87Rounding = 0x0c00;    // RC bits
constexpr std::uint32_t kMxcsrUpward = 0x4000;    // RC = 10b
constexpr std::uint16_t kX87Upward = 0x0800;

TEST(Fiber, FloatingPointControlStateIsPerContext) {
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  std::uint32_t fiber_mxcsr_at_start = 0;
  std::uint32_t fiber_mxcsr_after = 0;
  std::uint16_t fiber_x87_after = 0;
  Task task([&](Task& t) {
    fiber_mxcsr_at_start = read_mxcsr();
    std::fesetround(FE_UPWARD);
    t.yield();
    fiber_mxcsr_after = read_mxcsr();
    fiber_x87_after = read_x87_control();
  });
  task.resume();
  // The fiber's rounding mode did not leak into the thread.
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);
  EXPECT_EQ(read_mxcsr() & kMxcsrRounding, 0u);
  EXPECT_EQ(fiber_mxcsr_at_start & kMxcsrRounding, 0u);
  task.resume();
  EXPECT_EQ(fiber_mxcsr_after & kMxcsrRounding, kMxcsrUpward);
  EXPECT_EQ(fiber_x87_after & kX87Rounding, kX87Upward);
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);

  // A fiber reset while the thread rounds downward starts rounding downward.
  std::fesetround(FE_DOWNWARD);
  int started_with = -1;
  Task downward([&](Task&) { started_with = std::fegetround(); });
  std::fesetround(FE_TONEAREST);
  downward.resume();
  EXPECT_EQ(started_with, FE_DOWNWARD);
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);
}

double series(int terms, Task* task) {
  double sum = 0.0;
  double sign = 1.0;
  for (int k = 0; k < terms; ++k) {
    sum += sign / (2.0 * k + 1.0);
    sign = -sign;
    if (task != nullptr) task->yield();
  }
  return 4.0 * sum;
}

TEST(Fiber, DoubleArithmeticSurvivesSwitches) {
  constexpr int kTerms = 500;
  const double expected = series(kTerms, nullptr);
  double results[3] = {0, 0, 0};
  std::vector<std::unique_ptr<Task>> tasks;
  for (double& r : results) {
    tasks.push_back(std::make_unique<Task>([&r](Task& t) { r = series(kTerms, &t); }));
  }
  for (int step = 0; step <= kTerms; ++step) {
    for (auto& t : tasks) t->resume();
  }
  for (double r : results) {
    EXPECT_EQ(r, expected);
    EXPECT_NEAR(r, M_PI, 1e-2);
  }
}

volatile std::size_t g_recursion_limit = ~std::size_t{0};

// Each level keeps a small array alive on the stack until its callee returns.
std::size_t recurse(std::size_t depth, std::size_t limit) {
  volatile char pad[200];
  pad[0] = static_cast<char>(depth);
  pad[199] = 1;
  if (depth >= limit || depth >= g_recursion_limit) return static_cast<std::size_t>(pad[199]);
  return recurse(depth + 1, limit) + static_cast<std::size_t>(pad[199]) + static_cast<std::size_t>(pad[0] & 0);
}

TEST(Fiber, DeepBoundedRecursionFitsTheStack) {
  constexpr std::size_t kDepth = 3000;  // about 3000 * 250 bytes; more with sanitizer redzones
  std::size_t result = 0;
  Task task([&](Task&) { result = recurse(1, kDepth); }, 4 * 1024 * 1024);
  task.resume();
  EXPECT_EQ(result, kDepth);
}

TEST(Fiber, ExceptionsThrownAndCaughtInsideAFiber) {
  std::string caught;
  Task task([&](Task& t) {
    try {
      t.yield();
      throw std::runtime_error("inside");
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    try {
      std::vector<int> v;
      (void)v.at(3);
    } catch (const std::out_of_range&) {
      caught += " and out_of_range";
    }
  });
  task.resume();
  task.resume();
  EXPECT_TRUE(task.finished);
  EXPECT_EQ(caught, "inside and out_of_range");
}

// Fibers switch while inside catch blocks and while unwinding: each keeps its own exception
// state (the runtime keeps it per OS thread, so the switch must save it).
TEST(Fiber, ExceptionStateIsPerFiber) {
  std::vector<std::string> log;
  Task b([&](Task& t) {
    try {
      throw std::logic_error("b");
    } catch (const std::logic_error&) {
      log.push_back("b caught, uncaught=" + std::to_string(std::uncaught_exceptions()));
      t.yield();  // suspended inside its catch block
      try {
        throw;
      } catch (const std::logic_error& e) {
        log.push_back(std::string("b rethrew ") + e.what());
      }
    }
  });
  Task a([&](Task& t) {
    try {
      throw std::runtime_error("a");
    } catch (const std::runtime_error&) {
      t.yield();  // suspended inside its catch block while b enters its own
      try {
        throw;
      } catch (const std::runtime_error& e) {
        log.push_back(std::string("a rethrew ") + e.what());
      }
    }
    try {
      struct YieldWhileUnwinding {
        Task& task;
        std::vector<std::string>& entries;
        ~YieldWhileUnwinding() {
          entries.push_back("a unwinding, uncaught=" + std::to_string(std::uncaught_exceptions()));
          task.yield();  // a scheduling point in a destructor during unwinding
          entries.push_back("a still unwinding, uncaught=" + std::to_string(std::uncaught_exceptions()));
        }
      } guard{t, log};
      throw std::runtime_error("unwind");
    } catch (const std::runtime_error& e) {
      log.push_back(std::string("a caught ") + e.what());
    }
  });
  a.resume();  // a: in catch
  b.resume();  // b: in catch
  log.push_back("thread uncaught=" + std::to_string(std::uncaught_exceptions()));
  a.resume();  // a: rethrows its own, then starts unwinding and yields in the destructor
  log.push_back("thread uncaught=" + std::to_string(std::uncaught_exceptions()));
  b.resume();  // b: rethrows its own
  a.resume();  // a: finishes unwinding
  EXPECT_TRUE(a.finished);
  EXPECT_TRUE(b.finished);
  EXPECT_EQ(log, (std::vector<std::string>{
                     "b caught, uncaught=0",
                     "thread uncaught=0",
                     "a rethrew a",
                     "a unwinding, uncaught=1",
                     "thread uncaught=0",
                     "b rethrew b",
                     "a still unwinding, uncaught=1",
                     "a caught unwind",
                 }));
}

TEST(Fiber, BadStackSizeIsRejected) {
  for (std::size_t bad :
       {std::size_t{0}, std::size_t{1}, Fiber::kMinStackBytes - 1, Fiber::kMaxStackBytes + 1, ~std::size_t{0}}) {
    try {
      Fiber f(bad);
      ADD_FAILURE() << "accepted a stack of " << bad << " bytes";
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(std::to_string(bad)), std::string::npos) << message;
      EXPECT_NE(message.find("16384"), std::string::npos) << message;
    }
  }
  Fiber smallest(Fiber::kMinStackBytes);
  EXPECT_EQ(smallest.stack_size(), Fiber::kMinStackBytes);
  Fiber odd(Fiber::kMinStackBytes + 1);
  EXPECT_GT(odd.stack_size(), Fiber::kMinStackBytes);
  EXPECT_EQ(odd.stack_size() % static_cast<std::size_t>(sysconf(_SC_PAGESIZE)), 0u);
}

TEST(Fiber, NullEntryIsRejected) {
  Fiber f(kStack);
  EXPECT_THROW(f.reset(nullptr, nullptr), std::invalid_argument);
  EXPECT_FALSE(f.resumable());
}

TEST(Fiber, GuardPageLookup) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::vector<std::unique_ptr<Fiber>> fibers;
  for (int i = 0; i < 8; ++i) fibers.push_back(std::make_unique<Fiber>(kStack + static_cast<std::size_t>(i) * page));
  for (const auto& f : fibers) {
    const auto* guard = static_cast<const unsigned char*>(f->guard_page());
    const auto* bottom = static_cast<const unsigned char*>(f->stack_bottom());
    EXPECT_GE(f->guard_size(), page);
    EXPECT_GE(f->guard_size(), Fiber::kGuardBytes);
    EXPECT_EQ(guard + f->guard_size(), bottom);
    EXPECT_TRUE(f->guard_page_contains(guard));
    EXPECT_TRUE(f->guard_page_contains(bottom - 1));
    EXPECT_FALSE(f->guard_page_contains(bottom));
    EXPECT_FALSE(f->guard_page_contains(guard - 1));
    EXPECT_EQ(fiber_owning_guard_page(guard), f.get());
    EXPECT_EQ(fiber_owning_guard_page(bottom - 1), f.get());
    EXPECT_EQ(fiber_owning_guard_page(bottom), nullptr);
    EXPECT_EQ(fiber_owning_guard_page(bottom + f->stack_size() - 1), nullptr);
  }
  int local = 0;
  EXPECT_EQ(fiber_owning_guard_page(&local), nullptr);
  EXPECT_EQ(fiber_owning_guard_page(nullptr), nullptr);
  const void* gone = fibers[3]->guard_page();
  fibers[3].reset();
  EXPECT_EQ(fiber_owning_guard_page(gone), nullptr);
  // The freed slot is reused.
  fibers[3] = std::make_unique<Fiber>(kStack);
  EXPECT_EQ(fiber_owning_guard_page(fibers[3]->guard_page()), fibers[3].get());
}

// Ends the process at once. The raw system call skips the sanitizers' exit work: TSan would
// otherwise wait a second at exit because a fiber (a TSan "thread") is still alive.
[[noreturn]] void quick_exit_now(int code) {
  syscall(SYS_exit_group, code);
  _exit(code);
}

// A SIGSEGV handler on an alternate stack, as a harness would install one.
void overflow_handler(int, siginfo_t* info, void*) {
  if (fiber_owning_guard_page(info->si_addr) != nullptr) {
    static const char message[] = "stack overflow in fiber\n";
    if (write(STDERR_FILENO, message, sizeof message - 1) < 0) quick_exit_now(5);
    quick_exit_now(3);
  }
  quick_exit_now(4);
}

TEST(Fiber, StackOverflowHitsTheGuardPage) {
  Process child(
      [] {
        static unsigned char alternate_stack[256 * 1024];
        stack_t ss{};
        ss.ss_sp = alternate_stack;
        ss.ss_size = sizeof alternate_stack;
        if (sigaltstack(&ss, nullptr) != 0) return 6;
        struct sigaction action {};
        action.sa_sigaction = &overflow_handler;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        if (sigaction(SIGSEGV, &action, nullptr) != 0) return 7;
        Fiber fiber(kStack);
        fiber.reset([](void*) { (void)recurse(1, ~std::size_t{0}); }, nullptr);
        switch_fiber(ThreadContext::current(), fiber, true);
        return 8;  // unreachable: the recursion never ends
      },
      "overflowing fiber");
  child.start();
  const ExitStatus status = child.join();
  EXPECT_TRUE(status.exited) << status.describe();
  EXPECT_EQ(status.code, 3) << status.describe() << " (4: fault outside any guard page)";
}

// Misuse stops the program with a message (checked in a child process).
ExitStatus run_in_child(std::function<void()> body) {
  Process child(
      [body = std::move(body)] {
        body();
        return 0;
      },
      "misuse");
  child.start();
  return child.join();
}

TEST(Fiber, SwitchingToAFiberNeverResetIsAContractViolation) {
  const ExitStatus s = run_in_child([] {
    Fiber never(kStack);
    switch_fiber(ThreadContext::current(), never, false);
  });
  EXPECT_FALSE(s.exited) << s.describe();
  EXPECT_EQ(s.signal, SIGABRT) << s.describe();
}

TEST(Fiber, SwitchingToTheRunningContextIsAContractViolation) {
  const ExitStatus s = run_in_child([] {
    Fiber fiber(kStack);
    fiber.reset([](void*) { std::abort(); }, nullptr);
    // `from` is wrong: the fiber is not the one running.
    switch_fiber(fiber, ThreadContext::current(), false);
  });
  EXPECT_FALSE(s.exited) << s.describe();
  EXPECT_EQ(s.signal, SIGABRT) << s.describe();
}

TEST(Fiber, EntryReturningIsAContractViolation) {
  const ExitStatus s = run_in_child([] {
    Fiber fiber(kStack);
    fiber.reset([](void*) {}, nullptr);
    switch_fiber(ThreadContext::current(), fiber, true);
  });
  EXPECT_FALSE(s.exited) << s.describe();
  EXPECT_EQ(s.signal, SIGABRT) << s.describe();
}

#if INTERLEAVE_ASAN
__attribute__((noinline)) int* dangling_local() {
  int local = 42;
  int* volatile pointer = &local;
  return pointer;
}

int read_dangling_on_fiber() {
  static int value = 0;
  Fiber fiber(kStack);
  fiber.reset(
      [](void* self) {
        value = *dangling_local();  // ASan: stack-use-after-return
        exit_fiber(*static_cast<Fiber*>(self), ThreadContext::current());
      },
      &fiber);
  switch_fiber(ThreadContext::current(), fiber, true);
  return value;
}
#endif

// detect_stack_use_after_return works on a fiber's stack (which needs the fake-stack hand-offs).
TEST(Fiber, AsanSeesStackUseAfterReturnOnAFiber) {
#if !INTERLEAVE_ASAN
  GTEST_SKIP() << "built without AddressSanitizer";
#else
  char path[] = "/tmp/interleave_fiber_asan_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  Process child(
      [fd] {
        if (dup2(fd, STDERR_FILENO) < 0) return 90;
        return read_dangling_on_fiber();
      },
      "use after return");
  child.start();
  const ExitStatus status = child.join();
  close(fd);
  std::ifstream in(path);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  unlink(path);
  EXPECT_FALSE(status.success()) << status.describe();
  EXPECT_NE(text.find("stack-use-after-return"), std::string::npos) << text;
#endif
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
