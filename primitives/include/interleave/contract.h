// Reporting misuse of a primitive (a broken precondition that cannot be an exception, such as
// unlocking a mutex one does not own from a destructor).
#pragma once

#include <string_view>

#include "interleave/source_location.h"

namespace interleave {

// Prints "interleave: contract violation: <message> (at file:line in function)" to stderr and
// aborts. Never returns.
[[noreturn]] void report_contract_violation(std::string_view message, interleave::source_location where) noexcept;

}  // namespace interleave
