// What the native benchmarks of synchronization share: a process that has had a second thread.
// glibc takes non-atomic shortcuts while a process has only ever had one thread
// (__libc_single_threaded), which would flatter std:: baselines; a benchmark that measures the
// case that matters for a lock calls make_process_multithreaded() first.
#pragma once

#include <unistd.h>

#include <thread>

namespace interleave::bench {

// Starts, once, a thread that sleeps in pause() until the program exits. It is detached and owns
// nothing that static destruction would wait for.
inline void make_process_multithreaded() {
  static const bool started = [] {
    std::thread([] {
      for (;;) pause();
    }).detach();
    return true;
  }();
  (void)started;
}

}  // namespace interleave::bench
