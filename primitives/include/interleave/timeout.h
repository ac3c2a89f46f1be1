// Shared handling of relative timeouts for the *_for operations.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

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

}  // namespace interleave::detail
