// Deliberately broken one-way pipes (of ints): realistic mistakes the Pipe properties must catch.
// Interface: send(int), recv() -> std::optional<int> (std::nullopt at end-of-stream), close() by the
// sending side, poll(timeout) -> bool by the receiving side. Built the textbook way: a mutex, a bounded ring and a
// futex sequence word.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "interleave/mutex.h"
#include "interleave/platform.h"
#include "interleave/timeout.h"

namespace interleave::zoo {

enum class PipeBug {
  close_without_wake,   // close() marks the end closed but wakes no receiver
  eof_before_drain,     // recv() reports end-of-stream as soon as the sender closed, dropping data
  wake_before_publish,  // send() wakes the receiver, then writes the message
  poll_ignores_close,   // poll() reports only messages: at end-of-stream it waits out its timeout
};

template <Platform P, PipeBug Bug>
class BrokenPipe {
 public:
  explicit BrokenPipe(int capacity) : ring_(static_cast<std::size_t>(capacity)) {}

  void send(int value) {
    lock_.lock();
    while (count_ == ring_.size()) {
      const std::uint32_t seen = space_.load();
      lock_.unlock();
      P::wait(space_, seen);
      lock_.lock();
    }
    if constexpr (Bug == PipeBug::wake_before_publish) {
      data_.fetch_add(1);
      P::wake_one(data_);
      lock_.unlock();
      lock_.lock();
    }
    ring_[(head_ + count_) % ring_.size()] = value;
    ++count_;
    if constexpr (Bug != PipeBug::wake_before_publish) data_.fetch_add(1);
    lock_.unlock();
    if constexpr (Bug != PipeBug::wake_before_publish) P::wake_one(data_);
  }

  std::optional<int> recv() {
    lock_.lock();
    for (;;) {
      if constexpr (Bug == PipeBug::eof_before_drain) {
        if (closed_) break;
      }
      if (count_ > 0) {
        const int value = ring_[head_];
        head_ = (head_ + 1) % ring_.size();
        --count_;
        space_.fetch_add(1);
        lock_.unlock();
        P::wake_one(space_);
        return value;
      }
      if (closed_) break;
      const std::uint32_t seen = data_.load();
      lock_.unlock();
      P::wait(data_, seen);
      lock_.lock();
    }
    lock_.unlock();
    return std::nullopt;
  }

  bool poll(std::chrono::nanoseconds timeout) {
    const auto deadline = detail::deadline_after(P::now(), timeout, "BrokenPipe::poll");
    const auto ready = [&] {
      lock_.lock();
      bool r = count_ > 0;
      if constexpr (Bug != PipeBug::poll_ignores_close) r = r || closed_;
      lock_.unlock();
      return r;
    };
    for (;;) {
      const std::uint32_t seen = data_.load();  // before the check: a later send or close changes it
      if (ready()) return true;
      if (!P::wait_until(data_, seen, deadline)) return ready();
    }
  }

  void close() {
    lock_.lock();
    closed_ = true;
    lock_.unlock();
    if constexpr (Bug != PipeBug::close_without_wake) {
      data_.fetch_add(1);
      P::wake_all(data_);
    }
  }

 private:
  BasicMutex<P> lock_;
  std::vector<int> ring_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  bool closed_ = false;
  typename P::template Atomic<std::uint32_t> data_{0};
  typename P::template Atomic<std::uint32_t> space_{0};
};

template <Platform P>
using CloseWithoutWakePipe = BrokenPipe<P, PipeBug::close_without_wake>;
template <Platform P>
using EofBeforeDrainPipe = BrokenPipe<P, PipeBug::eof_before_drain>;
template <Platform P>
using WakeBeforePublishPipe = BrokenPipe<P, PipeBug::wake_before_publish>;
template <Platform P>
using PollIgnoresClosePipe = BrokenPipe<P, PipeBug::poll_ignores_close>;

}  // namespace interleave::zoo
