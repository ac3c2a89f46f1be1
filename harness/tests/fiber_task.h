// What the fiber tests share (fiber_test, fiber_registers_test, fiber_exceptions_test,
// fiber_stack_test, fiber_misuse_test): the stack size they use, a Task that runs a body on its
// own fiber, and, under AddressSanitizer, the option that makes every test exercise the fake-stack
// hand-offs. Include it from one file per test executable: it defines __asan_default_options.
#pragma once

#include <cstddef>
#include <functional>
#include <utility>

#include "interleave/detail/fiber.h"

#if INTERLEAVE_ASAN
// Exercise the fake-stack hand-offs: locals of instrumented functions live on per-fiber fake
// stacks, and a broken hand-off crashes or reports false errors.
extern "C" __attribute__((used, visibility("default"))) const char* __asan_default_options() {
  return "detect_stack_use_after_return=1";
}
#endif

namespace interleave::detail::fiber_task {

inline constexpr std::size_t kStack = 64 * 1024;

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

}  // namespace interleave::detail::fiber_task
