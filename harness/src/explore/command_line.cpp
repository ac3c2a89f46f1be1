// This program's command line, shell-quoted, for reproduce lines.
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "interleave/explore.h"

namespace interleave::detail {

namespace {

std::string shell_quote(std::string_view word) {
  if (!word.empty() &&
      word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
          std::string_view::npos) {
    return std::string(word);
  }
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace

std::string program_command_line(bool drop_gtest_filter) {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string command;
  std::size_t start = 0;
  while (start < raw.size()) {
    std::size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    const std::string_view argument = std::string_view(raw).substr(start, end - start);
    start = end + 1;
    if (drop_gtest_filter && argument.substr(0, 15) == "--gtest_filter=") continue;
    if (!command.empty()) command += ' ';
    command += shell_quote(argument);
  }
  return command;
}

}  // namespace interleave::detail
