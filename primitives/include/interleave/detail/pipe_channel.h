// The machinery of Pipe (interleave/pipe.h, whose comment states the contract): the shared state
// of both directions and the send / receive / close of one direction. Not a stable interface.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "interleave/detail/robust.h"
#include "interleave/mutex.h"
#include "interleave/shared_memory.h"

namespace interleave::detail {

// A channel's lock. Between processes (a process-shared P) a RobustLock: a process killed while
// holding it does not wedge the channel, the next locker gets it (owner_died). Between threads,
// and in the model, the platform's BasicMutex.
template <Platform P, bool Robust = P::process_shared>
class ChannelLock {
 public:
  // True when the previous holder died holding the lock (never for BasicMutex).
  bool lock() {
    mutex_.lock();
    return false;
  }
  // Held (true) or the deadline passed first (false, not held). `owner_died` as for lock().
  // Between threads of one process the holder is alive and only copies one message, so this
  // waits for it whatever the deadline: giving up early would make a zero-timeout poll miss a
  // ready message whenever the holder is preempted.
  bool lock_until(typename P::TimePoint /*deadline*/, bool& owner_died) {
    owner_died = false;
    mutex_.lock();
    return true;
  }
  void unlock() { mutex_.unlock(); }

 private:
  BasicMutex<P> mutex_;
};

template <Platform P>
class ChannelLock<P, true> {
 public:
  bool lock() { return lock_.lock() == RobustLockResult::owner_died; }
  bool lock_until(typename P::TimePoint deadline, bool& owner_died) {
    static_assert(std::is_same_v<typename P::Clock, std::chrono::steady_clock>,
                  "a process-shared platform's clock is steady_clock (CLOCK_MONOTONIC)");
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    const RobustLockResult result = lock_.lock_until(ns < 0 ? 0 : ns);
    owner_died = result == RobustLockResult::owner_died;
    return result != RobustLockResult::timed_out;
  }
  void unlock() { lock_.unlock(); }

 private:
  RobustLock lock_;
};

template <Platform P>
struct PipeState {
  using Word = typename P::template Atomic<std::uint32_t>;

  // One direction: a byte ring of length-prefixed messages, guarded by `lock`.
  //
  // A process may die at any instruction while holding the lock (the next locker then takes it
  // over), so the guarded state is consistent after every single store: a sender copies the
  // message beyond `written` and then publishes it with one store to `written`; a receiver copies
  // the message out and then consumes it with one store to `read`. Whatever a dead holder did
  // before that store is invisible; after it, complete. (Both are 64-bit counters of bytes ever
  // written / read, never wrapped, so each is a single aligned store.)
  struct alignas(64) Channel {
    ChannelLock<P> lock;
    // Bumped (under the lock) on every change a waiter may be waiting for; these are the futex
    // words. data: a message was written or an end closed. space: a message was taken or an end
    // closed.
    Word data_seq{0};
    Word space_seq{0};
    // Sleepers registered under the lock; a sleeper leaves (fetch_sub) without it, since a timed
    // one may give up before it can take the lock back. A process killed asleep leaves its count
    // behind: that costs later bumps a wake-up call, nothing else.
    Word data_waiters{0};
    Word space_waiters{0};
    // The rest is guarded by the lock: platform cells, so that under the model the race detector
    // checks that the lock orders every access (the ring's bytes are reached only through them).
    typename P::template Cell<std::uint64_t> written{0};  // bytes ever written (headers included)
    typename P::template Cell<std::uint64_t> read{0};     // bytes ever consumed; written - read are in the ring
    typename P::template Cell<bool> writer_closed{false};
    typename P::template Cell<bool> reader_closed{false};
    std::byte* ring = nullptr;  // inside the same region: its address survives fork
  };

  PipeState(std::uint32_t capacity_, bool duplex_, std::byte* rings) noexcept
      : capacity(capacity_), ring_bytes(capacity_ + kHeader), duplex(duplex_) {
    channels[0].ring = rings;
    if (duplex) channels[1].ring = rings + ring_bytes;
  }

