// PerturbedPlatform<Base>: the Native platform's operations on real threads, each preceded by a
// seeded random delay, so that rare interleavings of real threads become common.
//
// Purpose   Stress the production primitives, unchanged, on real cores, real futexes and real
//           fork()ed processes (interleave::stress() in stress.h runs a body on it). Before each
//           atomic operation, futex wait or wake, clock read, yield, spin, thread start and join,
//           the calling thread draws from its own generator: nothing (most operations), a
//           sched_yield, a short spin (1-256 pause instructions) or a short sleep (1-50 us), at
//           the per-mille rates of a Perturbation (options.h).
// Per-thread state, and only per-thread state
//           Each thread keeps its generator (xoshiro256**) and its rates in thread_local storage.
//           A thread started through PerturbedPlatform::Thread (BasicThread<PerturbedPlatform<>>)
//           gets a seed drawn from its starting thread's generator, passed into the new thread,
//           and a name ("thread 2", "thread 2.1" for the first thread thread 2 starts). Nothing
//           is shared, locked or atomic between threads, so the perturbation adds no
//           happens-before edge that would hide a data race from ThreadSanitizer (a shared,
//           locked generator hid a race from TSan in 35-40% of runs).
//           A thread with no state installed (outside stress() and PerturbationScope, or started
//           as a plain std::thread) is not perturbed: the platform then behaves as Base.
// Cost      With the perturbation off, an operation costs Base's plus one thread-local load and a
//           branch (bench/perturbation_benchmark.cpp; docs/benchmarks.md).
// Processes PerturbedPlatform<>::Process (PerturbedProcess below) is interleave::Process for
//           stress bodies: the child is perturbed with a seed drawn from the parent's generator, a
//           failing child (INTERLEAVE_ASSERT, uncaught exception, crash, non-zero exit, or still
//           running stress_timeout_ms / 2 after join() began) fails the stress run with its role and
//           pid, and no child outlives its stress iteration. Objects shared with a child use
//           PerturbedPlatform<>::Shared (over NativeSharedPlatform: process-shared futexes).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "interleave/detail/random.h"
#include "interleave/native_platform.h"
#include "interleave/options.h"
#include "interleave/platform.h"
#include "interleave/process.h"
#include "interleave/shared_memory.h"
#include "interleave/source_location.h"

namespace interleave {

namespace detail::perturb {

struct RunContext;  // a stress run (stress.cpp); opaque here

using Generator = detail::Xoshiro256;

constexpr std::size_t kNameSize = 48;

// What a thread (or a child process) starts with: handed from the starting thread.
struct Seed {
  std::uint64_t seed = 0;
  Perturbation rates;
  RunContext* run = nullptr;
  void* mailbox = nullptr;  // in a child process: where its failure message goes (PerturbedProcess)
  char name[kNameSize] = {};
};

struct ThreadState {
  // Cumulative thresholds in [0, 1000): a draw below yield_below yields, below spin_below spins,
  // below delay_below sleeps. delay_below == 0: no perturbation (the fast path).
  std::uint32_t yield_below = 0;
  std::uint32_t spin_below = 0;
  std::uint32_t delay_below = 0;
  bool installed = false;
  Generator rng;
  Perturbation rates;
  RunContext* run = nullptr;
  void* mailbox = nullptr;
  std::uint32_t children = 0;  // threads and processes this thread has started (names the next)
  char name[kNameSize] = {};
};

// Constant-initialized in every thread: not installed, not perturbed.
inline constinit thread_local ThreadState current{};

// The delay itself (stress.cpp).
void delay(ThreadState& state) noexcept;

inline void perturb() noexcept {
  ThreadState& state = current;
  if (state.delay_below == 0) [[likely]]
    return;
  delay(state);
}

// The seed for a thread or process the calling thread starts: drawn from the caller's generator.
// `role` names a process; threads are named "<parent>.<n>" ("thread <n>" under the main thread).
Seed spawn(std::string_view role = {}) noexcept;

// Installs `seed` as the calling thread's state; the destructor restores the previous state.
class Installed {
 public:
  explicit Installed(const Seed& seed) noexcept;
  Installed(const Installed&) = delete;
  Installed& operator=(const Installed&) = delete;
  ~Installed();

