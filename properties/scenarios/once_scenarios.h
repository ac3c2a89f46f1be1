// The body of the Once properties (properties/once_properties.cpp), a function of one scenario:
// the property suite runs it over RapidCheck-generated scenarios, and bench/scoreboard/ runs it on
// one fixed scenario per broken call_once under every strategy. It returns a platform-generic
// body, []<Platform P>() {...}, for explore().
#pragma once

#include <memory>
#include <ostream>
#include <stdexcept>
#include <vector>

#include "interleave/explore.h"
#include "interleave/platform.h"
#include "interleave/thread.h"

namespace interleave::scenarios {

struct OnceScenario {
  int callers;
  int failures;       // the first `failures` runs of the callable throw (fewer than callers)
  bool check_effect;  // each caller that returns normally sees the successful run's effect
  bool check_count;   // exactly one run succeeds, and every exception reaches its caller
};

inline void showValue(const OnceScenario& s, std::ostream& out) {
  out << s.callers << " callers, " << s.failures << " failing runs";
}

struct OnceAttempt : std::runtime_error {
  OnceAttempt() : std::runtime_error("this attempt fails") {}
};

// `callers` threads call once.call(f); the first `failures` runs of f throw. Each caller that
// returns normally checks that it sees the successful run's effect; after the joins, exactly one
// run succeeded (when some caller was left to make it), and every thrown exception reached the
// caller whose run threw.
template <template <class> class OnceT>
auto once_callers(OnceScenario s) {
  return [s]<Platform P>() {
    OnceT<P> once;
    typename P::template Atomic<int> attempts{0};
    typename P::template Atomic<int> successes{0};
    typename P::template Atomic<int> effect{0};
    typename P::template Atomic<int> thrown{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < s.callers; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        try {
          once.call([&] {
            if (attempts.fetch_add(1) < s.failures) throw OnceAttempt();
            effect.store(42);
            successes.fetch_add(1);
          });
        } catch (const OnceAttempt&) {
          thrown.fetch_add(1);
          return;
        }
        if (s.check_effect) INTERLEAVE_ASSERT(effect.load() == 42, "call_once returned before a successful run");
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
    if (s.check_count) {
      INTERLEAVE_ASSERT(successes.load() == 1, "not exactly one successful run");
      INTERLEAVE_ASSERT(thrown.load() == s.failures, "an exception of a run was lost or invented");
    }
  };
}

}  // namespace interleave::scenarios
