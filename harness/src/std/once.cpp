// One-time initialization of the test program as model objects: pthread_once (std::call_once) and
// the guards of function-local statics (__cxa_guard_acquire/release/abort, which the compiler
// calls around a static's initializer). Inside an exploration, a thread that arrives while
// another runs the initialization waits for it as a model futex wait (so a cycle through an
// initializer is a DEADLOCK, not a hang), and the initialization happens-before every use that
// found it done (marking it done has release effects, finding it done acquire effects).
//
// Statics are once per process: a guard whose initialization completed in one schedule stays
// complete in every later schedule (and outside the exploration), so only the schedules up to that
// one see threads race into it. A once_flag made inside the body is fresh in every schedule.
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "std/objects.h"

namespace interleave::detail::std_runtime {
namespace {

// pthread_once_t (an int) gets glibc's "done" state, so that a call outside an exploration after
// one inside agrees with it. While the routine runs it stays 0 (the model keeps that state).
constexpr std::uint32_t kOnceDone = 2;

// libstdc++'s std::call_once hands the callable to its pthread_once routine in two thread-local
// variables of libstdc++, which model threads (fibers of one OS thread) share: another thread's
// call_once may overwrite them while this one waits. They are saved on entry and put back just
// before the routine runs.
struct OnceCallable {
  void* callable;
  void (*call)();
  static OnceCallable save() noexcept { return {std::__once_callable, std::__once_call}; }
  void restore() const noexcept {
    std::__once_callable = callable;
    std::__once_call = call;
  }
};

// The model's side of a once control or a guard, per execution. `word` is the futex word late
// arrivals wait on (1 while the initialization runs in this execution: a state left by a
// torn-down execution is stale).
struct InitModel {
  std::uint32_t word = 0;
  std::uint32_t owner = 0;
  std::uint32_t waiters = 0;
};

// Counts the caller among the waiters while it waits (also when the wait unwinds).
struct Waiting {
  explicit Waiting(InitModel& s) noexcept : s_(s) { ++s_.waiters; }
  ~Waiting() { --s_.waiters; }
  Waiting(const Waiting&) = delete;
  Waiting& operator=(const Waiting&) = delete;

 private:
  InitModel& s_;
};

// An uncontended claim is no scheduling point (see atomic_effects): only a thread that finds
// another one initializing waits, as a model futex wait. `done` reads the object's "done" state.
template <class Done>
bool claim(InitModel& s, const void* object, Done done, const char* what, const void* pc) {
  for (;;) {
    if (done()) {
      atomic_effects(object, false, std::memory_order_acquire);  // the initialization happens-before
      return false;
    }
    if (s.word == 0) {
      s.word = 1;
      s.owner = model::current_fiber();
      return true;
    }
    if (s.owner == model::current_fiber()) {
      model::fail(FailureKind::deadlock, std::string(what) + " is reached again from its own initialization",
                  caller_location(pc));
    }
    const Operation name(what, object, pc);
    const Waiting waiting(s);
    futex_wait(&s.word, 1, -1);
  }
}

// The initialization ended: `mark_done` (null when it threw) records it in the object.
template <class MarkDone>
void finish(InitModel& s, const void* object, MarkDone mark_done) {
  if (mark_done) {
    (*mark_done)();
    atomic_effects(object, true, std::memory_order_release);
  }
  s.word = 0;
  if (s.waiters > 0) futex_wake(&s.word, UINT32_MAX);
}

bool claim_once(pthread_once_t* control, const void* pc) {
  const HookScope hook;
  auto* word = reinterpret_cast<volatile std::uint32_t*>(control);
  return claim(
      model_of<InitModel>(control), control, [word] { return *word == kOnceDone; }, "pthread_once (std::call_once)",
      pc);
}

void finish_once(pthread_once_t* control, bool done) {
  const HookScope hook;
  auto* word = reinterpret_cast<volatile std::uint32_t*>(control);
  const auto mark = [word] { *word = kOnceDone; };
  finish(model_of<InitModel>(control), control, done ? &mark : nullptr);
}

// Byte 0 of a guard is the compiler's "done" flag (Itanium C++ ABI), which its inline check reads
// (an acquire load, instrumented).
int guard_acquire(long long* guard, const void* pc) {
  const HookScope hook;
  auto* flag = reinterpret_cast<volatile unsigned char*>(guard);
  return claim(
             model_of<InitModel>(guard), guard, [flag] { return *flag != 0; },
             "__cxa_guard_acquire (function-local static)", pc)
             ? 1
             : 0;
}

void guard_finish(long long* guard, bool done) {
  const HookScope hook;
  auto* flag = reinterpret_cast<volatile unsigned char*>(guard);
  const auto mark = [flag] { *flag = 1; };
  finish(model_of<InitModel>(guard), guard, done ? &mark : nullptr);
}

// The C++ runtime's guard function `name`, looked up once. Not a function-local static: its
// initialization would call the guard functions themselves.
template <class Function>
Function guard_function(std::atomic<Function>& cache, const char* name) {
  Function f = cache.load(std::memory_order_acquire);
  if (f == nullptr) {
    f = real<Function>(name);
    cache.store(f, std::memory_order_release);
  }
  return f;
}

}  // namespace
}  // namespace interleave::detail::std_runtime

namespace rt = interleave::detail::std_runtime;

extern "C" {

int pthread_once(pthread_once_t* control, void (*routine)()) {
  using Once = int (*)(pthread_once_t*, void (*)());
  static const Once real_once = rt::real<Once>("pthread_once");
  if (!rt::modelled()) return real_once(control, routine);
  const rt::OnceCallable callable = rt::OnceCallable::save();
  if (!rt::claim_once(control, __builtin_return_address(0))) return 0;
  callable.restore();
  try {
    routine();  // the test's code: modelled (outside the hook's scope)
  } catch (...) {
    rt::finish_once(control, false);  // the next caller runs the routine
    throw;
  }
  rt::finish_once(control, true);
  return 0;
}

// The guard is a 64-bit word (x86-64 Itanium C++ ABI; the compiler declares it long long); these are the C++ runtime's
// functions, called by compiled code around a function-local static's dynamic initialization.
int __cxa_guard_acquire(long long* guard) {
  using Acquire = int (*)(long long*);
  static std::atomic<Acquire> cache{nullptr};
  if (!rt::modelled()) return rt::guard_function(cache, "__cxa_guard_acquire")(guard);
  return rt::guard_acquire(guard, __builtin_return_address(0));
}

void __cxa_guard_release(long long* guard) {
  using Release = void (*)(long long*);
  static std::atomic<Release> cache{nullptr};
  if (!rt::modelled()) return rt::guard_function(cache, "__cxa_guard_release")(guard);
  rt::guard_finish(guard, true);
}

void __cxa_guard_abort(long long* guard) {
  using Abort = void (*)(long long*);
  static std::atomic<Abort> cache{nullptr};
  if (!rt::modelled()) return rt::guard_function(cache, "__cxa_guard_abort")(guard);
  rt::guard_finish(guard, false);
}

}  // extern "C"
