// The scoreboard's published bugs, part 1: the SCTBench programs from the SV-COMP pthread set
// (Thomson, Donaldson, Betts, "Concurrency testing using controlled schedulers: an empirical
// study", PPoPP 2014 / TOPC 2016, its CS/ directory), re-implemented from their descriptions in
// this project's test-body style; then the list itself (add_published_bugs), which takes the
// CB/, CHESS, ConVul and RADBench programs from published_bugs_2.cpp.
//
// Data that the published program guards with a lock is an interleave::Shared cell (the race
// detector checks that the lock does guard it); data that it reads and writes racily is a
// sequentially consistent atomic, each access a scheduling point, as SCTBench treats racy accesses
// as visible operations. Each program's Relacy twin is in relacy_bugs.cpp.
#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bug_body.h"
#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/native_platform.h"
#include "interleave/shared.h"
#include "interleave/stress.h"
#include "interleave/thread.h"
#include "scoreboard.h"

namespace scoreboard {

// published_bugs_2.cpp: the CB/, CHESS, ConVul and RADBench bugs, then their controls.
void add_published_bugs_2(std::vector<Bug>& bugs);
void add_published_controls_2(std::vector<Bug>& bugs);

namespace {

using namespace scoreboard::body;

// CS/account_bad: deposit, withdraw and a checker, one critical section each. The checker's
// assertion is wrong (the balance is x + y - z): it fails when the checker runs after both.
struct Account {
  template <Platform P>
  void operator()() const {
    constexpr int x = 1, y = 2, z = 4;
    Mutex<P> m;
    Shared<int, P> balance{x};
    Shared<bool, P> deposit_done{false};
    Shared<bool, P> withdraw_done{false};
    run_threads<P>({[&] {
                      std::lock_guard guard(m);
                      if (deposit_done.read() && withdraw_done.read()) INTERLEAVE_ASSERT(balance.read() == (x - y) - z);
                    },
                    [&] {
                      std::lock_guard guard(m);
                      balance.write(balance.read() + y);
                      deposit_done.write(true);
                    },
                    [&] {
                      std::lock_guard guard(m);
                      balance.write(balance.read() - z);
                      withdraw_done.write(true);
                    }});
  }
};

// CS/bluetooth_driver_bad (the KISS Bluetooth driver): the adder tests stoppingFlag outside the
// lock that guards pendingIo. Stopped between that test and its increment, the adder works on a
// device the stopper has meanwhile drained and stopped. Fixed: the test moves inside the lock.
template <bool Fixed>
struct Bluetooth {
  template <Platform P>
  void operator()() const {
    Mutex<P> m;
    Shared<int, P> pending_io{1};
    Atomic<bool, P> stopping_flag{false}, stopping_event{false}, stopped{false};
    auto increment = [&] {
      if (!Fixed && stopping_flag.load()) return false;
      std::lock_guard guard(m);
      if (Fixed && stopping_flag.load()) return false;
      pending_io.write(pending_io.read() + 1);
      return true;
    };
    auto decrement = [&] {
      int left = 0;
      {
        std::lock_guard guard(m);
        left = pending_io.read() - 1;
        pending_io.write(left);
      }
      if (left == 0) stopping_event.store(true);
    };
    interleave::BasicThread<P> stopper([&] {
      stopping_flag.store(true);
      decrement();
      if (stopping_event.load()) stopped.store(true);
    });
    stopper.start();
    if (increment()) INTERLEAVE_ASSERT(!stopped.load());  // BCSP_PnpAdd, on the main thread
    decrement();
    stopper.join();
  }
};

// CS/carter01_bad: two threads each take l when their class count goes 0 -> 1 under m, and give
// it back when it returns to 0. One holds l and wants m again while the other holds m and waits
// for l: a deadlock. (Two more threads do nothing, as in the original.)
struct Carter01 {
  template <Platform P>
  void operator()() const {
    Mutex<P> m, l;
    Shared<int, P> a{0}, b{0};
    auto worker = [&](Shared<int, P>& count) {
      return [&] {
        m.lock();
        count.write(count.read() + 1);
        if (count.read() == 1) l.lock();
        m.unlock();
        m.lock();
        count.write(count.read() - 1);
        if (count.read() == 0) l.unlock();
        m.unlock();
      };
    };
    run_threads<P>({worker(a), worker(b), [] {}, [] {}});
  }
};

// CS/circular_buffer_bad: a producer and a consumer hand values over through a ring, taking turns
// by send/receive flags, 7 rounds each. The consumer asserts that the value it takes equals its
// own round number, which breaks when the producer spends a round with nothing to send.
struct CircularBuffer {
  template <Platform P>
  void operator()() const {
    constexpr int kCapacity = 10, kRounds = 7;
    Mutex<P> m;
    Shared<std::array<int, kCapacity>, P> buffer;
    Shared<int, P> first{0}, next{0};
    Shared<bool, P> send{true}, receive{false};
    auto insert = [&](int value) {
      if (next.read() >= kCapacity) return;
      buffer.with_mut([&](auto& slots) { slots[static_cast<std::size_t>(next.read())] = value; });
      next.write((next.read() + 1) % kCapacity);
    };
    auto remove = [&] {
      if (next.read() <= 0 || first.read() >= kCapacity) return -1;
      first.write(first.read() + 1);
      return buffer.with([&](const auto& slots) { return slots[static_cast<std::size_t>(first.read() - 1)]; });
    };
    run_threads<P>({[&] {
                      for (int i = 0; i < kRounds; ++i) {
                        std::lock_guard guard(m);
                        if (!send.read()) continue;
                        insert(i);
                        send.write(false);
                        receive.write(true);
                      }
                    },
                    [&] {
                      for (int i = 0; i < kRounds; ++i) {
                        std::lock_guard guard(m);
                        if (!receive.read()) continue;
                        INTERLEAVE_ASSERT(remove() == i);
                        receive.write(false);
                        send.write(true);
                      }
                    }});
  }
};

// CS/deadlock01_bad: two threads take locks a and b in opposite orders; each holding its first
// lock while the other holds the second deadlocks them. Fixed: both take a, then b.
template <bool Fixed>
struct Deadlock01 {
  template <Platform P>
  void operator()() const {
    Mutex<P> a, b;
    Shared<int, P> counter{1};
    run_threads<P>({[&] {
                      std::lock_guard first(a);
                      std::lock_guard second(b);
                      counter.write(counter.read() + 1);
                    },
                    [&] {
                      std::lock_guard first(Fixed ? a : b);
                      std::lock_guard second(Fixed ? b : a);
                      counter.write(counter.read() - 1);
                    }});
    INTERLEAVE_ASSERT(counter.read() == 1);
  }
};

// CS/lazy01_bad: two threads add 1 and 2 to data under a lock; a third asserts data < 3 under it,
// which fails when it runs after both.
struct Lazy01 {
  template <Platform P>
  void operator()() const {
    Mutex<P> m;
    Shared<int, P> data{0};
    auto add = [&](int n) {
      return [&, n] {
        std::lock_guard guard(m);
        data.write(data.read() + n);
      };
    };
    run_threads<P>({add(1), add(2), [&] {
                      std::lock_guard guard(m);
                      INTERLEAVE_ASSERT(data.read() < 3);
                    }});
  }
};

// CS/stack_bad: a pusher pushes 10 values, a popper pops 10 times once a flag says something was
// pushed; the flag stays set, so the popper can overtake the pusher and pop an empty stack.
// stack_ok (the control) pops only when top > 0.
template <bool Ok>
struct Stack {
  template <Platform P>
  void operator()() const {
    constexpr int kSize = 10, kOverflow = -1, kUnderflow = -2;
    Mutex<P> m;
    Shared<int, P> top{0};
    Shared<std::array<int, kSize>, P> stack;
    Shared<bool, P> flag{false};
    auto push = [&](int x) {
      if (top.read() == kSize) return kOverflow;
      stack.with_mut([&](auto& s) { s[static_cast<std::size_t>(top.read())] = x; });
      top.write(top.read() + 1);
      return 0;
    };
    auto pop = [&] {
      if (top.read() == 0) return kUnderflow;
      top.write(top.read() - 1);
      return stack.with([&](const auto& s) { return s[static_cast<std::size_t>(top.read())]; });
    };
    run_threads<P>({[&] {
                      for (int i = 0; i < kSize; ++i) {
                        std::lock_guard guard(m);
                        INTERLEAVE_ASSERT(push(i) != kOverflow);
                        if (!Ok) flag.write(true);
                      }
                    },
                    [&] {
                      for (int i = 0; i < kSize; ++i) {
                        std::lock_guard guard(m);
                        if (Ok && top.read() > 0) pop();
                        if (!Ok && flag.read()) INTERLEAVE_ASSERT(pop() != kUnderflow);
                      }
                    }});
  }
};

// CS/token_ring_bad: three threads pass a token around (x1 = (x3+1)%4, x2 = x1, x3 = x2), one
// atomic section each; a fourth asserts all three equal once all ran, true only in order 1, 2, 3.
struct TokenRing {
  template <Platform P>
  void operator()() const {
    Mutex<P> m;
    Shared<int, P> x1{1}, x2{2}, x3{1};
    Shared<bool, P> flag1{false}, flag2{false}, flag3{false};
    // to = (from + add) % 4: x1 = (x3 + 1) % 4; x2 = x1 and x3 = x2 (every value stays below 4).
    auto pass = [&](Shared<int, P>& to, Shared<int, P>& from, int add, Shared<bool, P>& flag) {
      return [&, add] {
        std::lock_guard guard(m);
        to.write((from.read() + add) % 4);
        flag.write(true);
      };
    };
    auto check = [&] {
      std::lock_guard guard(m);
      if (flag1.read() && flag2.read() && flag3.read())
        INTERLEAVE_ASSERT(x1.read() == x2.read() && x2.read() == x3.read());
    };
    run_threads<P>({pass(x1, x3, 1, flag1), pass(x2, x1, 0, flag2), pass(x3, x2, 0, flag3), check});
  }
};

// CS/twostage_bad and its 20-thread form: each stage thread sets data1 = 1 under one lock, then
// data2 = data1 + 1 under another; the reader, seeing data1 set, asserts data2 == data1 + 1. It
// fails only when the reader runs between some stage thread's two sections before any second
// section ran. Stage threads are started first, the reader last, as in the original.
template <int Stages, int Readers>
struct Twostage {
  template <Platform P>
  void operator()() const {
    Mutex<P> lock1, lock2;
    Atomic<int, P> data1{0}, data2{0};
    auto stage = [&] {
      {
        std::lock_guard guard(lock1);
        data1.store(1);
      }
      std::lock_guard guard(lock2);
      data2.store(data1.load() + 1);
    };
    auto reader = [&] {
      int t1 = 0;
      {
        std::lock_guard guard(lock1);
        if (data1.load() == 0) return;
        t1 = data1.load();
      }
      int t2 = 0;
      {
        std::lock_guard guard(lock2);
        t2 = data2.load();
      }
      INTERLEAVE_ASSERT(t2 == t1 + 1);
    };
    run_threads<P>(repeat(Stages, stage, repeat(Readers, reader)));
  }
};

// CS/reorder_5_bad and reorder_20_bad: setters write a = 1, then b = -1; checkers assert that
// (a, b) is (0, 0) or (1, -1). A checker must read both between the first a = 1 and the first
// b = -1: one setter preempted at one exact spot, among many threads.
template <int Setters, int Checkers>
struct Reorder {
  template <Platform P>
  void operator()() const {
    Atomic<int, P> a{0}, b{0};
    auto set = [&] {
      a.store(1);
      b.store(-1);
    };
    auto check = [&] {
      const bool consistent = (a.load() == 0 && b.load() == 0) || (a.load() == 1 && b.load() == -1);
      INTERLEAVE_ASSERT(consistent);
    };
    run_threads<P>(repeat(Setters, set, repeat(Checkers, check)));
  }
};

// CS/wronglock_bad: one thread increments dataValue under dataLock and asserts it grew by one,
// seven others increment it under thisLock: a wrong lock, so one of them can step in between.
struct Wronglock {
  template <Platform P>
  void operator()() const {
    Mutex<P> data_lock, this_lock;
    Atomic<int, P> value{0};
    auto checked = [&] {
      std::lock_guard guard(data_lock);
      const int x = value.load();
      value.store(value.load() + 1);
      INTERLEAVE_ASSERT(value.load() == x + 1);
    };
    auto unchecked = [&] {
      std::lock_guard guard(this_lock);
      value.store(value.load() + 1);
    };
    run_threads<P>(repeat(1, checked, repeat(7, unchecked)));
  }
};

// CS/fib_bench_bad: two threads do i += j and j += i five times each, racily; after both, i or j
// reaches 144 (fib(12)) only when the ten additions strictly alternate, each seeing the other's
// latest value: a deep bug (nine preemptions at exact spots).
struct FibBench {
  template <Platform P>
  void operator()() const {
    constexpr int kRounds = 5;
    Atomic<int, P> i{1}, j{1};
    auto add = [](Atomic<int, P>& to, Atomic<int, P>& from) {
      return [&to, &from] {
        for (int k = 0; k < kRounds; ++k) {
          const int mine = to.load();
          const int theirs = from.load();
          to.store(mine + theirs);
        }
      };
    };
    run_threads<P>({add(i, j), add(j, i)});
    INTERLEAVE_ASSERT(i.load() < 144 && j.load() < 144);
  }
};

// CS/sigma_bad: main bumps array_index before creating each of 16 threads; each thread sets
// array[array_index] = 1, reading the index whenever it runs. One that reads it late writes a
// slot twice, and the sum of the array falls short of 16.
struct Sigma {
  template <Platform P>
  void operator()() const {
    constexpr int kSigma = 16;
    Atomic<int, P> index{-1};
    std::array<Atomic<int, P>, kSigma> array{};
    std::vector<std::unique_ptr<interleave::BasicThread<P>>> threads;
    for (int t = 0; t < kSigma; ++t) {
      index.store(index.load() + 1);
      threads.push_back(std::make_unique<interleave::BasicThread<P>>(
          [&] { array[static_cast<std::size_t>(index.load())].store(1); }));
      threads.back()->start();
    }
    for (auto& thread : threads) thread->join();
    int sum = 0;
    for (auto& slot : array) sum += slot.load();
    INTERLEAVE_ASSERT(sum == kSigma);
  }
};

void add_sctbench_bugs(std::vector<Bug>& bugs) {
  const std::string cs = "SCTBench CS/";
  bugs.push_back(make_bug("SctAccount", cs + "account_bad",
                          "assert balance == (x - y) - z once deposit and withdraw ran",
                          "3 threads (checker, deposit, withdraw), 1 lock", Account{}));
  bugs.push_back(make_bug("SctBluetooth", cs + "bluetooth_driver_bad", "assert !stopped while an I/O is counted",
                          "main (add) + stopper, 1 lock", Bluetooth<false>{}));
  bugs.push_back(make_bug("SctCarter01", cs + "carter01_bad", "no deadlock",
                          "2 threads x 2 sections, 2 locks (+2 idle)", Carter01{}));
  bugs.push_back(make_bug("SctCircularBuffer", cs + "circular_buffer_bad", "assert taken value == consumer round",
                          "producer + consumer x 7 rounds, capacity 10", CircularBuffer{}));
  bugs.push_back(make_bug("SctDeadlock01", cs + "deadlock01_bad", "no deadlock, counter == 1",
                          "2 threads, locks a and b", Deadlock01<false>{}));
  bugs.push_back(
      make_bug("SctLazy01", cs + "lazy01_bad", "assert data < 3", "3 threads (+1, +2, check), 1 lock", Lazy01{}));
  bugs.push_back(make_bug("SctStack", cs + "stack_bad", "assert no pop of an empty stack",
                          "pusher + popper x 10, 1 lock", Stack<false>{}));
  bugs.push_back(make_bug("SctTokenRing", cs + "token_ring_bad", "assert x1 == x2 == x3 once all passed",
                          "3 passers + 1 checker, 1 lock", TokenRing{}));
  bugs.push_back(make_bug("SctTwostage", cs + "twostage_bad", "assert data2 == data1 + 1 seen by the reader",
                          "1 stage thread + 1 reader, 2 locks", Twostage<1, 1>{}));
  // Hard, kept as a published hard one: the reader, started last, must slip between one stage
  // thread's two sections before any of the 19 ends its second. Random walk misses it within 5000
  // schedules; POS, PCT and the portfolio find it on some seeds.
  bugs.push_back(make_bug("SctTwostage20", cs + "twostage_100_bad, cut to 20 threads",
                          "assert data2 == data1 + 1 seen by the reader", "19 stage threads + 1 reader, 2 locks",
                          Twostage<19, 1>{}));
  bugs.push_back(make_bug("SctReorder5", cs + "reorder_5_bad", "assert (a, b) is (0, 0) or (1, -1)",
                          "4 setters + 1 checker", Reorder<4, 1>{}));
  // Hard, kept as a published hard one: as reorder_5, among 19 setters. Random walk and POS miss
  // it within 5000 schedules; PCT and the portfolio find it on some seeds.
  bugs.push_back(make_bug("SctReorder20", cs + "reorder_20_bad", "assert (a, b) is (0, 0) or (1, -1)",
                          "19 setters + 1 checker", Reorder<19, 1>{}));
  bugs.push_back(make_bug("SctWronglock", cs + "wronglock_bad", "assert dataValue grew by one under dataLock",
                          "1 + 7 threads, 2 locks", Wronglock{}));
  bugs.push_back(make_bug("SctFibBench", cs + "fib_bench_bad", "assert i < 144 && j < 144",
                          "2 threads x 5 racy additions", FibBench{}));
  bugs.push_back(
      make_bug("SctSigma", cs + "sigma_bad", "assert sum of array == 16", "16 threads started one by one", Sigma{}));
}

void add_sctbench_controls(std::vector<Bug>& bugs) {
  const std::string cs = "SCTBench CS/";
  bugs.push_back(make_bug("SctBluetoothFixed", cs + "bluetooth_driver_bad, flag tested under the lock",
                          "assert !stopped while an I/O is counted", "main (add) + stopper, 1 lock", Bluetooth<true>{},
                          true));
  bugs.push_back(make_bug("SctDeadlock01Fixed", cs + "deadlock01_bad, one lock order", "no deadlock, counter == 1",
                          "2 threads, locks a and b", Deadlock01<true>{}, true));
  bugs.push_back(make_bug("SctStackOk", cs + "stack_ok", "assert no pop of an empty stack",
                          "pusher + popper x 10, 1 lock", Stack<true>{}, true));
}

}  // namespace

void add_published_bugs(std::vector<Bug>& bugs) {
  add_sctbench_bugs(bugs);
  add_published_bugs_2(bugs);
  add_sctbench_controls(bugs);
  add_published_controls_2(bugs);
}

}  // namespace scoreboard
