// SharedRegion: memory shared between a process and the children it fork()s.
//
// Purpose   Home for process-shared primitives (ProcessMutex, SharedQueue, Pipe ends used by
//           a Process). The region is an anonymous MAP_SHARED mapping: a child created by fork()
//           after the region sees it at the same address, so pointers into it stay valid.
// Guarantees
//   - Nothing is left behind: the mapping has no name in the file system, so it disappears when
//     the last process that maps it exits or unmaps it, even after crashes.
//   - The memory starts zeroed and is page aligned.
// Requires  Only fork()ed children share it (no exec). The owner (the parent) destroys it after
//           the children it shares with have exited; children end with _exit (Process does).
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace interleave {

class SharedRegion {
 public:
  // Maps `bytes` (> 0) bytes of zeroed shared memory. Throws std::invalid_argument for 0 and
  // std::system_error when the kernel refuses the mapping.
  explicit SharedRegion(std::size_t bytes);
  SharedRegion(SharedRegion&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  SharedRegion& operator=(SharedRegion&& other) noexcept;
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;
  ~SharedRegion();

  [[nodiscard]] void* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

// One object of type T constructed inside its own SharedRegion. Destroying the SharedObject
// (in the process that made it) runs ~T once and unmaps the region.
template <class T>
class SharedObject {
 public:
  template <class... Args>
  explicit SharedObject(Args&&... args) : region_(sizeof(T)) {
    object_ = ::new (region_.data()) T(std::forward<Args>(args)...);
  }
  SharedObject(SharedObject&& other) noexcept
      : region_(std::move(other.region_)), object_(std::exchange(other.object_, nullptr)) {}
  SharedObject& operator=(SharedObject&&) = delete;
  SharedObject(const SharedObject&) = delete;
  SharedObject& operator=(const SharedObject&) = delete;
  ~SharedObject() {
    if (object_ != nullptr) object_->~T();
  }

  [[nodiscard]] T* get() const noexcept { return object_; }
  T& operator*() const noexcept { return *object_; }
  T* operator->() const noexcept { return object_; }

 private:
  SharedRegion region_;
  T* object_ = nullptr;
};

}  // namespace interleave