  static constexpr std::uint32_t kHeader = sizeof(std::uint32_t);

  // channels[i] carries the messages that end i receives (sent by end 1 - i). A one-way pipe
  // has only channels[0] (end 0 receives, end 1 sends).
  Channel channels[2];
  Word end_closed[2] = {0U, 0U};  // set once by close(); double close is detected here
  const std::uint32_t capacity;
  const std::uint32_t ring_bytes;
  const bool duplex;
};

// The in-process owner of the mapping: shared by every handle of both ends in one process.
template <Platform P>
struct PipeHolder {
  explicit PipeHolder(std::size_t bytes) : region(bytes) {}
  PipeHolder(const PipeHolder&) = delete;
  PipeHolder& operator=(const PipeHolder&) = delete;
  ~PipeHolder() {
    if (state != nullptr) state->~PipeState<P>();
  }
  SharedRegion region;
  PipeState<P>* state = nullptr;
};

// A timed call's limits. `at`: when it stops waiting for a message (or room). `lock_by`: when
// it stops waiting for the direction's lock (between processes only: a process stopped while
// holding it keeps it), which a live holder keeps only while it copies one message: the
// deadline, but at least kLockGrace after the call began, so that a zero timeout still sees a
// message that is ready while a preempted holder is copying (under load, and under sanitizers,
// a preemption lasts milliseconds).
template <Platform P>
struct PipeDeadline {
  PipeDeadline(typename P::TimePoint start, typename P::TimePoint deadline, bool zero_timeout)
      : at(deadline), lock_by(std::max(deadline, start + kLockGrace)), zero(zero_timeout) {}
  typename P::TimePoint at;
  typename P::TimePoint lock_by;
  bool zero;  // check once, never wait for a message

  static constexpr std::chrono::seconds kLockGrace{1};
};

// What an operation on one direction found.
enum class ChannelResult : std::uint8_t {
  done,            // sent / received (poll: ready, end-of-stream included)
  timed_out,       // the deadline passed first; nothing was consumed
  own_end_closed,  // the calling end is closed
  peer_closed,     // send: the receiving end is closed; receive: closed and every message taken
};

// Send, receive and close on one direction (a PipeState::Channel), under its lock.
template <Platform P>
class PipeChannel {
 public:
  using State = PipeState<P>;
  using Channel = typename State::Channel;
  using Deadline = PipeDeadline<P>;

  // Sends one message of at most s.capacity bytes on c (blocks while the ring lacks room).
  // done, own_end_closed (the sender's end) or peer_closed (the receiving end).
  static ChannelResult send(const State& s, Channel& c, std::span<const std::byte> message) {
    const auto size = static_cast<std::uint32_t>(message.size());
    const std::uint32_t need = size + kHeader;
    int waits = 0;
    lock(c, nullptr);
    for (;;) {
      if (c.writer_closed.read()) {
        c.lock.unlock();
        return ChannelResult::own_end_closed;
      }
      if (c.reader_closed.read()) {
        c.lock.unlock();
        return ChannelResult::peer_closed;
      }
      if (s.ring_bytes - (c.written.read() - c.read.read()) >= need) break;
      await(c, c.space_seq, c.space_waiters, nullptr, waits);
    }
    std::uint32_t offset = static_cast<std::uint32_t>(c.written.read() % s.ring_bytes);
    std::array<std::byte, kHeader> header;
    std::memcpy(header.data(), &size, kHeader);
    copy_in(s, c, offset, header.data(), kHeader);
    offset = advance(s, offset, kHeader);
    if (size != 0) copy_in(s, c, offset, message.data(), size);
    c.written.write(c.written.read() + need);  // the one store that publishes the message
    const bool wake = bump(c.data_seq, c.data_waiters);
    c.lock.unlock();
    if (wake) P::wake_all(c.data_seq);
    return ChannelResult::done;
  }

