// strcpy, stpcpy, strncpy, stpncpy, strcat, strncat and mempcpy of the test program: like
// memcpy (byte_copies.cpp), the C library copies these bytes outside the compiler's
// instrumentation, so these wrappers check the bytes each function reads (the source up to its
// terminator or bound, and for strcat and strncat the destination's string it appends to) and
// writes, then call the C library's own. Outside an exploration, and for the runtime's own calls,
// they only forward.
//
// The C library is reached through its exported checked variants (__strcpy_chk and the others,
// with no size limit), called through pointers the compiler cannot see through: a direct call
// would be folded back into the function being defined here.
#include <cstddef>
#include <cstdint>

#include "std/std_runtime.h"

// NOLINTBEGIN(bugprone-reserved-identifier,readability-identifier-naming)
extern "C" {
char* __strcpy_chk(char* destination, const char* source, std::size_t destination_size);
char* __stpcpy_chk(char* destination, const char* source, std::size_t destination_size);
char* __strncpy_chk(char* destination, const char* source, std::size_t bound, std::size_t destination_size);
char* __stpncpy_chk(char* destination, const char* source, std::size_t bound, std::size_t destination_size);
char* __strcat_chk(char* destination, const char* source, std::size_t destination_size);
char* __strncat_chk(char* destination, const char* source, std::size_t bound, std::size_t destination_size);
void* __mempcpy_chk(void* destination, const void* source, std::size_t size, std::size_t destination_size);
}

namespace {

namespace rt = interleave::detail::std_runtime;

using Copy = char* (*)(char*, const char*, std::size_t);
using BoundedCopy = char* (*)(char*, const char*, std::size_t, std::size_t);
using BytesCopy = void* (*)(void*, const void*, std::size_t, std::size_t);
Copy volatile c_strcpy = &__strcpy_chk;
Copy volatile c_stpcpy = &__stpcpy_chk;
BoundedCopy volatile c_strncpy = &__strncpy_chk;
BoundedCopy volatile c_stpncpy = &__stpncpy_chk;
Copy volatile c_strcat = &__strcat_chk;
BoundedCopy volatile c_strncat = &__strncat_chk;
BytesCopy volatile c_mempcpy = &__mempcpy_chk;
constexpr std::size_t kNoLimit = SIZE_MAX;

// The characters before the terminator, at most `bound`.
std::size_t length(const char* text, std::size_t bound = SIZE_MAX) {
  std::size_t n = 0;
  while (n < bound && text[n] != '\0') ++n;
  return n;
}

void check(const void* address, std::size_t size, bool write, const void* pc) {
  if (size != 0) rt::check_range(address, size, write, pc);
}

// strcpy/stpcpy: the source and its terminator are read, and written to the destination.
void check_copy(char* destination, const char* source, const void* pc) {
  if (!rt::modelled()) return;
  const std::size_t n = length(source) + 1;
  check(source, n, false, pc);
  check(destination, n, true, pc);
}

// strncpy/stpncpy: the source is read up to its terminator or `bound` characters; `bound`
// characters are written (the rest padded with zeros).
void check_bounded_copy(char* destination, const char* source, std::size_t bound, const void* pc) {
  if (!rt::modelled()) return;
  const std::size_t n = length(source, bound);
  check(source, n < bound ? n + 1 : n, false, pc);
  check(destination, bound, true, pc);
}

// strcat/strncat: the destination's string is read to its terminator, the source up to its own
// or `bound` characters, and the appended characters and a terminator are written after it.
void check_append(char* destination, const char* source, std::size_t bound, const void* pc) {
  if (!rt::modelled()) return;
  const std::size_t end = length(destination);
  check(destination, end + 1, false, pc);
  const std::size_t n = length(source, bound);
  check(source, n < bound ? n + 1 : n, false, pc);
  check(destination + end, n + 1, true, pc);
}

}  // namespace

extern "C" {

char* strcpy(char* destination, const char* source) {
  check_copy(destination, source, __builtin_return_address(0));
  return c_strcpy(destination, source, kNoLimit);
}

char* stpcpy(char* destination, const char* source) {
  check_copy(destination, source, __builtin_return_address(0));
  return c_stpcpy(destination, source, kNoLimit);
}

char* strncpy(char* destination, const char* source, std::size_t bound) {
  check_bounded_copy(destination, source, bound, __builtin_return_address(0));
  return c_strncpy(destination, source, bound, kNoLimit);
}

char* stpncpy(char* destination, const char* source, std::size_t bound) {
  check_bounded_copy(destination, source, bound, __builtin_return_address(0));
  return c_stpncpy(destination, source, bound, kNoLimit);
}

char* strcat(char* destination, const char* source) {
  check_append(destination, source, SIZE_MAX, __builtin_return_address(0));
  return c_strcat(destination, source, kNoLimit);
}

char* strncat(char* destination, const char* source, std::size_t bound) {
  check_append(destination, source, bound, __builtin_return_address(0));
  return c_strncat(destination, source, bound, kNoLimit);
}

void* mempcpy(void* destination, const void* source, std::size_t size) {
  if (size != 0 && rt::modelled()) {
    const void* pc = __builtin_return_address(0);
    rt::check_range(source, size, false, pc);
    rt::check_range(destination, size, true, pc);
  }
  return c_mempcpy(destination, source, size, kNoLimit);
}

}  // extern "C"
// NOLINTEND(bugprone-reserved-identifier,readability-identifier-naming)
