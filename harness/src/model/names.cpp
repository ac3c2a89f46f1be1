#include "model/names.h"

#include <absl/strings/str_cat.h>

namespace interleave::detail::model {
namespace {

std::string printable(std::string_view name) {
  std::string out(name.substr(0, kMaxNameLength));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace

void Names::name_fiber(std::uint32_t fiber, std::string_view name) {
  if (fibers_.size() <= fiber) fibers_.resize(fiber + 1);
  fibers_[fiber] = printable(name);
}

void Names::name_object(const void* object, std::size_t size, std::string_view name) {
  if (object == nullptr) return;
  const auto begin = reinterpret_cast<std::uintptr_t>(object);
  const std::uintptr_t end = begin + (size == 0 ? 1 : size);
  for (Range& r : objects_) {
    if (r.begin == begin && r.end == end) {
      r.name = printable(name);
      return;
    }
  }
  objects_.push_back(Range{begin, end, printable(name)});
}

std::string_view Names::fiber(std::uint32_t fiber) const noexcept {
  return fiber < fibers_.size() ? std::string_view(fibers_[fiber]) : std::string_view();
}

const Names::Range* Names::innermost(const void* object) const noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(object);
  const Range* best = nullptr;
  for (const Range& r : objects_) {
    if (address < r.begin || address >= r.end) continue;
    if (best == nullptr || r.end - r.begin <= best->end - best->begin) best = &r;
  }
  return best;
}

std::string Names::holder(const void* address) const {
  const Range* best = innermost(address);
  return best == nullptr ? std::string() : best->name;
}

std::string Names::object(const void* object) const {
  const auto address = reinterpret_cast<std::uintptr_t>(object);
  const Range* best = innermost(object);
  if (best == nullptr) return {};
  if (address == best->begin) return best->name;
  return absl::StrCat(best->name, "+", address - best->begin);
}

std::string Names::fiber_label(std::uint32_t fiber) const {
  const std::string_view name = this->fiber(fiber);
  return name.empty() ? absl::StrCat("fiber ", fiber) : absl::StrCat("fiber ", fiber, " (", std::string(name), ")");
}

std::string Names::object_suffix(const void* object) const {
  if (objects_.empty() || object == nullptr) return {};
  const std::string name = this->object(object);
  return name.empty() ? std::string() : absl::StrCat(" \"", name, "\"");
}

std::string Names::fiber_legend() const {
  std::string out;
  for (std::uint32_t i = 0; i < fibers_.size(); ++i) {
    if (fibers_[i].empty()) continue;
    absl::StrAppend(&out, out.empty() ? "\n    (" : ", ", "fiber ", i, " is ", fibers_[i]);
  }
  if (!out.empty()) out += ")";
  return out;
}

}  // namespace interleave::detail::model
