// Names a test gives its threads and objects (interleave/names.h), kept by the runtime for one
// schedule and used wherever a report, deadlock list or trace would say "fiber 2" or "object #3".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace interleave::detail::model {

class Names {
 public:
  void clear() noexcept {
    fibers_.clear();
    objects_.clear();
  }
  void name_fiber(std::uint32_t fiber, std::string_view name);
  // Names every address in [object, object + size): a primitive's own atomics and cells then
  // carry the name of the object that holds them.
  void name_object(const void* object, std::size_t size, std::string_view name);

  // "" when unnamed.
  [[nodiscard]] std::string_view fiber(std::uint32_t fiber) const noexcept;
  // The name of the innermost named range holding `object`, with the offset when `object` is not
  // its start ("queue+16"); "" when none holds it.
  [[nodiscard]] std::string object(const void* object) const;
  // The name of the innermost named range holding `address`, without an offset; "" when none.
  [[nodiscard]] std::string holder(const void* address) const;
  // "fiber 2" or "fiber 2 (producer)".
  [[nodiscard]] std::string fiber_label(std::uint32_t fiber) const;
  // ' "queue"' for a named object, "" otherwise: appended after "object #3".
  [[nodiscard]] std::string object_suffix(const void* object) const;
  // "\n    (fiber 1 is producer, fiber 2 is consumer)" for the named fibers; "" when none is.
  [[nodiscard]] std::string fiber_legend() const;
  [[nodiscard]] bool empty() const noexcept { return fibers_.empty() && objects_.empty(); }

 private:
  struct Range {
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
    std::string name;
  };
  [[nodiscard]] const Range* innermost(const void* object) const noexcept;

  std::vector<std::string> fibers_;  // by fiber number; "" for unnamed
  std::vector<Range> objects_;       // in naming order; a later name of the same range wins
};

// Names are kept only for display: a name longer than this is cut, and control characters become
// '?', so that a report stays one line per step whatever a test passes in.
inline constexpr std::size_t kMaxNameLength = 48;

}  // namespace interleave::detail::model
