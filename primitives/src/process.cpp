#include "interleave/process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace interleave {

namespace {

ExitStatus decode(int raw) {
  ExitStatus s;
  if (WIFEXITED(raw)) {
    s.exited = true;
    s.code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    s.signal = WTERMSIG(raw);
  }
  return s;
}

// Runs in the child: never returns, never runs the parent's atexit handlers or static destructors.
[[noreturn]] void run_child(const std::function<int()>& target, const std::string& name) {
  int code = 0;
  try {
    code = target();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "interleave: %s (pid %d): uncaught exception: %s\n", name.c_str(), getpid(), e.what());
    code = 1;
  } catch (...) {
    std::fprintf(stderr, "interleave: %s (pid %d): uncaught exception of unknown type\n", name.c_str(), getpid());
    code = 1;
  }
  std::fflush(nullptr);
  _exit(code);
}

}  // namespace

std::string ExitStatus::describe() const {
  if (exited) return "exited with code " + std::to_string(code);
  const char* what = strsignal(signal);
  return "killed by signal " + std::to_string(signal) + " (" + (what != nullptr ? what : "unknown") + ")";
}

Process::~Process() {
  if (pid_ <= 0) return;
  // Started and never joined: do not leave a zombie or an orphan behind.
  ::kill(pid_, SIGKILL);
  int raw = 0;
  while (waitpid(pid_, &raw, 0) == -1 && errno == EINTR) {
  }
  std::fprintf(stderr, "interleave: %s (pid %d) was not joined; killed and reaped it\n", name_.c_str(), pid_);
}

void Process::start() {
  if (started()) throw std::logic_error("Process::start: " + name_ + " was already started");
  std::fflush(nullptr);  // so the child does not print the parent's buffered output again
  const pid_t pid = fork();
  if (pid == -1) throw std::system_error(errno, std::generic_category(), "Process::start: fork failed for " + name_);
  if (pid == 0) run_child(target_, name_);
  pid_ = pid;
}

void Process::require_started(const char* operation) const {
  if (!started()) throw std::logic_error(std::string(operation) + ": " + name_ + " was never started");
}

ExitStatus Process::join() {
  require_started("Process::join");
  if (status_) return *status_;
  int raw = 0;
  pid_t r;
  while ((r = waitpid(pid_, &raw, 0)) == -1 && errno == EINTR) {
  }
  if (r == -1) throw std::system_error(errno, std::generic_category(), "Process::join: waitpid failed for " + name_);
  status_ = decode(raw);
  pid_ = -1;
  return *status_;
}

std::optional<ExitStatus> Process::join_for_ns(long long timeout_ns) {
  require_started("Process::join_for");
  if (status_) return status_;
  // Poll with a growing interval: waitpid has no timeout, and a SIGCHLD handler would steal the
  // signal from the program under test.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout_ns);
  auto interval = std::chrono::microseconds(50);
  for (;;) {
    int raw = 0;
    const pid_t r = waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) {
      status_ = decode(raw);
      pid_ = -1;
      return status_;
    }
    if (r == -1 && errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "Process::join_for: waitpid failed for " + name_);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(interval, deadline - now));
    interval = std::min(interval * 2, std::chrono::microseconds(10'000));
  }
}

void Process::kill(int signal) {
  require_started("Process::kill");
  if (status_) throw std::logic_error("Process::kill: " + name_ + " has already been joined");
  if (::kill(pid_, signal) == -1) {
    throw std::system_error(errno, std::generic_category(), "Process::kill: kill failed for " + name_);
  }
}

}  // namespace interleave