 private:
  ThreadState saved_;
};

// Called on a contract violation inside a stress run: prints the run's seed line first.
void note_contract_violation() noexcept;

}  // namespace detail::perturb

// Perturbs the calling thread (and the threads it starts through PerturbedPlatform::Thread) with
// `rates`, seeded by `seed`, for the scope's lifetime. stress() installs one around each
// iteration; use it directly to perturb code outside stress(), or in benchmarks.
class PerturbationScope {
 public:
  PerturbationScope(std::uint64_t seed, Perturbation rates, std::string_view name = "main thread") noexcept;
  PerturbationScope(const PerturbationScope&) = delete;
  PerturbationScope& operator=(const PerturbationScope&) = delete;

 private:
  static detail::perturb::Seed make(std::uint64_t seed, Perturbation rates, std::string_view name) noexcept;
  detail::perturb::Installed installed_;
};

// A child process for stress bodies: interleave::Process (process.h) plus what stress() needs.
// Requires  start() at most once; join() only after start() (std::logic_error otherwise).
// Guarantees
//   - The child is perturbed (seeded from the starting thread's generator) and named `role` in
//     every report; an INTERLEAVE_ASSERT failing in it ends it with exit code kFailedExitCode
//     and hands its message to the parent.
//   - Inside a stress run, join() returns only for a child that exited with code 0. Otherwise
//     (an assertion, an uncaught exception, a crash, a non-zero exit, or a child still running
//     stress_timeout_ms / 2 after join() began, which is then killed) it fails the run with the
//     role, the pid and the reason, and unwinds the body. Outside a run it returns the status.
//   - No zombies: a started child that is not joined is killed and reaped by the destructor
//     (as interleave::Process does), so a body that fails in the parent leaves none behind;
//     if the iteration hangs, stress() kills the children it knows of before it exits.
class PerturbedProcess {
 public:
  static constexpr int kFailedExitCode = 86;

  // Never hides the move constructor: a PerturbedProcess is not invocable.
  template <class F>
  requires std::is_invocable_v<F&>
  // NOLINTNEXTLINE(bugprone-forwarding-reference-overload)
  explicit PerturbedProcess(F&& target, std::string role = "process") : role_(std::move(role)), mailbox_(4096) {
    if constexpr (std::is_convertible_v<std::invoke_result_t<F&>, int>) {
      target_ = std::forward<F>(target);
    } else {
      std::function<void()> body(std::forward<F>(target));
      if (body) {
        target_ = [b = std::move(body)] {
          b();
          return 0;
        };
      }
    }
    if (!target_) throw std::invalid_argument("PerturbedProcess: the target function is empty");
  }
  PerturbedProcess(const PerturbedProcess&) = delete;
  PerturbedProcess& operator=(const PerturbedProcess&) = delete;
  ~PerturbedProcess();

  void start();
  ExitStatus join(interleave::source_location where = interleave::source_location::current());

  [[nodiscard]] pid_t pid() const noexcept { return process_ ? process_->pid() : -1; }
  [[nodiscard]] const std::string& role() const noexcept { return role_; }

 private:
  void forget() noexcept;

  std::function<int()> target_;
  std::string role_;
  SharedRegion mailbox_;
  std::optional<Process> process_;
  int slot_ = -1;  // in the run's table of live children
  pid_t registered_ = -1;
};

template <Platform Base = NativePlatform>
struct PerturbedPlatform {
  // Wraps Base's atomic; every operation is perturbed first. Same size and layout as Base's, so
  // it works in shared memory as Base's does.
  template <class T>
  class Atomic {
   public:
    using Inner = typename Base::template Atomic<T>;

    constexpr Atomic() noexcept = default;
    constexpr Atomic(T value) noexcept : inner_(value) {}  // NOLINT(google-explicit-constructor)
    Atomic(const Atomic&) = delete;
    Atomic& operator=(const Atomic&) = delete;

