// Blocking I/O of the test program inside an exploration (read, write, recv, send, accept, poll,
// epoll_wait on a descriptor that is not ready). The model cannot block a model thread in the
// kernel: its fibers share one OS thread, so a blocked call would stop every thread and hang the
// exploration. Instead the call waits on the virtual clock, rechecking the descriptor with a
// zero-timeout poll while the other threads run (a pipe between model threads works), and calls
// the C library once it is ready. A wait with a timeout (poll, epoll_wait) times out on the
// virtual clock. One without that nothing makes ready within kPatience of virtual time fails the
// schedule with a report that names the call: the model cannot see another process, or real
// time, make a descriptor ready. Data sent happens-before its receipt (see sent()). Outside an exploration, and on
// non-blocking descriptors, each function is the C library's.
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "std/objects.h"

namespace interleave::detail::std_runtime {
namespace {

constexpr std::int64_t kMillisecond = 1'000'000;
constexpr std::int64_t kPatience = 60'000 * kMillisecond;

using Poll = int (*)(pollfd*, nfds_t, int);
int real_poll(pollfd* fds, nfds_t count, int timeout_ms) {
  static const Poll poll_function = real<Poll>("poll");
  return poll_function(fds, count, timeout_ms);
}

// Waits until `ready()` (checked now, then after each pause) or `timeout_ns` (< 0: none) passed.
// False on timeout. `what` names the call for reports.
// `call` (a literal: traces keep it) names the call, `what` details it for a report.
template <class Ready>
bool wait_until_ready(Ready ready, std::int64_t timeout_ns, const char* call, const std::string& what, const void* pc) {
  static const std::uint32_t never_woken = 0;  // only a deadline ends a pause
  const HookScope hook;
  const Operation op(call, nullptr, pc);
  const std::int64_t start = model::now_ns();
  std::int64_t pause = kMillisecond;
  while (!ready()) {
    const std::int64_t waited = model::now_ns() - start;
    if (timeout_ns >= 0 && waited >= timeout_ns) return false;
    if (timeout_ns < 0 && waited >= kPatience) {
      model::fail(FailureKind::deadlock,
                  "fiber " + std::to_string(model::current_fiber()) + " waited " +
                      std::to_string(kPatience / 1'000'000'000) + " s of virtual time in " + what +
                      ", which nothing made ready: blocking I/O is not modelled (the model sees no other process, "
                      "and no real time passes, while it waits); make the descriptor ready before the call, or use "
                      "a non-blocking descriptor or a timeout",
                  caller_location(pc));
    }
    std::int64_t deadline = model::now_ns() + pause;
    if (timeout_ns >= 0) deadline = std::min(deadline, start + timeout_ns);
    futex_wait(&never_woken, 0, deadline);
    pause = std::min(pause * 2, 1000 * kMillisecond);
  }
  return true;
}

bool blocking(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) == 0;
}

// A call on `fd` that would block until `events`: waits for them (or an error on the descriptor,
// which the call then reports).
void await(int fd, short events, const char* call, const void* pc) {
  if (!blocking(fd)) return;
  const auto ready = [fd, events] {
    pollfd p{fd, events, 0};
    return real_poll(&p, 1, 0) != 0;
  };
  if (ready()) return;
  wait_until_ready(ready, -1, call, std::string(call) + "(fd " + std::to_string(fd) + ")", pc);
}

// Data sent through a pipe or socket carries happens-before to the thread that receives it. The
// model does not pair the two ends: every send releases into one channel and every receive
// acquires from it, which orders more than the real transfers do (a race between two threads that
// exchange unrelated data may go unreported), never less. Files and terminals carry nothing: two
// threads printing to stdout are not ordered by it.
char g_channel = 0;
bool carries_data(int fd) noexcept {
  struct stat s {};
  return ::fstat(fd, &s) == 0 && (S_ISFIFO(s.st_mode) || S_ISSOCK(s.st_mode));
}
void sent(int fd) noexcept {
  if (!carries_data(fd)) return;
  const HookScope hook;
  atomic_effects(&g_channel, true, std::memory_order_release);
}
void received(int fd) noexcept {
  if (!carries_data(fd)) return;
  const HookScope hook;
  atomic_effects(&g_channel, false, std::memory_order_acquire);
}

std::int64_t timeout_of(int timeout_ms) noexcept { return timeout_ms < 0 ? -1 : timeout_ms * kMillisecond; }

}  // namespace
}  // namespace interleave::detail::std_runtime

namespace rt = interleave::detail::std_runtime;

