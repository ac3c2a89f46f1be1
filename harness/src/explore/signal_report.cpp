// The fatal-signal reporter (signal_report.h): the armed message per exploring thread, the
// handler, and the alternate signal stacks it runs on.
#include "explore/signal_report.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "interleave/detail/fiber.h"

namespace interleave::detail {

namespace {

// Written before each schedule runs, read only by the signal handler, which runs on the thread
// that faulted: each exploring thread has its own. The message is three pieces with the schedule's
// test fingerprint between them (twice: after "while running schedule <token>" and after the
// token of the reproduce line), either fixed when the schedule's fingerprint is known or taken
// from the points run so far when it is not (an exploration's schedules: it is known only after
// they run).
thread_local char g_signal_message[4096];
thread_local std::size_t g_signal_message_length = 0;
thread_local std::size_t g_signal_fingerprint_at[2] = {0, 0};
thread_local char g_signal_fingerprint[32];
thread_local std::size_t g_signal_fingerprint_length = 0;  // 0: take it from the run
// The scheduler running on this thread, for the fiber and step the report names.
thread_local const model::Heartbeat* g_signal_heartbeat = nullptr;
// Set by the first thread to report a fatal signal: a second thread faulting at the same time
// waits for the first to end the process instead of interleaving its report with the first.
std::atomic<bool> g_signal_reporting{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void write_all(const char* data, std::size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(STDERR_FILENO, data, length);
    if (n <= 0) return;
    data += n;
    length -= static_cast<std::size_t>(n);
  }
}

void write_text(const char* text) { write_all(text, std::strlen(text)); }

// Decimal, without allocating (async-signal-safe).
void write_number(std::uint64_t value) {
  char digits[24];
  std::size_t n = sizeof digits;
  do {
    digits[--n] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n > 0);
  write_all(digits + n, sizeof digits - n);
}

// Writes the armed " while running schedule ... reproduce: ..." lines, with the fingerprint.
void write_armed_message() noexcept {
  char live[40];
  const char* fingerprint = g_signal_fingerprint;
  std::size_t fingerprint_length = g_signal_fingerprint_length;
  if (fingerprint_length == 0) {
    fingerprint = live;
    fingerprint_length = model::fingerprint_text_for_signal(live, sizeof live);
  }
  const std::size_t first = std::min(g_signal_fingerprint_at[0], g_signal_message_length);
  const std::size_t second = std::min(g_signal_fingerprint_at[1], g_signal_message_length);
  write_all(g_signal_message, first);
  if (g_signal_message_length > 0) write_all(fingerprint, fingerprint_length);
  write_all(g_signal_message + first, second - first);
  if (g_signal_message_length > 0) write_all(fingerprint, fingerprint_length);
  write_all(g_signal_message + second, g_signal_message_length - second);
}

void on_fatal_signal(int signal, siginfo_t* info, void*) {
  if (g_signal_reporting.exchange(true)) {
    for (;;) pause();  // another thread is reporting and will end the process
  }
  const char* name = sigdescr_np(signal);
  write_text("\ninterleave: FATAL SIGNAL ");
  write_text(name != nullptr ? name : "?");
  if ((signal == SIGSEGV || signal == SIGBUS) && info != nullptr && fiber_owning_guard_page(info->si_addr) != nullptr) {
    write_text(" (stack overflow in a fiber: raise INTERLEAVE_STACK_KIB if the recursion is legitimate)");
  }
  const model::Heartbeat* heartbeat = g_signal_heartbeat;
  if (heartbeat != nullptr && g_signal_message_length > 0 && heartbeat->running.load(std::memory_order_relaxed)) {
    write_text(" in fiber ");
    write_number(heartbeat->fiber.load(std::memory_order_relaxed));
    write_text(" after step ");
    write_number(heartbeat->step.load(std::memory_order_relaxed));
  }
  write_armed_message();
  // Die of the same signal, as if we had not been here.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(signal, &dfl, nullptr);
  raise(signal);
}

// An alternate signal stack for the calling thread, kept for the thread's life. sigaltstack is
// per thread: every thread that runs fibers needs one, or the handler of a fiber's stack overflow
// would run on the overflowed stack, fault again, and the process would die with no report. It
// is mapped with a guard page below it, like a fiber's stack. A thread that already has one (its
// own, or a sanitizer's) keeps it.
class AlternateSignalStack {
 public:
  AlternateSignalStack() {
    stack_t current{};
    if (sigaltstack(nullptr, &current) != 0 || (current.ss_flags & SS_DISABLE) == 0) return;
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* const mapping =
        mmap(nullptr, page + kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mapping == MAP_FAILED) return;  // the report then needs an overflow-free crash, as before
    if (mprotect(mapping, page, PROT_NONE) != 0) {
      munmap(mapping, page + kBytes);
      return;
    }
    stack_t ss{};
    ss.ss_sp = static_cast<char*>(mapping) + page;
    ss.ss_size = kBytes;
    if (sigaltstack(&ss, nullptr) != 0) {
      munmap(mapping, page + kBytes);
      return;
    }
    mapping_ = mapping;
    mapping_size_ = page + kBytes;
  }
  AlternateSignalStack(const AlternateSignalStack&) = delete;
  AlternateSignalStack& operator=(const AlternateSignalStack&) = delete;
  ~AlternateSignalStack() {
    if (mapping_ == nullptr) return;
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
    munmap(mapping_, mapping_size_);
  }

 private:
  static constexpr std::size_t kBytes = std::size_t{64} * 1024;
  void* mapping_ = nullptr;
  std::size_t mapping_size_ = 0;
};

}  // namespace

void write_stderr(const char* data, std::size_t length) noexcept { write_all(data, length); }

void install_fatal_signal_reporter() {
  static const bool installed = [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(s, &sa, nullptr);
    return true;
  }();
  (void)installed;
  thread_local AlternateSignalStack alternate_stack;
}

std::string arm_signal_message(const ScheduleId& id, const std::string& command, const std::string& configuration,
                               const model::Heartbeat& heartbeat) {
  // Once per schedule: one token formatted, the rest copied into the buffer (no allocation).
  std::string token = id.token();
  const std::string_view bare(token.data(), token.rfind(".t=") + 3);  // the fingerprint goes after it
  std::size_t n = 0;
  const auto append = [&n](std::string_view piece) {
    const std::size_t k = std::min(piece.size(), sizeof g_signal_message - n);
    std::memcpy(g_signal_message + n, piece.data(), k);
    n += k;
  };
  append(" while running schedule ");
  append(bare);
  g_signal_fingerprint_at[0] = n;
  append("\n  configuration: ");
  append(configuration);
  append("\nreproduce: INTERLEAVE_REPLAY=");
  append(bare);
  g_signal_fingerprint_at[1] = n;
  append(" ");
  append(command);
  append("\n");
  g_signal_message_length = n;
  if (id.test.recorded()) {
    const std::string fingerprint = id.test.text();
    g_signal_fingerprint_length = std::min(fingerprint.size(), sizeof g_signal_fingerprint);
    fingerprint.copy(g_signal_fingerprint, g_signal_fingerprint_length);
  } else {
    g_signal_fingerprint_length = 0;
  }
  g_signal_heartbeat = &heartbeat;
  return token;
}

void disarm_signal_message() {
  g_signal_message_length = 0;
  g_signal_heartbeat = nullptr;
}

bool schedule_report_armed() noexcept { return g_signal_message_length != 0; }

void write_schedule_report(const char* headline) noexcept {
  write_all(headline, std::strlen(headline));
  write_armed_message();
}

}  // namespace interleave::detail
