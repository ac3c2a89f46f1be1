// Process: Python's multiprocessing.Process on fork().
//
// Purpose   Run a target function in a child process: construct, start(), join() -> ExitStatus.
//           Data crosses between processes only through shared memory: SharedRegion,
//           SharedObject, SharedQueue and Pipe made before start().
// Requires  start() at most once; join() only after start() (std::logic_error otherwise).
//           Fork from a process whose other threads hold no locks the child needs (as with any
//           fork); the child should not start threads under ThreadSanitizer.
// Guarantees
//   - The child runs the target and ends with _exit: 0 when the target returns (or the int it
//     returns), 1 with a message on stderr naming the process when an exception escapes.
//   - Output buffered in stdio before start() is flushed first, so it is not printed twice.
//   - No zombies: join() reaps the child; destroying a Process that was started but not joined
//     kills the child (SIGKILL), reaps it and says so on stderr.
//   - ExitStatus tells a normal exit (with its code) from death by a signal.
// Timeouts  join_for(d): d < 0 throws std::invalid_argument; returns std::nullopt if the child is
//           still running at the deadline (it keeps running; join or kill it later).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace interleave {

struct ExitStatus {
  bool exited = false;  // ended by _exit/exit/return (else: killed by a signal)
  int code = 0;         // exit code when `exited`
  int signal = 0;       // the signal number when killed

  [[nodiscard]] bool success() const noexcept { return exited && code == 0; }
  // "exited with code 0", "killed by signal 9 (Killed)".
  [[nodiscard]] std::string describe() const;
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

class Process {
 public:
  // `target` is callable with no arguments and returns void or int (the exit code).
  // Never hides the move constructor: a Process is not invocable.
  template <class F>
  requires std::is_invocable_v<F&>
  // NOLINTNEXTLINE(bugprone-forwarding-reference-overload)
  explicit Process(F&& target, std::string name = "process") : name_(std::move(name)) {
    if constexpr (std::is_convertible_v<std::invoke_result_t<F&>, int>) {
      target_ = std::forward<F>(target);
    } else {
      std::function<void()> body(std::forward<F>(target));
      if (body) {
        target_ = [b = std::move(body)] {
          b();
          return 0;
        };
      }
    }
    if (!target_) throw std::invalid_argument("Process: the target function is empty");
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  void start();
  ExitStatus join();
  template <class Rep, class Period>
  std::optional<ExitStatus> join_for(std::chrono::duration<Rep, Period> timeout) {
    if (timeout < std::chrono::duration<Rep, Period>::zero()) {
      throw std::invalid_argument("Process::join_for: timeout must be >= 0, got a negative duration");
    }
    return join_for_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count());
  }
  // Sends `signal` to a started, unreaped child.
  void kill(int signal);

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] bool started() const noexcept { return pid_ > 0 || status_.has_value(); }
  [[nodiscard]] std::optional<ExitStatus> exit_status() const noexcept { return status_; }

 private:
  std::optional<ExitStatus> join_for_ns(long long timeout_ns);
  void require_started(const char* operation) const;

  std::function<int()> target_;
  std::string name_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

}  // namespace interleave
