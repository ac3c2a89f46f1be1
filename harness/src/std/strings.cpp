// The string functions of the test program that read or write memory in the C library, outside
// the compiler's instrumentation (as memcpy does: byte_copies.cpp): strcpy, stpcpy, strncpy,
// stpncpy, strcat and strncat, strlen, strnlen, strchr, strrchr, memchr, strstr and memmem, the
// spans strspn, strcspn and strpbrk, and the comparisons strcmp, strncmp, memcmp, bcmp, strcasecmp
// and strncasecmp. Each wrapper checks the bytes its function reads (a string up
// to its terminator, a bound, or the character found; for strcat and strncat also the string
// appended to; for a comparison, both sides up to the first byte that differs or ends the
// strings) and writes. The copies then call the C library through its exported checked variants
// (__strcpy_chk and the others, with no size limit, called through pointers the compiler cannot
// see through: a direct call would be folded back into the function being defined here); strlen
// and strrchr use rawmemchr and memrchr, which this runtime does not replace; the byte searches
// and the comparisons are computed here, with volatile reads (a plain loop could be turned back
// into a call of the function being defined). Outside an exploration, and for the runtime's own
// calls, nothing is checked, and the searches and comparisons are the C library's own (looked up
// past the program when it starts), at its speed.
#include <dlfcn.h>

#include <cctype>
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
void* rawmemchr(const void* block, int character) noexcept;
void* memrchr(const void* block, int character, std::size_t size) noexcept;
}

namespace {

namespace rt = interleave::detail::std_runtime;

using Copy = char* (*)(char*, const char*, std::size_t);
using BoundedCopy = char* (*)(char*, const char*, std::size_t, std::size_t);
Copy volatile c_strcpy = &__strcpy_chk;
Copy volatile c_stpcpy = &__stpcpy_chk;
BoundedCopy volatile c_strncpy = &__strncpy_chk;
BoundedCopy volatile c_stpncpy = &__stpncpy_chk;
Copy volatile c_strcat = &__strcat_chk;
BoundedCopy volatile c_strncat = &__strncat_chk;
constexpr std::size_t kNoLimit = SIZE_MAX;

// The C library's own searches and comparisons, for calls nothing is checked for. Looked up once
// while the program starts (before any exploration, on one thread); null before that, or where a
// function is not found, and then the code below answers.
struct CLibrary {
  int (*strcmp)(const char*, const char*) = nullptr;
  int (*strncmp)(const char*, const char*, std::size_t) = nullptr;
  int (*memcmp)(const void*, const void*, std::size_t) = nullptr;
  int (*bcmp)(const void*, const void*, std::size_t) = nullptr;
  void* (*memchr)(const void*, int, std::size_t) = nullptr;
  char* (*strchr)(const char*, int) = nullptr;
  std::size_t (*strnlen)(const char*, std::size_t) = nullptr;
  char* (*strstr)(const char*, const char*) = nullptr;
  void* (*memmem)(const void*, std::size_t, const void*, std::size_t) = nullptr;
  std::size_t (*strspn)(const char*, const char*) = nullptr;
  std::size_t (*strcspn)(const char*, const char*) = nullptr;
  int (*strcasecmp)(const char*, const char*) = nullptr;
  int (*strncasecmp)(const char*, const char*, std::size_t) = nullptr;
};
constinit CLibrary c_library{};

template <class F>
void look_up(F& function, const char* name) noexcept {
  function = reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

[[maybe_unused]] const bool kLookedUp = [] {
  CLibrary found;
  look_up(found.strcmp, "strcmp");
  look_up(found.strncmp, "strncmp");
  look_up(found.memcmp, "memcmp");
  look_up(found.bcmp, "bcmp");
  look_up(found.memchr, "memchr");
  look_up(found.strchr, "strchr");
  look_up(found.strnlen, "strnlen");
  look_up(found.strstr, "strstr");
  look_up(found.memmem, "memmem");
  look_up(found.strspn, "strspn");
  look_up(found.strcspn, "strcspn");
  look_up(found.strcasecmp, "strcasecmp");
  look_up(found.strncasecmp, "strncasecmp");
  c_library = found;
  return true;
}();

// The C library's function, when the call is not checked and it was found; else null.
template <class F>
F unchecked(F function) noexcept {
  return function != nullptr && !rt::modelled() ? function : nullptr;
}

std::size_t length(const char* text) {
  return static_cast<std::size_t>(static_cast<const char*>(rawmemchr(text, 0)) - text);
}

// The first byte equal to `character` in the `size` bytes at `block`, or nullptr; with volatile
// reads, as the comparisons below (this file defines memchr itself).
const void* find_byte(const void* block, int character, std::size_t size) {
  const auto* bytes = static_cast<const volatile unsigned char*>(block);
  const auto wanted = static_cast<unsigned char>(character);
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] == wanted) return static_cast<const unsigned char*>(block) + i;
  }
  return nullptr;
}

