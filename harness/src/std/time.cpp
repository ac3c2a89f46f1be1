// Clocks, sleeps and yields of the test program on the model's virtual clock: inside an
// exploration, clock_gettime reads virtual time (which advances only when every fiber is blocked,
// to the earliest deadline), a sleep is a timed model wait that costs no real time, and
// sched_yield is a yielding scheduling point. Outside an exploration each is the C library's.
#include <dlfcn.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "std/std_runtime.h"

namespace interleave::detail::std_runtime {
namespace {

template <class Function>
Function real(const char* name) {
  void* found = ::dlsym(RTLD_NEXT, name);
  if (found == nullptr) {
    std::fprintf(stderr, "interleave: the C library's %s was not found\n", name);
    std::abort();
  }
  return reinterpret_cast<Function>(found);
}

// Sleeps until virtual time `deadline_ns` (spurious wake-ups are waited out).
void sleep_until(std::int64_t deadline_ns) {
  static const std::uint32_t never_woken = 0;  // no one wakes it: only the deadline ends the wait
  while (futex_wait(&never_woken, 0, deadline_ns)) {
  }
}

timespec to_timespec(std::int64_t ns) noexcept {
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

}  // namespace

std::int64_t clock_base_ns(clockid_t clock) noexcept {
  // Fixed epochs, the same in every execution: the wall clock at 2023-11-14 22:13:20 UTC, the
  // others at one hour since boot.
  constexpr std::int64_t kSecond = 1'000'000'000;
  return clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE || clock == CLOCK_TAI ? 1'700'000'000 * kSecond
                                                                                         : 3600 * kSecond;
}

}  // namespace interleave::detail::std_runtime

namespace rt = interleave::detail::std_runtime;
namespace model = interleave::detail::model;

extern "C" {

int clock_gettime(clockid_t clock, struct timespec* now) noexcept {
  using Get = int (*)(clockid_t, struct timespec*);
  static const Get real_get = rt::real<Get>("clock_gettime");
  if (!rt::modelled() || clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID) {
    return real_get(clock, now);
  }
  const rt::HookScope hook;
  *now = rt::to_timespec(rt::clock_base_ns(clock) + model::now_ns());
  return 0;
}

int nanosleep(const struct timespec* duration, struct timespec* remaining) {
  using Sleep = int (*)(const struct timespec*, struct timespec*);
  static const Sleep real_sleep = rt::real<Sleep>("nanosleep");
  if (!rt::modelled()) return real_sleep(duration, remaining);
  const rt::HookScope hook;
  if (duration->tv_nsec < 0 || duration->tv_nsec >= 1'000'000'000 || duration->tv_sec < 0) {
    errno = EINVAL;
    return -1;
  }
  rt::sleep_until(model::now_ns() + rt::to_ns(*duration));
  if (remaining != nullptr) *remaining = timespec{0, 0};
  return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec* request, struct timespec* remaining) {
  using Sleep = int (*)(clockid_t, int, const struct timespec*, struct timespec*);
  static const Sleep real_sleep = rt::real<Sleep>("clock_nanosleep");
  if (!rt::modelled()) return real_sleep(clock, flags, request, remaining);
  const rt::HookScope hook;
  const std::int64_t deadline =
      (flags & TIMER_ABSTIME) != 0 ? rt::deadline_of(clock, *request) : model::now_ns() + rt::to_ns(*request);
  rt::sleep_until(deadline);
  if (remaining != nullptr && (flags & TIMER_ABSTIME) == 0) *remaining = timespec{0, 0};
  return 0;
}

int usleep(useconds_t microseconds) {
  using Sleep = int (*)(useconds_t);
  static const Sleep real_sleep = rt::real<Sleep>("usleep");
  if (!rt::modelled()) return real_sleep(microseconds);
  const rt::HookScope hook;
  rt::sleep_until(model::now_ns() + static_cast<std::int64_t>(microseconds) * 1000);
  return 0;
}

unsigned int sleep(unsigned int seconds) {
  using Sleep = unsigned int (*)(unsigned int);
  static const Sleep real_sleep = rt::real<Sleep>("sleep");
  if (!rt::modelled()) return real_sleep(seconds);
  const rt::HookScope hook;
  rt::sleep_until(model::now_ns() + static_cast<std::int64_t>(seconds) * 1'000'000'000);
  return 0;
}

int sched_yield() noexcept {
  using Yield = int (*)();
  static const Yield real_yield = rt::real<Yield>("sched_yield");
  if (!rt::modelled()) return real_yield();
  const rt::HookScope hook;
  model::yield("sched_yield");
  return 0;
}

}  // extern "C"
