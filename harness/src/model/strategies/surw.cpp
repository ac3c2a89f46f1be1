// SURW, selectively uniform random walk (after Zhao, Wolff, Mathur and Roychoudhury, "Selectively
// Uniform Concurrency Testing", ASPLOS 2025).
//
// A random walk that picks uniformly among the runnable fibers does not sample interleavings
// uniformly: of two fibers with 1 and 20 steps, it runs the short one within the first few steps in
// almost every schedule, so the interleavings where it runs late are almost never made. Picking
// each fiber with probability proportional to the steps it has left makes every interleaving of
// the fibers' steps equally likely (the number of interleavings that start with a step of fiber f
// is the multinomial count of the rest, proportional to f's steps left).
//
// The steps left are not known in advance: they are estimated from the schedules before this one.
// A fiber's estimate (ScheduleId::surw_estimates, by fiber number) is the most choice points it was
// picked at in an earlier schedule of the exploration; its weight at a pick is that estimate less
// the choice points it has been picked at so far in this schedule, and at least 1 (a fiber that
// has outrun its estimate, or has none, stays possible: every interleaving keeps a chance). The
// first schedule has no estimates and is a plain random walk. Steps with one runnable fiber are no
// choice and are not counted, as for PCT.
//
// The estimates travel in the token (surw.e=...), so a schedule replays from its token alone.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/strategies/registry.h"

namespace interleave::detail::model {
namespace {

class Surw final : public SchedulingStrategy {
 public:
  void begin(const ScheduleId& id, Xoshiro256& /*rng*/) override {
    estimates_ = &id.surw_estimates;
    picked_.clear();
  }

  void on_spawn(std::uint32_t fiber, Xoshiro256& /*rng*/) override {
    if (picked_.size() <= fiber) picked_.resize(fiber + 1, 0);
  }

  std::uint32_t pick(const PickContext& ctx, Xoshiro256& rng) override {
    std::uint64_t total = 0;
    for (std::uint32_t f : ctx.runnable) total += weight(f);
    std::uint64_t draw = rng.below(total);
    std::uint32_t chosen = ctx.runnable.back();
    for (std::uint32_t f : ctx.runnable) {
      const std::uint64_t w = weight(f);
      if (draw < w) {
        chosen = f;
        break;
      }
      draw -= w;
    }
    ++picked_[chosen];
    return chosen;
  }

 private:
  [[nodiscard]] std::uint64_t weight(std::uint32_t fiber) const noexcept {
    const std::vector<std::uint64_t>& e = *estimates_;
    const std::uint64_t estimate = fiber < e.size() ? e[fiber] : 1;
    const std::uint64_t done = picked_[fiber];
    // Capped so that a sum over many fibers cannot overflow (a token may name any estimate).
    constexpr std::uint64_t kMost = std::uint64_t{1} << 40;
    return std::min(estimate > done ? estimate - done : 1, kMost);
  }

  const std::vector<std::uint64_t>* estimates_ = nullptr;  // the schedule's (ScheduleId outlives it)
  std::vector<std::uint64_t> picked_;                      // per fiber: choice points picked at so far
};

}  // namespace

std::unique_ptr<SchedulingStrategy> make_surw() { return std::make_unique<Surw>(); }

}  // namespace interleave::detail::model
