// Calls that escape the model (exit, fork, real threads), caught inside an exploration: see
// escapes.cpp.
#pragma once

namespace interleave::detail {

// Referenced by explore_function so that the linker always takes escapes.cpp from the static
// library (its definitions are otherwise reached only through libc's names).
void link_escape_checks() noexcept;

// Writes the running schedule's " while running schedule <token> ... reproduce: ..." lines to
// standard error, from any context (async-signal-safe); nothing when none is running.
void write_schedule_reproduce_line() noexcept;

}  // namespace interleave::detail
