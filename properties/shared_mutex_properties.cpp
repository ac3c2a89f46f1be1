// SharedMutex: one property per guarantee of its contract
// (primitives/include/interleave/shared_mutex.h), under the model scheduler over
// RapidCheck-generated scenarios; the zoo's broken reader-writer locks must fail the same
// properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <array>
#include <cstdint>
#include <memory>
#include <ostream>
#include <vector>

#include "interleave/linearizability.h"
#include "interleave/model_platform.h"
#include "interleave/parallel_state_machine.h"
#include "interleave/rapidcheck.h"
#include "interleave/shared_mutex.h"
#include "scenarios/shared_mutex_scenarios.h"
#include "zoo/broken_shared_mutexes.h"

namespace interleave {
namespace {

template <Platform P>
using RealSharedMutex = BasicSharedMutex<P>;

using scenarios::Side;

// Each property draws a scenario and explores the body of
// properties/scenarios/shared_mutex_scenarios.h.
template <template <class> class MutexT, class Check = decltype(in_model)>
void exclusion(Side checked, bool tries, Check check = in_model) {
  const int writers = *rc::gen::inRange(1, 3);
  const int readers = *rc::gen::inRange(1, 3);
  const int rounds = *rc::gen::inRange(1, 3);
  check(scenarios::exclusion<MutexT>({checked, tries, writers, readers, rounds}));
}

template <template <class> class MutexT>
void no_writer_starvation() {
  check_schedules(scenarios::no_writer_starvation<MutexT>(*rc::gen::arbitrary<bool>()));
}

INTERLEAVE_PROPERTY(SharedMutexProperties, WritersExcludeEveryone, ()) {
  exclusion<RealSharedMutex>(Side::writers, false);
}
INTERLEAVE_PROPERTY(SharedMutexProperties, ReadersExcludeWriters, ()) {
  exclusion<RealSharedMutex>(Side::readers, false);
}
INTERLEAVE_PROPERTY(SharedMutexProperties, TryLocksNeverGrantAConflictingLock, ()) {
  exclusion<RealSharedMutex>(*rc::gen::element(Side::writers, Side::readers), true);
}
INTERLEAVE_PROPERTY(SharedMutexProperties, NoWriterStarvation, ()) { no_writer_starvation<RealSharedMutex>(); }
INTERLEAVE_PROPERTY(SharedMutexStressProperties, WritersExcludeEveryone, ()) {
  exclusion<RealSharedMutex>(Side::writers, false, on_real_threads);
}

TEST(SharedMutexZoo, AWriterClaimingAfterACheckSharesTheLockWithAReader) {
  EXPECT_TRUE(property_fails("check then claim",
                             [] { exclusion<zoo::CheckThenClaimWriterSharedMutex>(Side::readers, false); }));
}
TEST(SharedMutexZoo, ReadersFirstStarvesAWaitingWriter) {
  EXPECT_TRUE(property_fails("readers first", [] { no_writer_starvation<zoo::ReadersFirstSharedMutex>(); }));
}

// Linearizability of the non-blocking calls: every history of try_lock, try_lock_shared, unlock
// and unlock_shared (each thread unlocking only what it holds, and releasing it at the end of its
// list) is explained by a sequential reader-writer lock whose try_lock succeeds only when nobody
// holds it and try_lock_shared whenever no writer does. (With try calls only, no writer is ever
// announced without holding the lock, so writers-first changes nothing here.)
namespace spec {

using M = ModelPlatform;

struct Model {
  bool writer = false;
  int readers = 0;
  friend bool operator==(const Model&, const Model&) = default;
  friend std::ostream& operator<<(std::ostream& out, const Model& m) {
    return out << (m.writer ? "writer" : "no writer") << ", " << m.readers << " readers";
  }
};

enum class Held : std::uint8_t { none, shared, exclusive };

template <class Mutex>
class Object {
 public:
  Mutex mutex;
  [[nodiscard]] Held held_by_me() const { return holding_[me()]; }
  void mark(Held held) { holding_[me()] = held; }

 private:
  static std::size_t me() { return M::this_thread_id() % 64; }  // each entry: its own thread's
  std::array<Held, 64> holding_{};
};

template <class Mutex>
struct Spec {
  using Model = spec::Model;
  using Sut = Object<Mutex>;
  using Result = bool;  // what a try call returned; true for the unlocks
  using Ptr = std::shared_ptr<const Command<Model, Sut, bool>>;

  struct TryLock : Command<Model, Sut, bool> {
    bool apply(Model& m) const override {
      if (m.writer || m.readers != 0) return false;
      m.writer = true;
      return true;
    }
    bool applicable(Sut& s) const override { return s.held_by_me() == Held::none; }
    bool run(Sut& s) const override {
      const bool taken = s.mutex.try_lock();
      if (taken) s.mark(Held::exclusive);
      return taken;
    }
    void show(std::ostream& out) const override { out << "try_lock()"; }
  };
  struct TryLockShared : Command<Model, Sut, bool> {
    bool apply(Model& m) const override {
      if (m.writer) return false;
      ++m.readers;
      return true;
    }
    bool applicable(Sut& s) const override { return s.held_by_me() == Held::none; }
    bool run(Sut& s) const override {
      const bool taken = s.mutex.try_lock_shared();
      if (taken) s.mark(Held::shared);
      return taken;
    }
    void show(std::ostream& out) const override { out << "try_lock_shared()"; }
  };
  struct Unlock : Command<Model, Sut, bool> {
    bool apply(Model& m) const override {
      m.writer = false;
      return true;
    }
    bool applicable(Sut& s) const override { return s.held_by_me() == Held::exclusive; }
    bool run(Sut& s) const override {
      s.mark(Held::none);
      s.mutex.unlock();
      return true;
    }
    void show(std::ostream& out) const override { out << "unlock()"; }
  };
  struct UnlockShared : Command<Model, Sut, bool> {
    bool apply(Model& m) const override {
      --m.readers;
      return true;
    }
    bool applicable(Sut& s) const override { return s.held_by_me() == Held::shared; }
    bool run(Sut& s) const override {
      s.mark(Held::none);
      s.mutex.unlock_shared();
      return true;
    }
    void show(std::ostream& out) const override { out << "unlock_shared()"; }
  };

  Model initial_model() const { return {}; }
  std::unique_ptr<Sut> make_object() const { return std::make_unique<Sut>(); }
  rc::Gen<Ptr> command() const {
    return rc::gen::element<Ptr>(std::make_shared<TryLock>(), std::make_shared<TryLockShared>(),
                                 std::make_shared<Unlock>(), std::make_shared<UnlockShared>());
  }
  std::vector<Ptr> epilogue() const { return {std::make_shared<Unlock>(), std::make_shared<UnlockShared>()}; }
  std::vector<Ptr> unblock(Sut&) const { return {}; }  // no call here blocks
};

}  // namespace spec

INTERLEAVE_PROPERTY(SharedMutexProperties, TryCallsAreLinearizable, ()) {
  check_linearizable(spec::Spec<BasicSharedMutex<ModelPlatform>>{});
}
TEST(SharedMutexZoo, ACheckThenClaimTryLockIsNotLinearizable) {
  EXPECT_TRUE(property_fails("check then claim, linearizability", [] {
    check_linearizable(spec::Spec<zoo::CheckThenClaimWriterSharedMutex<ModelPlatform>>{});
  }));
}

}  // namespace
}  // namespace interleave
