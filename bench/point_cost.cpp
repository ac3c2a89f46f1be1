// The cost of one scheduling point, for instruction counts under callgrind (a plain program, not
// a Google Benchmark: callgrind needs a fixed amount of work, not a timed loop).
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null build/release/bench/point_cost atomics 200
//
// runs `schedules` schedules of one body under the strategy INTERLEAVE_STRATEGY names (default
// random) and prints the scheduling points run. Two runs with different schedule counts give the
// instructions per point without the program's start-up: (I(n2) - I(n1)) / (points(n2) -
// points(n1)). Bodies:
//   atomics  2 threads x 1000 relaxed fetch_add on one atomic: every point has two runnable fibers
//   counter  2 threads x 1000 increments, a Mutex taken around each (the model benchmark's counter)
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/options.h"
#include "interleave/thread.h"

namespace {

using interleave::BasicMutex;
using interleave::BasicThread;
using interleave::Platform;

struct Atomics {
  template <Platform P>
  void operator()() const {
    typename P::template Atomic<unsigned> counter{0};
    auto work = [&] {
      for (int i = 0; i < 1000; ++i) counter.fetch_add(1, std::memory_order_relaxed);
    };
    BasicThread<P> a(work);
    BasicThread<P> b(work);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(counter.load() == 2000);
  }
};

struct Counter {
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    int counter = 0;
    auto work = [&] {
      for (int i = 0; i < 1000; ++i) {
        std::lock_guard guard(lock);
        ++counter;
      }
    };
    BasicThread<P> a(work);
    BasicThread<P> b(work);
    a.start();
    b.start();
    a.join();
    b.join();
    INTERLEAVE_ASSERT(counter == 2000);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::string_view body = argc > 1 ? argv[1] : "";
  if (argc != 3 || (body != "atomics" && body != "counter")) {
    std::fprintf(stderr, "usage: point_cost atomics|counter <schedules>  (strategy: INTERLEAVE_STRATEGY)\n");
    return 2;
  }
  interleave::Options options;
  options.apply_environment();
  options.schedules = std::strtoull(argv[2], nullptr, 10);
  if (options.schedules == 0) {
    std::fprintf(stderr, "point_cost: <schedules> must be an integer >= 1, not '%s'\n", argv[2]);
    return 2;
  }
  const interleave::Result r =
      body == "atomics" ? interleave::explore(options, Atomics{}) : interleave::explore(options, Counter{});
  std::printf("%s %s: %llu schedules, %llu scheduling points, %s\n", body.data(),
              std::string(interleave::to_string(options.strategy)).c_str(),
              static_cast<unsigned long long>(r.schedules_run), static_cast<unsigned long long>(r.total_steps),
              r.passed() ? "passed" : "FAILED");
  return r.passed() ? 0 : 1;
}
