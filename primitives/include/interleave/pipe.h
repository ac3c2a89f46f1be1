// Pipe: two connected ends that pass whole messages (Python's multiprocessing.Pipe).
//
// Purpose   `auto [a, b] = make_pipe();` returns two connected ends. Whatever one end sends, the
//           other receives, as whole messages (byte strings), in order. Works between threads and
//           between processes fork()ed after make_pipe (e.g. by Process): the whole state of both
//           directions lives in one SharedRegion made by make_pipe.
//   - Duplex (the default): both ends send and receive; the two directions are independent.
//   - One-way (PipeOptions{.duplex = false}): like Python's Pipe(duplex=False), which returns
//     (reader, writer): the FIRST end only receives and the SECOND end only sends. Using an end
//     the wrong way throws std::logic_error naming what that end may do.
// Messages  send(bytes) / send(string_view) / send_value<T>(T) for trivially copyable T.
//           recv() -> std::vector<std::byte>, recv_string(), recv_value<T>(), recv_into(buffer).
//           A message may be empty. Its size is at most max_message_size() (the configured
//           capacity); a bigger one throws std::length_error naming the size and the maximum, and
//           nothing is sent. recv_value<T> checks that the message is exactly sizeof(T) bytes; on a
//           mismatch it throws std::length_error and leaves the message in the pipe (recv() can
//           still take it). recv_into throws std::length_error, leaving the message, when the
//           buffer is too small.
// Requires  PipeOptions::capacity in [1, 1 GiB] (std::invalid_argument otherwise). Every process
//           that uses an end is the one that called make_pipe or was fork()ed from it afterwards.
// Guarantees
//   - Per direction: messages are received whole, in the order they were sent (for several
//     sending threads, in the order their send calls took effect), none lost, none duplicated,
//     even with several threads (or processes) sending and receiving on the same end.
//   - poll(timeout) -> true when recv would not block: a message is ready, or the peer closed and
//     no data is left (recv then throws EndOfStream). It consumes nothing.
//   - recv_for(timeout) returns std::nullopt only if no message arrived before the deadline.
//   - Killed processes (a process-shared pipe, the default): a process killed at any point
//     (SIGKILL included) loses at most its own in-flight message; no other message is lost,
//     duplicated or corrupted; nobody blocks past their deadline, or forever after close().
//     A sender killed inside send: its message arrives whole or not at all. A receiver killed
//     inside recv: its message is taken (lost with it) or stays for the next receiver. The
//     direction's lock is a robust lock: the kernel hands it to the next locker when its holder
//     dies, so the others go on at once. A process asleep waiting for a message or for room
//     also looks again after a recheck interval (1 ms, doubling to 32 ms), so a peer that dies
//     before waking it (after its change, or holding the lock while everyone else sleeps) delays
//     it by at most that interval. What it does not do: a peer that dies WITHOUT close()
//     never signals end-of-stream (an untimed recv, or a send waiting for room, then waits
//     until somebody closes the other end, which any process sharing it may do).
//   - Not fair: with several threads waiting on one end, any one of them may get the next message
//     or the freed space.
// Memory ordering
//   Everything a thread wrote before send() is visible to the thread whose recv()/poll() returns
//   that message (each direction is guarded by one lock: send releases, recv acquires).
// Blocking  recv blocks while there is no message; send blocks while the ring of that direction
//           lacks room for the message (each message takes its size plus a 4-byte header; the
//           ring holds `capacity + 4` bytes, so one message of exactly `capacity` bytes fits in an
//           empty ring). A waiter first checks up to P::spin_limit times, yielding the CPU between
//           checks, then sleeps on a futex word; the other side makes a wake system call only
//           when someone is asleep (between processes a sleeper also wakes to look again every
//           32 ms at most: see Killed processes). The short spin is what makes a round trip several times
//           faster than over pipe(2) (without it both sides sleep and the two cost the same;
//           numbers in docs/benchmarks.md). The price: a waiter uses CPU for its spin (up to
//           P::spin_limit sched_yield calls) before it sleeps.
// Timeouts  poll(d), recv_for(d): d < 0 throws std::invalid_argument; d == 0 checks once without
//           waiting for a message. poll() with no argument is poll(0), as in Python. The whole
//           call keeps the deadline, waiting for the direction's lock included, except that it
//           waits for that lock at least 1 s (a holder keeps it only while copying one message),
//           so a zero timeout still sees a message that is ready while its holder is preempted;
//           a lock held by a stopped process makes the call give up after max(d, 1 s). Between
//           threads of one process (P::process_shared false) the lock is always waited for.
// Closing
//   - close() closes THIS end (every handle to it: the handles are shared references to one end).
//     Closing an end that is already closed throws std::logic_error; so does any other operation
//     on a closed end.
//   - After the peer closed: recv still returns the messages that were sent before the close,
//     then throws EndOfStream (Python's EOFError); send throws BrokenPipe (Python's
//     BrokenPipeError). Threads blocked in recv/send are woken by the peer's close (and by a
//     close of their own end, which makes them throw std::logic_error).
//   - Across fork(): the parent's handle and the child's handle are the SAME end (shared memory,
//     not a file descriptor): closing it in either process closes it for both. Python's habit of
//     "close your copy of the other end after fork" does not apply: do NOT close in the parent the
//     end the child uses. The end-of-stream signal is an explicit close().
//   - Destroying handles never closes an end. The last handle in a process only unmaps the
//     memory in that process; a forked child that still holds the end keeps working (the memory
//     lives until every process that maps it has unmapped it or exited). Consequently an end
//     that is dropped without close() never signals end-of-stream: close() explicitly when done.
// Handles   BasicPipeEnd is a cheap copyable, movable reference (a std::shared_ptr within a
//           process), like a pointer: its operations are const because they act on the shared
//           end, not on the handle. A default-constructed or moved-from handle is empty: using it
//           throws std::logic_error.
#pragma once

