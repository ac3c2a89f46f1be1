// The bodies of the Barrier properties (properties/barrier_properties.cpp), each a function of one
// scenario: the property suite runs them over RapidCheck-generated scenarios, and
// bench/scoreboard/ runs them on one fixed scenario per broken barrier under every strategy. Each
// returns a platform-generic body, []<Platform P>() {...}, for explore() or stress().
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <ostream>
#include <vector>

#include "interleave/barrier.h"
#include "interleave/explore.h"
#include "interleave/platform.h"
#include "interleave/thread.h"

namespace interleave::scenarios {

inline constexpr int kMaxPhases = 3;

struct PhaseScenario {
  int parties;
  int phases;  // 1..kMaxPhases
};

inline void showValue(const PhaseScenario& s, std::ostream& out) {
  out << s.parties << " parties x " << s.phases << " phases";
}

// `parties` threads pass `phases` phases of one barrier. Per phase: how many arrived, the arrival
// indices seen (a bit mask) and how many times the completion function ran. Each party checks,
// on leaving phase r, that all parties arrived in it, that its index was not handed out twice in
// the phase, and that the completion ran exactly r + 1 times.
template <template <class> class BarrierT>
auto phases(PhaseScenario s) {
  return [s]<Platform P>() {
    std::array<typename P::template Atomic<int>, kMaxPhases> arrived{};
    std::array<typename P::template Atomic<std::uint32_t>, kMaxPhases> indices{};
    typename P::template Atomic<int> completions{0};
    BarrierT<P> barrier(s.parties, [&] {
      const int phase = completions.load();
      INTERLEAVE_ASSERT(arrived[phase].load() == s.parties, "the completion ran before every party arrived");
      completions.store(phase + 1);
    });
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t < s.parties; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        for (int r = 0; r < s.phases; ++r) {
          arrived[r].fetch_add(1);
          const std::uint32_t index = barrier.arrive_and_wait();
          INTERLEAVE_ASSERT(arrived[r].load() == s.parties, "a party left a phase before every party arrived");
          INTERLEAVE_ASSERT(index < static_cast<std::uint32_t>(s.parties), "arrival index out of range");
          INTERLEAVE_ASSERT((indices[r].fetch_or(1U << index) & (1U << index)) == 0,
                            "two parties got the same arrival index in one phase");
          INTERLEAVE_ASSERT(completions.load() == r + 1,
                            "a party left a phase before the completion function ran once for it");
        }
      }));
    }
    for (auto& t : threads) t->start();
    for (auto& t : threads) t->join();
    INTERLEAVE_ASSERT(completions.load() == s.phases);
  };
}

// abort() breaks the barrier: the parties waiting in it (all but one of them have arrived) throw
// BrokenBarrierError instead of sleeping forever, and so does a later arrival.
template <template <class> class BarrierT>
auto abort_breaks_the_barrier(int parties) {
  return [parties]<Platform P>() {
    BarrierT<P> barrier(parties);
    typename P::template Atomic<int> broken{0};
    std::vector<std::unique_ptr<BasicThread<P>>> threads;
    for (int t = 0; t + 1 < parties; ++t) {
      threads.push_back(std::make_unique<BasicThread<P>>([&] {
        try {
          barrier.arrive_and_wait();
        } catch (const BrokenBarrierError&) {
          broken.fetch_add(1);
        }
      }));
    }
    for (auto& t : threads) t->start();
    barrier.abort();
    for (auto& t : threads) t->join();
    INTERLEAVE_ASSERT(broken.load() == parties - 1, "a party left an aborted barrier normally");
    bool threw = false;
    try {
      barrier.arrive_and_wait();
    } catch (const BrokenBarrierError&) {
      threw = true;
    }
    INTERLEAVE_ASSERT(threw, "an arrival at a broken barrier did not throw");
  };
}

}  // namespace interleave::scenarios
