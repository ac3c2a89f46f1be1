// DPOR with sleep sets (dpor.h): the search over executions, one node per scheduling point.
#include "model/strategies/dpor.h"

#include <absl/strings/str_cat.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/strategies/registry.h"

namespace interleave::detail::model {
namespace {

bool contains(const std::vector<std::uint32_t>& set, std::uint32_t fiber) {
  return std::find(set.begin(), set.end(), fiber) != set.end();
}

void add(std::vector<std::uint32_t>& set, std::uint32_t fiber) {
  if (!contains(set, fiber)) set.push_back(fiber);
}

template <class Entries>
const PendingOp* find_entry(const Entries& entries, std::uint32_t fiber) {
  for (const auto& e : entries) {
    if (e.first == fiber) return &e.second;
  }
  return nullptr;
}

void join_clock(std::vector<std::uint32_t>& into, const std::vector<std::uint32_t>& other) {
  if (into.size() < other.size()) into.resize(other.size(), 0);
  for (std::size_t i = 0; i < other.size(); ++i) into[i] = std::max(into[i], other[i]);
}

}  // namespace

void Dpor::begin(const ScheduleId& id, Xoshiro256& /*rng*/) {
  if (id.index == 0) {
    nodes_.clear();
    identity_cells_.clear();
    replay_ = 0;
  }
  depth_ = 0;
  identities_.clear();
  events_.clear();
  fiber_clock_.clear();
  by_object_.clear();
  sleep_.clear();
  running_ = UINT32_MAX;
  yielder_ = UINT32_MAX;
  redundant_ = false;
  divergence_.clear();
  spin_.clear();
  run_fiber_ = UINT32_MAX;
  run_length_ = 0;
}

void Dpor::on_spawn(std::uint32_t fiber, Xoshiro256& /*rng*/) {
  // The new fiber's first operation happens after everything its parent did before the spawn.
  std::vector<std::uint32_t> inherited;
  if (running_ < fiber_clock_.size()) inherited = fiber_clock_[running_];
  if (fiber_clock_.size() <= fiber) fiber_clock_.resize(fiber + 1);
  fiber_clock_[fiber] = std::move(inherited);
}

void Dpor::on_join(std::uint32_t fiber, std::uint32_t target) {
  if (fiber_clock_.size() <= std::max(fiber, target)) fiber_clock_.resize(std::max(fiber, target) + 1);
  const std::vector<std::uint32_t> finished = fiber_clock_[target];
  join_clock(fiber_clock_[fiber], finished);
}

std::uint32_t Dpor::fallback(const PickContext& ctx) {
  return ctx.current_runnable ? ctx.current : ctx.runnable.front();
}

std::uint32_t Dpor::diverged(const PickContext& ctx, std::string what) {
  divergence_ = std::move(what);
  return fallback(ctx);
}

bool Dpor::happens_before(const Event& e, const std::vector<std::uint32_t>& clock) noexcept {
  return e.fiber < clock.size() && e.clock[e.fiber] <= clock[e.fiber];
}

void Dpor::add_backtracks(std::uint32_t p, const PendingOp& op, const std::vector<std::uint32_t>& clock) {
  const auto it = by_object_.find(op.object);
  if (it == by_object_.end()) return;
  const std::vector<std::size_t>& on_object = it->second;
  const std::vector<std::uint32_t> none;
  const std::vector<std::uint32_t>& mine = p < fiber_clock_.size() ? fiber_clock_[p] : none;
  for (std::size_t a = 0; a < on_object.size(); ++a) {
    const Event& e = events_[on_object[a]];
    if (e.fiber == p || !conflicts(e.op, op) || happens_before(e, mine)) continue;
    // A race only if nothing between orders the two: e happens before no later conflicting event.
    bool immediate = true;
    for (std::size_t b = a + 1; b < on_object.size() && immediate; ++b) {
      const Event& later = events_[on_object[b]];
      immediate = !(conflicts(later.op, op) && happens_before(e, later.clock));
    }
    if (immediate) reverse(on_object[a], p, clock);
  }
}

void Dpor::reverse(std::size_t race, std::uint32_t p, const std::vector<std::uint32_t>& clock) {
  const Event& e = events_[race];
  Node& n = nodes_[e.node];
  // v: the events after e that do not happen after it, then p's. Its initials (the fibers whose
  // first event in v has no predecessor in v) are the fibers that can start a reversed execution.
  std::vector<std::uint32_t> first;  // per fiber: the position (its clock entry) of its first event in v
  std::vector<std::uint32_t> initials;
  const auto consider = [&first, &initials](std::uint32_t fiber, std::uint32_t position,
                                            const std::vector<std::uint32_t>& at) {
    if (first.size() <= fiber) first.resize(fiber + 1, 0);
    if (first[fiber] != 0) return;  // not its first event in v
    bool initial = true;
    for (std::size_t q = 0; q < first.size() && initial; ++q) {
      initial = first[q] == 0 || q >= at.size() || first[q] > at[q];
    }
    first[fiber] = position;
    if (initial) initials.push_back(fiber);
  };
  for (std::size_t i = race + 1; i < events_.size(); ++i) {
    const Event& f = events_[i];
    if (!happens_before(e, f.clock)) consider(f.fiber, f.clock[f.fiber], f.clock);
  }
  consider(p, p < clock.size() ? clock[p] + 1 : 1, clock);
  // Nothing to add when a fiber that starts it is tried here already, or asleep here (an
  // execution that starts with it is covered by a branch explored before).
  for (std::uint32_t q : initials) {
    if (contains(n.backtrack, q) || find_entry(n.sleep, q) != nullptr) return;
  }
  const auto enabled = [&n](std::uint32_t q) { return find_entry(n.enabled, q) != nullptr; };
  if (std::find(initials.begin(), initials.end(), p) != initials.end() && enabled(p)) {
    n.backtrack.push_back(p);
    return;
  }
  for (std::uint32_t q : initials) {
    if (enabled(q)) {
      n.backtrack.push_back(q);
      return;
    }
  }
  // None could run there (an ordering the clocks do not see, such as a timed wait's timeout):
  // every fiber is tried.
  for (const Entry& entry : n.enabled) add(n.backtrack, entry.first);
}

void Dpor::record_event(std::uint32_t fiber, const PendingOp& op, std::size_t node, bool analyse) {
  running_ = fiber;
  if (fiber_clock_.size() <= fiber) fiber_clock_.resize(fiber + 1);
  std::vector<std::uint32_t> clock = fiber_clock_[fiber];
  if (op.object != nullptr) {
    std::vector<std::size_t>& on_object = by_object_[op.object];
    for (std::size_t i : on_object) {
      if (conflicts(events_[i].op, op)) join_clock(clock, events_[i].clock);
    }
    if (analyse) add_backtracks(fiber, op, clock);
    on_object.push_back(events_.size());
  }
  if (clock.size() <= fiber) clock.resize(fiber + 1, 0);
  ++clock[fiber];
  fiber_clock_[fiber] = clock;
  events_.push_back(Event{fiber, op, node, std::move(clock)});
}

std::uint32_t Dpor::pick(const PickContext& ctx, Xoshiro256& /*rng*/) {
  const std::uint32_t yielder = std::exchange(yielder_, UINT32_MAX);
  if (!spin_.empty()) {  // the search is over: let the others run, so that the execution ends
    for (std::uint32_t f : ctx.runnable) {
      if (f != ctx.current) return f;
    }
    return ctx.current;
  }
  if (redundant_ || !divergence_.empty()) return fallback(ctx);
  // The objects as this search names them (the same in every execution that re-takes a prefix).
  if (pending_.size() < ctx.pending.size()) pending_.resize(ctx.pending.size());
  for (std::uint32_t f : ctx.runnable) {
    pending_[f] = ctx.pending[f];
    pending_[f].object = identity(ctx.pending[f].object);
  }
  const std::size_t k = depth_++;
  std::uint32_t chosen = UINT32_MAX;
  if (k < replay_) {
    const Node& n = nodes_[k];
    if (n.value) {
      return diverged(ctx, absl::StrCat("at decision ", k,
                                        " the execution before picked which waiter a wake takes; "
                                        "this one picked a fiber to run"));
    }
    chosen = n.chosen;
    if (std::find(ctx.runnable.begin(), ctx.runnable.end(), chosen) == ctx.runnable.end()) {
      return diverged(ctx, absl::StrCat("at decision ", k, " the execution before ran fiber ", chosen,
                                        ", which this time could not run"));
    }
    // The same operation (its kind: addresses may differ between executions).
    const PendingOp* before = find_entry(n.enabled, chosen);
    const PendingOp& now = pending_[chosen];
    if (before != nullptr && (before->what != now.what || before->access != now.access)) {
      return diverged(ctx, absl::StrCat("at decision ", k, " fiber ", chosen, " ran ", before->what,
                                        " in the execution before, and ", now.what, " in this one"));
    }
  } else {
    Node n;
    for (std::uint32_t f : ctx.runnable) {
      // A fiber that yields lets the others go first: a spin waits for another fiber's step.
      if (f != yielder || ctx.runnable.size() == 1) n.enabled.emplace_back(f, pending_[f]);
    }
    n.sleep = sleep_;
    // The running fiber goes on if it may (the fewest switches), else the next one after it.
    const auto rank = [&ctx](std::uint32_t f) {
      return f == ctx.current ? 0U : (f > ctx.current ? f - ctx.current : f + (UINT32_MAX - ctx.current));
    };
    for (const Entry& e : n.enabled) {
      if (find_entry(n.sleep, e.first) != nullptr) continue;
      if (chosen == UINT32_MAX || rank(e.first) < rank(chosen)) chosen = e.first;
    }
    if (chosen == UINT32_MAX) {  // every fiber that may run is asleep: equivalent to a branch explored
      redundant_ = true;
      return fallback(ctx);
    }
    n.chosen = chosen;
    n.backtrack.push_back(chosen);
    n.done.push_back(chosen);
    nodes_.push_back(std::move(n));
  }
  const Node& n = nodes_[k];
  const PendingOp& op = pending_[chosen];
  // The sleep set after this step: what was asleep here, and the fibers already tried here, as
  // long as their operation is independent of the one that runs.
  std::vector<Entry> next;
  for (const Entry& e : n.sleep) {
    if (e.first != chosen && !conflicts(e.second, op)) next.push_back(e);
  }
  for (std::uint32_t d : n.done) {
    const PendingOp* d_op = find_entry(n.enabled, d);
    if (d == chosen || d_op == nullptr || conflicts(*d_op, op) || find_entry(next, d) != nullptr) continue;
    next.emplace_back(d, *d_op);
  }
  sleep_ = std::move(next);
  // The events before the branch point are those of the execution before: their races were
  // analysed then.
  record_event(chosen, op, k, k + 1 >= replay_);
  note_run(ctx, chosen);
  return chosen;
}

const void* Dpor::identity(const void* object) {
  if (object == nullptr) return nullptr;
  const auto [it, added] = identities_.try_emplace(object, identities_.size());
  if (added && identity_cells_.size() <= it->second) identity_cells_.emplace_back();
  return &identity_cells_[it->second];
}

void Dpor::note_run(const PickContext& ctx, std::uint32_t chosen) {
  if (ctx.runnable.size() < 2) {
    run_length_ = 0;
    return;
  }
  run_length_ = chosen == run_fiber_ ? run_length_ + 1 : 1;
  run_fiber_ = chosen;
  if (run_length_ > kSpinRun) {
    spin_ = absl::StrCat("fiber ", chosen, " ran ", kSpinRun,
                         " scheduling points in a row while other fibers could run, without yielding");
  }
}

std::uint32_t Dpor::pick_value(std::uint32_t positions, Xoshiro256& /*rng*/) {
  if (redundant_ || !divergence_.empty()) return 0;
  const std::size_t k = depth_++;
  if (k < replay_) {
    const Node& n = nodes_[k];
    if (!n.value || n.positions != positions) {
      divergence_ = absl::StrCat("at decision ", k, " the execution before ",
                                 n.value ? absl::StrCat("chose among ", n.positions, " waiters")
                                         : absl::StrCat("picked fiber ", n.chosen, " to run"),
                                 "; this one chose among ", positions, " waiters");
      return 0;
    }
    return n.chosen;
  }
  Node n;
  n.value = true;
  n.positions = positions;
  nodes_.push_back(std::move(n));
  return 0;
}

void Dpor::end_execution() {
  if (divergence_.empty() && depth_ < replay_) {
    divergence_ =
        absl::StrCat("the execution before took ", replay_, " decisions or more; this one ended after ", depth_);
  }
}

bool Dpor::plan_next() {
  if (nodes_.size() > depth_) nodes_.resize(depth_);
  while (!nodes_.empty()) {
    Node& n = nodes_.back();
    if (n.value) {
      if (n.chosen + 1 < n.positions) {
        ++n.chosen;
        replay_ = nodes_.size();
        return true;
      }
    } else {
      for (std::uint32_t b : n.backtrack) {
        if (contains(n.done, b) || find_entry(n.sleep, b) != nullptr || find_entry(n.enabled, b) == nullptr) continue;
        n.done.push_back(b);
        n.chosen = b;
        replay_ = nodes_.size();
        return true;
      }
    }
    nodes_.pop_back();
  }
  replay_ = 0;
  return false;
}

std::unique_ptr<SchedulingStrategy> make_dpor() { return std::make_unique<Dpor>(); }

}  // namespace interleave::detail::model
