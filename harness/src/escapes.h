// Calls that escape the model (exit, fork, real threads), caught inside an exploration: see
// escapes.cpp.
#pragma once

namespace interleave::detail {

// Referenced by explore_function so that the linker always takes escapes.cpp from the static
// library (its definitions are otherwise reached only through libc's names).
void link_escape_checks() noexcept;

// Writes `headline`, then the running schedule's " while running schedule <token> ...
// reproduce: ..." lines, to standard error (async-signal-safe writes; no schedule: the headline).
void write_schedule_report(const char* headline) noexcept;

}  // namespace interleave::detail
