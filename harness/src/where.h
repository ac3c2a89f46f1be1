// Internal to the harness library: a call site as reports print it.
#pragma once

#include <absl/strings/str_cat.h>

#include <string>

#include "interleave/source_location.h"

namespace interleave::detail {

// "file:line", or empty for an unknown site (line 0).
inline std::string location_text(const interleave::source_location& where) {
  if (where.line() == 0) return {};
  return absl::StrCat(where.file_name(), ":", where.line());
}

}  // namespace interleave::detail