// The first place in the `size` bytes at `block` where the `wanted_size` bytes at `wanted` stand,
// or nullptr (volatile reads, as above).
const void* find_bytes(const void* block, std::size_t size, const void* wanted, std::size_t wanted_size) {
  if (wanted_size > size) return nullptr;
  const auto* bytes = static_cast<const volatile unsigned char*>(block);
  const auto* pattern = static_cast<const volatile unsigned char*>(wanted);
  for (std::size_t i = 0; i + wanted_size <= size; ++i) {
    std::size_t k = 0;
    while (k < wanted_size && bytes[i + k] == pattern[k]) ++k;
    if (k == wanted_size) return static_cast<const unsigned char*>(block) + i;
  }
  return nullptr;
}

// The characters before the terminator, at most `bound`.
std::size_t length(const char* text, std::size_t bound) {
  const void* end = find_byte(text, 0, bound);
  return end == nullptr ? bound : static_cast<std::size_t>(static_cast<const char*>(end) - text);
}

// The bytes a function reads of a string of `n` characters that it reads at most `bound` of:
// the terminator too, unless the bound stopped it first.
std::size_t read_of(std::size_t n, std::size_t bound) { return n < bound ? n + 1 : n; }

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
  check(source, read_of(length(source, bound), bound), false, pc);
  check(destination, bound, true, pc);
}

// strcat/strncat: the destination's string is read to its terminator, the source up to its own
// or `bound` characters, and the appended characters and a terminator are written after it.
void check_append(char* destination, const char* source, std::size_t bound, const void* pc) {
  if (!rt::modelled()) return;
  const std::size_t end = length(destination);
  check(destination, end + 1, false, pc);
  const std::size_t n = length(source, bound);
  check(source, read_of(n, bound), false, pc);
  check(destination + end, n + 1, true, pc);
}

void check_read(const void* address, std::size_t size, const void* pc) {
  if (rt::modelled()) check(address, size, false, pc);
}

// A comparison of at most `bound` bytes, stopping at the first that differs or, for strings, at a
// terminator both have: its sign, and how many bytes of each side it read.
struct Comparison {
  int sign;
  std::size_t read;
};

Comparison compare(const void* a, const void* b, std::size_t bound, bool strings) {
  const auto* x = static_cast<const volatile unsigned char*>(a);
  const auto* y = static_cast<const volatile unsigned char*>(b);
  for (std::size_t i = 0; i < bound; ++i) {
    const unsigned char c = x[i];
    const unsigned char d = y[i];
    if (c != d) return {c < d ? -1 : 1, i + 1};
    if (strings && c == 0) return {0, i + 1};
  }
  return {0, bound};
}

int checked_compare(const void* a, const void* b, std::size_t bound, bool strings, const void* pc) {
  const Comparison c = compare(a, b, bound, strings);
  if (rt::modelled()) {
    check(a, c.read, false, pc);
    check(b, c.read, false, pc);
  }
  return c.sign;
}

// A case-insensitive comparison (strcasecmp, strncasecmp) of at most `bound` bytes: as compare(),
// with each byte folded by the current locale's tolower, as the C library's are.
Comparison compare_folded(const char* a, const char* b, std::size_t bound) {
  const auto* x = reinterpret_cast<const volatile unsigned char*>(a);
  const auto* y = reinterpret_cast<const volatile unsigned char*>(b);
  for (std::size_t i = 0; i < bound; ++i) {
    const int c = std::tolower(x[i]);
    const int d = std::tolower(y[i]);
    if (c != d) return {c < d ? -1 : 1, i + 1};
    if (c == 0) return {0, i + 1};
  }
  return {0, bound};
}

int checked_folded_compare(const char* a, const char* b, std::size_t bound, const void* pc) {
  const Comparison c = compare_folded(a, b, bound);
  if (rt::modelled()) {
    check(a, c.read, false, pc);
    check(b, c.read, false, pc);
  }
  return c.sign;
}

// Whether `character` is one of the characters of `set` (a string, read with volatile reads).
bool in_set(unsigned char character, const char* set) {
  for (const auto* p = reinterpret_cast<const volatile unsigned char*>(set); *p != 0; ++p) {
    if (*p == character) return true;
  }
  return false;
}

