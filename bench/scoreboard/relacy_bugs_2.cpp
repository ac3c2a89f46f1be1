// The published bugs written for Relacy 2.4, part 2: the CB/, CHESS, ConVul and RADBench programs
// of published_bugs_2.cpp (relacy_bugs.cpp has the runner and explains the conventions: thread 0
// plays main and starts the others in order). Built with warnings off, as part 1.
// clang-format off
#include <map>
#include <string>

#include <relacy/relacy.hpp>  // last but for what needs it: it defines `new` and `delete` as macros
#include "relacy_common.h"
// clang-format on

namespace scoreboard {

namespace {

using relacy_tests::Started;

constexpr int kLive = 0;
constexpr int kFreed = 1;

// CB/stringbuffer-jdk1.4: sb1.append(sb2) (0) and sb2.delete(0, length) (1).
struct StringBuffer : Started<StringBuffer, 2> {
  rl::mutex lock1, lock2;
  rl::var<int> count1, count2;
  void init() {
    count1($) = 3;
    count2($) = 3;
  }
  void body(int k) {
    if (k == 1) {
      lock2.lock($);
      count2($) = 0;
      lock2.unlock($);
      return;
    }
    lock1.lock($);
    lock2.lock($);
    const int length = count2($);
    lock2.unlock($);
    lock2.lock($);
    RL_ASSERT(length <= count2($));
    lock2.unlock($);
    count1($) = count1($) + length;
    lock1.unlock($);
  }
};

// CB/pbzip2-0.9.4: producer (0) and consumer (1); main waits for the producer's `finished` flag
// (its join), then sets allDone and deletes the queue.
struct Pbzip2 : Started<Pbzip2, 2> {
  rl::mutex queue_lock;
  rl::var<int> queued;
  rl::atomic<bool> all_done, producer_finished;
  rl::atomic<int> queue_state;
  void init() {
    queued($) = 0;
    all_done($).store(false);
    producer_finished($).store(false);
    queue_state($).store(kLive);
  }
  void consume() {
    for (;;) {
      RL_ASSERT(queue_state($).load() != kFreed);
      queue_lock.lock($);
      if (queued($) > 0) {
        queued($) = queued($) - 1;
        queue_lock.unlock($);
        continue;
      }
      const bool done = all_done($).load();
      queue_lock.unlock($);
      if (done) return;
      rl::yield(1, $);
    }
  }
  void body(int k) {
    if (k == 1) {
      consume();
      return;
    }
    for (int block = 0; block < 2; ++block) {
      queue_lock.lock($);
      queued($) = queued($) + 1;
      queue_lock.unlock($);
    }
    producer_finished($).store(true);
  }
  void main_work() {
    while (!producer_finished($).load()) rl::yield(1, $);
    all_done($).store(true);
    queue_state($).store(kFreed);
  }
};

// SCTBench CHESS/WorkStealQueue: owner (0) pushes 2 and pops 2, thief (1) steals once.
template <bool Fixed>
struct WorkStealQueue : Started<WorkStealQueue<Fixed>, 2> {
  static constexpr int kEmpty = -1;
  rl::mutex lock;
  rl::atomic<int> head, tail;
  rl::var<int> items[2];
  rl::atomic<int> taken[2];
  void init() {
    head($).store(0);
    tail($).store(0);
    for (int k = 0; k < 2; ++k) {
      items[k]($) = 0;
      taken[k]($).store(0);
    }
  }
  int pop() {
    int h = Fixed ? 0 : head($).load();
    const int t = tail($).load() - 1;
    tail($).store(t);
    if (Fixed) h = head($).load();
    if (h <= t) return items[t]($);
    tail($).store(t + 1);
    lock.lock($);
    const int u = tail($).load() - 1;
    tail($).store(u);
    if (head($).load() > u) {
      tail($).store(u + 1);
      lock.unlock($);
      return kEmpty;
    }
    const int item = items[u]($);
    lock.unlock($);
    return item;
  }
  int steal() {
    lock.lock($);
    const int h = head($).load();
    head($).store(h + 1);
    if (h + 1 > tail($).load()) {
      head($).store(h);
      lock.unlock($);
      return kEmpty;
    }
    lock.unlock($);
    return items[h]($);
  }
  void record(int item) {
    if (item != kEmpty) taken[item]($).fetch_add(1);
  }
  void body(int k) {
    if (k == 1) {
      record(steal());
      return;
    }
    for (int item = 0; item < 2; ++item) {
      const int t = tail($).load();
      items[t]($) = item;
      tail($).store(t + 1);
    }
    record(pop());
    record(pop());
  }
  void after() { RL_ASSERT(taken[0]($).load() == 1 && taken[1]($).load() == 1); }
};

// ConVul use after free: reader (0) and closer (1), under one lock when Fixed.
template <bool Fixed>
struct UafFlag : Started<UafFlag<Fixed>, 2> {
  rl::mutex lock;
  rl::atomic<bool> valid;
  rl::atomic<int> state;
  void init() {
    valid($).store(true);
    state($).store(kLive);
  }
  void body(int k) {
    if (Fixed) lock.lock($);
    if (k == 0) {
      if (valid($).load()) RL_ASSERT(state($).load() != kFreed);
    } else {
      valid($).store(false);
      state($).store(kFreed);
    }
    if (Fixed) lock.unlock($);
  }
};

// ConVul double free: two closers.
struct DoubleFree : Started<DoubleFree, 2> {
  rl::atomic<int> handle, frees;
  void init() {
    handle($).store(1);
    frees($).store(0);
  }
  void body(int) {
    if (handle($).load() == 0) return;
    RL_ASSERT(frees($).fetch_add(1) == 0);
    handle($).store(0);
  }
};

// ConVul null dereference: reader (0) and disconnector (1).
struct NullDeref : Started<NullDeref, 2> {
  rl::atomic<int> connection;
  void init() { connection($).store(1); }
  void body(int k) {
    if (k == 1) {
      connection($).store(0);
      return;
    }
    if (connection($).load() == 0) return;
    const int used = connection($).load();
    RL_ASSERT(used != 0);
  }
};

// RADBench-style reference count: two workers (0, 1); main releases its reference once it started
// them.
template <bool Fixed>
struct Refcount : Started<Refcount<Fixed>, 2> {
  rl::atomic<int> references, destroyed;
  void init() {
    references($).store(3);
    destroyed($).store(0);
  }
  void release() {
    int left = 0;
    if (Fixed) {
      left = references($).fetch_sub(1) - 1;
    } else {
      left = references($).load() - 1;
      references($).store(left);
    }
    if (left == 0) destroyed($).fetch_add(1);
  }
  void body(int) {
    RL_ASSERT(destroyed($).load() == 0);
    release();
  }
  void main_work() { release(); }
  void after() { RL_ASSERT(destroyed($).load() == 1); }
};

// RADBench-style lost wake-up: waiter (0) and signaller (1). (Relacy's condition variable may wake
// spuriously, which can rescue the buggy waiter on some schedules.)
template <bool Fixed>
struct LostWakeup : Started<LostWakeup<Fixed>, 2> {
  rl::mutex lock;
  rl::condition_variable condition;
  rl::atomic<bool> ready;
  void init() { ready($).store(false); }
  void body(int k) {
    if (k == 0) {
      lock.lock($);
      if (Fixed) {
        while (!ready($).load()) condition.wait(lock, $);
      } else if (!ready($).load()) {
        condition.wait(lock, $);
      }
      lock.unlock($);
      return;
    }
    if (Fixed) lock.lock($);
    ready($).store(true);
    if (Fixed) lock.unlock($);
    condition.notify_one($);
  }
};

// RADBench Apache-1: two threads log two lines each into a buffer of 3; main flushes the rest.
struct LogBuffer : Started<LogBuffer, 2> {
  static constexpr int kCapacity = 3;
  rl::atomic<int> buffer[kCapacity];
  rl::atomic<int> outcnt, file_sum, file_lines;
  void init() {
    for (auto& slot : buffer) slot($).store(0);
    outcnt($).store(0);
    file_sum($).store(0);
    file_lines($).store(0);
  }
  void flush(int n) {
    for (int k = 0; k < n; ++k) {
      file_sum($).fetch_add(buffer[k]($).load());
      file_lines($).fetch_add(1);
    }
  }
  void log(int line) {
    int n = outcnt($).load();
    if (n + 1 > kCapacity) {
      flush(n);
      outcnt($).store(0);
      n = 0;
    }
    buffer[n]($).store(line);
    outcnt($).store(n + 1);
  }
  void body(int k) {
    log(k == 0 ? 1 : 4);
    log(k == 0 ? 2 : 8);
  }
  void after() {
    flush(outcnt($).load());
    RL_ASSERT(file_lines($).load() == 4 && file_sum($).load() == 15);
  }
};

}  // namespace

RelacySimulate relacy_simulate_2(const std::string& name) {
  static const std::map<std::string, RelacySimulate> table = {
      {"SctStringBuffer", &rl::simulate<StringBuffer>},
      {"SctPbzip2", &rl::simulate<Pbzip2>},
      {"SctWorkStealQueue", &rl::simulate<WorkStealQueue<false>>},
      {"ConVulUafFlag", &rl::simulate<UafFlag<false>>},
      {"ConVulDoubleFree", &rl::simulate<DoubleFree>},
      {"ConVulNullDeref", &rl::simulate<NullDeref>},
      {"RadRefcount", &rl::simulate<Refcount<false>>},
      {"RadLostWakeup", &rl::simulate<LostWakeup<false>>},
      {"RadLogBuffer", &rl::simulate<LogBuffer>},
      {"SctWorkStealQueueFixed", &rl::simulate<WorkStealQueue<true>>},
      {"ConVulUafFlagFixed", &rl::simulate<UafFlag<true>>},
      {"RadRefcountFixed", &rl::simulate<Refcount<true>>},
      {"RadLostWakeupFixed", &rl::simulate<LostWakeup<true>>},
  };
  const auto it = table.find(name);
  return it == table.end() ? nullptr : it->second;
}

}  // namespace scoreboard
