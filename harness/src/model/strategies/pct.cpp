// PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): each fiber gets a random
// priority when it is created, the highest-priority runnable fiber runs, and at depth-1 change
// points drawn from [1, k] the fiber about to run drops below every other.
//
// The change points count choice points: scheduling points where more than one fiber can run (a
// step with one runnable fiber has nothing to change), and k (ScheduleId::pct_choice_points) is the
// most choice points an earlier schedule of the same exploration made. PCT's guarantee, probability
// at least 1/(n k^(d-1)) of hitting a given depth-d bug, shrinks with k, and a count of every step
// (most of them with one fiber runnable, or inside a primitive's uncontended path) made it useless.
// The drop happens at the pick itself, whichever fiber was running before it: a change point is
// never lost to a step where the running fiber blocked or finished.
//
// Fairness: PCT starves every fiber but the highest-priority one, which is what makes it find
// ordering bugs, but a spin loop that does not yield (a compare_exchange loop over a plain
// std::atomic) then spins forever once the fiber it waits for has dropped below it, and the step
// bound reports a livelock that no fair scheduler would show. A fiber picked at kSpinRun choice
// points in a row, while others could run, is treated as spinning: it drops below every other, as
// a yielding fiber does. A real livelock (every fiber spinning) still reaches the step bound.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "model/strategies/registry.h"

namespace interleave::detail::model {
namespace {

class Pct final : public SchedulingStrategy {
 public:
  void begin(const ScheduleId& id, Xoshiro256& rng) override {
    depth_ = id.pct_depth;
    last_ = UINT32_MAX;
    run_ = 0;
    priorities_.clear();
    change_points_.clear();
    const std::uint64_t k = std::max<std::uint64_t>(id.pct_choice_points, 1);
    for (int i = 1; i < id.pct_depth; ++i) change_points_.push_back(1 + rng.below(k));
  }

  void on_spawn(std::uint32_t fiber, Xoshiro256& rng) override {
    if (priorities_.size() <= fiber) priorities_.resize(fiber + 1, 0);
    // Initial priorities are above every change-point priority (0 .. depth-2).
    priorities_[fiber] = static_cast<std::uint64_t>(depth_) + (rng.next() >> 2);
  }

  std::uint32_t pick(const PickContext& ctx, Xoshiro256& /*rng*/) override {
    std::uint32_t best = highest(ctx.runnable);
    for (std::size_t j = 0; j < change_points_.size(); ++j) {
      if (change_points_[j] != ctx.choice) continue;
      // The j-th change point: the fiber that would run now drops to priority d-2-j, below every
      // initial priority and below the change points after it.
      priorities_[best] = static_cast<std::uint64_t>(change_points_.size() - 1 - j);
      best = highest(ctx.runnable);
    }
    if (best != last_) {
      last_ = best;
      run_ = 0;
    }
    if (++run_ >= kSpinRun) {
      on_yield(best);
      best = highest(ctx.runnable);
      last_ = best;
      run_ = 1;
    }
    return best;
  }

  [[nodiscard]] bool wants_yields() const noexcept override { return true; }

  void on_yield(std::uint32_t fiber) override {
    // A yielding or spinning fiber waits for someone else: let every other fiber go first
    // (otherwise a high-priority spin loop starves the fiber it waits for until the step bound).
    // It goes strictly below every other fiber (a tie at priority 0 would let it starve the fiber
    // it waits for).
    if (fiber >= priorities_.size()) return;
    std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
    for (std::size_t i = 0; i < priorities_.size(); ++i) {
      if (i != fiber) lowest = std::min(lowest, priorities_[i]);
    }
    if (lowest == std::numeric_limits<std::uint64_t>::max()) return;
    if (lowest == 0) {
      for (std::size_t i = 0; i < priorities_.size(); ++i) {
        if (i != fiber) ++priorities_[i];
      }
      lowest = 1;
    }
    priorities_[fiber] = lowest - 1;
  }

 private:
  [[nodiscard]] std::uint32_t highest(const std::vector<std::uint32_t>& runnable) const {
    std::uint32_t best = runnable.front();
    for (std::uint32_t f : runnable) {
      if (priorities_[f] > priorities_[best]) best = f;
    }
    return best;
  }

  int depth_ = 3;
  std::uint32_t last_ = UINT32_MAX;           // the fiber the last pick chose
  std::uint64_t run_ = 0;                     // choice points in a row it was chosen at
  std::vector<std::uint64_t> priorities_;     // per fiber
  std::vector<std::uint64_t> change_points_;  // choice points at which the fiber to run drops
};

}  // namespace

std::unique_ptr<SchedulingStrategy> make_pct() { return std::make_unique<Pct>(); }

}  // namespace interleave::detail::model
