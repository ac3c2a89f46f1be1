// Queue throughput against a textbook blocking queue (std::mutex + two std::condition_variable +
// std::deque), in one program so that ratios come from one run on one machine.
//
// Each benchmark runs with 2 threads (1 producer, 1 consumer) or 4 threads (2 producers,
// 2 consumers): even thread indices put, odd ones get, the same number of items each, so every
// put item is got. items_per_second counts items got, per second of wall time, all consumers
// together. Capacity 0 is unbounded.
//
//   build/h-queue-rel/bench/queue_benchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "interleave/queue.h"

namespace {

// The baseline: what one writes with the standard library.
class StdBlockingQueue {
 public:
  explicit StdBlockingQueue(std::size_t capacity) : capacity_(capacity) {}

  void put(std::uint64_t value) {
    {
      std::unique_lock lock(mutex_);
      not_full_.wait(lock, [this] { return capacity_ == 0 || items_.size() < capacity_; });
      items_.push_back(value);
    }
    not_empty_.notify_one();
  }

  std::optional<std::uint64_t> get() {
    std::uint64_t value = 0;
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [this] { return !items_.empty(); });
      value = items_.front();
      items_.pop_front();
    }
    if (capacity_ != 0) not_full_.notify_one();
    return value;
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<std::uint64_t> items_;
  std::size_t capacity_;
};

template <class Q>
Q* make_queue(std::int64_t capacity) {
  if constexpr (std::is_same_v<Q, StdBlockingQueue>) {
    return new Q(static_cast<std::size_t>(capacity));
  } else {
    return capacity == 0 ? new Q() : new Q(static_cast<std::ptrdiff_t>(capacity));
  }
}

template <class Q>
void transfer(benchmark::State& state) {
  // One queue per run, made by thread 0 before the timing loop; every thread enters and leaves
  // the loop together, so it is not used before it is made nor after it is deleted.
  static Q* queue = nullptr;
  if (state.thread_index() == 0) queue = make_queue<Q>(state.range(0));
  const bool producer = state.thread_index() % 2 == 0;
  std::uint64_t next = 0;
  for (auto _ : state) {
    if (producer) {
      queue->put(next++);
    } else {
      benchmark::DoNotOptimize(queue->get());
    }
  }
  if (!producer) {
    state.counters["items_per_second"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  }
  if (state.thread_index() == 0) {
    delete queue;
    queue = nullptr;
  }
}

void configure(benchmark::internal::Benchmark* b) {
  b->ArgName("capacity")->Arg(1024)->Arg(0)->Threads(2)->Threads(4)->UseRealTime();
}

void BM_Queue(benchmark::State& state) { transfer<interleave::Queue<std::uint64_t>>(state); }
void BM_StdMutexCondvarDeque(benchmark::State& state) { transfer<StdBlockingQueue>(state); }

BENCHMARK(BM_Queue)->Apply(configure);
BENCHMARK(BM_StdMutexCondvarDeque)->Apply(configure);

}  // namespace
