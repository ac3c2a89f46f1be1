// Internal to the harness library: DPOR, the bounded-exhaustive strategy (Strategy::dpor).
//
// Dynamic partial-order reduction with source sets and sleep sets (Abdulla, Aronis, Jonsson and
// Sagonas, POPL 2014; sleep sets: Godefroid, 1996), stateless: every execution runs the body from
// scratch, re-taking the decisions of a prefix of the execution before it and then branching. Two
// executions that differ only in the order of independent operations (different objects, or two
// reads of one) are equivalent: they reach the same states. The search explores one execution of
// every equivalence class (Mazurkiewicz trace) of the body's visible operations, and the sleep
// sets keep it from finishing two of the same class: an execution that could only go on
// equivalently to one already explored is cut short (it still runs to its end, so nothing is torn
// down mid-way, but it counts as redundant).
//
// How it works: each scheduling point of an execution is a node on the current path, with the
// fibers that could run there and their pending operations. Vector clocks order the operations
// (program order, spawn, join, and conflicting operations on one object). When an operation runs,
// each earlier conflicting operation of another fiber that is ordered before it by nothing but
// their conflict is a race: an execution where the two run the other way round must be explored.
// Such an execution starts, at the node where the earlier one ran, with one of the initials of
// the operations between them that do not depend on the earlier one (followed by the later
// operation): a fiber whose first of those operations depends on none of the others. Unless the
// node already tries one of them, or has one asleep, one is added to the fibers it must try.
// After an execution, the deepest node with a fiber left to try (not done, not in the node's
// sleep set) is the next branch. A wake with several waiters is a value node: every waiter is
// tried. Fibers that yield (spin loops) let the others run first, so a spin does not unroll
// without bound; a fiber that runs kSpinRun points in a row while others could (a spin that
// never yields) ends the search with spin() set.
//
// What a complete search covers: every interleaving of the scheduling points, up to equivalence,
// under the sequentially consistent model, with no spurious wake-ups and timed waits timing out
// only when every fiber waits (the model's virtual time). Plain memory is not a scheduling point:
// a data race between plain accesses is found by the race detector in an execution where both
// accesses happen unordered, which the search reaches when the race is reachable at all.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/strategy.h"

namespace interleave::detail::model {

class Dpor final : public SchedulingStrategy {
 public:
  // Index 0 starts a new search; index i > 0 runs the execution the last plan_next() chose.
  void begin(const ScheduleId& id, Xoshiro256& rng) override;
  void on_spawn(std::uint32_t fiber, Xoshiro256& rng) override;
  std::uint32_t pick(const PickContext& ctx, Xoshiro256& rng) override;
  [[nodiscard]] bool wants_yields() const noexcept override { return true; }
  void on_yield(std::uint32_t fiber) override { yielder_ = fiber; }
  [[nodiscard]] bool wants_every_pick() const noexcept override { return true; }
  std::uint32_t pick_value(std::uint32_t positions, Xoshiro256& rng) override;
  void on_join(std::uint32_t fiber, std::uint32_t target) override;

  // After an execution: notes an execution that ended before the decision it was to branch at
  // (the body does not run the same way every time).
  void end_execution();
  // After an execution: chooses the next one. False when none is left: the search is complete.
  bool plan_next();
  // Whether the execution just run was cut short by its sleep set (equivalent to one explored).
  [[nodiscard]] bool redundant() const noexcept { return redundant_; }
  // Non-empty when the execution did not re-take its prefix's decisions: the body does not run the
  // same way every time (what differed).
  [[nodiscard]] const std::string& divergence() const noexcept { return divergence_; }
  // Non-empty when a fiber ran kSpinRun scheduling points in a row while others could run
  // (what happened): a spin loop that does not yield, which the search would unroll without end,
  // or a body too long to search. The search cannot go on; the execution was let finish.
  [[nodiscard]] const std::string& spin() const noexcept { return spin_; }

 private:
  using Entry = std::pair<std::uint32_t, PendingOp>;  // a fiber and its pending operation
  struct Node {
    bool value = false;                    // a value choice (which waiter a wake takes), not a pick
    std::uint32_t positions = 0;           // value: how many
    std::uint32_t chosen = 0;              // pick: the fiber; value: the position
    std::vector<Entry> enabled;            // pick: the fibers that may run here, with their pending operations
    std::vector<Entry> sleep;              // pick: fibers whose operation here is covered by another branch
    std::vector<std::uint32_t> backtrack;  // pick: fibers to try here
    std::vector<std::uint32_t> done;       // pick: fibers tried (or being tried) here
  };
  struct Event {
    std::uint32_t fiber;
    PendingOp op;
    std::size_t node;
    std::vector<std::uint32_t> clock;  // vector clock: events of each fiber that happen before, itself included
  };

  static bool happens_before(const Event& e, const std::vector<std::uint32_t>& clock) noexcept;
  // The race analysis for fiber `p` about to run `op` with vector clock `clock`: for each earlier
  // operation in a race with it, makes sure the node where that one ran tries a reversal.
  void add_backtracks(std::uint32_t p, const PendingOp& op, const std::vector<std::uint32_t>& clock);
  // Adds to the node of event `race` a fiber that starts an execution where p's operation comes first.
  void reverse(std::size_t race, std::uint32_t p, const std::vector<std::uint32_t>& clock);
  // Records that `fiber` runs `op`, chosen at node `node`; `analyse`: look for its races.
  void record_event(std::uint32_t fiber, const PendingOp& op, std::size_t node, bool analyse);
  // The search's name for `object`: the address of the cell numbered by the order in which the
  // execution first met it. Addresses may differ from one execution to the next (a heap or a
  // sanitizer's stack may place the body's objects elsewhere); that order does not, for the
  // prefix an execution re-takes, so nodes recorded by one execution compare with the next.
  const void* identity(const void* object);
  // Counts how long the fiber chosen has run while others could.
  void note_run(const PickContext& ctx, std::uint32_t chosen);
  std::uint32_t diverged(const PickContext& ctx, std::string what);
  static std::uint32_t fallback(const PickContext& ctx);

  // The search: the current path (persists across executions).
  std::vector<Node> nodes_;
  std::size_t replay_ = 0;  // nodes_[0, replay_) are re-taken by the next execution

  std::deque<char> identity_cells_;  // never shrinks: nodes point into it

  // The execution running.
  std::size_t depth_ = 0;                                    // nodes reached
  std::unordered_map<const void*, std::size_t> identities_;  // object -> its cell
  std::vector<PendingOp> pending_;  // per fiber: its pending operation, with the object's identity
  std::vector<Event> events_;
  std::vector<std::vector<std::uint32_t>> fiber_clock_;                  // per fiber: the clock of its last event
  std::unordered_map<const void*, std::vector<std::size_t>> by_object_;  // events per object
  std::vector<Entry> sleep_;                                             // the sleep set on arrival at the next node
  std::uint32_t running_ = UINT32_MAX;                                   // the fiber whose event runs now
  std::uint32_t yielder_ = UINT32_MAX;                                   // the fiber that yielded at the coming pick
  bool redundant_ = false;
  std::string divergence_;
  std::string spin_;
  std::uint32_t run_fiber_ = UINT32_MAX;  // the fiber chosen at the last picks with others runnable
  std::uint32_t run_length_ = 0;          // at how many picks in a row
};

}  // namespace interleave::detail::model
