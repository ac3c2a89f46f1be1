// Fibers: the register state a switch preserves on both sides: the callee-saved registers
// (checked by a hand-written probe), the floating-point control state (each context keeps its own
// rounding mode; a fiber reset while its thread rounds downward starts rounding downward), and
// double arithmetic in flight across switches.
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "fiber_task.h"
#include "interleave/detail/fiber.h"

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

using fiber_task::kStack;
using fiber_task::Task;

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

}  // namespace
}  // namespace interleave::detail
