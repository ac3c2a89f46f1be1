// ScheduleId: names one schedule exactly, and encodes to a printable token (INTERLEAVE_REPLAY).
//
// A schedule is determined by the strategy and its parameters, the exploration seed, the
// schedule's index, and the settings that change decisions (spurious wake-up rate, step bound).
// Running the same test body with the same ScheduleId makes the same decisions in the same order.
//
// Token form (one word, shell-safe, fields in this order):
//   random.s=<seed hex>.i=<index>.w=<spurious per-mille>.m=<max steps>.t=<fingerprint>
//   pos.s=<seed hex>.i=<index>.w=<spurious per-mille>.m=<max steps>.t=<fingerprint>
//   pct.d=<depth>.c=<choice points>.s=<seed hex>.i=<index>.w=<spurious per-mille>.m=<max steps>.t=<fingerprint>
//   surw.e=<estimates>.s=<seed hex>.i=<index>.w=<spurious per-mille>.m=<max steps>.t=<fingerprint>
//   choices.c=<list>.m=<max steps>.t=<fingerprint>
// with, under the weak memory model, one more field before '.t=': 'v=weak-<store history>-<spurious
// compare-exchange per-mille>'. A token without it runs sequentially consistently (the sc model),
// as every token printed before the weak model existed did, so those still replay exactly.
// A choices schedule (what shrinking produces) lists the decisions where it departs from the
// undisturbed schedule — each fiber runs on until it blocks or ends, then the next runnable fiber
// after it (round-robin by number) runs; no spurious wake-ups; a wake takes the longest waiter —
// as <fiber>_<decision>:<value> entries joined by commas, sorted by fiber then decision ('-' for
// none; every load reads the latest store; no compare_exchange_weak fails spuriously). <decision> counts the decisions
// taken while that fiber was running (one at each of its scheduling points, one per futex wait for a spurious wake-up,
// one per wake of several waiters, one per weak-model load that could read more than one store, one per
// compare_exchange_weak that would succeed), so an entry keeps its place when others are removed. <value> is a
// position: for a pick, among [the running fiber if it can go on, then the other runnable fibers round-robin after it];
// for a spurious wake-up, 1; for a wake, in waiting order; for a load, how many stores older than the latest one it may
// read (1: the one before it); for a compare_exchange_weak, 1: it fails spuriously. Positions wrap around while
// shrinking tries schedules; a replayed token must name positions that exist (see below).
//
// <fingerprint> is <steps>-<fibers>-<hash> (TestFingerprint): the test the token was recorded
// from, as its first scheduling points show. A token is a schedule of one test: replaying it in
// another test (or in this one after it changed) would silently run some other schedule and
// pass, so a replay whose first <steps> points do not match, or that leaves a listed choice
// unused or names a position that does not exist, is an error naming both tests (explore.h).
// Tokens printed before the fingerprint existed (no '.t=' field) are refused with that reason.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "interleave/options.h"

namespace interleave {

// One listed decision of a choices schedule.
struct Choice {
  std::uint32_t fiber = 0;
  std::uint64_t decision = 0;
  std::uint32_t value = 1;  // >= 1
  friend bool operator==(const Choice&, const Choice&) = default;
  friend auto operator<=>(const Choice& a, const Choice& b) noexcept {
    return a.fiber != b.fiber ? a.fiber <=> b.fiber : a.decision <=> b.decision;
  }
};

// What a token records of the test it came from: its first scheduling points (up to kSteps), each
// as the fiber that ran it, what it was ("atomic load", "spawn", "futex wait", ...) and the
// primitive operation in progress ("Mutex::lock"). Only names and fiber numbers go in, never
// addresses or source lines, and bookkeeping adds no scheduling points: the same test gives the
// same fingerprint in debug and release builds, with or without sanitizers, on every run.
struct TestFingerprint {
  static constexpr std::uint32_t kSteps = 32;
  std::uint32_t steps = 0;   // points covered: min(kSteps, points the recorded run made); 0: none recorded
  std::uint32_t fibers = 0;  // fibers that ran in them (the highest fiber number + 1), 1..steps
  std::uint32_t hash = 0;    // FNV-1a of each point's fiber, what and operation, folded to 32 bits

  [[nodiscard]] bool recorded() const noexcept { return steps != 0; }
  // "<steps>-<fibers>-<8 hex digits>", or "-" when none is recorded.
  [[nodiscard]] std::string text() const;
  friend bool operator==(const TestFingerprint&, const TestFingerprint&) = default;
};

struct ScheduleId {
  Strategy strategy = Strategy::random_walk;
  int pct_depth = 3;  // pct only: 1..64
  // pct only, >= 1: the number of choice points (picks among two or more runnable fibers) that the
  // change points are drawn from: the most an earlier schedule of the exploration made.
  std::uint64_t pct_choice_points = 0;
  // surw only: per fiber (by number), the choice points at which it was picked, the most an earlier
  // schedule of the exploration gave it; token field 'e=' lists them joined by '_' ('-': none, as
  // for the first schedule). A fiber past the end of the list is estimated at 1.
  std::vector<std::uint64_t> surw_estimates;
  std::uint64_t seed = 0;
  std::uint64_t index = 0;
  int spurious_wakeup_permille = 0;  // 0..1000
  std::uint64_t max_steps = 1;       // >= 1
  // The memory model (options.h). A default ScheduleId, and a token without the 'v=' field, is sc.
  MemoryModel memory_model = MemoryModel::sc;
  int store_history = 7;          // weak only: 1..64
  int spurious_cas_permille = 0;  // weak only: 0..1000
  // choices only: sorted by (fiber, decision), no two with the same (fiber, decision).
  std::vector<Choice> choices;
  // The test the schedule was recorded from (the harness fills it in after running the schedule).
  TestFingerprint test;

  // The token; its fingerprint field is "t=-" when `test` is not recorded (such a token is refused).
  [[nodiscard]] std::string token() const;
  // Parses a token. Throws std::invalid_argument naming what is wrong (quoting at most 80 bytes of
  // the token, escaped) and the accepted form.
  static ScheduleId parse(std::string_view token);

  friend bool operator==(const ScheduleId&, const ScheduleId&) = default;
};

}  // namespace interleave
