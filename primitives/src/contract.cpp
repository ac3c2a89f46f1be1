#include "interleave/contract.h"

#include <cstdio>
#include <cstdlib>

namespace interleave {

void report_contract_violation(std::string_view message, interleave::source_location where) noexcept {
  std::fprintf(stderr, "interleave: contract violation: %.*s (at %s:%u in %s)\n", static_cast<int>(message.size()),
               message.data(), where.file_name(), static_cast<unsigned>(where.line()), where.function_name());
  std::fflush(stderr);
  std::abort();
}

}  // namespace interleave