  // The receiving side of c: `take(size)` returns where to copy the next message of `size` bytes
  // (it may throw to leave the message in place); a null `take` only checks readiness (poll,
  // for which end-of-stream is done). done, timed_out (the deadline passed first),
  // own_end_closed (the receiver's end) or peer_closed (closed and drained: end of stream).
  template <class Take>
  static ChannelResult receive(const State& s, Channel& c, const Deadline* deadline, Take&& take) {
    int waits = 0;
    bool expired = false;
    if (!lock(c, deadline)) return ChannelResult::timed_out;
    for (;;) {
      if (c.reader_closed.read()) {
        c.lock.unlock();
        return ChannelResult::own_end_closed;
      }
      if (c.written.read() != c.read.read()) break;
      if (c.writer_closed.read()) {
        c.lock.unlock();
        if constexpr (std::is_null_pointer_v<std::remove_cvref_t<Take>>) {
          return ChannelResult::done;  // poll: end-of-stream is ready
        } else {
          return ChannelResult::peer_closed;
        }
      }
      if (expired || (deadline != nullptr && deadline->zero)) {
        c.lock.unlock();
        return ChannelResult::timed_out;
      }
      const Awaited awaited = await(c, c.data_seq, c.data_waiters, deadline, waits);
      if (awaited == Awaited::lock_lost) return ChannelResult::timed_out;
      expired = awaited == Awaited::timed_out;
    }
    if constexpr (std::is_null_pointer_v<std::remove_cvref_t<Take>>) {
      c.lock.unlock();
      return ChannelResult::done;
    } else {
      const auto read_offset = static_cast<std::uint32_t>(c.read.read() % s.ring_bytes);
      std::uint32_t size = 0;
      std::array<std::byte, kHeader> header;
      copy_out(s, c, read_offset, header.data(), kHeader);
      std::memcpy(&size, header.data(), kHeader);
      std::span<std::byte> into;
      try {
        into = take(size);
      } catch (...) {
        c.lock.unlock();
        throw;
      }
      if (size != 0) copy_out(s, c, advance(s, read_offset, kHeader), into.data(), size);
      c.read.write(c.read.read() + size + kHeader);  // the one store that consumes the message
      const bool wake = bump(c.space_seq, c.space_waiters);
      c.lock.unlock();
      if (wake) P::wake_all(c.space_seq);
      return ChannelResult::done;
    }
  }

  // Marks this end closed on one direction and wakes everyone waiting on it.
  static void shut(Channel& c, bool reader) {
    lock(c, nullptr);
    (reader ? c.reader_closed : c.writer_closed).write(true);
    const bool wake_data = bump(c.data_seq, c.data_waiters);
    const bool wake_space = bump(c.space_seq, c.space_waiters);
    c.lock.unlock();
    if (wake_data) P::wake_all(c.data_seq);
    if (wake_space) P::wake_all(c.space_seq);
  }

 private:
  static constexpr std::uint32_t kHeader = State::kHeader;

  // Copies `bytes` into the ring at `offset`, wrapping around.
  static void copy_in(const State& s, Channel& c, std::uint32_t offset, const std::byte* bytes, std::uint32_t n) {
    const std::uint32_t first = std::min(n, s.ring_bytes - offset);
    if (first != 0) std::memcpy(c.ring + offset, bytes, first);
    if (n != first) std::memcpy(c.ring, bytes + first, n - first);
  }
  static void copy_out(const State& s, const Channel& c, std::uint32_t offset, std::byte* bytes, std::uint32_t n) {
    const std::uint32_t first = std::min(n, s.ring_bytes - offset);
    if (first != 0) std::memcpy(bytes, c.ring + offset, first);
    if (n != first) std::memcpy(bytes + first, c.ring, n - first);
  }
  static std::uint32_t advance(const State& s, std::uint32_t offset, std::uint32_t n) noexcept {
    const std::uint32_t room = s.ring_bytes - offset;
    return n < room ? offset + n : n - room;
  }

