#include "interleave/shared_memory.h"

#include <sys/mman.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

namespace interleave {

SharedRegion::SharedRegion(std::size_t bytes) {
  if (bytes == 0) throw std::invalid_argument("SharedRegion: size must be >= 1 byte, got 0");
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    throw std::system_error(errno, std::generic_category(),
                            "SharedRegion: mmap of " + std::to_string(bytes) + " shared bytes failed");
  }
  data_ = p;
  size_ = bytes;
}

SharedRegion& SharedRegion::operator=(SharedRegion&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SharedRegion::~SharedRegion() {
  if (data_ != nullptr) munmap(data_, size_);
}

}  // namespace interleave
