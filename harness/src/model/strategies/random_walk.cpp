// Random walk: every scheduling point picks uniformly among the runnable fibers.
#include <cstdint>
#include <memory>

#include "model/strategies/registry.h"

namespace interleave::detail::model {
namespace {

class RandomWalk final : public SchedulingStrategy {
 public:
  void begin(const ScheduleId& /*id*/, Xoshiro256& /*rng*/) override {}
  std::uint32_t pick(const PickContext& ctx, Xoshiro256& rng) override {
    return ctx.runnable[rng.below(ctx.runnable.size())];
  }
};

}  // namespace

std::unique_ptr<SchedulingStrategy> make_random_walk() { return std::make_unique<RandomWalk>(); }

}  // namespace interleave::detail::model
