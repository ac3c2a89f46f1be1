// Calls that escape the model, caught where a test body makes them inside an exploration.
//
// exit() would run the process's destructors on a fiber's stack (freeing that very stack), a
// fork() would leave the child exploring too, and a real thread would run unscheduled beside the
// fibers, so an exploration that "passes" would mean nothing. Each function is defined here, in
// the test executable, so that it comes before the C library's in symbol lookup (for calls from
// libstdc++ too: std::thread reaches pthread_create); the real one is found with
// dlsym(RTLD_NEXT) and called at once outside an exploration. Under a sanitizer the next
// definition is the sanitizer's own interceptor (or, with a static sanitizer runtime, its
// interceptor is called by name), so nothing of it is lost.
#include "explore/escapes.h"

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "explore/signal_report.h"
#include "interleave/detail/model_runtime.h"

namespace interleave::detail {
namespace {

template <class Function>
Function next_definition(const char* name) {
  void* found = ::dlsym(RTLD_NEXT, name);
  if (found == nullptr) {
    std::fprintf(stderr, "interleave: the C library's %s was not found (dlsym: %s)\n", name, ::dlerror());
    std::abort();
  }
  return reinterpret_cast<Function>(found);
}

}  // namespace

void link_escape_checks() noexcept {}

}  // namespace interleave::detail

// A sanitizer's interceptors, where a sanitizer runtime is present. Its own definitions of the
// names below are weak aliases of these: linked statically (clang), ours replace them, so calling
// the next definition would skip the sanitizer; calling its interceptor keeps it in the loop.
extern "C" {
int __interceptor_pthread_create(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*)
    __attribute__((weak));                         // NOLINT(bugprone-reserved-identifier)
pid_t __interceptor_fork() __attribute__((weak));  // NOLINT(bugprone-reserved-identifier)
// interleave::std_runtime, when the test program links it: a thread started inside an
// exploration becomes a fiber of the model (std/threads.cpp).
int interleave_std_thread_create(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*) __attribute__((weak));
}

using interleave::FailureKind;
namespace model = interleave::detail::model;

extern "C" {

// A body that calls exit() ends the process with its status, after saying where: the schedule
// and the line that replays it (the fibers cannot be unwound past exit).
__attribute__((noreturn)) void exit(int status) noexcept {
  using Exit = void (*)(int);
  static const Exit real_exit = interleave::detail::next_definition<Exit>("exit");
  if (model::active()) {
    std::fflush(nullptr);  // what the body printed first
    const std::string headline =
        "\ninterleave: exit(" + std::to_string(status) + ") was called inside an explored body, in fiber " +
        std::to_string(model::current_fiber()) + "; the exploration ends here, with that exit status";
    interleave::detail::write_schedule_report(headline.c_str());
    ::_exit(status);
  }
  real_exit(status);
  __builtin_unreachable();
}

// fork() inside a body fails the schedule (the child would explore too): it returns -1 (EPERM)
// and the report says why.
pid_t fork() noexcept {
  using Fork = pid_t (*)();
  static const Fork real_fork =
      __interceptor_fork != nullptr ? __interceptor_fork : interleave::detail::next_definition<Fork>("fork");
  if (model::active()) {
    model::fail_later(FailureKind::contract_violation,
                      "fork() was called inside an explored body: the model runs fibers in one process "
                      "(run processes under interleave::stress instead)",
                      {});
    errno = EPERM;
    return -1;
  }
  return real_fork();
}

// A real thread started inside a body (std::thread, pthread_create) fails the schedule: it
// would run beside the fibers unscheduled. The creation fails with EPERM (std::thread throws
// std::system_error) and the report says why.
int pthread_create(pthread_t* thread, const pthread_attr_t* attributes, void* (*start)(void*),
                   void* argument) noexcept {
  using Create = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  static const Create real_create = __interceptor_pthread_create != nullptr
                                        ? __interceptor_pthread_create
                                        : interleave::detail::next_definition<Create>("pthread_create");
  if (model::active() && interleave_std_thread_create != nullptr) {
    return interleave_std_thread_create(thread, attributes, start, argument);
  }
  if (model::active()) {
    model::fail_later(FailureKind::contract_violation,
                      "a real thread (std::thread, pthread_create) was started inside an explored body: the "
                      "scheduler controls only its own threads (use interleave::BasicThread<P> or P::Thread)",
                      {});
    return EPERM;
  }
  return real_create(thread, attributes, start, argument);
}

}  // extern "C"