    T load(std::memory_order order = std::memory_order_seq_cst) const noexcept {
      detail::perturb::perturb();
      return inner_.load(order);
    }
    void store(T value, std::memory_order order = std::memory_order_seq_cst) noexcept {
      detail::perturb::perturb();
      inner_.store(value, order);
    }
    T exchange(T value, std::memory_order order = std::memory_order_seq_cst) noexcept {
      detail::perturb::perturb();
      return inner_.exchange(value, order);
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order success = std::memory_order_seq_cst,
                                 std::memory_order failure = std::memory_order_seq_cst) noexcept {
      detail::perturb::perturb();
      return inner_.compare_exchange_strong(expected, desired, success, failure);
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order success = std::memory_order_seq_cst,
                               std::memory_order failure = std::memory_order_seq_cst) noexcept {
      detail::perturb::perturb();
      return inner_.compare_exchange_weak(expected, desired, success, failure);
    }
    T fetch_add(T delta, std::memory_order order = std::memory_order_seq_cst) noexcept requires std::is_integral_v<T> {
      detail::perturb::perturb();
      return inner_.fetch_add(delta, order);
    }
    T fetch_sub(T delta, std::memory_order order = std::memory_order_seq_cst) noexcept requires std::is_integral_v<T> {
      detail::perturb::perturb();
      return inner_.fetch_sub(delta, order);
    }
    T fetch_or(T bits, std::memory_order order = std::memory_order_seq_cst) noexcept requires std::is_integral_v<T> {
      detail::perturb::perturb();
      return inner_.fetch_or(bits, order);
    }
    T fetch_and(T bits, std::memory_order order = std::memory_order_seq_cst) noexcept requires std::is_integral_v<T> {
      detail::perturb::perturb();
      return inner_.fetch_and(bits, order);
    }
    T fetch_xor(T bits, std::memory_order order = std::memory_order_seq_cst) noexcept requires std::is_integral_v<T> {
      detail::perturb::perturb();
      return inner_.fetch_xor(bits, order);
    }

    // Base's atomic, for Base's futex operations.
    [[nodiscard]] const Inner& inner() const noexcept { return inner_; }

   private:
    Inner inner_{};
  };

  // Base's cell: plain accesses are not synchronization, so they are not perturbed.
  template <class T>
  using Cell = typename Base::template Cell<T>;

  using Clock = typename Base::Clock;
  using TimePoint = typename Base::TimePoint;

  static constexpr bool process_shared = Base::process_shared;
  static constexpr int spin_limit = Base::spin_limit;

  // The same platform over process-shared futexes, for objects shared with a child process.
  using Shared = PerturbedPlatform<NativeSharedPlatform>;
  using Process = PerturbedProcess;

  static TimePoint now() noexcept {
    detail::perturb::perturb();
    return Base::now();
  }
  static void wait(const Atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
    detail::perturb::perturb();
    Base::wait(word.inner(), expected);
  }
  static bool wait_until(const Atomic<std::uint32_t>& word, std::uint32_t expected, TimePoint deadline) noexcept {
    detail::perturb::perturb();
    return Base::wait_until(word.inner(), expected, deadline);
  }
  static void wake_one(const Atomic<std::uint32_t>& word) noexcept {
    detail::perturb::perturb();
    Base::wake_one(word.inner());
  }
  static void wake(const Atomic<std::uint32_t>& word, std::uint32_t count) noexcept {
    detail::perturb::perturb();
    Base::wake(word.inner(), count);
  }
  static void wake_all(const Atomic<std::uint32_t>& word) noexcept {
    detail::perturb::perturb();
    Base::wake_all(word.inner());
  }
  static void fence(std::memory_order order) noexcept {
    detail::perturb::perturb();
    Base::fence(order);
  }
  static void yield() noexcept {
    detail::perturb::perturb();
    Base::yield();
  }
  static void relax() noexcept {
    detail::perturb::perturb();
    Base::relax();
  }

  static std::uint32_t this_thread_id() noexcept { return Base::this_thread_id(); }

  [[noreturn]] static void contract_violation(std::string_view message, interleave::source_location where) noexcept {
    detail::perturb::note_contract_violation();
    Base::contract_violation(message, where);
  }

  using Operation = typename Base::Operation;

  static void name_thread(std::string_view name) noexcept {
    if constexpr (requires { Base::name_thread(name); }) Base::name_thread(name);
  }

  // Base's thread (std::thread), started with a seed drawn from the starting thread's generator.
  class Thread {
   public:
    explicit Thread(std::function<void()> task) {
      detail::perturb::perturb();
      const detail::perturb::Seed seed = detail::perturb::spawn();
      thread_ = typename Base::Thread([seed, task = std::move(task)] {
        const detail::perturb::Installed installed(seed);
        task();
      });
    }
    Thread(Thread&&) noexcept = default;
    Thread& operator=(Thread&&) = delete;
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;
    ~Thread() = default;

    void join() {
      detail::perturb::perturb();
      thread_.join();
    }
    [[nodiscard]] bool joinable() const noexcept { return thread_.joinable(); }

   private:
    typename Base::Thread thread_;
  };
};

static_assert(Platform<PerturbedPlatform<>>);
static_assert(Platform<PerturbedPlatform<NativeSharedPlatform>>);
static_assert(sizeof(PerturbedPlatform<>::Atomic<std::uint64_t>) == sizeof(std::atomic<std::uint64_t>));

}  // namespace interleave
