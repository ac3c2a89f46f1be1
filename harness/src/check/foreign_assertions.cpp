// The registry of foreign-assertion describers (explore.h): how a fiber or a stress body ended by
// another library's assertion (one that throws something other than a std::exception) is named.
#include <array>
#include <atomic>
#include <exception>
#include <optional>
#include <string>

#include "interleave/explore.h"

namespace interleave::detail {
namespace {

constexpr std::size_t kMaxDescribers = 8;
std::array<std::atomic<ForeignAssertionDescriber>, kMaxDescribers> g_describers{};

}  // namespace

bool add_foreign_assertion_describer(ForeignAssertionDescriber describer) noexcept {
  if (describer == nullptr) return false;
  for (auto& slot : g_describers) {
    ForeignAssertionDescriber expected = nullptr;
    if (slot.load(std::memory_order_acquire) == describer) return true;
    if (slot.compare_exchange_strong(expected, describer, std::memory_order_acq_rel)) return true;
    if (expected == describer) return true;
  }
  return false;  // full: such exceptions stay "of unknown type"
}

std::optional<std::string> describe_foreign_assertion(const std::exception_ptr& exception) noexcept {
  if (!exception) return std::nullopt;
  for (const auto& slot : g_describers) {
    const ForeignAssertionDescriber describer = slot.load(std::memory_order_acquire);
    if (describer == nullptr) break;
    try {
      if (std::optional<std::string> text = describer(exception)) return text;
    } catch (...) {
      // A describer that fails (out of memory) describes nothing; the next one may.
    }
  }
  return std::nullopt;
}

}  // namespace interleave::detail