#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "interleave/detail/pipe_channel.h"
#include "interleave/native_platform.h"
#include "interleave/shared_memory.h"
#include "interleave/source_location.h"
#include "interleave/timeout.h"

namespace interleave {

// recv on an end whose peer closed, once all the data sent before the close was received.
class EndOfStream : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// send on an end whose peer closed.
class BrokenPipe : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PipeOptions {
  // Per direction: the largest message, in bytes (the ring also stores a 4-byte header per message).
  std::int64_t capacity = 64 * 1024;
  // false: the first end only receives, the second only sends.
  bool duplex = true;

  static constexpr std::int64_t kMaxCapacity = std::int64_t{1} << 30;
};

template <Platform P>
class BasicPipeEnd;

template <Platform P = NativeSharedPlatform>
std::pair<BasicPipeEnd<P>, BasicPipeEnd<P>> make_pipe(
    PipeOptions options = {}, interleave::source_location where = interleave::source_location::current());

template <Platform P = NativeSharedPlatform>
class BasicPipeEnd {
  using State = detail::PipeState<P>;
  using Channel = detail::PipeChannel<P>;
  using Deadline = detail::PipeDeadline<P>;
  using Result = detail::ChannelResult;

 public:
  BasicPipeEnd() noexcept = default;

  // Sends one message (blocks while the ring lacks room for it).
  void send(std::span<const std::byte> message,
            interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Pipe::send", this, where);
    send_bytes(message, "Pipe::send");
  }
  void send(std::string_view message,
            interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Pipe::send", this, where);
    send_bytes(std::as_bytes(std::span<const char>(message.data(), message.size())), "Pipe::send");
  }
  // Sends the object representation of `value` (sizeof(T) bytes).
  template <class T>
  void send_value(const T& value, interleave::source_location where = interleave::source_location::current()) const {
    static_assert(std::is_trivially_copyable_v<T>, "Pipe::send_value: T must be trivially copyable");
    typename P::Operation op("Pipe::send_value", this, where);
    send_bytes(std::as_bytes(std::span<const T, 1>(&value, 1)), "Pipe::send_value");
  }