  // Takes c.lock: untimed (deadline == nullptr) or until deadline->lock_by. False when that
  // passed first (not held). A lock taken over from a holder that died wakes every waiter of the
  // channel: the dead holder may have changed the channel without waking anyone.
  static bool lock(Channel& c, const Deadline* deadline) {
    bool owner_died = false;
    if (deadline == nullptr) {
      owner_died = c.lock.lock();
    } else if (!c.lock.lock_until(deadline->lock_by, owner_died)) {
      return false;
    }
    if (owner_died) {
      bump(c.data_seq, c.data_waiters);
      bump(c.space_seq, c.space_waiters);
      P::wake_all(c.data_seq);
      P::wake_all(c.space_seq);
    }
    return true;
  }

  enum class Awaited : std::uint8_t {
    maybe_changed,  // look again (lock held)
    timed_out,      // the deadline passed while waiting (lock held)
    lock_lost,      // the deadline passed while taking the lock back (lock NOT held)
  };

  // With c.lock held: waits for `seq` to move past its current value, or for the deadline.
  // The first call of an operation (`waits` counts them) only spins (without the lock, at most
  // P::spin_limit checks); later calls sleep on the futex. Takes the lock back within the
  // deadline (else lock_lost).
  //
  // Between processes a sleeper also wakes after a recheck interval (1 ms, doubling to 32 ms)
  // and looks again, because a process that dies can leave it asleep for good with nobody left
  // to wake it: killed after publishing its change and unlocking but before its wake call, or
  // killed holding the lock while everyone else sleeps (the kernel hands a dead holder's lock
  // only to a thread that asks for it; the recheck asks).
  static Awaited await(Channel& c, typename State::Word& seq, typename State::Word& waiters, const Deadline* deadline,
                       int& waits) {
    const std::uint32_t seen = seq.load(std::memory_order_relaxed);
    if (waits++ == 0) {
      // Yielding, not pausing, between checks: with cores to spare sched_yield returns at once
      // and the window (tens of microseconds) catches a peer that answers quickly without either
      // side sleeping; with cores scarce it hands the CPU to the peer instead of burning it.
      c.lock.unlock();
      for (int i = 0; i < P::spin_limit && seq.load(std::memory_order_relaxed) == seen; ++i) {
        if (deadline != nullptr && P::now() >= deadline->at) break;
        P::yield();
      }
      return lock(c, deadline) ? Awaited::maybe_changed : Awaited::lock_lost;
    }
    // Registered under the lock before sleeping: whoever changes `seq` (always under the lock)
    // then sees a waiter and wakes it; if it changed already, the wait returns at once.
    waiters.fetch_add(1U, std::memory_order_relaxed);
    c.lock.unlock();
    bool in_time = true;
    bool rechecking = false;
    if constexpr (P::process_shared) {
      const auto recheck = P::now() + std::chrono::microseconds(1000 << std::min(waits - 2, kRecheckDoublings));
      if (deadline == nullptr || recheck < deadline->at) {
        rechecking = true;
        (void)P::wait_until(seq, seen, recheck);
      }
    }
    if (!rechecking) {
      if (deadline == nullptr) {
        P::wait(seq, seen);
      } else {
        in_time = P::wait_until(seq, seen, deadline->at);
      }
    }
    waiters.fetch_sub(1U, std::memory_order_relaxed);
    if (!lock(c, deadline)) return Awaited::lock_lost;
    return in_time ? Awaited::maybe_changed : Awaited::timed_out;
  }

  static constexpr int kRecheckDoublings = 5;  // 1 ms << 5 = 32 ms, the longest recheck interval

  // With c.lock held: bumps `seq`; returns whether a sleeper must be woken (after unlocking).
  static bool bump(typename State::Word& seq, const typename State::Word& waiters) noexcept {
    seq.fetch_add(1U, std::memory_order_relaxed);
    return waiters.load(std::memory_order_relaxed) != 0;
  }
};

}  // namespace interleave::detail
