// Threads of the test program (std::thread, pthread_create) as fibers of the model. pthread_create
// itself is defined by the harness (explore/escapes.cpp), which hands a call made inside an
// exploration to interleave_std_thread_create below; join, detach, self and exit are defined here,
// and forward to the C library's outside an exploration (and for threads the model did not make).
#include <dlfcn.h>
#include <pthread.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <unordered_map>

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

// A model thread's pthread_t: a value no real thread has (those are addresses of their
// descriptors), with the fiber number in it.
constexpr pthread_t kModelThread = static_cast<pthread_t>(0x7e57000000000000ULL);
pthread_t handle_of(std::uint32_t fiber) noexcept { return kModelThread | fiber; }
bool is_model_handle(pthread_t t) noexcept { return (t & 0xffff000000000000ULL) == kModelThread; }
std::uint32_t fiber_of(pthread_t t) noexcept { return static_cast<std::uint32_t>(t & 0xffffffffULL); }

// What a model thread returned (or passed to pthread_exit), until it is joined.
struct ThreadRecord {
  void* result = nullptr;
  bool detached = false;
};
struct Threads {
  std::uint64_t execution = 0;
  std::unordered_map<std::uint32_t, std::shared_ptr<ThreadRecord>> by_fiber;
};
Threads& threads() {
  thread_local Threads t;
  const std::uint64_t now = model::execution();
  if (t.execution != now) {
    t.by_fiber.clear();
    t.execution = now;
  }
  return t;
}

// pthread_exit on a model thread: unwinds the fiber to its start routine, as glibc's own
// pthread_exit unwinds the thread (destructors run; a catch (...) that does not rethrow stops it).
struct ThreadExit {
  void* value;
};

}  // namespace
}  // namespace interleave::detail::std_runtime

namespace rt = interleave::detail::std_runtime;
namespace model = interleave::detail::model;

extern "C" {

int interleave_std_thread_create(pthread_t* thread, const pthread_attr_t* /*attributes*/, void* (*start)(void*),
                                 void* argument) {
  const rt::HookScope hook;
  try {
    auto record = std::make_shared<rt::ThreadRecord>();
    const std::uint32_t fiber = model::spawn([start, argument, record] {
      rt::reset_shadow_stack(model::current_fiber());
      try {
        record->result = start(argument);
      } catch (const rt::ThreadExit& exit) {
        record->result = exit.value;
      }
    });
    rt::threads().by_fiber[fiber] = std::move(record);
    *thread = rt::handle_of(fiber);
    return 0;
  } catch (...) {
    // The execution is being torn down (or out of memory): the creation fails, and the caller's
    // next scheduling point unwinds it.
    return EAGAIN;
  }
}

int pthread_join(pthread_t thread, void** result) {
  using Join = int (*)(pthread_t, void**);
  static const Join real_join = rt::real<Join>("pthread_join");
  if (!rt::is_model_handle(thread)) return real_join(thread, result);
  if (!rt::modelled()) return ESRCH;
  const rt::HookScope hook;
  const std::uint32_t fiber = rt::fiber_of(thread);
  if (fiber == model::current_fiber()) return EDEADLK;
  model::join(fiber);
  auto& records = rt::threads().by_fiber;
  const auto it = records.find(fiber);
  if (result != nullptr) *result = it != records.end() ? it->second->result : nullptr;
  if (it != records.end()) records.erase(it);
  return 0;
}

int pthread_detach(pthread_t thread) {
  using Detach = int (*)(pthread_t);
  static const Detach real_detach = rt::real<Detach>("pthread_detach");
  if (!rt::is_model_handle(thread)) return real_detach(thread);
  // The model needs every thread joined by the end of the body: a detached thread still running
  // then is reported as unjoined (as a thread handle dropped without join is).
  auto& records = rt::threads().by_fiber;
  if (const auto it = records.find(rt::fiber_of(thread)); it != records.end()) it->second->detached = true;
  return 0;
}

pthread_t pthread_self() noexcept {
  using Self = pthread_t (*)();
  static const Self real_self = rt::real<Self>("pthread_self");
  if (rt::modelled()) return rt::handle_of(model::current_fiber());
  return real_self();
}

__attribute__((noreturn)) void pthread_exit(void* value) {
  using Exit = void (*)(void*);
  static const Exit real_exit = rt::real<Exit>("pthread_exit");
  if (rt::modelled() && model::current_fiber() != 0) throw rt::ThreadExit{value};
  real_exit(value);
  __builtin_unreachable();
}

}  // extern "C"