  // Receives the next whole message (blocks while there is none). Throws EndOfStream when the
  // peer closed and every message it sent was received.
  [[nodiscard]] std::vector<std::byte> recv(
      interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Pipe::recv", this, where);
    std::vector<std::byte> out;
    receive("Pipe::recv", nullptr, [&](std::uint32_t size) {
      out.resize(size);
      return std::span<std::byte>(out);
    });
    return out;
  }
  [[nodiscard]] std::string recv_string(
      interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Pipe::recv_string", this, where);
    std::string out;
    receive("Pipe::recv_string", nullptr, [&](std::uint32_t size) {
      out.resize(size);
      return std::as_writable_bytes(std::span<char>(out));
    });
    return out;
  }
  // Receives a message made by send_value<T>: it must be exactly sizeof(T) bytes (else
  // std::length_error, and the message stays in the pipe).
  template <class T>
  [[nodiscard]] T recv_value(interleave::source_location where = interleave::source_location::current()) const {
    static_assert(std::is_trivially_copyable_v<T>, "Pipe::recv_value: T must be trivially copyable");
    typename P::Operation op("Pipe::recv_value", this, where);
    std::array<std::byte, sizeof(T)> bytes{};
    receive("Pipe::recv_value", nullptr, [&](std::uint32_t size) -> std::span<std::byte> {
      if (size != sizeof(T)) {
        throw std::length_error("Pipe::recv_value: the next message is " + std::to_string(size) +
                                " bytes but the requested type is " + std::to_string(sizeof(T)) +
                                " bytes; the message was left in the pipe");
      }
      return bytes;
    });
    return std::bit_cast<T>(bytes);
  }
  // Receives the next message into `buffer`; returns its size. A message bigger than the buffer
  // throws std::length_error and stays in the pipe.
  std::size_t recv_into(std::span<std::byte> buffer,
                        interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Pipe::recv_into", this, where);
    std::size_t got = 0;
    receive("Pipe::recv_into", nullptr, [&](std::uint32_t size) {
      if (size > buffer.size()) {
        throw std::length_error("Pipe::recv_into: the next message is " + std::to_string(size) +
                                " bytes but the buffer holds " + std::to_string(buffer.size()) +
                                "; the message was left in the pipe");
      }
      got = size;
      return buffer.first(size);
    });
    return got;
  }
  // As recv, but gives up at the deadline: std::nullopt when no message came in time.
  template <class Rep, class Period>
  [[nodiscard]] std::optional<std::vector<std::byte>> recv_for(
      std::chrono::duration<Rep, Period> timeout,
      interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Pipe::recv_for", this, where);
    const auto start = P::now();
    const Deadline deadline(start, detail::deadline_after(start, timeout, "Pipe::recv_for"),
                            timeout == decltype(timeout)::zero());
    std::vector<std::byte> out;
    const bool got = receive("Pipe::recv_for", &deadline, [&](std::uint32_t size) {
      out.resize(size);
      return std::span<std::byte>(out);
    });
    if (!got) return std::nullopt;
    return out;
  }

  // True when recv would not block (a message is ready, or end-of-stream); consumes nothing.
  template <class Rep, class Period>
  [[nodiscard]] bool poll(std::chrono::duration<Rep, Period> timeout,
                          interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Pipe::poll", this, where);
    const auto start = P::now();
    const Deadline deadline(start, detail::deadline_after(start, timeout, "Pipe::poll"),
                            timeout == decltype(timeout)::zero());
    return receive("Pipe::poll", &deadline, nullptr);
  }
  [[nodiscard]] bool poll(interleave::source_location where = interleave::source_location::current()) const {
    return poll(std::chrono::nanoseconds::zero(), where);
  }

  // Closes this end (for every handle and every process sharing it) and wakes every thread
  // blocked on either direction. Throws std::logic_error if it was already closed.
  void close(interleave::source_location where = interleave::source_location::current()) const {
    typename P::Operation op("Pipe::close", this, where);
    State& s = state("Pipe::close");
    if (s.end_closed[index_].exchange(1U, std::memory_order_acq_rel) != 0U) {
      throw std::logic_error(std::string("Pipe::close: the ") + name() + " end is already closed");
    }
    if (can_recv()) Channel::shut(s.channels[index_], /*reader=*/true);
    if (can_send()) Channel::shut(s.channels[1 - index_], /*reader=*/false);
  }

  // True once this end was closed (by any handle, in any process).
  [[nodiscard]] bool closed() const {
    return state("Pipe::closed").end_closed[index_].load(std::memory_order_acquire) != 0U;
  }
  [[nodiscard]] bool can_send() const { return state("Pipe::can_send").duplex || index_ == 1; }
  [[nodiscard]] bool can_recv() const { return state("Pipe::can_recv").duplex || index_ == 0; }
  [[nodiscard]] bool duplex() const { return state("Pipe::duplex").duplex; }
  [[nodiscard]] std::size_t max_message_size() const { return state("Pipe::max_message_size").capacity; }
  // False for a default-constructed or moved-from handle.
  [[nodiscard]] explicit operator bool() const noexcept { return holder_ != nullptr; }

