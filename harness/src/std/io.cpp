// Blocking I/O of the test program inside an exploration (read, readv, write, writev, recv*,
// send*, accept, poll, ppoll, select, pselect, epoll_wait on a descriptor that is not ready), and
// the other waits the model cannot see end: for a child process (wait, waitpid, wait4, waitid) and
// for a signal (sigwait, sigwaitinfo, sigtimedwait, pause, sigsuspend). The model cannot block a
// model thread in the kernel: its fibers share one OS thread, so a blocked call would stop every thread and hang the
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
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
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
// `why` ends the report of a wait that nothing ended: what the model cannot see, and what to do.
constexpr const char* kBlockingIo =
    "blocking I/O is not modelled (the model sees no other process, and no real time passes, while it waits); make "
    "the descriptor ready before the call, or use a non-blocking descriptor or a timeout";
constexpr const char* kOtherProcesses =
    "another process is not modelled (the model sees none, and no real time passes, while it waits); wait for a "
    "child that has ended, or ask with WNOHANG";
constexpr const char* kSignals =
    "signals are not modelled (the model delivers none, and no real time passes, while it waits); raise the signal "
    "before the wait, or use sigtimedwait with a timeout";
template <class Ready>
bool wait_until_ready(Ready ready, std::int64_t timeout_ns, const char* call, const std::string& what, const void* pc,
                      const char* why = kBlockingIo) {
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
                      ", which nothing made ready: " + why,
                  caller_location(pc));
    }
    std::int64_t deadline = model::now_ns() + pause;
    if (timeout_ns >= 0) deadline = std::min(deadline, start + timeout_ns);
    futex_wait(&never_woken, 0, deadline);
    pause = std::min(pause * 2, 1000 * kMillisecond);
  }
  return true;
}

using Sigtimedwait = int (*)(const sigset_t*, siginfo_t*, const timespec*);
int real_sigtimedwait(const sigset_t* set, siginfo_t* info, const timespec* timeout) {
  static const Sigtimedwait function = real<Sigtimedwait>("sigtimedwait");
  return function(set, info, timeout);
}

