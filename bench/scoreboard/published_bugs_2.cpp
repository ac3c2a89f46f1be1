// The scoreboard's published bugs, part 2: SCTBench's CB/ and CHESS programs, ConVul's
// CVE-derived memory-corruption patterns (Cai et al., "Detecting concurrency memory corruption
// vulnerabilities", FSE 2019) and RADBench's (Jalbert et al., HotPar 2011) application bugs,
// re-implemented from their descriptions; then the controls among them (fixed versions).
//
// Memory is never really freed: an object's "freed" is a state the program sets, and a use or a
// second free asserts on it. As in part 1, lock-guarded data is an interleave::Shared cell and
// racy data a sequentially consistent atomic. The Relacy twins are in relacy_bugs.cpp.
#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bug_body.h"
#include "interleave/condition.h"
#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/native_platform.h"
#include "interleave/shared.h"
#include "interleave/stress.h"
#include "interleave/thread.h"
#include "scoreboard.h"

namespace scoreboard {

void add_published_bugs_2(std::vector<Bug>& bugs);
void add_published_controls_2(std::vector<Bug>& bugs);

namespace {

using namespace scoreboard::body;

constexpr int kLive = 0;
constexpr int kFreed = 1;

// CB/stringbuffer-jdk1.4: JDK 1.4's StringBuffer.append(other) reads other.length() and later
// copies other's characters, each under other's lock but not both under one hold. An erase of
// `other` in between makes getChars read past its end (StringIndexOutOfBoundsException).
struct StringBuffer {
  template <Platform P>
  void operator()() const {
    Mutex<P> lock1, lock2;
    Shared<int, P> count1{3}, count2{3};  // "abc", "def"
    run_threads<P>({[&] {
                      std::lock_guard self(lock1);  // synchronized append(StringBuffer)
                      int length = 0;
                      {
                        std::lock_guard other(lock2);  // other.length()
                        length = count2.read();
                      }
                      {
                        std::lock_guard other(lock2);  // other.getChars(0, length, ...)
                        INTERLEAVE_ASSERT(length <= count2.read(), "getChars past the end");
                      }
                      count1.write(count1.read() + length);
                    },
                    [&] {
                      std::lock_guard other(lock2);  // other.delete(0, other.length())
                      count2.write(0);
                    }});
  }
};

// CB/pbzip2-0.9.4: main joins the producer, sets allDone and deletes the work queue without
// joining the consumer. A consumer that has not yet seen allDone goes back to lock the deleted
// queue's mutex: a use after free (here, an assertion on the queue's freed state).
struct Pbzip2 {
  template <Platform P>
  void operator()() const {
    Mutex<P> queue_lock;
    Shared<int, P> queued{0};
    Atomic<bool, P> all_done{false};
    Atomic<int, P> queue_state{kLive};
    interleave::BasicThread<P> producer([&] {
      for (int block = 0; block < 2; ++block) {
        std::lock_guard guard(queue_lock);
        queued.write(queued.read() + 1);
      }
    });
    interleave::BasicThread<P> consumer([&] {
      for (;;) {
        INTERLEAVE_ASSERT(queue_state.load() != kFreed, "consumer locks the deleted queue");
        bool done = false;
        {
          std::lock_guard guard(queue_lock);
          if (queued.read() > 0) {
            queued.write(queued.read() - 1);
            continue;
          }
          done = all_done.load();
        }
        if (done) return;
        P::yield();  // pthread_cond_timedwait in the original
      }
    });
    producer.start();
    consumer.start();
    producer.join();
    all_done.store(true);
    queue_state.store(kFreed);  // queueDelete(fifo)
    consumer.join();
  }
};

// SCTBench CHESS/WorkStealQueue: a THE-protocol work-stealing deque (the owner pushes and pops at
// the tail, a thief steals at the head under a lock). The bug: the owner's pop reads head before
// it publishes the decremented tail, so it and a thief both take the last item. Fixed: the
// protocol's order (store tail, then read head).
template <bool Fixed>
struct WorkStealQueue {
  template <Platform P>
  void operator()() const {
    constexpr int kEmpty = -1;
    Mutex<P> lock;
    Atomic<int, P> head{0}, tail{0};
    std::array<Shared<int, P>, 2> items;
    std::array<Atomic<int, P>, 2> taken{};
    auto pop = [&] {
      int h = Fixed ? 0 : head.load();
      const int t = tail.load() - 1;
      tail.store(t);
      if (Fixed) h = head.load();
      if (h <= t) return items[static_cast<std::size_t>(t)].read();
      tail.store(t + 1);  // maybe the last item: settle it under the lock
      std::lock_guard guard(lock);
      const int u = tail.load() - 1;
      tail.store(u);
      if (head.load() > u) {
        tail.store(u + 1);
        return kEmpty;
      }
      return items[static_cast<std::size_t>(u)].read();
    };
    auto steal = [&] {
      std::unique_lock guard(lock);
      const int h = head.load();
      head.store(h + 1);
      if (h + 1 > tail.load()) {
        head.store(h);
        return kEmpty;
      }
      guard.unlock();
      return items[static_cast<std::size_t>(h)].read();
    };
    auto record = [&](int item) {
      if (item != kEmpty) taken[static_cast<std::size_t>(item)].fetch_add(1);
    };
    run_threads<P>({[&] {
                      for (int item = 0; item < 2; ++item) {  // push
                        const int t = tail.load();
                        items[static_cast<std::size_t>(t)].write(item);
                        tail.store(t + 1);
                      }
                      record(pop());
                      record(pop());
                    },
                    [&] { record(steal()); }});
    INTERLEAVE_ASSERT(taken[0].load() == 1 && taken[1].load() == 1, "every item taken exactly once");
  }
};

// ConVul, use after free through a flag race (the pattern of its CVE-derived cases): a reader
// tests the object's `valid` flag, then uses it; a closer clears the flag and frees the object.
// The closer between the reader's test and use is a use after free. Fixed: both under one lock.
template <bool Fixed>
struct UafFlag {
  template <Platform P>
  void operator()() const {
    Mutex<P> lock;
    Atomic<bool, P> valid{true};
    Atomic<int, P> state{kLive};
    run_threads<P>({[&] {
                      maybe_locked<Fixed>(lock, [&] {
                        if (valid.load()) INTERLEAVE_ASSERT(state.load() != kFreed, "use after free");
                      });
                    },
                    [&] {
                      maybe_locked<Fixed>(lock, [&] {
                        valid.store(false);
                        state.store(kFreed);
                      });
                    }});
  }
};

// ConVul, double free: two threads close one handle with `if (p) { free(p); p = NULL; }` and no
// lock; both passing the test before either clears p free the object twice.
struct DoubleFree {
  template <Platform P>
  void operator()() const {
    Atomic<int, P> handle{1};  // 0 is NULL
    Atomic<int, P> frees{0};
    auto close = [&] {
      if (handle.load() == 0) return;
      INTERLEAVE_ASSERT(frees.fetch_add(1) == 0, "double free");
      handle.store(0);
    };
    run_threads<P>({close, close});
  }
};

// ConVul, null dereference: a reader tests a shared pointer, then loads it again to use it (a
// double fetch); a disconnecting thread sets it to NULL between the two.
struct NullDeref {
  template <Platform P>
  void operator()() const {
    Atomic<int, P> connection{1};  // 0 is NULL
    run_threads<P>({[&] {
                      if (connection.load() == 0) return;
                      const int used = connection.load();
                      INTERLEAVE_ASSERT(used != 0, "null dereference");
                    },
                    [&] { connection.store(0); }});
  }
};

// RADBench-style reference count race (NSPR / Mozilla objects released on several threads): the
// count is decremented with a plain read and write. Two releases at once lose one decrement (the
// object leaks) or both reach zero (it is destroyed twice). Fixed: an atomic fetch_sub.
template <bool Fixed>
struct Refcount {
  template <Platform P>
  void operator()() const {
    Atomic<int, P> references{3};  // main's and one per worker
    Atomic<int, P> destroyed{0};
    auto release = [&] {
      int left = 0;
      if (Fixed) {
        left = references.fetch_sub(1) - 1;
      } else {
        left = references.load() - 1;
        references.store(left);
      }
      if (left == 0) destroyed.fetch_add(1);
    };
    auto worker = [&] {
      INTERLEAVE_ASSERT(destroyed.load() == 0, "use after the last release");
      release();
    };
    interleave::BasicThread<P> first(worker), second(worker);
    first.start();
    second.start();
    release();
    first.join();
    second.join();
    INTERLEAVE_ASSERT(destroyed.load() == 1, "destroyed exactly once");
  }
};

// RADBench-style lost wake-up (its Mozilla and Apache signal/wait bugs): the waiter tests `ready`
// under the lock and waits; the signaller sets `ready` and notifies without taking the lock. Set
// and notified between the waiter's test and its wait, the waiter sleeps forever: a deadlock.
// Fixed: the signaller sets `ready` under the lock, the waiter re-tests in a loop.
template <bool Fixed>
struct LostWakeup {
  template <Platform P>
  void operator()() const {
    Mutex<P> lock;
    interleave::BasicCondition<P> condition;
    Atomic<bool, P> ready{false};
    run_threads<P>({[&] {
                      std::unique_lock guard(lock);
                      if (Fixed) {
                        while (!ready.load()) condition.wait(guard);
                      } else if (!ready.load()) {
                        condition.wait(guard);
                      }
                    },
                    [&] {
                      maybe_locked<Fixed>(lock, [&] { ready.store(true); });
                      condition.notify_one();
                    }});
  }
};

// RADBench Apache-1 (httpd bug 25520, mod_log_config's buffered logs): each thread appends its
// line at outcnt and then advances outcnt, flushing the buffer to the file when full, all without
// a lock. Two appends at once overwrite each other or flush a line twice.
struct LogBuffer {
  template <Platform P>
  void operator()() const {
    constexpr int kCapacity = 3;
    std::array<Atomic<int, P>, kCapacity> buffer{};
    Atomic<int, P> outcnt{0}, file_sum{0}, file_lines{0};
    auto flush = [&](int n) {
      for (int k = 0; k < n; ++k) {
        file_sum.fetch_add(buffer[static_cast<std::size_t>(k)].load());
        file_lines.fetch_add(1);
      }
    };
    auto log = [&](int line) {
      int n = outcnt.load();
      if (n + 1 > kCapacity) {
        flush(n);
        outcnt.store(0);
        n = 0;
      }
      buffer[static_cast<std::size_t>(n)].store(line);
      outcnt.store(n + 1);
    };
    run_threads<P>({[&] {
                      log(1);
                      log(2);
                    },
                    [&] {
                      log(4);
                      log(8);
                    }});
    flush(outcnt.load());
    INTERLEAVE_ASSERT(file_lines.load() == 4 && file_sum.load() == 15, "every line logged once");
  }
};

}  // namespace

void add_published_bugs_2(std::vector<Bug>& bugs) {
  const std::string convul = "ConVul (FSE 2019), CVE-derived ";
  bugs.push_back(make_bug("SctStringBuffer", "SCTBench CB/stringbuffer-jdk1.4",
                          "assert append copies within other's length", "append + erase, 2 locks", StringBuffer{}));
  bugs.push_back(make_bug("SctPbzip2", "SCTBench CB/pbzip2-0.9.4", "assert no use of the deleted queue",
                          "main + producer (2 blocks) + consumer", Pbzip2{}));
  bugs.push_back(make_bug("SctWorkStealQueue", "SCTBench CHESS/WorkStealQueue (bug: stale head in pop)",
                          "assert every item taken exactly once", "owner (push 2, pop 2) + thief (steal 1)",
                          WorkStealQueue<false>{}));
  bugs.push_back(make_bug("ConVulUafFlag", convul + "use after free (flag race)", "assert no use after free",
                          "reader + closer", UafFlag<false>{}));
  bugs.push_back(make_bug("ConVulDoubleFree", convul + "double free (unlocked close)", "assert freed at most once",
                          "2 closers", DoubleFree{}));
  bugs.push_back(make_bug("ConVulNullDeref", convul + "null dereference (double fetch)", "assert no NULL use",
                          "reader + disconnector", NullDeref{}));
  bugs.push_back(make_bug("RadRefcount", "RADBench-style reference count race (NSPR/Mozilla)",
                          "assert destroyed once, never used after", "main + 2 workers, 3 references",
                          Refcount<false>{}));
  bugs.push_back(make_bug("RadLostWakeup", "RADBench-style lost wake-up (signal/wait)", "no deadlock",
                          "waiter + signaller, 1 lock, 1 condition", LostWakeup<false>{}));
  bugs.push_back(make_bug("RadLogBuffer", "RADBench Apache-1 (httpd bug 25520, buffered log)",
                          "assert every line logged once", "2 threads x 2 lines, buffer of 3", LogBuffer{}));
}

void add_published_controls_2(std::vector<Bug>& bugs) {
  bugs.push_back(make_bug("SctWorkStealQueueFixed", "SCTBench CHESS/WorkStealQueue (THE protocol)",
                          "assert every item taken exactly once", "owner (push 2, pop 2) + thief (steal 1)",
                          WorkStealQueue<true>{}, true));
  bugs.push_back(make_bug("ConVulUafFlagFixed", "ConVul (FSE 2019), use after free, test and use under a lock",
                          "assert no use after free", "reader + closer", UafFlag<true>{}, true));
  bugs.push_back(make_bug("RadRefcountFixed", "RADBench-style reference count, atomic decrement",
                          "assert destroyed once, never used after", "main + 2 workers, 3 references", Refcount<true>{},
                          true));
  bugs.push_back(make_bug("RadLostWakeupFixed", "RADBench-style signal/wait, flag set under the lock", "no deadlock",
                          "waiter + signaller, 1 lock, 1 condition", LostWakeup<true>{}, true));
}

}  // namespace scoreboard