 private:
  friend std::pair<BasicPipeEnd, BasicPipeEnd> make_pipe<P>(PipeOptions, interleave::source_location);

  BasicPipeEnd(std::shared_ptr<detail::PipeHolder<P>> holder, int index) noexcept
      : holder_(std::move(holder)), index_(index) {}

  State& state(const char* operation) const {
    if (holder_ == nullptr) {
      throw std::logic_error(std::string(operation) + ": the pipe end is empty (default-constructed or moved from)");
    }
    return *holder_->state;
  }
  const char* name() const noexcept { return index_ == 0 ? "first" : "second"; }
  const char* peer_name() const noexcept { return index_ == 0 ? "second" : "first"; }

  [[noreturn]] void throw_self_closed(const char* operation) const {
    throw std::logic_error(std::string(operation) + ": the " + name() + " end is closed");
  }

  void send_bytes(std::span<const std::byte> message, const char* operation) const {
    State& s = state(operation);
    if (!can_send()) {
      throw std::logic_error(std::string(operation) +
                             ": the first end of a one-way pipe only receives (the second end sends)");
    }
    if (message.size() > s.capacity) {
      throw std::length_error(std::string(operation) + ": the message is " + std::to_string(message.size()) +
                              " bytes but the maximum message size of this pipe is " + std::to_string(s.capacity) +
                              " bytes; nothing was sent");
    }
    switch (Channel::send(s, s.channels[1 - index_], message)) {
      case Result::own_end_closed:
        throw_self_closed(operation);
      case Result::peer_closed:
        throw BrokenPipe(std::string(operation) + ": the peer (the " + peer_name() + " end) is closed");
      case Result::done:
      case Result::timed_out:  // an untimed send does not time out
        return;
    }
  }

  // The receiving side of recv*, recv_for and poll (detail::PipeChannel::receive says what `take`
  // does). Returns false when the deadline passed first.
  template <class Take>
  bool receive(const char* operation, const Deadline* deadline, Take&& take) const {
    State& s = state(operation);
    if (!can_recv()) {
      throw std::logic_error(std::string(operation) +
                             ": the second end of a one-way pipe only sends (the first end receives)");
    }
    switch (Channel::receive(s, s.channels[index_], deadline, std::forward<Take>(take))) {
      case Result::own_end_closed:
        throw_self_closed(operation);
      case Result::peer_closed:
        throw EndOfStream(std::string(operation) + ": the peer (the " + peer_name() +
                          " end) is closed and every message it sent was received");
      case Result::timed_out:
        return false;
      case Result::done:
        break;
    }
    return true;
  }

  std::shared_ptr<detail::PipeHolder<P>> holder_;
  int index_ = 0;
};

using PipeEnd = BasicPipeEnd<>;

template <Platform P>
std::pair<BasicPipeEnd<P>, BasicPipeEnd<P>> make_pipe(PipeOptions options, interleave::source_location where) {
  [[maybe_unused]] typename P::Operation op("make_pipe", nullptr, where);
  if (options.capacity <= 0 || options.capacity > PipeOptions::kMaxCapacity) {
    throw std::invalid_argument("make_pipe: PipeOptions::capacity must be in [1, " +
                                std::to_string(PipeOptions::kMaxCapacity) + "] bytes, got " +
                                std::to_string(options.capacity));
  }
  using State = detail::PipeState<P>;
  const auto capacity = static_cast<std::uint32_t>(options.capacity);
  const std::size_t header_bytes = (sizeof(State) + 63) / 64 * 64;
  const std::size_t ring_bytes = std::size_t{capacity} + State::kHeader;
  const std::size_t bytes = header_bytes + ring_bytes * (options.duplex ? 2 : 1);
  auto holder = std::make_shared<detail::PipeHolder<P>>(bytes);
  auto* base = static_cast<std::byte*>(holder->region.data());
  holder->state = ::new (base) State(capacity, options.duplex, base + header_bytes);
  return {BasicPipeEnd<P>(holder, 0), BasicPipeEnd<P>(holder, 1)};
}

}  // namespace interleave
