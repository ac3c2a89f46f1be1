// strlen, strnlen, strchr and strrchr of the test program: the C library reads these bytes outside
// the compiler's instrumentation, so a thread measuring or searching a string that another thread
// writes went unseen. These wrappers check the bytes each function reads (up to and including the
// terminator, or the bound, or the character found), then answer with the C library's rawmemchr,
// memchr and memrchr, which this runtime does not replace. Outside an exploration, and for the
// runtime's own calls, they only answer.
#include <cstddef>

#include "std/std_runtime.h"

extern "C" {
void* rawmemchr(const void* block, int character) noexcept;
void* memchr(const void* block, int character, std::size_t size) noexcept;
void* memrchr(const void* block, int character, std::size_t size) noexcept;
}

namespace {

namespace rt = interleave::detail::std_runtime;

std::size_t length(const char* text) {
  return static_cast<std::size_t>(static_cast<const char*>(rawmemchr(text, 0)) - text);
}

void check_read(const void* address, std::size_t size, const void* pc) {
  if (size != 0 && rt::modelled()) rt::check_range(address, size, false, pc);
}

}  // namespace

extern "C" {

std::size_t strlen(const char* text) {
  const std::size_t n = length(text);
  check_read(text, n + 1, __builtin_return_address(0));
  return n;
}

std::size_t strnlen(const char* text, std::size_t bound) {
  const void* end = memchr(text, 0, bound);
  const std::size_t n = end == nullptr ? bound : static_cast<std::size_t>(static_cast<const char*>(end) - text);
  check_read(text, n < bound ? n + 1 : n, __builtin_return_address(0));
  return n;
}

// NOLINTBEGIN(readability-non-const-parameter): the C library's signatures
char* strchr(const char* text, int character) {
  const std::size_t n = length(text);
  void* found = memchr(text, character, n + 1);  // the terminator is part of the string
  const std::size_t read = found == nullptr ? n + 1 : static_cast<std::size_t>(static_cast<char*>(found) - text) + 1;
  check_read(text, read, __builtin_return_address(0));
  return static_cast<char*>(found);
}

char* strrchr(const char* text, int character) {
  const std::size_t n = length(text);
  check_read(text, n + 1, __builtin_return_address(0));
  return static_cast<char*>(memrchr(text, character, n + 1));
}
// NOLINTEND(readability-non-const-parameter)

}  // extern "C"
