// Internal to the harness library: a persistent pool of threads that explore schedules in
// parallel. Each pool thread keeps its own scheduler (its thread_local Runtime and fiber pool)
// between explorations, so a parallel exploration costs no thread or fiber creation once warm.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace interleave::detail {

class WorkerPool {
 public:
  static WorkerPool& instance();

  // Runs task(w) for every w in [0, workers): w = 0 on the calling thread, the others on pool
  // threads; returns when all are done, rethrowing the first exception a task threw. When the pool
  // is already running another exploration (explorations from several threads at once), every w
  // runs on the calling thread, one after another.
  void run(unsigned workers, const std::function<void(unsigned)>& task);

 private:
  WorkerPool() = default;
  void loop(unsigned slot);

  std::mutex busy_;  // held by the exploration using the pool
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  std::vector<std::thread> threads_;
  const std::function<void(unsigned)>* task_ = nullptr;
  unsigned wanted_ = 0;           // pool threads taking part in the current round
  unsigned remaining_ = 0;        // of those, still running
  std::uint64_t generation_ = 0;  // bumped for each round
  std::exception_ptr error_;
};

}  // namespace interleave::detail