extern "C" {

ssize_t read(int fd, void* buffer, size_t size) {
  using Read = ssize_t (*)(int, void*, size_t);
  static const Read real_read = rt::real<Read>("read");
  if (!rt::modelled()) return real_read(fd, buffer, size);
  rt::await(fd, POLLIN, "read", __builtin_return_address(0));
  const ssize_t n = real_read(fd, buffer, size);
  if (n > 0) rt::received(fd);
  return n;
}

ssize_t write(int fd, const void* buffer, size_t size) {
  using Write = ssize_t (*)(int, const void*, size_t);
  static const Write real_write = rt::real<Write>("write");
  if (!rt::modelled()) return real_write(fd, buffer, size);
  rt::await(fd, POLLOUT, "write", __builtin_return_address(0));
  rt::sent(fd);
  return real_write(fd, buffer, size);
}

ssize_t recv(int fd, void* buffer, size_t size, int flags) {
  using Recv = ssize_t (*)(int, void*, size_t, int);
  static const Recv real_recv = rt::real<Recv>("recv");
  if (!rt::modelled()) return real_recv(fd, buffer, size, flags);
  if ((flags & MSG_DONTWAIT) == 0) rt::await(fd, POLLIN, "recv", __builtin_return_address(0));
  const ssize_t n = real_recv(fd, buffer, size, flags);
  if (n > 0) rt::received(fd);
  return n;
}

ssize_t recvfrom(int fd, void* buffer, size_t size, int flags, sockaddr* from, socklen_t* from_size) {
  using Recv = ssize_t (*)(int, void*, size_t, int, sockaddr*, socklen_t*);
  static const Recv real_recv = rt::real<Recv>("recvfrom");
  if (!rt::modelled()) return real_recv(fd, buffer, size, flags, from, from_size);
  if ((flags & MSG_DONTWAIT) == 0) rt::await(fd, POLLIN, "recvfrom", __builtin_return_address(0));
  const ssize_t n = real_recv(fd, buffer, size, flags, from, from_size);
  if (n > 0) rt::received(fd);
  return n;
}

ssize_t recvmsg(int fd, msghdr* message, int flags) {
  using Recv = ssize_t (*)(int, msghdr*, int);
  static const Recv real_recv = rt::real<Recv>("recvmsg");
  if (!rt::modelled()) return real_recv(fd, message, flags);
  if ((flags & MSG_DONTWAIT) == 0) rt::await(fd, POLLIN, "recvmsg", __builtin_return_address(0));
  const ssize_t n = real_recv(fd, message, flags);
  if (n > 0) rt::received(fd);
  return n;
}

ssize_t send(int fd, const void* buffer, size_t size, int flags) {
  using Send = ssize_t (*)(int, const void*, size_t, int);
  static const Send real_send = rt::real<Send>("send");
  if (!rt::modelled()) return real_send(fd, buffer, size, flags);
  if ((flags & MSG_DONTWAIT) == 0) rt::await(fd, POLLOUT, "send", __builtin_return_address(0));
  rt::sent(fd);
  return real_send(fd, buffer, size, flags);
}

int accept(int fd, sockaddr* address, socklen_t* address_size) {
  using Accept = int (*)(int, sockaddr*, socklen_t*);
  static const Accept real_accept = rt::real<Accept>("accept");
  if (rt::modelled()) rt::await(fd, POLLIN, "accept", __builtin_return_address(0));
  return real_accept(fd, address, address_size);
}

int accept4(int fd, sockaddr* address, socklen_t* address_size, int flags) {
  using Accept = int (*)(int, sockaddr*, socklen_t*, int);
  static const Accept real_accept = rt::real<Accept>("accept4");
  if (rt::modelled()) rt::await(fd, POLLIN, "accept4", __builtin_return_address(0));
  return real_accept(fd, address, address_size, flags);
}

int poll(pollfd* fds, nfds_t count, int timeout_ms) {
  if (!rt::modelled() || timeout_ms == 0) return rt::real_poll(fds, count, timeout_ms);
  int found = 0;
  const auto ready = [&] {
    found = rt::real_poll(fds, count, 0);
    return found != 0;
  };
  if (ready()) return found;
  if (!rt::wait_until_ready(ready, rt::timeout_of(timeout_ms), "poll",
                            "poll(" + std::to_string(count) + " descriptors, no timeout)",
                            __builtin_return_address(0))) {
    return 0;
  }
  return found;
}

int epoll_wait(int epoll, epoll_event* events, int capacity, int timeout_ms) {
  using Wait = int (*)(int, epoll_event*, int, int);
  static const Wait real_wait = rt::real<Wait>("epoll_wait");
  if (!rt::modelled() || timeout_ms == 0) return real_wait(epoll, events, capacity, timeout_ms);
  int found = 0;
  const auto ready = [&] {
    found = real_wait(epoll, events, capacity, 0);
    return found != 0;
  };
  if (ready()) return found;
  if (!rt::wait_until_ready(ready, rt::timeout_of(timeout_ms), "epoll_wait",
                            "epoll_wait(epoll fd " + std::to_string(epoll) + ", no timeout)",
                            __builtin_return_address(0))) {
    return 0;
  }
  return found;
}

}  // extern "C"
