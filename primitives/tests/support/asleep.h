// Test support: waiting until another thread or process is certainly asleep in the kernel.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace interleave::test_support {

// Waits (up to 5 s) until thread or process `id` sleeps in the kernel on a futex, so a test can
// act while it is certainly waiting. Where the kernel hides the wait channel, a sleeping state
// is taken as enough. False if it never got there.
inline bool wait_until_asleep_on_futex(pid_t id) {
  using namespace std::chrono_literals;
  const std::string dir = "/proc/" + std::to_string(id);
  const auto read = [](const std::string& path) {
    std::ifstream file(path);
    return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  };
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < give_up) {
    const std::string stat = read(dir + "/stat");
    const auto paren = stat.rfind(')');  // the state follows the parenthesized command name
    const bool sleeping = paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'S';
    const std::string channel = read(dir + "/wchan");
    if (sleeping && (channel.find("futex") != std::string::npos || channel.empty() || channel == "0")) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

// The calling thread's kernel id (what /proc/<id> names).
inline pid_t current_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

}  // namespace interleave::test_support
