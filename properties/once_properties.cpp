// Once: one property per guarantee of its contract (primitives/include/interleave/once.h), under
// the model scheduler over RapidCheck-generated scenarios; the zoo's broken call_once
// implementations must fail the same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <memory>
#include <ostream>
#include <vector>

#include "interleave/linearizability.h"
#include "interleave/model_platform.h"
#include "interleave/once.h"
#include "interleave/parallel_state_machine.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"
#include "scenarios/once_scenarios.h"
#include "zoo/broken_onces.h"

namespace interleave {
namespace {

template <Platform P>
using RealOnce = BasicOnce<P>;

// Each property draws a scenario and explores the body of properties/scenarios/once_scenarios.h.
template <template <class> class OnceT>
void exactly_one_successful_run() {
  check_schedules(scenarios::once_callers<OnceT>({*rc::gen::inRange(2, 4), 0, false, true}));
}
template <template <class> class OnceT>
void every_caller_sees_the_run() {
  check_schedules(scenarios::once_callers<OnceT>({*rc::gen::inRange(2, 4), 0, true, false}));
}
template <template <class> class OnceT>
void an_exception_lets_another_caller_run() {
  const int callers = *rc::gen::inRange(2, 4);
  check_schedules(scenarios::once_callers<OnceT>({callers, *rc::gen::inRange(1, callers), true, true}));
}

INTERLEAVE_PROPERTY(OnceProperties, ExactlyOneSuccessfulRun, ()) { exactly_one_successful_run<RealOnce>(); }
INTERLEAVE_PROPERTY(OnceProperties, EveryCallerSeesTheRun, ()) { every_caller_sees_the_run<RealOnce>(); }
INTERLEAVE_PROPERTY(OnceProperties, AnExceptionLetsAnotherCallerRun, ()) {
  an_exception_lets_another_caller_run<RealOnce>();
}

TEST(OnceZoo, CheckThenRunRunsTwice) {
  EXPECT_TRUE(property_fails("check then run", [] { exactly_one_successful_run<zoo::CheckThenRunOnce>(); }));
}
TEST(OnceZoo, LosersNotWaitingGoOnBeforeTheRun) {
  EXPECT_TRUE(property_fails("losers do not wait", [] { every_caller_sees_the_run<zoo::NoWaitOnce>(); }));
}
TEST(OnceZoo, AnExceptionLeavingTheRunInProgressIsCaught) {
  EXPECT_TRUE(property_fails("stuck after an exception",
                             [] { an_exception_lets_another_caller_run<zoo::StuckAfterExceptionOnce>(); }));
}

// Linearizability: every history of call(f_v) -- f_v stores v, and the call then returns what is
// stored -- is explained by a sequential Once whose first call stores its value and whose every
// call returns the first call's value.
namespace spec {

using M = ModelPlatform;

struct Model {
  int value = -1;  // -1: not run yet
  friend bool operator==(const Model&, const Model&) = default;
  friend std::ostream& operator<<(std::ostream& out, const Model& m) { return out << "value " << m.value; }
};

template <class OnceT>
struct Object {
  OnceT once;
  typename M::template Atomic<int> stored{-1};
};

template <class OnceT>
struct Spec {
  using Model = spec::Model;
  using Sut = Object<OnceT>;
  using Result = int;
  using Ptr = std::shared_ptr<const Command<Model, Sut, int>>;

  struct Call : Command<Model, Sut, int> {
    explicit Call(int v) : value(v) {}
    int apply(Model& m) const override {
      if (m.value < 0) m.value = value;
      return m.value;
    }
    int run(Sut& s) const override {
      s.once.call([&] { s.stored.store(value); });
      return s.stored.load();
    }
    void show(std::ostream& out) const override { out << "call_once(store " << value << ")"; }
    int value;
  };

  Model initial_model() const { return {}; }
  std::unique_ptr<Sut> make_object() const { return std::make_unique<Sut>(); }
  rc::Gen<Ptr> command() const {
    return rc::gen::map(rc::gen::inRange(0, 10), [](int v) { return Ptr(std::make_shared<Call>(v)); });
  }
  std::vector<Ptr> unblock(Sut&) const { return {}; }  // a waiting call ends with the run
};

}  // namespace spec

INTERLEAVE_PROPERTY(OnceProperties, CallOnceIsLinearizable, ()) {
  check_linearizable(spec::Spec<BasicOnce<spec::M>>{});
}
TEST(OnceZoo, CheckThenRunIsNotLinearizable) {
  EXPECT_TRUE(property_fails("check then run, linearizability",
                             [] { check_linearizable(spec::Spec<zoo::CheckThenRunOnce<spec::M>>{}); }));
}

}  // namespace
}  // namespace interleave
