// Internal to the harness library: the scheduling decisions of one schedule, by strategy.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "interleave/detail/random.h"
#include "interleave/options.h"
#include "interleave/schedule.h"
#include "model/strategy.h"

namespace interleave::detail::model {

// Every decision of a schedule: which runnable fiber runs next, whether a futex wait returns
// spuriously, which waiter a wake picks. The exploration strategies draw them from one
// deterministic generator seeded by (seed, index), the fiber picks through the schedule's
// SchedulingStrategy (strategy.h); a choices schedule (what shrinking produces) takes them from
// its list, and the undisturbed choice where the list says nothing (see schedule.h).
//
// Tracking (a choices schedule, or recording): each fiber counts the decisions taken while it runs
// — one at each of its scheduling points, even with a single runnable fiber — so a decision is
// named by (fiber, count), which does not move when other decisions change. Recording stores each
// decision that departs from the undisturbed one, as a choices schedule would list it.
class Chooser {
 public:
  void begin(const ScheduleId& id);
  void on_spawn(std::uint32_t fiber);
  // What `fiber` will do when it next runs (called at each of its scheduling points, before the
  // pick): what strategies see of the runnable fibers.
  void note_pending(std::uint32_t fiber, const PendingOp& op) noexcept {
    if (fiber < pending_.size()) [[likely]]
      pending_[fiber] = op;
  }
  [[nodiscard]] bool tracking() const noexcept { return id_.strategy == Strategy::choices || record_ != nullptr; }
  std::uint32_t pick_fiber(const std::vector<std::uint32_t>& runnable, std::uint32_t current, bool current_runnable,
                           std::uint64_t step) {
    if (!tracking()) return pick_fiber_by_strategy(runnable, current, current_runnable, step);
    return pick_fiber_tracked(runnable, current, current_runnable, step);
  }
  // Whether the strategy wants to hear of yields (deprioritize): PCT lets the others go first.
  [[nodiscard]] bool prioritizing() const noexcept { return strategy_ != nullptr && strategy_->wants_yields(); }
  void deprioritize(std::uint32_t fiber);
  // Whether even a pick with one runnable fiber goes through the chooser (the strategy records
  // every step).
  [[nodiscard]] bool every_pick() const noexcept { return every_pick_; }
  // `fiber` returned from joining `target` (for strategies that track happens-before).
  void on_join(std::uint32_t fiber, std::uint32_t target) {
    if (strategy_ != nullptr) strategy_->on_join(fiber, target);
  }
  // The schedule's strategy (nullptr for a choices schedule): the exploration loop of a strategy
  // that plans each execution from the ones before it (DPOR) reads it between runs.
  [[nodiscard]] SchedulingStrategy* strategy() const noexcept { return strategy_; }
  bool spurious_wakeup(std::uint32_t current);
  std::size_t pick_waiter(const std::vector<std::uint32_t>& waiters, std::uint32_t current);
  // Weak memory model: which of `positions` (>= 2) stores a load reads, as how many stores older
  // than the newest one it may read (0: that newest one, the undisturbed choice).
  std::uint32_t pick_store(std::uint32_t positions, std::uint32_t current);
  // Weak memory model: whether a compare_exchange_weak that would succeed fails spuriously.
  bool spurious_cas_failure(std::uint32_t current);
  // Records the departures from the undisturbed schedule into `out` (nullptr: stop recording).
  void record_into(std::vector<Choice>* out) noexcept { record_ = out; }

  // A choices schedule's fit to the run (a replayed token is checked against it): the first
  // listed choice whose value names a position the decision does not have, and the first listed
  // choice the run never reached.
  struct Misfit {
    Choice choice;
    std::uint32_t positions = 0;  // the decision had positions 0..positions-1
    const char* decision = "";    // "a pick among the runnable fibers", ...
  };
  [[nodiscard]] const std::optional<Misfit>& misfit() const noexcept { return misfit_; }
  [[nodiscard]] std::optional<Choice> unreached_choice() const;
  // The picks of the run so far where more than one fiber could run, made by an exploration
  // strategy (not counted for a choices schedule): what PCT's change points are drawn over.
  [[nodiscard]] std::uint64_t choice_points() const noexcept { return choice_points_; }
  // Per fiber (by number), the choice points at which it was picked: what SURW estimates from.
  [[nodiscard]] const std::vector<std::uint64_t>& fiber_choice_points() const noexcept { return fiber_choice_points_; }
  // Tracking: the decisions `fiber` took in the run.
  [[nodiscard]] std::uint64_t decisions_of(std::uint32_t fiber) const noexcept {
    return fiber < decisions_.size() ? decisions_[fiber] : 0;
  }

 private:
  std::uint64_t below(std::uint64_t n) noexcept { return rng_.below(n); }
  std::uint32_t pick_fiber_by_strategy(const std::vector<std::uint32_t>& runnable, std::uint32_t current,
                                       bool current_runnable, std::uint64_t step) {
    if (runnable.size() == 1) {
      if (every_pick_) [[unlikely]]
        return strategy_->pick(PickContext{runnable, current, current_runnable, step, choice_points_, pending_}, rng_);
      return runnable.front();
    }
    ++choice_points_;
    const std::uint32_t picked =
        strategy_->pick(PickContext{runnable, current, current_runnable, step, choice_points_, pending_}, rng_);
    ++fiber_choice_points_[picked];
    return picked;
  }
  std::uint32_t pick_fiber_tracked(const std::vector<std::uint32_t>& runnable, std::uint32_t current,
                                   bool current_runnable, std::uint64_t step);
  // Tracking: counts the decision of `fiber`; under choices, returns its listed value (0: none).
  std::uint32_t decide(std::uint32_t fiber);
  // Choices: notes a listed value that names no position of the decision being taken.
  void check_fit(std::uint32_t listed, std::uint32_t positions, const char* decision);
  void record(std::uint32_t value);

  ScheduleId id_;
  Xoshiro256 rng_;
  SchedulingStrategy* strategy_ = nullptr;  // the schedule's; nullptr for choices
  bool every_pick_ = false;                 // strategy_->wants_every_pick()
  // One instance per strategy, made on first use and kept across schedules (no allocation per
  // schedule).
  std::vector<std::unique_ptr<SchedulingStrategy>> instances_;
  std::uint64_t choice_points_ = 0;
  std::vector<std::uint64_t> fiber_choice_points_;  // per fiber
  std::vector<PendingOp> pending_;                  // per fiber
  std::vector<std::uint64_t> decisions_;            // tracking: decisions counted per fiber
  std::vector<std::uint32_t> order_;                // tracking: the positions of a pick
  Choice last_{};                                   // tracking: the decision being taken
  std::vector<Choice>* record_ = nullptr;
  std::vector<bool> reached_;  // choices: per listed choice, whether the run took that decision
  std::optional<Misfit> misfit_;
};

}  // namespace interleave::detail::model
