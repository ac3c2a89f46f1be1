// Calls that escape the model (exit, fork, real threads), caught inside an exploration: see
// escapes.cpp.
#pragma once

namespace interleave::detail {

// Referenced by explore_function so that the linker always takes escapes.cpp from the static
// library (its definitions are otherwise reached only through libc's names).
void link_escape_checks() noexcept;

}  // namespace interleave::detail
