// Internal to the harness library: the reproduce line of a schedule that dies of a fatal signal
// (a segfault, a stack overflow, an abort). Before each schedule runs, its exploring thread arms
// the message; the handler, on the thread that faulted, prints the signal, the fiber and step,
// and the armed lines, then dies of the same signal.
#pragma once

#include <cstddef>
#include <string>

#include "interleave/schedule.h"
#include "model/runtime.h"

namespace interleave::detail {

// Installs the handler (once per process) and the calling thread's alternate signal stack (once
// per thread). Every thread that runs schedules calls it first.
void install_fatal_signal_reporter();

// Arms the calling thread's message for schedule `id` (its fingerprint, when not yet recorded, is
// taken from the points run so far), reproduced by `command`. Returns id.token(), formatted once.
std::string arm_signal_message(const ScheduleId& id, const std::string& command, const std::string& configuration,
                               const model::Heartbeat& heartbeat);
void disarm_signal_message();

// Writes `headline`, then the running schedule's " while running schedule <token> ...
// reproduce: ..." lines, to standard error (async-signal-safe writes; no schedule: the headline).
void write_schedule_report(const char* headline) noexcept;

// Whether the calling thread is running an armed schedule (async-signal-safe).
bool schedule_report_armed() noexcept;

// write(2) to standard error, all of it (async-signal-safe).
void write_stderr(const char* data, std::size_t length) noexcept;

}  // namespace interleave::detail