// sigwait, sigwaitinfo and sigtimedwait: a signal of `set` already pending is taken; else the
// call waits on the virtual clock, asking again, until `timeout_ns` (< 0: none) passed (-1,
// EAGAIN). The signal's number, or -1 with errno set.
int wait_for_signal(const sigset_t* set, siginfo_t* info, std::int64_t timeout_ns, const char* call, const void* pc) {
  const timespec zero{};
  int got = real_sigtimedwait(set, info, &zero);
  if (got > 0 || errno != EAGAIN) return got;
  const bool taken = wait_until_ready(
      [&] {
        got = real_sigtimedwait(set, info, &zero);
        return got > 0 || errno != EAGAIN;
      },
      timeout_ns, call, std::string(call) + "()", pc, kSignals);
  if (!taken) {
    errno = EAGAIN;
    return -1;
  }
  return got;
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
std::int64_t timeout_of(const timespec* timeout) noexcept { return timeout == nullptr ? -1 : to_ns(*timeout); }

// A timeout the C library refuses (negative, or a fraction out of range): the call is left to it,
// which fails at once with EINVAL, rather than read as "no timeout" and waited on.
bool invalid(const timespec* timeout) noexcept {
  return timeout != nullptr && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1'000'000'000);
}
bool invalid(const timeval* timeout) noexcept {
  return timeout != nullptr && (timeout->tv_sec < 0 || timeout->tv_usec < 0 || timeout->tv_usec >= 1'000'000);
}

// The waiting calls (poll, ppoll, select, pselect, epoll_wait): `check()` asks the C library with
// a zero timeout and returns its answer; 0 (nothing ready) makes the call wait on the virtual
// clock and ask again, until something is ready or `timeout_ns` (< 0: none) passed. The C
// library's answer, or 0 on timeout.
template <class Check>
int wait_for_any(Check check, std::int64_t timeout_ns, const char* call, const std::string& what, const void* pc) {
  int found = check();
  if (found != 0 || timeout_ns == 0) return found;
  const auto ready = [&] {
    found = check();
    return found != 0;
  };
  return wait_until_ready(ready, timeout_ns, call, what, pc) ? found : 0;
}

// select and pselect overwrite their sets: each check asks with copies of the caller's, and the
// answer that ends the wait is copied back (all three sets cleared on a timeout, as the C
// library does).
template <class Select>
int select_on_copies(Select real_select, int count, fd_set* read, fd_set* write, fd_set* error, std::int64_t timeout_ns,
                     const char* call, const void* pc) {
  const fd_set none{};
  const fd_set asked[3] = {read != nullptr ? *read : none, write != nullptr ? *write : none,
                           error != nullptr ? *error : none};
  fd_set answer[3];
  const auto check = [&] {
    for (int i = 0; i < 3; ++i) answer[i] = asked[i];
    return real_select(count, read != nullptr ? &answer[0] : nullptr, write != nullptr ? &answer[1] : nullptr,
                       error != nullptr ? &answer[2] : nullptr);
  };
  const int found =
      wait_for_any(check, timeout_ns, call, std::string(call) + "(nfds " + std::to_string(count) + ", no timeout)", pc);
  fd_set* sets[3] = {read, write, error};
  for (int i = 0; i < 3; ++i) {
    if (sets[i] != nullptr) *sets[i] = found > 0 ? answer[i] : none;
  }
  return found;
}
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

ssize_t readv(int fd, const iovec* parts, int count) {
  using Readv = ssize_t (*)(int, const iovec*, int);
  static const Readv real_readv = rt::real<Readv>("readv");
  if (!rt::modelled()) return real_readv(fd, parts, count);
  rt::await(fd, POLLIN, "readv", __builtin_return_address(0));
  const ssize_t n = real_readv(fd, parts, count);
  if (n > 0) rt::received(fd);
  return n;
}

ssize_t writev(int fd, const iovec* parts, int count) {
  using Writev = ssize_t (*)(int, const iovec*, int);
  static const Writev real_writev = rt::real<Writev>("writev");
  if (!rt::modelled()) return real_writev(fd, parts, count);
  rt::await(fd, POLLOUT, "writev", __builtin_return_address(0));
  rt::sent(fd);
  return real_writev(fd, parts, count);
}

ssize_t sendto(int fd, const void* buffer, size_t size, int flags, const sockaddr* to, socklen_t to_size) {
  using Send = ssize_t (*)(int, const void*, size_t, int, const sockaddr*, socklen_t);
  static const Send real_send = rt::real<Send>("sendto");
  if (!rt::modelled()) return real_send(fd, buffer, size, flags, to, to_size);
  if ((flags & MSG_DONTWAIT) == 0) rt::await(fd, POLLOUT, "sendto", __builtin_return_address(0));
  rt::sent(fd);
  return real_send(fd, buffer, size, flags, to, to_size);
}

ssize_t sendmsg(int fd, const msghdr* message, int flags) {
  using Send = ssize_t (*)(int, const msghdr*, int);
  static const Send real_send = rt::real<Send>("sendmsg");
  if (!rt::modelled()) return real_send(fd, message, flags);
  if ((flags & MSG_DONTWAIT) == 0) rt::await(fd, POLLOUT, "sendmsg", __builtin_return_address(0));
  rt::sent(fd);
  return real_send(fd, message, flags);
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
  return rt::wait_for_any([&] { return rt::real_poll(fds, count, 0); }, rt::timeout_of(timeout_ms), "poll",
                          "poll(" + std::to_string(count) + " descriptors, no timeout)", __builtin_return_address(0));
}

int ppoll(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask) {
  using Ppoll = int (*)(pollfd*, nfds_t, const timespec*, const sigset_t*);
  static const Ppoll real_ppoll = rt::real<Ppoll>("ppoll");
  if (!rt::modelled() || rt::invalid(timeout)) return real_ppoll(fds, count, timeout, mask);
  const timespec zero{};
  return rt::wait_for_any([&] { return real_ppoll(fds, count, &zero, mask); }, rt::timeout_of(timeout), "ppoll",
                          "ppoll(" + std::to_string(count) + " descriptors, no timeout)", __builtin_return_address(0));
}

int epoll_wait(int epoll, epoll_event* events, int capacity, int timeout_ms) {
  using Wait = int (*)(int, epoll_event*, int, int);
  static const Wait real_wait = rt::real<Wait>("epoll_wait");
  if (!rt::modelled() || timeout_ms == 0) return real_wait(epoll, events, capacity, timeout_ms);
  return rt::wait_for_any([&] { return real_wait(epoll, events, capacity, 0); }, rt::timeout_of(timeout_ms),
                          "epoll_wait", "epoll_wait(epoll fd " + std::to_string(epoll) + ", no timeout)",
                          __builtin_return_address(0));
}

int select(int count, fd_set* read, fd_set* write, fd_set* error, timeval* timeout) {
  using Select = int (*)(int, fd_set*, fd_set*, fd_set*, timeval*);
  static const Select real_select = rt::real<Select>("select");
  if (!rt::modelled() || rt::invalid(timeout)) return real_select(count, read, write, error, timeout);
  const std::int64_t timeout_ns =
      timeout == nullptr ? -1 : std::int64_t{timeout->tv_sec} * 1'000'000'000 + std::int64_t{timeout->tv_usec} * 1000;
  const int found = rt::select_on_copies(
      [&](int n, fd_set* r, fd_set* w, fd_set* e) {
        timeval zero{};
        return real_select(n, r, w, e, &zero);
      },
      count, read, write, error, timeout_ns, "select", __builtin_return_address(0));
  if (timeout != nullptr && found == 0) *timeout = timeval{};  // Linux reports the time left
  return found;
}

int pselect(int count, fd_set* read, fd_set* write, fd_set* error, const timespec* timeout, const sigset_t* mask) {
  using Pselect = int (*)(int, fd_set*, fd_set*, fd_set*, const timespec*, const sigset_t*);
  static const Pselect real_pselect = rt::real<Pselect>("pselect");
  if (!rt::modelled() || rt::invalid(timeout)) return real_pselect(count, read, write, error, timeout, mask);
  return rt::select_on_copies(
      [&](int n, fd_set* r, fd_set* w, fd_set* e) {
        const timespec zero{};
        return real_pselect(n, r, w, e, &zero, mask);
      },
      count, read, write, error, rt::timeout_of(timeout), "pselect", __builtin_return_address(0));
}

// --- Waits for a child process or a signal ---------------------------------------------------------
// Each asks the C library without waiting (WNOHANG, a zero sigtimedwait) and, while there is
// nothing, waits on the virtual clock as the I/O above does: a child that already ended, or a
// signal already pending, is taken; one the model would have to wait for in real time is reported
// with the call's name instead of stopping every model thread in the kernel.

pid_t waitpid(pid_t pid, int* status, int options) {
  using Waitpid = pid_t (*)(pid_t, int*, int);
  static const Waitpid real_waitpid = rt::real<Waitpid>("waitpid");
  if (!rt::modelled() || (options & WNOHANG) != 0) return real_waitpid(pid, status, options);
  pid_t got = real_waitpid(pid, status, options | WNOHANG);
  if (got != 0) return got;
  rt::wait_until_ready(
      [&] {
        got = real_waitpid(pid, status, options | WNOHANG);
        return got != 0;
      },
      -1, "waitpid", "waitpid(" + std::to_string(pid) + ")", __builtin_return_address(0), rt::kOtherProcesses);
  return got;
}

pid_t wait(int* status) {
  using Wait = pid_t (*)(int*);
  static const Wait real_wait = rt::real<Wait>("wait");
  if (!rt::modelled()) return real_wait(status);
  return waitpid(-1, status, 0);
}

pid_t wait4(pid_t pid, int* status, int options, struct rusage* usage) {
  using Wait4 = pid_t (*)(pid_t, int*, int, struct rusage*);
  static const Wait4 real_wait4 = rt::real<Wait4>("wait4");
  if (!rt::modelled() || (options & WNOHANG) != 0) return real_wait4(pid, status, options, usage);
  pid_t got = real_wait4(pid, status, options | WNOHANG, usage);
  if (got != 0) return got;
  rt::wait_until_ready(
      [&] {
        got = real_wait4(pid, status, options | WNOHANG, usage);
        return got != 0;
      },
      -1, "wait4", "wait4(" + std::to_string(pid) + ")", __builtin_return_address(0), rt::kOtherProcesses);
  return got;
}

int waitid(idtype_t type, id_t id, siginfo_t* info, int options) {
  using Waitid = int (*)(idtype_t, id_t, siginfo_t*, int);
  static const Waitid real_waitid = rt::real<Waitid>("waitid");
  if (!rt::modelled() || (options & WNOHANG) != 0 || info == nullptr) return real_waitid(type, id, info, options);
  // With WNOHANG and no child ready, waitid returns 0 and leaves si_pid 0.
  const auto ask = [&] {
    info->si_pid = 0;
    const int got = real_waitid(type, id, info, options | WNOHANG);
    return got != 0 || info->si_pid != 0;
  };
  if (!ask()) {
    rt::wait_until_ready(ask, -1, "waitid", "waitid(" + std::to_string(id) + ")", __builtin_return_address(0),
                         rt::kOtherProcesses);
  }
  info->si_pid = 0;
  return real_waitid(type, id, info, options | WNOHANG);
}

int sigtimedwait(const sigset_t* set, siginfo_t* info, const timespec* timeout) {
  if (!rt::modelled() || rt::invalid(timeout) || (timeout != nullptr && rt::timeout_of(timeout) == 0)) {
    return rt::real_sigtimedwait(set, info, timeout);
  }
  return rt::wait_for_signal(set, info, rt::timeout_of(timeout), "sigtimedwait", __builtin_return_address(0));
}

int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
  using Sigwaitinfo = int (*)(const sigset_t*, siginfo_t*);
  static const Sigwaitinfo real_sigwaitinfo = rt::real<Sigwaitinfo>("sigwaitinfo");
  if (!rt::modelled()) return real_sigwaitinfo(set, info);
  return rt::wait_for_signal(set, info, -1, "sigwaitinfo", __builtin_return_address(0));
}

