// A check-then-act race that every lock hides: two withdrawals from one account, each reading the
// balance under the lock and writing it under the lock, but checking and acting in two separate
// critical sections. Both can see enough money; the balance goes negative.
//
//   withdraw_demo                       explores, prints the report and writes the failing
//                                       schedule to withdraw-trace.json and withdraw-trace.html
//   INTERLEAVE_TRACE=x.json withdraw_demo   writes x.json and x.html instead
//
// Honours every INTERLEAVE_* variable. Exit status: 0 when the race was found and its trace
// written, 1 otherwise, 2 on bad usage or configuration.
#include <cstdio>
#include <exception>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/names.h"
#include "interleave/thread.h"

namespace {

using namespace interleave;

struct TwoWithdrawals {
  template <Platform P>
  void operator()() const {
    BasicMutex<P> lock;
    typename P::template Atomic<int> balance{60};
    name(lock, "lock");  // reports and traces then say "lock" and "balance", not "#1" and "#3"
    name(balance, "balance");
    auto withdraw = [&](int amount) {
      lock.lock();
      const bool enough = balance.load(std::memory_order_relaxed) >= amount;  // check...
      lock.unlock();
      if (enough) {
        lock.lock();
        balance.store(balance.load(std::memory_order_relaxed) - amount, std::memory_order_relaxed);  // ...then act
        lock.unlock();
      }
    };
    BasicThread<P> alice([&] { withdraw(50); }, "alice");
    BasicThread<P> bob([&] { withdraw(40); }, "bob");
    alice.start();
    bob.start();
    alice.join();
    bob.join();
    INTERLEAVE_ASSERT(balance.load() >= 0);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    std::fprintf(
        stderr, "usage: withdraw_demo (no arguments; configure with INTERLEAVE_* variables)\n  unknown argument '%s'\n",
        argv[1]);
    return 2;
  }
  try {
    Options options;
    options.trace_path = "withdraw-trace.json";  // INTERLEAVE_TRACE overrides it
    const Result result = explore(options, TwoWithdrawals{});
    std::fputs(result.report().c_str(), stdout);
    return result.failed() && !result.trace_files.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "withdraw_demo: %s\n", e.what());
    return 2;
  }
}
