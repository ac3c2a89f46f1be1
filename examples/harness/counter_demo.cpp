// The tutorial's shared counter under interleave's model scheduler.
//
//   counter_demo            explores the counter WITHOUT its lock: finds a lost update, prints
//                           the report and the line that replays it
//   counter_demo --locked   explores the counter WITH its lock: every schedule gives 2000
//
// Honours every INTERLEAVE_* variable, INTERLEAVE_REPLAY included, so the printed line replays
// the failing schedule exactly. Exit status: 0 when the exploration turned out as the mode
// expects (unlocked: a failure found; locked: all schedules pass), 1 otherwise, 2 on bad usage.
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/thread.h"

namespace {

using namespace interleave;

// counter += 1 as the hardware does it: a read, then a write. The Atomic makes each of them a
// scheduling point, so the model can run another thread in between, exactly where a real
// preemption loses an update.
template <Platform P>
void increment(typename P::template Atomic<int>& counter) {
  const int value = counter.load(std::memory_order_relaxed);
  counter.store(value + 1, std::memory_order_relaxed);
}

template <bool Locked>
struct TutorialCounter {
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    typename P::template Atomic<int> counter{0};
    auto work = [&] {
      for (int i = 0; i < 1000; ++i) {
        if constexpr (Locked) {
          std::lock_guard guard(lock);
          increment<P>(counter);
        } else {
          increment<P>(counter);
        }
      }
    };
    BasicThread<P> thread1(work);
    BasicThread<P> thread2(work);
    thread1.start();
    thread2.start();
    thread1.join();
    thread2.join();
    INTERLEAVE_ASSERT(counter.load() == 2000);
  }
};

}  // namespace

int main(int argc, char** argv) {
  bool locked = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--locked") == 0) {
      locked = true;
    } else {
      std::fprintf(stderr, "usage: counter_demo [--locked]\n  unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  try {
    Options options;
    options.schedules = locked ? 10'000 : 1'000;
    const Result result =
        locked ? explore(options, TutorialCounter<true>{}) : explore(options, TutorialCounter<false>{});
    std::fputs(result.report().c_str(), stdout);
    return result.failed() == !locked ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "counter_demo: %s\n", e.what());
    return 2;
  }
}