int sigwait(const sigset_t* set, int* signal) {
  using Sigwait = int (*)(const sigset_t*, int*);
  static const Sigwait real_sigwait = rt::real<Sigwait>("sigwait");
  if (!rt::modelled()) return real_sigwait(set, signal);
  const int saved = errno;
  const int got = rt::wait_for_signal(set, nullptr, -1, "sigwait", __builtin_return_address(0));
  const int error = errno;
  errno = saved;
  if (got < 0) return error;  // sigwait returns the error, as the C library's does
  *signal = got;
  return 0;
}

int pause() {
  using Pause = int (*)();
  static const Pause real_pause = rt::real<Pause>("pause");
  if (!rt::modelled()) return real_pause();
  rt::wait_until_ready([] { return false; }, -1, "pause", "pause()", __builtin_return_address(0), rt::kSignals);
  errno = EINTR;
  return -1;
}

int sigsuspend(const sigset_t* mask) {
  using Sigsuspend = int (*)(const sigset_t*);
  static const Sigsuspend real_sigsuspend = rt::real<Sigsuspend>("sigsuspend");
  if (!rt::modelled()) return real_sigsuspend(mask);
  rt::wait_until_ready([] { return false; }, -1, "sigsuspend", "sigsuspend()", __builtin_return_address(0),
                       rt::kSignals);
  errno = EINTR;
  return -1;
}

}  // extern "C"
