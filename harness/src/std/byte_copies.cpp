// memcpy, memmove, mempcpy and memset of the test program: the compilers leave calls to them (a copy whose
// size is not a constant, a large one, any memset) to the C library, outside their
// instrumentation, so these wrappers check the bytes read and written as the compiler's hooks
// would, then call the C library's own. Outside an exploration, and for the runtime's own calls,
// they only forward.
//
// The C library is reached through its exported checked variants (__memcpy_chk and the others,
// with no size limit), called through pointers the compiler cannot see through: a direct call
// would be folded back into memcpy, which is this file's own.
#include <cstddef>
#include <cstdint>

#include "std/std_runtime.h"

// NOLINTBEGIN(bugprone-reserved-identifier,readability-identifier-naming)
extern "C" {
void* __memcpy_chk(void* destination, const void* source, std::size_t size, std::size_t destination_size);
void* __memmove_chk(void* destination, const void* source, std::size_t size, std::size_t destination_size);
void* __memset_chk(void* destination, int value, std::size_t size, std::size_t destination_size);
void* __mempcpy_chk(void* destination, const void* source, std::size_t size, std::size_t destination_size);
}

namespace {

using Copy = void* (*)(void*, const void*, std::size_t, std::size_t);
using Fill = void* (*)(void*, int, std::size_t, std::size_t);
Copy volatile c_memcpy = &__memcpy_chk;
Copy volatile c_memmove = &__memmove_chk;
Copy volatile c_mempcpy = &__mempcpy_chk;
Fill volatile c_memset = &__memset_chk;
constexpr std::size_t kNoLimit = SIZE_MAX;

void check_copy(void* destination, const void* source, std::size_t size, const void* pc) {
  if (size == 0 || !interleave::detail::std_runtime::modelled()) return;
  interleave::detail::std_runtime::check_range(source, size, false, pc);
  interleave::detail::std_runtime::check_range(destination, size, true, pc);
}

}  // namespace

extern "C" {

void* memcpy(void* destination, const void* source, std::size_t size) {
  check_copy(destination, source, size, __builtin_return_address(0));
  return c_memcpy(destination, source, size, kNoLimit);
}

void* memmove(void* destination, const void* source, std::size_t size) {
  check_copy(destination, source, size, __builtin_return_address(0));
  return c_memmove(destination, source, size, kNoLimit);
}

void* mempcpy(void* destination, const void* source, std::size_t size) {
  check_copy(destination, source, size, __builtin_return_address(0));
  return c_mempcpy(destination, source, size, kNoLimit);
}

void* memset(void* destination, int value, std::size_t size) {
  if (size != 0 && interleave::detail::std_runtime::modelled()) {
    interleave::detail::std_runtime::check_range(destination, size, true, __builtin_return_address(0));
  }
  return c_memset(destination, value, size, kNoLimit);
}

}  // extern "C"
// NOLINTEND(bugprone-reserved-identifier,readability-identifier-naming)
