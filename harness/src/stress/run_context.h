// Internal to the harness library: the state of one stress() run shared by its parts
// (stress.cpp: the run and PerturbedProcess; perturbation.cpp: per-thread perturbation and the
// ThreadSanitizer report hook).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

#include "interleave/stress.h"

namespace interleave::detail::perturb {

// One stress() call. Body threads touch only `options` (read-only), their thread-local state and,
// after a failure, `mutex`/`failure`; so the run itself gives the body no happens-before edge
// before something has already failed.
struct RunContext {
  Options options;
  std::uint64_t iteration = 0;
  std::uint64_t iteration_seed = 0;

  std::mutex mutex;  // guards failure
  std::optional<StressFailure> failure;
  std::atomic<bool> failed{false};

  // Written by the TSan report hook (uninstrumented), read after the iteration's threads joined.
  volatile std::uint32_t tsan_reports = 0;

  // Live children of this iteration, for the watchdog to kill. Relaxed atomics: TSan derives no
  // happens-before edge from them.
  static constexpr int kChildren = 64;
  std::atomic<pid_t> children[kChildren] = {};

  // The TSan hook's text, formatted before the iteration's threads start: head, thread name, tail.
  char hook_head[512] = {};
  std::size_t hook_head_length = 0;
  char hook_tail[1536] = {};
  std::size_t hook_tail_length = 0;
};

// Thrown through a failing thread (and out of the body) once its failure is recorded.
struct StressAborted {};

// For the TSan hook, when the racing thread was not started through the platform.
extern RunContext* g_run;

inline constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

void copy_name(char (&to)[kNameSize], std::string_view from) noexcept;

void record(RunContext& run, StressFailure failure);

// A child's failure message, in its mailbox (a SharedRegion of the parent's PerturbedProcess).
struct Mailbox {
  std::uint32_t length;
  char text[4096 - sizeof(std::uint32_t)];
};
static_assert(sizeof(Mailbox) == 4096);

void post(void* mailbox, std::string_view text) noexcept;

}  // namespace interleave::detail::perturb
