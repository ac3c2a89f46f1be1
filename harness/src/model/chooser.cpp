// The scheduling decisions of one schedule: by the schedule's strategy (strategies/), or from a
// list of choices (a shrunk schedule's replay), and their recording.
#include "model/chooser.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "model/strategies/registry.h"

namespace interleave::detail::model {

void Chooser::begin(const ScheduleId& id) {
  id_ = id;
  decisions_.clear();
  choice_points_ = 0;
  fiber_choice_points_.clear();
  misfit_.reset();
  reached_.assign(id.strategy == Strategy::choices ? id.choices.size() : 0, false);
  pending_.clear();
  std::uint64_t s = id.seed;
  rng_.seed(Xoshiro256::splitmix(s) ^ id.index);
  strategy_ = nullptr;
  every_pick_ = false;
  const StrategyEntry& entry = strategy_entry(id.strategy);
  if (entry.make == nullptr) return;
  const auto slot = static_cast<std::size_t>(id.strategy);
  if (instances_.size() <= slot) instances_.resize(slot + 1);
  if (instances_[slot] == nullptr) instances_[slot] = entry.make();
  strategy_ = instances_[slot].get();
  strategy_->begin(id_, rng_);  // id_: a strategy may keep a reference to it for the run
  every_pick_ = strategy_->wants_every_pick();
}

std::uint32_t Chooser::decide(std::uint32_t fiber) {
  if (decisions_.size() <= fiber) decisions_.resize(fiber + 1, 0);
  last_.fiber = fiber;
  last_.decision = decisions_[fiber]++;
  if (id_.strategy != Strategy::choices) return 0;
  const auto& list = id_.choices;
  const auto it = std::lower_bound(list.begin(), list.end(), last_);
  if (it == list.end() || it->fiber != last_.fiber || it->decision != last_.decision) return 0;
  reached_[static_cast<std::size_t>(it - list.begin())] = true;
  return it->value;
}

void Chooser::check_fit(std::uint32_t listed, std::uint32_t positions, const char* decision) {
  if (listed < positions || misfit_) return;
  Choice c = last_;
  c.value = listed;
  misfit_ = Misfit{c, positions, decision};
}

std::optional<Choice> Chooser::unreached_choice() const {
  for (std::size_t i = 0; i < reached_.size(); ++i) {
    if (!reached_[i]) return id_.choices[i];
  }
  return std::nullopt;
}

void Chooser::record(std::uint32_t value) {
  if (record_ == nullptr || value == 0) return;
  Choice c = last_;
  c.value = value;
  record_->push_back(c);
}

void Chooser::on_spawn(std::uint32_t fiber) {
  if (pending_.size() <= fiber) pending_.resize(fiber + 1);
  pending_[fiber] = PendingOp{};
  if (fiber_choice_points_.size() <= fiber) fiber_choice_points_.resize(fiber + 1, 0);
  if (strategy_ != nullptr) strategy_->on_spawn(fiber, rng_);
}

std::uint32_t Chooser::pick_fiber_tracked(const std::vector<std::uint32_t>& runnable, std::uint32_t current,
                                          bool current_runnable, std::uint64_t step) {
  // Positions: the running fiber first when it can go on, then the other runnable fibers in
  // round-robin order after it. Position 0 is the undisturbed choice; a listed value is a position,
  // so it keeps its meaning (the next other fiber) when which fibers are runnable changes.
  order_.clear();
  if (current_runnable) order_.push_back(current);
  for (std::uint32_t f : runnable) {
    if (f != current) order_.push_back(f);
  }
  const auto rank = [current](std::uint32_t f) { return f > current ? f - current : f + (UINT32_MAX - current); };
  std::sort(order_.begin() + (current_runnable ? 1 : 0), order_.end(),
            [&](std::uint32_t a, std::uint32_t b) { return rank(a) < rank(b); });
  // A fiber that blocked can be runnable again already (its deadline passed while every other
  // fiber was blocked): it comes last.
  if (!current_runnable && std::find(runnable.begin(), runnable.end(), current) != runnable.end()) {
    order_.push_back(current);
  }
  const std::uint32_t listed = decide(current);
  if (listed != 0) check_fit(listed, static_cast<std::uint32_t>(order_.size()), "a pick among the runnable fibers");
  std::uint32_t chosen = order_[listed % order_.size()];
  if (id_.strategy != Strategy::choices) chosen = pick_fiber_by_strategy(runnable, current, current_runnable, step);
  record(static_cast<std::uint32_t>(std::find(order_.begin(), order_.end(), chosen) - order_.begin()));
  return chosen;
}

void Chooser::deprioritize(std::uint32_t fiber) {
  if (strategy_ != nullptr) strategy_->on_yield(fiber);
}

bool Chooser::spurious_wakeup(std::uint32_t current) {
  const std::uint32_t listed = tracking() ? decide(current) : 0;
  bool spurious = false;
  if (id_.strategy == Strategy::choices) {
    spurious = listed != 0;
    if (listed != 0) check_fit(listed, 2, "whether a futex wait wakes spuriously (1: it does)");
  } else if (id_.spurious_wakeup_permille > 0) {
    spurious = below(1000) < static_cast<std::uint64_t>(id_.spurious_wakeup_permille);
  }
  if (record_ != nullptr) record(spurious ? 1 : 0);
  return spurious;
}

std::size_t Chooser::pick_waiter(const std::vector<std::uint32_t>& waiters, std::uint32_t current) {
  // A position in waiting order: 0, the longest waiter, is the undisturbed choice.
  const std::uint32_t listed = tracking() ? decide(current) : 0;
  if (listed != 0) check_fit(listed, static_cast<std::uint32_t>(waiters.size()), "which waiter a wake picks");
  std::size_t k = 0;
  if (id_.strategy == Strategy::choices) {
    k = listed % waiters.size();
  } else if (waiters.size() > 1) {
    k = strategy_->pick_value(static_cast<std::uint32_t>(waiters.size()), rng_);
  }
  record(static_cast<std::uint32_t>(k));
  return k;
}

std::uint32_t Chooser::pick_store(std::uint32_t positions, std::uint32_t current) {
  const std::uint32_t listed = tracking() ? decide(current) : 0;
  if (listed != 0) check_fit(listed, positions, "which store a load reads (0: the newest it may read)");
  std::uint32_t k = 0;
  if (id_.strategy == Strategy::choices) {
    k = listed % positions;
  } else if (below(2) != 0) {
    // Half the loads read the newest store they may, the others one of the older ones, uniformly:
    // spin loops still see progress, and every stale value has a fair chance.
    k = 1 + static_cast<std::uint32_t>(below(positions - 1));
  }
  record(k);
  return k;
}

bool Chooser::spurious_cas_failure(std::uint32_t current) {
  const std::uint32_t listed = tracking() ? decide(current) : 0;
  bool spurious = false;
  if (id_.strategy == Strategy::choices) {
    spurious = listed != 0;
    if (listed != 0) check_fit(listed, 2, "whether a compare_exchange_weak fails spuriously (1: it does)");
  } else if (id_.spurious_cas_permille > 0) {
    spurious = below(1000) < static_cast<std::uint64_t>(id_.spurious_cas_permille);
  }
  record(spurious ? 1 : 0);
  return spurious;
}

}  // namespace interleave::detail::model
