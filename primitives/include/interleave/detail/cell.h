// detail::PlainCell<T>: the non-atomic storage cell of every platform but the model.
//
// A primitive keeps the data its threads hand to each other through atomics (a ring slot's item,
// the state a lock guards, a thread's captured exception) in `typename P::template Cell<T>`.
// Under ModelPlatform that is a cell whose every access the race detector checks; here it is a
// plain T: same size and layout, every accessor an inline pass-through, so it costs nothing on
// real threads (and ThreadSanitizer sees its accesses as the plain accesses they are).
//
// Access (the same on every platform):
//   read()            a copy of the value (a read)
//   write(v)          assigns (a write)
//   with(f)           f(const T&): a scoped read, for values not worth copying
//   with_mut(f)       f(T&): a scoped mutable access, checked as a write
// Each takes the caller's source location as a defaulted last argument, for the model's reports.
#pragma once

#include <type_traits>
#include <utility>

#include "interleave/source_location.h"

namespace interleave::detail {

template <class T>
class PlainCell {
 public:
  PlainCell() = default;
  PlainCell(T value, interleave::source_location = interleave::source_location::current())  // NOLINT
      : value_(std::move(value)) {}
  PlainCell(const PlainCell&) = delete;
  PlainCell& operator=(const PlainCell&) = delete;
  ~PlainCell() = default;

  [[nodiscard]] T read(interleave::source_location = interleave::source_location::current()) const { return value_; }
  void write(T value, interleave::source_location = interleave::source_location::current()) {
    value_ = std::move(value);
  }
  template <class F>
  decltype(auto) with(F&& f, interleave::source_location = interleave::source_location::current()) const {
    return std::forward<F>(f)(static_cast<const T&>(value_));
  }
  template <class F>
  decltype(auto) with_mut(F&& f, interleave::source_location = interleave::source_location::current()) {
    return std::forward<F>(f)(value_);
  }

 private:
  T value_{};
};

static_assert(sizeof(PlainCell<int>) == sizeof(int) && std::is_standard_layout_v<PlainCell<int>>);

}  // namespace interleave::detail
