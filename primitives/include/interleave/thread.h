// Thread: Python's threading.Thread over a platform (std::thread natively, a fiber in the model).
//
// Purpose   Run a target function concurrently: construct with the target, start(), join().
// Requires  start() at most once; join() only after start(). Violations throw std::logic_error.
// Guarantees
//   - Everything the starting thread did before start() happens-before the target begins;
//     everything the target did happens-before join() returns.
//   - An exception escaping the target is not lost: it is captured and rethrown by join().
//   - Destroying a started thread that was not joined joins it first (like std::jthread), so a
//     test that returns early (a failed ASSERT) neither leaks nor aborts the thread.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>

#include "interleave/native_platform.h"

namespace interleave {

template <Platform P = NativePlatform>
class BasicThread {
 public:
  explicit BasicThread(std::function<void()> target) : target_(std::move(target)) {
    if (!target_) throw std::invalid_argument("Thread: the target function is empty");
  }
  BasicThread(const BasicThread&) = delete;
  BasicThread& operator=(const BasicThread&) = delete;
  ~BasicThread() {
    if (thread_) thread_->join();
  }

  void start() {
    if (started_) throw std::logic_error("Thread::start: the thread was already started");
    started_ = true;
    thread_.emplace([this] {
      try {
        target_();
      } catch (...) {
        error_ = std::current_exception();
      }
    });
  }

  // Waits for the target to finish; rethrows an exception that escaped it.
  void join() {
    if (!started_) throw std::logic_error("Thread::join: the thread was never started");
    if (!thread_) throw std::logic_error("Thread::join: the thread was already joined");
    thread_->join();
    thread_.reset();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

  [[nodiscard]] bool started() const noexcept { return started_; }
  [[nodiscard]] bool joined() const noexcept { return started_ && !thread_; }

 private:
  std::function<void()> target_;
  std::optional<typename P::Thread> thread_;
  std::exception_ptr error_;
  bool started_ = false;
};

using Thread = BasicThread<>;

}  // namespace interleave
