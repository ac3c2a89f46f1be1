// Shared handling of timeouts: relative ones of the *_for operations, absolute ones of *_until.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace interleave::detail {

// A negative timeout is a caller bug: it is rejected with std::invalid_argument naming the
// operation. Zero is accepted and means "do not block" (one attempt), as in the standard library.
// Very large timeouts saturate instead of overflowing the clock.
template <class TimePoint, class Rep, class Period>
TimePoint deadline_after(TimePoint now, std::chrono::duration<Rep, Period> timeout, const char* operation) {
  if (timeout < std::chrono::duration<Rep, Period>::zero()) {
    throw std::invalid_argument(std::string(operation) +
                                ": timeout must be >= 0 (0 means try once without blocking), got a negative duration");
  }
  using Duration = typename TimePoint::duration;
  const auto room = TimePoint::max() - now;
  if (std::chrono::duration_cast<std::chrono::duration<long double, std::nano>>(timeout) >=
      std::chrono::duration_cast<std::chrono::duration<long double, std::nano>>(room)) {
    return TimePoint::max();
  }
  return now + std::chrono::ceil<Duration>(timeout);
}

// An absolute deadline on any clock as a time point of the platform's clock `P`: the same instant
// when the clocks are the same, else the same distance from now (a deadline in the past stays in
// the past). Saturates instead of overflowing.
template <class TimePoint, class Clock, class Duration>
TimePoint deadline_at(TimePoint now, std::chrono::time_point<Clock, Duration> deadline) {
  if constexpr (std::is_same_v<std::chrono::time_point<Clock, Duration>, TimePoint>) {
    return deadline;
  } else if constexpr (std::is_same_v<Clock, typename TimePoint::clock>) {
    return std::chrono::time_point_cast<typename TimePoint::duration>(deadline);
  } else {
    const auto left = deadline - Clock::now();
    if (left <= decltype(left)::zero()) return now;
    return deadline_after(now, left, "deadline_at");
  }
}

}  // namespace interleave::detail
