// QueueClosed, QueueStatus and QueueResult: how Queue and SharedQueue (interleave/queue.h) report
// an operation that did not hand over an item. Included by queue.h; the contract is there.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace interleave {

// Thrown by put() on a closed queue (including a put that was blocked when close() came).
class QueueClosed : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// The outcome of an operation that may decline instead of blocking or throwing.
enum class QueueStatus : std::uint8_t {
  ok,         // the item was put (and moved from) / got
  full,       // try_put: the bounded queue is at capacity; the value was not moved from
  empty,      // try_get: nothing is queued right now (the queue is open; more may come)
  timed_out,  // try_put_for / get_for: the deadline passed first; a put's value was not moved from
  closed,     // putting: the queue is closed (value not moved from); getting: closed and drained
};

[[nodiscard]] constexpr const char* to_string(QueueStatus status) noexcept {
  switch (status) {
    case QueueStatus::ok:
      return "ok";
    case QueueStatus::full:
      return "full";
    case QueueStatus::empty:
      return "empty";
    case QueueStatus::timed_out:
      return "timed_out";
    case QueueStatus::closed:
      return "closed";
  }
  return "unknown";
}

inline std::ostream& operator<<(std::ostream& out, QueueStatus status) { return out << to_string(status); }

// What try_get() / get_for() return: a status and, when it is ok, the item.
//
//   if (auto r = q.try_get()) use(*r);            // got one
//   else if (r.closed()) return;                  // closed and drained: nothing will ever come
//   else ...                                      // empty / timed_out: nothing yet, try later
template <class T>
class [[nodiscard]] QueueResult {
 public:
  // A result without an item; `status` is not ok.
  explicit QueueResult(QueueStatus status) noexcept : status_(status) {}
  // A result carrying an item (status ok).
  explicit QueueResult(std::optional<T>&& value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : status_(value ? QueueStatus::ok : QueueStatus::empty), value_(std::move(value)) {}

  [[nodiscard]] QueueStatus status() const noexcept { return status_; }
  [[nodiscard]] bool ok() const noexcept { return status_ == QueueStatus::ok; }
  explicit operator bool() const noexcept { return ok(); }
  // True only when the queue is closed AND drained: no item will ever come again.
  [[nodiscard]] bool closed() const noexcept { return status_ == QueueStatus::closed; }

  // The item; throws std::logic_error naming the status when there is none.
  [[nodiscard]] T& value() & { return checked(); }
  [[nodiscard]] const T& value() const& { return checked(); }
  [[nodiscard]] T&& value() && { return std::move(checked()); }
  // Unchecked access: requires ok().
  [[nodiscard]] T& operator*() & noexcept { return *value_; }
  [[nodiscard]] const T& operator*() const& noexcept { return *value_; }
  [[nodiscard]] T&& operator*() && noexcept { return std::move(*value_); }
  [[nodiscard]] T* operator->() noexcept { return &*value_; }
  [[nodiscard]] const T* operator->() const noexcept { return &*value_; }
  // The item as an optional (empty unless ok()), e.g. to hand on as get() would return it.
  [[nodiscard]] std::optional<T>&& optional() && noexcept { return std::move(value_); }

 private:
  T& checked() {
    require_value();
    return *value_;
  }
  const T& checked() const {
    require_value();
    return *value_;
  }
  void require_value() const {
    if (!value_) {
      throw std::logic_error(std::string("QueueResult::value: no item (status ") + to_string(status_) + ")");
    }
  }

  QueueStatus status_;
  std::optional<T> value_;
};

}  // namespace interleave
