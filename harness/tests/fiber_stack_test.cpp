// Fibers: stacks and their guard regions: deep bounded recursion fits, bad sizes are rejected,
// every live fiber's guard page is found by address, an overflow faults in the guard page (checked
// in a child process), and AddressSanitizer sees a stack use after return on a fiber.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "fiber_task.h"
#include "interleave/detail/fiber.h"
#include "interleave/process.h"

namespace interleave::detail {
namespace {

using fiber_task::kStack;
using fiber_task::Task;

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

}  // namespace
}  // namespace interleave::detail