// strspn (`inside`) and strcspn (not `inside`): how many characters of `text` from its start are
// (are not) in `set`. Both read `text` up to the character that ends the span (or its terminator)
// and all of `set`.
std::size_t checked_span(const char* text, const char* set, bool inside, const void* pc) {
  std::size_t n = 0;
  const auto* bytes = reinterpret_cast<const volatile unsigned char*>(text);
  while (bytes[n] != 0 && in_set(bytes[n], set) == inside) ++n;
  check_read(text, n + 1, pc);
  check_read(set, length(set) + 1, pc);
  return n;
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

std::size_t strlen(const char* text) {
  const std::size_t n = length(text);
  check_read(text, n + 1, __builtin_return_address(0));
  return n;
}

std::size_t strnlen(const char* text, std::size_t bound) {
  if (auto c = unchecked(c_library.strnlen)) return c(text, bound);
  const std::size_t n = length(text, bound);
  check_read(text, read_of(n, bound), __builtin_return_address(0));
  return n;
}

int strcmp(const char* a, const char* b) {
  if (auto c = unchecked(c_library.strcmp)) return c(a, b);
  return checked_compare(a, b, SIZE_MAX, true, __builtin_return_address(0));
}

int strncmp(const char* a, const char* b, std::size_t bound) {
  if (auto c = unchecked(c_library.strncmp)) return c(a, b, bound);
  return checked_compare(a, b, bound, true, __builtin_return_address(0));
}

int memcmp(const void* a, const void* b, std::size_t size) {
  if (auto c = unchecked(c_library.memcmp)) return c(a, b, size);
  return checked_compare(a, b, size, false, __builtin_return_address(0));
}

void* memchr(const void* block, int character, std::size_t size) {
  if (auto c = unchecked(c_library.memchr)) return c(block, character, size);
  const void* found = find_byte(block, character, size);
  const std::size_t read =
      found == nullptr
          ? size
          : static_cast<std::size_t>(static_cast<const char*>(found) - static_cast<const char*>(block)) + 1;
  check_read(block, read, __builtin_return_address(0));
  return const_cast<void*>(found);
}

// strstr and memmem read the needle whole, and the haystack up to the end of the first match (all
// of it, with its terminator for strstr, when there is none).
char* strstr(const char* haystack, const char* needle) {
  if (auto c = unchecked(c_library.strstr)) return c(haystack, needle);
  const std::size_t size = length(haystack);
  const std::size_t wanted = length(needle);
  const void* found = find_bytes(haystack, size, needle, wanted);
  const std::size_t read =
      found == nullptr ? size + 1 : static_cast<std::size_t>(static_cast<const char*>(found) - haystack) + wanted;
  check_read(haystack, read, __builtin_return_address(0));
  check_read(needle, wanted + 1, __builtin_return_address(0));
  return static_cast<char*>(const_cast<void*>(found));
}

void* memmem(const void* haystack, std::size_t size, const void* needle, std::size_t wanted) {
  if (auto c = unchecked(c_library.memmem)) return c(haystack, size, needle, wanted);
  const void* found = find_bytes(haystack, size, needle, wanted);
  const std::size_t read =
      found == nullptr
          ? size
          : static_cast<std::size_t>(static_cast<const char*>(found) - static_cast<const char*>(haystack)) + wanted;
  check_read(haystack, read, __builtin_return_address(0));
  check_read(needle, wanted, __builtin_return_address(0));
  return const_cast<void*>(found);
}

// What compilers call for a memcmp whose result is only compared with 0.
int bcmp(const void* a, const void* b, std::size_t size) {
  if (auto c = unchecked(c_library.bcmp)) return c(a, b, size);
  return checked_compare(a, b, size, false, __builtin_return_address(0));
}

int strcasecmp(const char* a, const char* b) {
  if (auto c = unchecked(c_library.strcasecmp)) return c(a, b);
  return checked_folded_compare(a, b, SIZE_MAX, __builtin_return_address(0));
}

int strncasecmp(const char* a, const char* b, std::size_t bound) {
  if (auto c = unchecked(c_library.strncasecmp)) return c(a, b, bound);
  return checked_folded_compare(a, b, bound, __builtin_return_address(0));
}

std::size_t strspn(const char* text, const char* accept) {
  if (auto c = unchecked(c_library.strspn)) return c(text, accept);
  return checked_span(text, accept, true, __builtin_return_address(0));
}

std::size_t strcspn(const char* text, const char* reject) {
  if (auto c = unchecked(c_library.strcspn)) return c(text, reject);
  return checked_span(text, reject, false, __builtin_return_address(0));
}

// NOLINTBEGIN(readability-non-const-parameter): the C library's signatures
char* strpbrk(const char* text, const char* accept) {  // reads what strcspn does
  const auto c = unchecked(c_library.strcspn);
  const std::size_t n = c != nullptr ? c(text, accept) : checked_span(text, accept, false, __builtin_return_address(0));
  return text[n] == 0 ? nullptr : const_cast<char*>(text + n);
}

char* strchr(const char* text, int character) {
  if (auto c = unchecked(c_library.strchr)) return c(text, character);
  const std::size_t n = length(text);
  void* found = const_cast<void*>(find_byte(text, character, n + 1));  // the terminator is part of the string
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
// NOLINTEND(bugprone-reserved-identifier,readability-identifier-naming)
