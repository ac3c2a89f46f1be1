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
// Names     Thread(target, "producer") names the thread once it starts: in the model, reports and
//           traces say "fiber 2 (producer)"; natively, the OS thread gets the name (15 bytes),
//           which debuggers and ThreadSanitizer's reports show.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "interleave/native_platform.h"

namespace interleave {

template <Platform P = NativePlatform>
class BasicThread {
 public:
  explicit BasicThread(std::function<void()> target, std::string name = {})
      : target_(std::move(target)), name_(std::move(name)) {
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
      if constexpr (requires { P::name_thread(std::string_view(name_)); }) {
        if (!name_.empty()) P::name_thread(name_);
      }
      try {
        target_();
      } catch (...) {
        error_.write(std::current_exception());
      }
    });
  }

  // Waits for the target to finish; rethrows an exception that escaped it.
  void join() {
    if (!started_) throw std::logic_error("Thread::join: the thread was never started");
    if (!thread_) throw std::logic_error("Thread::join: the thread was already joined");
    thread_->join();
    thread_.reset();
    error_.with_mut([](std::exception_ptr& error) {
      if (error) std::rethrow_exception(std::exchange(error, nullptr));
    });
  }

  [[nodiscard]] bool started() const noexcept { return started_; }
  [[nodiscard]] bool joined() const noexcept { return started_ && !thread_; }

 private:
  std::function<void()> target_;
  std::string name_;
  std::optional<typename P::Thread> thread_;
  // Written by the thread, read by join(): the join orders them (a platform cell, so the model's
  // race detector checks that it does).
  typename P::template Cell<std::exception_ptr> error_;
  bool started_ = false;
};

using Thread = BasicThread<>;

}  // namespace interleave
