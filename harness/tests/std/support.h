// What the tests of unmodified std:: code under the model (label std) share.
#pragma once

#include <cstdint>

#include "interleave/explore.h"

namespace std_tests {

// Options for `schedules` schedules under `model` (the default: the C++ memory model).
inline interleave::Options options(std::uint64_t schedules,
                                   interleave::MemoryModel model = interleave::MemoryModel::weak) {
  interleave::Options o;
  o.schedules = schedules;
  o.memory_model = model;
  return o;
}

}  // namespace std_tests
