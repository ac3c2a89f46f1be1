// Shrinking a failing schedule by delta debugging over its departures from the undisturbed
// schedule (shrink.h).
#include "explore/shrink.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace interleave::detail {

using model::Outcome;
using model::Runtime;

namespace {

ScheduleId choices_schedule(std::vector<Choice> choices, const ScheduleId& found) {
  ScheduleId id;
  id.strategy = Strategy::choices;
  id.max_steps = found.max_steps;
  id.memory_model = found.memory_model;
  id.store_history = found.store_history;
  id.spurious_cas_permille = found.spurious_cas_permille;
  std::sort(choices.begin(), choices.end());
  id.choices = std::move(choices);
  return id;
}

}  // namespace

Shrunk shrink_schedule(Runtime& runtime, const std::function<void()>& body, const Failure& bug,
                       std::vector<Choice> choices, const ScheduleId& found, std::uint64_t budget,
                       const std::function<void(const ScheduleId&)>& before_run) {
  Shrunk out;
  std::vector<Choice> recorded;
  const auto fails = [&](std::vector<Choice> candidate) {
    if (out.runs >= budget) return false;
    ++out.runs;
    const ScheduleId candidate_id = choices_schedule(std::move(candidate), found);
    before_run(candidate_id);
    const Outcome o = runtime.run(candidate_id, body, false, &recorded);
    if (!o.failure || !same_bug(*o.failure, bug)) return false;
    choices = recorded;
    return true;
  };
  std::size_t chunk = std::max<std::size_t>(1, choices.size() / 2);
  while (out.runs < budget && !choices.empty()) {
    bool removed = false;
    for (std::size_t start = 0; start < choices.size() && out.runs < budget;) {
      std::vector<Choice> candidate = choices;
      candidate.erase(candidate.begin() + static_cast<std::ptrdiff_t>(start),
                      candidate.begin() + static_cast<std::ptrdiff_t>(std::min(start + chunk, candidate.size())));
      if (fails(std::move(candidate))) {
        removed = true;  // the entries after them moved down: try the same place again
      } else {
        start += chunk;
      }
    }
    if (chunk == 1 && !removed) break;
    chunk = std::max<std::size_t>(1, chunk / 2);
  }
  for (bool moved = true; moved && choices.size() > 1 && out.runs < budget;) {
    moved = false;
    for (std::size_t a = 0; a < choices.size() && !moved && out.runs < budget; ++a) {
      for (std::size_t b = 0; b < choices.size() && !moved && out.runs < budget; ++b) {
        if (a == b) continue;
        for (const std::int64_t shift : {-1, 1, -2, 2}) {
          if (shift < 0 && choices[a].decision < static_cast<std::uint64_t>(-shift)) continue;
          std::vector<Choice> candidate;
          Choice shifted = choices[a];
          shifted.decision = static_cast<std::uint64_t>(static_cast<std::int64_t>(shifted.decision) + shift);
          for (std::size_t i = 0; i < choices.size(); ++i) {
            if (i != a && i != b && !(choices[i].fiber == shifted.fiber && choices[i].decision == shifted.decision)) {
              candidate.push_back(choices[i]);
            }
          }
          candidate.push_back(shifted);
          if (fails(std::move(candidate))) {
            moved = true;
            break;
          }
        }
      }
    }
  }
  // Many bugs need one preemption early in some fiber, where the schedule found preempted several
  // fibers: try each fiber alone, preempted at one of its first decisions.
  if (choices.size() > 1) {
    std::uint32_t fibers = 0;
    for (const Choice& c : choices) fibers = std::max(fibers, c.fiber + 1);
    for (std::uint64_t decision = 0; decision < 16 && choices.size() > 1 && out.runs < budget; ++decision) {
      for (std::uint32_t fiber = 0; fiber <= fibers && choices.size() > 1 && out.runs < budget; ++fiber) {
        for (const std::uint32_t value : {1U, 2U}) {
          if (fails({Choice{fiber, decision, value}})) break;
        }
      }
    }
  }
  out.id = choices_schedule(choices, found);
  return out;
}

}  // namespace interleave::detail
