// Test support: what the Pipe tests share (pipe_test, pipe_close_test, pipe_blocking_test): a
// byte pattern to send and compare, and the message of the exception a call throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace interleave::test_support {

// `size` bytes that vary with the position and with `seed`: a message cut short, shifted or
// mixed up with another does not compare equal.
inline std::vector<std::byte> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((seed * 31U + i * 7U) & 0xffU);
  return bytes;
}

// The message of the exception `f` throws, or "(nothing thrown)".
template <class F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

}  // namespace interleave::test_support
