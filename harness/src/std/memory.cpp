// The heap of the test program inside an exploration: free() is a write of the block's bytes that
// were accessed (so a use by another thread not ordered before the free is reported, as is a use
// after it), and an allocation forgets what was recorded of its bytes (a block given out again
// starts clean: the allocator's own locking is not modelled, so it gives no happens-before edge).
// operator new and delete reach malloc and free through the C++ library. The C library's
// allocator is called by its own exported names, so that no dlsym (which allocates) is needed.
#include <malloc.h>

#include <cstddef>
#include <cstdint>

#include "std/std_runtime.h"

// NOLINTBEGIN(bugprone-reserved-identifier,readability-identifier-naming)
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* block, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* block);
}
// NOLINTEND(bugprone-reserved-identifier,readability-identifier-naming)

namespace interleave::detail::std_runtime {
namespace {

void* allocated(void* block, std::size_t size) noexcept {
  if (block != nullptr && modelled()) {
    const HookScope hook;
    model::memory_allocated(block, size);
  }
  return block;
}

void freeing(void* block, const void* pc) {
  if (block == nullptr || !modelled()) return;
  const HookScope hook;
  check_free(block, ::malloc_usable_size(block), pc);
}

}  // namespace
}  // namespace interleave::detail::std_runtime

namespace rt = interleave::detail::std_runtime;

extern "C" {

void* malloc(std::size_t size) { return rt::allocated(__libc_malloc(size), size); }

void* calloc(std::size_t count, std::size_t size) { return rt::allocated(__libc_calloc(count, size), count * size); }

void* realloc(void* block, std::size_t size) {
  if (block != nullptr) rt::freeing(block, __builtin_return_address(0));
  return rt::allocated(__libc_realloc(block, size), size);
}

void free(void* block) {
  rt::freeing(block, __builtin_return_address(0));
  __libc_free(block);
}

void* memalign(std::size_t alignment, std::size_t size) {
  return rt::allocated(__libc_memalign(alignment, size), size);
}

void* aligned_alloc(std::size_t alignment, std::size_t size) {
  return rt::allocated(__libc_memalign(alignment, size), size);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return 22;  // EINVAL
  void* block = __libc_memalign(alignment, size);
  if (block == nullptr) return 12;  // ENOMEM
  *out = rt::allocated(block, size);
  return 0;
}

}  // extern "C"
