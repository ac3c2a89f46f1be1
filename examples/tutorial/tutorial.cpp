// The Python threading/multiprocessing tutorial's five programs, written with interleave's
// primitives, and the Condition and Barrier examples of Python's threading documentation. Each
// prints what the Python version prints (the tutorial's one-second sleeps are shortened).
//
//   tutorial            runs all seven
//   tutorial NAME...    runs the named ones: threads, lock, processes, queue, pipe, condition,
//                       barrier
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "interleave/barrier.h"
#include "interleave/condition.h"
#include "interleave/mutex.h"
#include "interleave/pipe.h"
#include "interleave/process.h"
#include "interleave/queue.h"
#include "interleave/thread.h"

namespace {

using namespace std::chrono_literals;
using interleave::Mutex;
using interleave::Process;
using interleave::Thread;

constexpr auto kPause = 50ms;  // the tutorial sleeps one second between prints

void print_numbers() {
  for (int i = 0; i < 5; ++i) {
    std::printf("%d\n", i);
    std::fflush(stdout);
    std::this_thread::sleep_for(kPause);
  }
}

// 1.1 Creating threads.
int threads() {
  Thread thread1(print_numbers);
  Thread thread2(print_numbers);
  thread1.start();
  thread2.start();
  thread1.join();
  thread2.join();
  std::printf("Both threads are done.\n");
  return 0;
}

// 1.2 A lock protecting a shared counter.
int lock() {
  int counter = 0;
  Mutex mutex;
  auto increment = [&] {
    std::lock_guard guard(mutex);
    for (int i = 0; i < 1000; ++i) ++counter;
  };
  Thread thread1(increment);
  Thread thread2(increment);
  thread1.start();
  thread2.start();
  thread1.join();
  thread2.join();
  std::printf("Final counter value: %d\n", counter);
  return counter == 2000 ? 0 : 1;
}

// 2.1 Creating processes.
int processes() {
  Process process1(print_numbers, "process1");
  Process process2(print_numbers, "process2");
  process1.start();
  process2.start();
  const bool ok = process1.join().success() && process2.join().success();
  std::printf("Both processes are done.\n");
  return ok ? 0 : 1;
}

// 2.2 Communication between processes: a Queue. The consumer is the tutorial's own
// `while not queue.empty(): print(queue.get())`. It is correct here only because process1 was
// joined before process2 started: with the two running at once, empty() is a stale snapshot and
// the loop can stop early (see counter_demo and the queue properties for what the harness shows).
int queue() {
  interleave::SharedQueue<int> queue(16);
  Process process1(
      [&queue] {
        for (int i = 0; i < 5; ++i) queue.put(i);
      },
      "process1");
  Process process2(
      [&queue] {
        while (!queue.empty()) std::printf("%d\n", *queue.get());
      },
      "process2");
  process1.start();
  process1.join();  // ensure process1 finishes before process2 starts
  process2.start();
  const bool ok = process2.join().success() && process1.exit_status()->success();
  std::printf("Both processes are done.\n");
  return ok ? 0 : 1;
}

// 2.2 Communication between processes: the same hand-over through a Pipe. The sender closes its
// end when done, which the receiver sees as end-of-stream (Python's EOFError).
int pipe() {
  auto [receiver, sender] = interleave::make_pipe(interleave::PipeOptions{.duplex = false});
  Process process1(
      [sender = sender] {
        for (int i = 0; i < 5; ++i) sender.send_value(i);
        sender.close();
      },
      "process1");
  Process process2(
      [receiver = receiver] {
        try {
          for (;;) std::printf("%d\n", receiver.recv_value<int>());
        } catch (const interleave::EndOfStream&) {
        }
      },
      "process2");
  process1.start();
  process1.join();
  process2.start();
  const bool ok = process2.join().success() && process1.exit_status()->success();
  std::printf("Both processes are done.\n");
  return ok ? 0 : 1;
}

// 3.1 A Condition, as Python's threading documentation shows it: the consumer waits, with the
// lock held, while no item is available; the producer makes one available and notifies.
int condition() {
  Mutex mutex;
  interleave::Condition available;
  std::deque<int> items;  // guarded by mutex
  Thread consumer([&] {
    for (int n = 0; n < 5; ++n) {
      std::unique_lock lock(mutex);
      available.wait(lock, [&] { return !items.empty(); });
      std::printf("Consumed %d\n", items.front());
      items.pop_front();
    }
  });
  Thread producer([&] {
    for (int i = 0; i < 5; ++i) {
      std::lock_guard guard(mutex);
      items.push_back(i);
      available.notify_one();
    }
  });
  consumer.start();
  producer.start();
  consumer.join();
  producer.join();
  std::printf("Both threads are done.\n");
  return 0;
}

// 3.2 A Barrier, as Python's threading documentation shows it: a client waits until the server
// has started. The barrier's action runs once both arrived, before either goes on.
int barrier() {
  interleave::Barrier ready(2, [] { std::printf("Both are ready.\n"); });
  Thread server([&] {
    std::printf("Server started.\n");
    ready.arrive_and_wait();
  });
  Thread client([&] {
    ready.arrive_and_wait();
    std::printf("Client connects.\n");
  });
  server.start();
  client.start();
  server.join();
  client.join();
  return 0;
}

struct Program {
  const char* name;
  const char* title;
  std::function<int()> run;
};

const std::vector<Program>& programs() {
  static const std::vector<Program> all = {
      {"threads", "1.1 Creating threads", threads},
      {"lock", "1.2 Thread synchronization with a lock", lock},
      {"processes", "2.1 Creating processes", processes},
      {"queue", "2.2 Communication between processes: Queue", queue},
      {"pipe", "2.2 Communication between processes: Pipe", pipe},
      {"condition", "3.1 Waiting for an item with a Condition", condition},
      {"barrier", "3.2 Meeting at a Barrier", barrier},
  };
  return all;
}

int usage() {
  std::fprintf(stderr, "usage: tutorial [PROGRAM...]\n  PROGRAM is one of:");
  for (const auto& p : programs()) std::fprintf(stderr, " %s", p.name);
  std::fprintf(stderr, "\n  with no PROGRAM, all of them run in that order\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<const Program*> chosen;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") return usage(), 0;
    const Program* found = nullptr;
    for (const auto& p : programs()) {
      if (arg == p.name) found = &p;
    }
    if (found == nullptr) {
      std::fprintf(stderr, "tutorial: unknown program '%s'\n", argv[i]);
      return usage();
    }
    chosen.push_back(found);
  }
  if (chosen.empty()) {
    for (const auto& p : programs()) chosen.push_back(&p);
  }
  int failures = 0;
  for (const Program* p : chosen) {
    std::printf("== %s ==\n", p->title);
    std::fflush(stdout);
    if (p->run() != 0) ++failures;
    std::printf("\n");
  }
  return failures == 0 ? 0 : 1;
}
