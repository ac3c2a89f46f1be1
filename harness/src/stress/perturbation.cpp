// Per-thread perturbation of a stress() run: the delays before platform operations, the seeds
// and names handed to new threads and processes, the recording of failures (run_context.h), and
// the ThreadSanitizer report hook. The hook is here, in the object every user of the Perturbed
// platform or of stress() links, so that a static link always has it.
#include <absl/strings/str_cat.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "explore/signal_report.h"
#include "interleave/detail/sanitizers.h"
#include "interleave/native_platform.h"
#include "interleave/stress.h"
#include "stress/run_context.h"

namespace interleave {

namespace detail::perturb {

RunContext* g_run = nullptr;

void copy_name(char (&to)[kNameSize], std::string_view from) noexcept {
  const std::size_t n = std::min(from.size(), kNameSize - 1);
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

void record(RunContext& run, StressFailure failure) {
  const std::lock_guard<std::mutex> lock(run.mutex);
  if (!run.failure) run.failure = std::move(failure);
  run.failed.store(true, std::memory_order_relaxed);
}

void post(void* mailbox, std::string_view text) noexcept {
  auto* box = static_cast<Mailbox*>(mailbox);
  if (box->length != 0) return;  // the first failure wins
  const std::size_t n = std::min(text.size(), sizeof box->text);
  std::memcpy(box->text, text.data(), n);
  box->length = static_cast<std::uint32_t>(n);
}

void delay(ThreadState& state) noexcept {
  const std::uint64_t r = state.rng.next();
  const auto draw = static_cast<std::uint32_t>(((r >> 32) * 1000) >> 32);
  if (draw < state.yield_below) {
    sched_yield();
  } else if (draw < state.spin_below) {
    const auto spins = 1 + (r & 0xff);
    for (std::uint64_t i = 0; i < spins; ++i) NativePlatform::relax();
  } else if (draw < state.delay_below) {
    const timespec pause{0, static_cast<long>(1000 * (1 + (r >> 8) % 50))};
    nanosleep(&pause, nullptr);
  }
}

Seed spawn(std::string_view role) noexcept {
  ThreadState& parent = current;
  Seed seed;
  if (!parent.installed) return seed;
  seed.seed = parent.rng.next();
  seed.rates = parent.rates;
  seed.run = parent.run;
  seed.mailbox = parent.mailbox;
  const std::uint32_t n = ++parent.children;
  if (!role.empty()) {
    copy_name(seed.name, absl::StrCat("process '", std::string(role), "'"));
  } else if (std::strcmp(parent.name, "main thread") == 0) {
    copy_name(seed.name, absl::StrCat("thread ", n));
  } else {
    copy_name(seed.name, absl::StrCat(parent.name, ".", n));
  }
  return seed;
}

Installed::Installed(const Seed& seed) noexcept : saved_(current) {
  if (seed.name[0] == '\0') return;  // the starting thread had no state: neither has this one
  ThreadState& state = current;
  state = ThreadState{};
  const auto permille = [](int v) { return static_cast<std::uint32_t>(std::clamp(v, 0, 1000)); };
  state.yield_below = permille(seed.rates.yield_permille);
  state.spin_below = state.yield_below + permille(seed.rates.spin_permille);
  state.delay_below = state.spin_below + permille(seed.rates.sleep_permille);
  state.installed = true;
  state.rng.seed(seed.seed);
  state.rates = seed.rates;
  state.run = seed.run;
  state.mailbox = seed.mailbox;
  std::memcpy(state.name, seed.name, kNameSize);
}

Installed::~Installed() { current = saved_; }

void note_contract_violation() noexcept {
  const ThreadState& state = current;
  if (state.run == nullptr) return;
  std::fprintf(stderr, "interleave: contract violation in %s during stress iteration %llu (iteration seed 0x%llx)\n",
               state.name, static_cast<unsigned long long>(state.run->iteration),
               static_cast<unsigned long long>(state.run->iteration_seed));
}

}  // namespace detail::perturb

// --- PerturbationScope -----------------------------------------------------------------------

detail::perturb::Seed PerturbationScope::make(std::uint64_t seed, Perturbation rates, std::string_view name) noexcept {
  detail::perturb::Seed s;
  s.seed = seed;
  s.rates = rates;
  s.run = detail::perturb::current.run;
  s.mailbox = detail::perturb::current.mailbox;
  detail::perturb::copy_name(s.name, name.empty() ? std::string_view("main thread") : name);
  return s;
}

PerturbationScope::PerturbationScope(std::uint64_t seed, Perturbation rates, std::string_view name) noexcept
    : installed_(make(seed, rates, name)) {}

}  // namespace interleave

// --- ThreadSanitizer ---------------------------------------------------------------------------

#if INTERLEAVE_TSAN
namespace {

__attribute__((no_sanitize("thread"))) void hook_write(const char* data, std::size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(STDERR_FILENO, data, length);
    if (n <= 0) return;
    data += n;
    length -= static_cast<std::size_t>(n);
  }
}

}  // namespace

// Print the model schedule's or the stress run's reproduce line, and fail the iteration (stress.h).
__attribute__((no_sanitize("thread"))) void interleave::on_tsan_report(void* /*report*/) noexcept {
  // A model run (fibers are ThreadSanitizer threads on the exploring thread): halt_on_error would
  // end the process before the report, so the running schedule's reproduce line goes out now.
  if (interleave::detail::schedule_report_armed()) {
    interleave::detail::write_schedule_report(
        "interleave: ThreadSanitizer reported the data race above in a model run");
    return;
  }
  using interleave::detail::perturb::current;
  interleave::detail::perturb::RunContext* run =
      current.run != nullptr ? current.run : interleave::detail::perturb::g_run;
  if (run == nullptr) return;
  hook_write(run->hook_head, run->hook_head_length);
  if (current.installed) {
    hook_write(current.name, std::strlen(current.name));
  } else {
    const char other[] = "a thread not started through the platform";
    hook_write(other, sizeof other - 1);
  }
  if (current.mailbox != nullptr) {
    char digits[32];
    int n = 0;
    for (auto pid = static_cast<unsigned>(getpid()); pid != 0 || n == 0; pid /= 10)
      digits[n++] = static_cast<char>('0' + pid % 10);
    hook_write(" (pid ", 6);
    while (n > 0) hook_write(&digits[--n], 1);
    hook_write(")", 1);
  }
  hook_write(run->hook_tail, run->hook_tail_length);
  run->tsan_reports = run->tsan_reports + 1;
}

// Called by the TSan runtime (GCC's and LLVM's) after it printed a report and before
// halt_on_error ends the program. Weak, so that a program may define its own (which then calls
// interleave::on_tsan_report to keep the seed lines) without a duplicate definition. The runtime's
// default is weak too: with GCC's shared libtsan the program's definitions come first and this one
// is called; clang links its static runtime ahead of the program, so there the runtime's no-op
// wins unless the program defines the hook (docs/stress.md).
extern "C" __attribute__((weak, no_sanitize("thread"))) void __tsan_on_report(void* report) {
  interleave::on_tsan_report(report);
}
#else
void interleave::on_tsan_report(void* /*report*/) noexcept {}
#endif
