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

namespace {

// A shrinking phase's view of the search: `fails` runs a candidate and, when it still fails
// with the same bug, makes what that run recorded the current choices (the vector the phase
// reads: it changes under the phase); `left` is false once the budget of runs is spent.
struct Search {
  const std::vector<Choice>& choices;
  std::function<bool(std::vector<Choice>)> fails;
  std::function<bool()> left;
};

// Removes runs of consecutive choices, halving the run length down to single choices.
void drop_chunks(const Search& s) {
  std::size_t chunk = std::max<std::size_t>(1, s.choices.size() / 2);
  while (s.left() && !s.choices.empty()) {
    bool removed = false;
    for (std::size_t start = 0; start < s.choices.size() && s.left();) {
      std::vector<Choice> candidate = s.choices;
      candidate.erase(candidate.begin() + static_cast<std::ptrdiff_t>(start),
                      candidate.begin() + static_cast<std::ptrdiff_t>(std::min(start + chunk, candidate.size())));
      if (s.fails(std::move(candidate))) {
        removed = true;  // the entries after them moved down: try the same place again
      } else {
        start += chunk;
      }
    }
    if (chunk == 1 && !removed) break;
    chunk = std::max<std::size_t>(1, chunk / 2);
  }
}

// Replaces two choices by one: the first moved a decision or two earlier or later.
void merge_pairs(const Search& s) {
  for (bool moved = true; moved && s.choices.size() > 1 && s.left();) {
    moved = false;
    for (std::size_t a = 0; a < s.choices.size() && !moved && s.left(); ++a) {
      for (std::size_t b = 0; b < s.choices.size() && !moved && s.left(); ++b) {
        if (a == b) continue;
        for (const std::int64_t shift : {-1, 1, -2, 2}) {
          if (shift < 0 && s.choices[a].decision < static_cast<std::uint64_t>(-shift)) continue;
          std::vector<Choice> candidate;
          Choice shifted = s.choices[a];
          shifted.decision = static_cast<std::uint64_t>(static_cast<std::int64_t>(shifted.decision) + shift);
          for (std::size_t i = 0; i < s.choices.size(); ++i) {
            const Choice& c = s.choices[i];
            if (i != a && i != b && !(c.fiber == shifted.fiber && c.decision == shifted.decision)) {
              candidate.push_back(c);
            }
          }
          candidate.push_back(shifted);
          if (s.fails(std::move(candidate))) {
            moved = true;
            break;
          }
        }
      }
    }
  }
}

// Many bugs need one preemption early in some fiber, where the schedule found preempted several
// fibers: tries each fiber alone, preempted at one of its first decisions.
void single_preemption(const Search& s) {
  if (s.choices.size() <= 1) return;
  std::uint32_t fibers = 0;
  for (const Choice& c : s.choices) fibers = std::max(fibers, c.fiber + 1);
  for (std::uint64_t decision = 0; decision < 16 && s.choices.size() > 1 && s.left(); ++decision) {
    for (std::uint32_t fiber = 0; fiber <= fibers && s.choices.size() > 1 && s.left(); ++fiber) {
      for (const std::uint32_t value : {1U, 2U}) {
        if (s.fails({Choice{fiber, decision, value}})) break;
      }
    }
  }
}

}  // namespace

Shrunk shrink_schedule(Runtime& runtime, const std::function<void()>& body, const Failure& bug,
                       std::vector<Choice> choices, const ScheduleId& found, std::uint64_t budget,
                       const std::function<void(const ScheduleId&)>& before_run) {
  Shrunk out;
  std::vector<Choice> recorded;
  const Search search{choices,
                      [&](std::vector<Choice> candidate) {
                        if (out.runs >= budget) return false;
                        ++out.runs;
                        const ScheduleId candidate_id = choices_schedule(std::move(candidate), found);
                        before_run(candidate_id);
                        const Outcome o = runtime.run(candidate_id, body, false, &recorded);
                        if (!o.failure || !same_bug(*o.failure, bug)) return false;
                        choices = recorded;
                        return true;
                      },
                      [&] { return out.runs < budget; }};
  drop_chunks(search);
  merge_pairs(search);
  single_preemption(search);
  out.id = choices_schedule(choices, found);
  return out;
}

}  // namespace interleave::detail
