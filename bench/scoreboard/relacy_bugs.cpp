// The published bugs written for Relacy 2.4 (relacy-dev), part 1: the runner, the lookup by name,
// and the SCTBench CS/ programs of published_bugs.cpp; relacy_bugs_2.cpp has the rest. Built
// only where relacy-dev is installed (else relacy_none.cpp), with warnings off: Relacy's headers
// are old and noisy.
//
// Each test keeps its interleave twin's threads, operations and check: lock-guarded data is an
// rl::var (Relacy checks that the lock guards it; like a Shared cell, its accesses are not
// scheduling points), racy data a sequentially consistent rl::atomic, a mutex an rl::mutex.
// Relacy starts all of a test's threads at once; the programs start theirs one by one from main,
// and where a bug hides behind that order (a checker started last, after 19 setters) starting
// them all at once would change how hard it is. So thread 0 plays main (Started below): it
// starts the others in order, each waiting, yielding, for its turn, and then does main's own
// work; checks after the joins go to after(), which Relacy runs once every thread has finished.
// The standard headers and scoreboard.h come first: relacy.hpp defines `new` and `delete` as
// macros (its allocation tracking), which headers included after it would not survive.
// clang-format off
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <streambuf>
#include <string>

#include "scoreboard.h"

#include <relacy/relacy.hpp>
#include "relacy_common.h"
// clang-format on

