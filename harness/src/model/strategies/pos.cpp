// POS, partial order sampling (Yuan, Yang and Gu, CAV 2018): every pending operation carries a
// random priority and the runnable fiber whose operation has the highest priority runs. After an
// operation runs, every other pending operation that conflicts with it (the same object, one of
// them a write) draws a new priority, and the fiber that ran draws one for its next operation.
//
// Why it finds bugs faster than a random walk: a random walk samples interleavings, and most of
// them differ only in the order of independent operations; POS's priorities order only what
// conflicts, so each partial order (what a bug depends on) gets a fairer share of the samples.
// Re-drawing a conflicting operation's priority is what lets a fiber be overtaken right before a
// racing access, the preemption that deep bugs need.
#include <cstdint>
#include <memory>
#include <vector>

#include "model/strategies/registry.h"

namespace interleave::detail::model {
namespace {

class Pos final : public SchedulingStrategy {
 public:
  void begin(const ScheduleId& /*id*/, Xoshiro256& /*rng*/) override {
    priorities_.clear();
    ran_ = UINT32_MAX;
    yielder_ = UINT32_MAX;
  }

  void on_spawn(std::uint32_t fiber, Xoshiro256& rng) override {
    if (priorities_.size() <= fiber) priorities_.resize(fiber + 1, 0);
    priorities_[fiber] = rng.next();
  }

  [[nodiscard]] bool wants_yields() const noexcept override { return true; }
  void on_yield(std::uint32_t fiber) override { yielder_ = fiber; }

  std::uint32_t pick(const PickContext& ctx, Xoshiro256& rng) override {
    // The fiber chosen at the last pick has run the operation it had pending then (`ran_op_`) and
    // now waits with a new one: a new event, a new priority. Operations racing with the one that
    // ran are re-drawn too.
    if (ran_ != UINT32_MAX) {
      for (std::uint32_t f : ctx.runnable) {
        if (f != ran_ && conflicts(ran_op_, ctx.pending[f])) priorities_[f] = rng.next();
      }
    }
    // A fiber that yields (a spin loop's iteration) waits for another fiber: its next operation
    // draws from the bottom of the range, below every other fiber's but for a chance of 2^-32, so
    // a spinning fiber cannot keep the fiber it waits for from running; two spinning fibers still
    // go in random order.
    if (ctx.current < priorities_.size())
      priorities_[ctx.current] = yielder_ == ctx.current ? rng.next() >> 32 : rng.next();
    yielder_ = UINT32_MAX;
    std::uint32_t best = ctx.runnable.front();
    for (std::uint32_t f : ctx.runnable) {
      if (priorities_[f] > priorities_[best]) best = f;
    }
    ran_ = best;
    ran_op_ = ctx.pending[best];
    return best;
  }

 private:
  std::vector<std::uint64_t> priorities_;  // per fiber: its pending operation's priority
  std::uint32_t ran_ = UINT32_MAX;         // the fiber the last pick chose
  PendingOp ran_op_;                       // the operation it was about to run
  std::uint32_t yielder_ = UINT32_MAX;     // the fiber that yielded at the coming pick
};

}  // namespace

std::unique_ptr<SchedulingStrategy> make_pos() { return std::make_unique<Pos>(); }

}  // namespace interleave::detail::model
