// RecursiveMutex: one property per guarantee of its contract
// (primitives/include/interleave/recursive_mutex.h), under the model scheduler over
// RapidCheck-generated scenarios; the zoo's broken recursive mutexes must fail the same properties.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "interleave/explore.h"
#include "interleave/rapidcheck.h"
#include "interleave/recursive_mutex.h"
#include "interleave/thread.h"
#include "scenarios/recursive_mutex_scenarios.h"
#include "zoo/broken_recursive_mutexes.h"

namespace interleave {
namespace {

template <Platform P>
using RealRecursiveMutex = BasicRecursiveMutex<P>;

// Mutual exclusion between threads: N threads, each taking the lock `depth` times (the nested
// ones by lock or try_lock, which must succeed) around a read-then-write increment, give N*M.
template <template <class> class MutexT, class Check = decltype(in_model)>
void mutual_exclusion(Check check = in_model) {
  const int threads = *rc::gen::inRange(2, 4);
  const int increments = *rc::gen::inRange(1, 3);
  const int depth = *rc::gen::inRange(1, 4);
  check([=]<Platform P>() {
    MutexT<P> lock;
    typename P::template Atomic<int> counter{0};
    std::vector<std::unique_ptr<BasicThread<P>>> workers;
    for (int t = 0; t < threads; ++t) {
      workers.push_back(std::make_unique<BasicThread<P>>([&] {
        for (int i = 0; i < increments; ++i) {
          lock.lock();
          for (int d = 1; d < depth; ++d) {
            if (d % 2 == 0) {
              lock.lock();
            } else {
              INTERLEAVE_ASSERT(lock.try_lock(), "a nested try_lock by the holder failed");
            }
          }
          counter.store(counter.load() + 1);
          for (int d = 0; d < depth; ++d) lock.unlock();
        }
      }));
    }
    for (auto& w : workers) w->start();
    for (auto& w : workers) w->join();
    INTERLEAVE_ASSERT(counter.load() == threads * increments);
  });
}

// Drawn here, explored as properties/scenarios/recursive_mutex_scenarios.h writes it.
template <template <class> class MutexT>
void released_only_by_the_last_unlock() {
  const int depth = *rc::gen::inRange(2, 4);
  const bool blocking = *rc::gen::arbitrary<bool>();
  check_schedules(scenarios::released_only_by_the_last_unlock<MutexT>(depth, blocking));
}

// count() is the calling thread's number of locks, and 0 for any other thread.
template <template <class> class MutexT>
void count_is_the_callers_locks() {
  const int depth = *rc::gen::inRange(1, 4);
  check_schedules([=]<Platform P>() {
    MutexT<P> lock;
    BasicThread<P> holder([&] {
      for (int d = 1; d <= depth; ++d) {
        lock.lock();
        INTERLEAVE_ASSERT(lock.count() == static_cast<unsigned>(d));
      }
      for (int d = depth; d >= 1; --d) {
        lock.unlock();
        INTERLEAVE_ASSERT(lock.count() == static_cast<unsigned>(d - 1));
      }
    });
    BasicThread<P> other([&] { INTERLEAVE_ASSERT(lock.count() == 0); });
    holder.start();
    other.start();
    holder.join();
    other.join();
  });
}

// unlock by a thread that does not hold the lock is a contract violation (reported, not silent).
template <template <class> class MutexT>
Result unlock_by_non_owner() {
  Options options;
  options.schedules = 20;
  return explore(options, []<Platform P>() {
    MutexT<P> lock;
    lock.lock();
    BasicThread<P> other([&] { lock.unlock(); });
    other.start();
    other.join();
  });
}

INTERLEAVE_PROPERTY(RecursiveMutexProperties, MutualExclusion, ()) { mutual_exclusion<RealRecursiveMutex>(); }
INTERLEAVE_PROPERTY(RecursiveMutexProperties, ReleasedOnlyByTheLastUnlock, ()) {
  released_only_by_the_last_unlock<RealRecursiveMutex>();
}
INTERLEAVE_PROPERTY(RecursiveMutexProperties, CountIsTheCallersLocks, ()) {
  count_is_the_callers_locks<RealRecursiveMutex>();
}
TEST(RecursiveMutexProperties, UnlockByNonOwnerIsAContractViolation) {
  const Result r = unlock_by_non_owner<RealRecursiveMutex>();
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::contract_violation) << r.report();
  EXPECT_NE(r.failure->message.find("does not own the mutex"), std::string::npos) << r.report();
}

INTERLEAVE_PROPERTY(RecursiveMutexStressProperties, MutualExclusion, ()) {
  mutual_exclusion<RealRecursiveMutex>(on_real_threads);
}

// The zoo.
TEST(RecursiveMutexZoo, ReleasingOnTheFirstUnlockLetsAnotherThreadIn) {
  EXPECT_TRUE(property_fails("release on first unlock",
                             [] { released_only_by_the_last_unlock<zoo::ReleaseOnFirstUnlockRecursiveMutex>(); }));
}
TEST(RecursiveMutexZoo, AnUncheckedUnlockByANonOwnerIsCaught) {
  const Result r = unlock_by_non_owner<zoo::UncheckedOwnerRecursiveMutex>();
  EXPECT_FALSE(r.failed() && r.failure->kind == FailureKind::contract_violation) << r.report();
}

}  // namespace
}  // namespace interleave