namespace scoreboard {

namespace {

using relacy_tests::Started;

// CS/account_bad: checker (0), deposit (1), withdraw (2), one critical section each.
struct Account : Started<Account, 3> {
  rl::mutex m;
  rl::var<int> balance;
  rl::var<bool> deposit_done, withdraw_done;
  void init() {
    balance($) = 1;
    deposit_done($) = false;
    withdraw_done($) = false;
  }
  void body(int k) {
    m.lock($);
    if (k == 0) {
      if (deposit_done($) && withdraw_done($)) RL_ASSERT(balance($) == (1 - 2) - 4);
    } else if (k == 1) {
      balance($) = balance($) + 2;
      deposit_done($) = true;
    } else {
      balance($) = balance($) - 4;
      withdraw_done($) = true;
    }
    m.unlock($);
  }
};

// CS/bluetooth_driver_bad: the stopper (0); main runs BCSP_PnpAdd once it started it.
template <bool Fixed>
struct Bluetooth : Started<Bluetooth<Fixed>, 1> {
  rl::mutex m;
  rl::var<int> pending_io;
  rl::atomic<bool> stopping_flag, stopping_event, stopped;
  void init() {
    pending_io($) = 1;
    stopping_flag($).store(false);
    stopping_event($).store(false);
    stopped($).store(false);
  }
  bool increment() {
    if (!Fixed && stopping_flag($).load()) return false;
    m.lock($);
    if (Fixed && stopping_flag($).load()) {
      m.unlock($);
      return false;
    }
    pending_io($) = pending_io($) + 1;
    m.unlock($);
    return true;
  }
  void decrement() {
    m.lock($);
    const int left = pending_io($) - 1;
    pending_io($) = left;
    m.unlock($);
    if (left == 0) stopping_event($).store(true);
  }
  void body(int) {
    stopping_flag($).store(true);
    decrement();
    if (stopping_event($).load()) stopped($).store(true);
  }
  void main_work() {
    if (increment()) RL_ASSERT(!stopped($).load());
    decrement();
  }
};

// CS/carter01_bad: class A (0), class B (1), two idle threads (2, 3).
struct Carter01 : Started<Carter01, 4> {
  rl::mutex m, l;
  rl::var<int> a, b;
  void init() {
    a($) = 0;
    b($) = 0;
  }
  void body(int k) {
    if (k >= 2) return;
    rl::var<int>& count = k == 0 ? a : b;
    m.lock($);
    count($) = count($) + 1;
    if (count($) == 1) l.lock($);
    m.unlock($);
    m.lock($);
    count($) = count($) - 1;
    if (count($) == 0) l.unlock($);
    m.unlock($);
  }
};

// CS/circular_buffer_bad: producer (0) and consumer (1), 7 rounds each.
struct CircularBuffer : Started<CircularBuffer, 2> {
  static constexpr int kCapacity = 10, kRounds = 7;
  rl::mutex m;
  rl::var<int> buffer[kCapacity];
  rl::var<int> first, next;
  rl::var<bool> send, receive;
  void init() {
    for (auto& slot : buffer) slot($) = 0;
    first($) = 0;
    next($) = 0;
    send($) = true;
    receive($) = false;
  }
  void insert(int value) {
    if (next($) >= kCapacity) return;
    buffer[next($)]($) = value;
    next($) = (next($) + 1) % kCapacity;
  }
  int remove() {
    if (next($) <= 0 || first($) >= kCapacity) return -1;
    first($) = first($) + 1;
    return buffer[first($) - 1]($);
  }
  void body(int k) {
    for (int i = 0; i < kRounds; ++i) {
      m.lock($);
      if (k == 0 && send($)) {
        insert(i);
        send($) = false;
        receive($) = true;
      } else if (k == 1 && receive($)) {
        RL_ASSERT(remove() == i);
        receive($) = false;
        send($) = true;
      }
      m.unlock($);
    }
  }
};

// CS/deadlock01_bad: locks a, b in opposite orders (both a then b when Fixed).
template <bool Fixed>
struct Deadlock01 : Started<Deadlock01<Fixed>, 2> {
  rl::mutex a, b;
  rl::var<int> counter;
  void init() { counter($) = 1; }
  void body(int k) {
    rl::mutex& first = k == 0 || Fixed ? a : b;
    rl::mutex& second = k == 0 || Fixed ? b : a;
    first.lock($);
    second.lock($);
    counter($) = counter($) + (k == 0 ? 1 : -1);
    second.unlock($);
    first.unlock($);
  }
  void after() { RL_ASSERT(counter($) == 1); }
};

// CS/lazy01_bad: +1 (0), +2 (1), check (2).
struct Lazy01 : Started<Lazy01, 3> {
  rl::mutex m;
  rl::var<int> data;
  void init() { data($) = 0; }
  void body(int k) {
    m.lock($);
    if (k < 2) {
      data($) = data($) + k + 1;
    } else {
      RL_ASSERT(data($) < 3);
    }
    m.unlock($);
  }
};

// CS/stack_bad (stack_ok when Ok): pusher (0) and popper (1), 10 rounds each.
template <bool Ok>
struct Stack : Started<Stack<Ok>, 2> {
  static constexpr int kSize = 10, kOverflow = -1, kUnderflow = -2;
  rl::mutex m;
  rl::var<int> top;
  rl::var<int> stack[kSize];
  rl::var<bool> flag;
  void init() {
    top($) = 0;
    for (auto& slot : stack) slot($) = 0;
    flag($) = false;
  }
  int push(int x) {
    if (top($) == kSize) return kOverflow;
    stack[top($)]($) = x;
    top($) = top($) + 1;
    return 0;
  }
  int pop() {
    if (top($) == 0) return kUnderflow;
    top($) = top($) - 1;
    return stack[top($)]($);
  }
  void body(int k) {
    for (int i = 0; i < kSize; ++i) {
      m.lock($);
      if (k == 0) {
        RL_ASSERT(push(i) != kOverflow);
        if (!Ok) flag($) = true;
      } else if (Ok) {
        if (top($) > 0) pop();
      } else if (flag($)) {
        RL_ASSERT(pop() != kUnderflow);
      }
      m.unlock($);
    }
  }
};

// CS/token_ring_bad: three passers (0-2) and a checker (3), one critical section each.
struct TokenRing : Started<TokenRing, 4> {
  rl::mutex m;
  rl::var<int> x1, x2, x3;
  rl::var<bool> flag1, flag2, flag3;
  void init() {
    x1($) = 1;
    x2($) = 2;
    x3($) = 1;
    flag1($) = false;
    flag2($) = false;
    flag3($) = false;
  }
  void body(int k) {
    m.lock($);
    if (k == 0) {
      x1($) = (x3($) + 1) % 4;
      flag1($) = true;
    } else if (k == 1) {
      x2($) = static_cast<int>(x1($));
      flag2($) = true;
    } else if (k == 2) {
      x3($) = static_cast<int>(x2($));
      flag3($) = true;
    } else if (flag1($) && flag2($) && flag3($)) {
      RL_ASSERT(x1($) == x2($) && x2($) == x3($));
    }
    m.unlock($);
  }
};

// CS/twostage_bad and twostage_100_bad cut to 20 threads: stage threads first, then readers.
template <int Stages, int Readers>
struct Twostage : Started<Twostage<Stages, Readers>, Stages + Readers> {
  rl::mutex lock1, lock2;
  rl::atomic<int> data1, data2;
  void init() {
    data1($).store(0);
    data2($).store(0);
  }
  void body(int k) {
    if (k < Stages) {
      lock1.lock($);
      data1($).store(1);
      lock1.unlock($);
      lock2.lock($);
      data2($).store(data1($).load() + 1);
      lock2.unlock($);
      return;
    }
    lock1.lock($);
    if (data1($).load() == 0) {
      lock1.unlock($);
      return;
    }
    const int t1 = data1($).load();
    lock1.unlock($);
    lock2.lock($);
    const int t2 = data2($).load();
    lock2.unlock($);
    RL_ASSERT(t2 == t1 + 1);
  }
};

// CS/reorder_5_bad and reorder_20_bad: setters first, then checkers.
template <int Setters, int Checkers>
struct Reorder : Started<Reorder<Setters, Checkers>, Setters + Checkers> {
  rl::atomic<int> a, b;
  void init() {
    a($).store(0);
    b($).store(0);
  }
  void body(int k) {
    if (k < Setters) {
      a($).store(1);
      b($).store(-1);
      return;
    }
    const bool consistent = (a($).load() == 0 && b($).load() == 0) || (a($).load() == 1 && b($).load() == -1);
    RL_ASSERT(consistent);
  }
};

// CS/wronglock_bad: one thread under dataLock (0), seven under thisLock (1-7).
struct Wronglock : Started<Wronglock, 8> {
  rl::mutex data_lock, this_lock;
  rl::atomic<int> value;
  void init() { value($).store(0); }
  void body(int k) {
    if (k == 0) {
      data_lock.lock($);
      const int x = value($).load();
      value($).store(value($).load() + 1);
      RL_ASSERT(value($).load() == x + 1);
      data_lock.unlock($);
    } else {
      this_lock.lock($);
      value($).store(value($).load() + 1);
      this_lock.unlock($);
    }
  }
};

// CS/fib_bench_bad: i += j (0) and j += i (1), five times each.
struct FibBench : Started<FibBench, 2> {
  rl::atomic<int> i, j;
  void init() {
    i($).store(1);
    j($).store(1);
  }
  void body(int k) {
    rl::atomic<int>& to = k == 0 ? i : j;
    rl::atomic<int>& from = k == 0 ? j : i;
    for (int round = 0; round < 5; ++round) {
      const int mine = to($).load();
      const int theirs = from($).load();
      to($).store(mine + theirs);
    }
  }
  void after() { RL_ASSERT(i($).load() < 144 && j($).load() < 144); }
};

// CS/sigma_bad: main bumps array_index before starting each of the 16 threads.
struct Sigma : Started<Sigma, 16> {
  static constexpr int kSigma = 16;
  rl::atomic<int> index;
  rl::atomic<int> array[kSigma];
  void init() {
    index($).store(-1);
    for (auto& slot : array) slot($).store(0);
  }
  void before_start(int) { index($).store(index($).load() + 1); }
  void body(int) { array[index($).load()]($).store(1); }
  void after() {
    int sum = 0;
    for (auto& slot : array) sum += slot($).load();
    RL_ASSERT(sum == kSigma);
  }
};

RelacySimulate relacy_simulate_1(const std::string& name) {
  static const std::map<std::string, RelacySimulate> table = {
      {"SctAccount", &rl::simulate<Account>},
      {"SctBluetooth", &rl::simulate<Bluetooth<false>>},
      {"SctCarter01", &rl::simulate<Carter01>},
      {"SctCircularBuffer", &rl::simulate<CircularBuffer>},
      {"SctDeadlock01", &rl::simulate<Deadlock01<false>>},
      {"SctLazy01", &rl::simulate<Lazy01>},
      {"SctStack", &rl::simulate<Stack<false>>},
      {"SctTokenRing", &rl::simulate<TokenRing>},
      {"SctTwostage", &rl::simulate<Twostage<1, 1>>},
      {"SctTwostage20", &rl::simulate<Twostage<19, 1>>},
      {"SctReorder5", &rl::simulate<Reorder<4, 1>>},
      {"SctReorder20", &rl::simulate<Reorder<19, 1>>},
      {"SctWronglock", &rl::simulate<Wronglock>},
      {"SctFibBench", &rl::simulate<FibBench>},
      {"SctSigma", &rl::simulate<Sigma>},
      {"SctBluetoothFixed", &rl::simulate<Bluetooth<true>>},
      {"SctDeadlock01Fixed", &rl::simulate<Deadlock01<true>>},
      {"SctStackOk", &rl::simulate<Stack<true>>},
  };
  const auto it = table.find(name);
  return it == table.end() ? nullptr : it->second;
}

// Where a seed's run starts. Relacy's random scheduler draws each iteration's schedule from a
// generator it re-seeds with the iteration's index when the iteration begins
// (random_scheduler::iteration_begin_impl: rand_.seed(iter_); the context's own generator is
// re-seeded the same way), and test_params has no seed. rl::simulate runs iterations `start` to
// test_params::iteration_count, `start` being 1 unless test_params::initial_state names another
// (it is "<first iteration> [scheduler state]", what Relacy itself writes to replay a failure;
// the random scheduler keeps no other state). So each seed gets its own window of indices,
// starting at a splitmix64 hash of the seed. The window stays below 2^32, as Relacy's own runs
// do: random_generator::seed takes the generator's shift and increment from bits 32-39 of the
// index (only its state from the low 32 bits), and with a shift of 17 or more the bit that picks
// between two threads would hardly change within an iteration.
std::uint64_t first_iteration(std::uint64_t seed, std::uint64_t budget) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  const std::uint64_t room = (std::uint64_t{1} << 32) - 1 - budget;  // budget <= 1e6 (flags.cpp)
  return 1 + z % room;
}

// Discards what Relacy prints (its test name, progress and failure history). Not an
// ostringstream: Relacy replaces the global operator new with its own heap while a test runs, and
// a string buffer grown then (a failure's history) would be freed by malloc's free afterwards.
struct DiscardBuffer : std::streambuf {
  int overflow(int c) override { return c; }
};

// What Relacy reported, in the words the model's rows use.
std::string failure_kind(rl::test_result_e result) {
  switch (result) {
    case rl::test_result_deadlock:
      return "deadlock";
    case rl::test_result_livelock:
      return "step bound exceeded";
    case rl::test_result_data_race:
      return "data race";
    default:
      return "assertion";
  }
}

RelacyOutcome run(RelacySimulate simulate, std::uint64_t seed, std::uint64_t budget) {
  const std::uint64_t start = first_iteration(seed, budget);
  DiscardBuffer discard_buffer;
  std::ostream discard(&discard_buffer);
  rl::test_params params;
  params.search_type = rl::random_scheduler_type;
  params.initial_state = std::to_string(start);
  params.iteration_count = start + budget - 1;
  params.execution_depth_limit = 100'000;  // the default (2000) would call the spin-waits livelocks
  params.output_stream = &discard;
  params.progress_stream = &discard;
  // On a failure Relacy replays the failing iteration once more, to print its history (to
  // `discard`); stop_iteration is the failing one's index either way.
  if (simulate(params)) return {false, budget, ""};
  return {true, params.stop_iteration - start + 1, failure_kind(params.test_result)};
}

}  // namespace

std::function<RelacyOutcome(std::uint64_t, std::uint64_t)> relacy_version(const std::string& name, bool /*control*/) {
  RelacySimulate simulate = relacy_simulate_1(name);
  if (simulate == nullptr) simulate = relacy_simulate_2(name);
  if (simulate == nullptr) return {};
  return [simulate](std::uint64_t seed, std::uint64_t budget) { return run(simulate, seed, budget); };
}

}  // namespace scoreboard
