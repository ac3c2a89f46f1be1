// PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): each fiber gets a random
// priority when it is created, the highest-priority runnable fiber runs, and at depth-1 steps drawn
// from [1, k] (k: ScheduleId::pct_step_estimate) the running fiber drops below every other.
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
    priorities_.clear();
    change_points_.clear();
    const std::uint64_t k = std::max<std::uint64_t>(id.pct_step_estimate, 1);
    for (int i = 1; i < id.pct_depth; ++i) change_points_.push_back(1 + rng.below(k));
  }

  void on_spawn(std::uint32_t fiber, Xoshiro256& rng) override {
    if (priorities_.size() <= fiber) priorities_.resize(fiber + 1, 0);
    // Initial priorities are above every change-point priority (0 .. depth-2).
    priorities_[fiber] = static_cast<std::uint64_t>(depth_) + (rng.next() >> 2);
  }

  std::uint32_t pick(const PickContext& ctx, Xoshiro256& /*rng*/) override {
    for (std::size_t j = 0; j < change_points_.size(); ++j) {
      if (change_points_[j] == ctx.step && ctx.current_runnable && ctx.current < priorities_.size()) {
        priorities_[ctx.current] = static_cast<std::uint64_t>(change_points_.size() - 1 - j);
      }
    }
    std::uint32_t best = ctx.runnable.front();
    for (std::uint32_t f : ctx.runnable) {
      if (priorities_[f] > priorities_[best]) best = f;
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
  int depth_ = 3;
  std::vector<std::uint64_t> priorities_;     // per fiber
  std::vector<std::uint64_t> change_points_;  // steps at which the running fiber drops
};

}  // namespace

std::unique_ptr<SchedulingStrategy> make_pct() { return std::make_unique<Pct>(); }

}  // namespace interleave::detail::model
