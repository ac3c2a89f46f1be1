// Linearizability: is a concurrent history explained by some sequential order of its operations
// that respects real time? (Herlihy & Wing, 1990.)
//
// A sequential specification is a plain model type (a struct holding, say, a std::deque) plus one
// Operation per kind of call, in the style of RapidCheck's state-machine commands:
//
//   struct QueueModel { std::deque<int> items; friend bool operator==(...) = default; };
//   struct Get : interleave::Operation<QueueModel, Reply> {
//     bool enabled(const QueueModel& m) const override { return !m.items.empty(); }  // else it waits
//     Reply apply(QueueModel& m) const override { int v = m.items.front(); m.items.pop_front(); return v; }
//     void show(std::ostream& out) const override { out << "get()"; }
//   };
//
// A History lists calls with the order of their invocation and response in one run (any counter
// bumped at both). check(history) searches for a sequential order (Wing & Gong's backtracking with
// Lowe's memoization of (linearized set, model state), as in Porcupine and knossos), one object
// at a time: linearizability is local, so calls on different objects never constrain each other.
//
// Calls that never returned come in two kinds:
//   - pending: invoked, then the history ends; it may have taken effect at any point after its
//     invocation, or not at all (the classic treatment).
//   - blocked: still waiting when the run reached quiescence (every thread blocked, nothing left to
//     wake them). It has not taken effect, and the specification must agree that it waits: its
//     Operation::enabled must be false in the state its object ends in. A get left asleep while
//     the queue holds an item — a lost wake-up — is not linearizable.
//
// The search is bounded: a history with more than kMaxCallsPerObject calls on one object, or whose
// search visits more than CheckLimits::max_states states, is reported as too large to check
// rather than run forever.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace interleave {

// One kind of call in a sequential specification. Model must be copyable and equality-comparable
// (operator==); Result equality-comparable; both printable with operator<< for reports.
template <class Model, class Result>
class Operation {
 public:
  using ModelType = Model;
  using ResultType = Result;
  virtual ~Operation() = default;
  // False when, in this state, the call would wait (a get on an empty queue, a lock that is held):
  // it cannot take effect here. The default: the call never waits.
  [[nodiscard]] virtual bool enabled(const Model& /*model*/) const { return true; }
  // Changes the model as the call does and returns what the real object must return for it.
  // Called only where enabled() is true.
  virtual Result apply(Model& model) const = 0;
  // The call as a report shows it: "put(3)", "get()".
  virtual void show(std::ostream& out) const = 0;
};

// An Operation that can also run on the real object (`Sut`, the system under test), for
// parallel state-machine tests (parallel_state_machine.h).
template <class Model, class Sut, class Result>
class Command : public Operation<Model, Result> {
 public:
  using SutType = Sut;
  // Whether the calling thread may make this call on the object now (for example: unlock only by
  // the thread that holds the lock). A command that may not is skipped and leaves no trace in the
  // history. Asked on the calling thread, right before run().
  [[nodiscard]] virtual bool applicable(Sut& /*sut*/) const { return true; }
  // Makes the call on the real object and returns its result.
  virtual Result run(Sut& sut) const = 0;
};

enum class Completion {
  returned,  // invoked and returned `result`
  pending,   // invoked, never returned: may or may not have taken effect
  blocked,   // waiting at a quiescent end: has not taken effect, and the specification must wait too
};

template <class Model, class Result>
struct Call {
  std::shared_ptr<const Operation<Model, Result>> operation;
  std::uint32_t thread = 0;
  std::uint32_t object = 0;    // index into History::initial
  std::uint64_t invoked = 0;   // order of the invocation in the run
  std::uint64_t returned = 0;  // order of the response (Completion::returned only); > invoked
  Completion completion = Completion::returned;
  Result result{};
};

template <class Model, class Result>
struct History {
  std::vector<Model> initial;  // each object's state before the first call
  std::vector<Call<Model, Result>> calls;
  std::vector<std::string> thread_names;  // optional: thread i's name in reports ("thread i" if absent)
};

// Calls on one object the checker accepts (one bit each in the memoization key).
inline constexpr std::size_t kMaxCallsPerObject = 256;

struct CheckLimits {
  // States (linearized set, model) the search may visit, per object, before it gives up.
  std::uint64_t max_states = 200'000;
};

enum class Verdict {
  linearizable,
  not_linearizable,
  too_large,  // a bound was hit: kMaxCallsPerObject or CheckLimits::max_states
  malformed,  // the history itself is wrong (a call on an unknown object, a response before its call)
};

inline const char* to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::linearizable:
      return "linearizable";
    case Verdict::not_linearizable:
      return "not linearizable";
    case Verdict::too_large:
      return "too large to check";
    case Verdict::malformed:
      return "malformed";
  }
  return "?";
}

struct CheckResult {
  Verdict verdict = Verdict::linearizable;
  std::uint32_t object = 0;  // the object that failed or was too large
  std::uint64_t states = 0;  // states visited, all objects together
  // For not_linearizable: which object, its history as a per-thread timeline, the longest order
  // that explains results and what each call that could come next would return there. For
  // too_large: which bound was hit.
  std::string explanation;
  [[nodiscard]] bool linearizable() const noexcept { return verdict == Verdict::linearizable; }
};

namespace detail::linearizability {

using Bits = std::array<std::uint64_t, kMaxCallsPerObject / 64>;

struct BitsHash {
  std::size_t operator()(const Bits& b) const noexcept {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (std::uint64_t w : b) {
      h ^= w + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
      h *= 0xff51afd7ed558ccdULL;
    }
    return static_cast<std::size_t>(h ^ (h >> 33));
  }
};

inline void set_bit(Bits& b, std::size_t i) { b[i / 64] |= std::uint64_t{1} << (i % 64); }
inline void clear_bit(Bits& b, std::size_t i) { b[i / 64] &= ~(std::uint64_t{1} << (i % 64)); }
inline bool has_bit(const Bits& b, std::size_t i) { return ((b[i / 64] >> (i % 64)) & 1U) != 0; }

template <class T>
std::string shown(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

template <class Model, class Result>
std::string shown_call(const Call<Model, Result>& c) {
  std::ostringstream out;
  c.operation->show(out);
  return out.str();
}

template <class Model, class Result>
std::string thread_name(const History<Model, Result>& h, std::uint32_t thread) {
  if (thread < h.thread_names.size() && !h.thread_names[thread].empty()) return h.thread_names[thread];
  return "thread " + std::to_string(thread);
}

// The search on one object's calls (indices into history.calls).
template <class Model, class Result>
class ObjectSearch {
 public:
  ObjectSearch(const History<Model, Result>& history, std::vector<std::size_t> calls, CheckLimits limits)
      : history_(history), calls_(std::move(calls)), limits_(limits) {}

  // Lowe's / Porcupine's search: take the earliest call that may take effect next, apply it to
  // the model and lift its entry pair out of the event list; on a response that no linearized
  // call explains, undo the last choice and try the entry after it. Memoized on (set of
  // linearized calls, model state).
  Verdict run() {
    build_event_list();
    Model state = history_.initial[object()];
    best_state_ = state;
    std::size_t node = next_[0];
    for (;;) {
      if (returned_left_ == 0 && blocked_all_wait(state)) return Verdict::linearizable;
      if (node == kEnd || node_is_response_[node]) {
        if (stack_.empty()) return Verdict::not_linearizable;
        node = backtrack(state);
        continue;
      }
      switch (linearize(node_call_[node], state)) {
        case Step::linearized:
          node = next_[0];
          break;
        case Step::skipped:
          node = next_[node];
          break;
        case Step::too_large:
          return Verdict::too_large;
      }
    }
  }

  [[nodiscard]] std::uint64_t states() const noexcept { return states_; }
  [[nodiscard]] std::uint32_t object() const { return calls_.empty() ? 0 : call(0).object; }

  // Why no order works: the longest order found, the state it reaches, and what each call that
  // could come next would return there (or that it would wait), against what it did.
  [[nodiscard]] std::string explain() const {
    std::ostringstream out;
    out << "  the longest order that explains results: ";
    if (best_order_.empty()) out << "(none: no call can go first)";
    for (std::size_t k = 0; k < best_order_.size(); ++k) {
      const auto& c = call(best_order_[k]);
      out << (k == 0 ? "" : ", ") << shown_call(c);
      if (c.completion == Completion::returned) out << " -> " << shown(c.result);
    }
    out << "\n  state after it: " << shown(best_state_) << "\n";
    // Calls that could come next: not linearized, invoked before the first response still
    // outstanding.
    std::uint64_t first_response = UINT64_MAX;
    for (std::size_t i = 0; i < calls_.size(); ++i) {
      const auto& c = call(i);
      if (!has_bit(best_linearized_, i) && c.completion == Completion::returned) {
        first_response = std::min(first_response, c.returned);
      }
    }
    for (std::size_t i = 0; i < calls_.size(); ++i) {
      const auto& c = call(i);
      if (has_bit(best_linearized_, i)) continue;
      const std::string who = thread_name(history_, c.thread);
      if (c.completion == Completion::blocked) {
        if (c.operation->enabled(best_state_)) {
          out << "  " << who << ": " << shown_call(c)
              << " is blocked at the end, but the specification lets it proceed in that state\n";
        }
        continue;
      }
      if (c.invoked > first_response) continue;
      out << "  " << who << ": " << shown_call(c);
      if (!c.operation->enabled(best_state_)) {
        out << " would wait in that state";
      } else {
        Model copy = best_state_;
        const Result r = c.operation->apply(copy);
        out << " would return " << shown(r);
      }
      if (c.completion == Completion::returned) {
        out << ", but returned " << shown(c.result) << "\n";
      } else {
        out << " (it never returned; taking it next leads nowhere either)\n";
      }
    }
    return out.str();
  }

 private:
  static constexpr std::size_t kEnd = static_cast<std::size_t>(-1);

  const Call<Model, Result>& call(std::size_t i) const { return history_.calls[calls_[i]]; }

  // The event list: a call entry per call that may take effect, a response entry per call that
  // returned or is pending (pending ones after every real event), in order; doubly linked so an
  // entry pair can be lifted out and put back. Blocked calls go to blocked_ instead.
  void build_event_list() {
    struct Event {
      std::uint64_t at;
      std::size_t call;
      bool response;
    };
    const std::size_t n = calls_.size();
    std::vector<Event> events;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& c = call(i);
      switch (c.completion) {
        case Completion::returned:
          events.push_back({c.invoked, i, false});
          events.push_back({c.returned, i, true});
          ++returned_left_;
          break;
        case Completion::pending:
          events.push_back({c.invoked, i, false});
          events.push_back({UINT64_MAX, i, true});
          break;
        case Completion::blocked:
          blocked_.push_back(i);
          break;
      }
    }
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.at < b.at; });
    const std::size_t count = events.size();
    // Node 0 is the head sentinel; event k is node k + 1.
    next_.assign(count + 1, 0);
    prev_.assign(count + 1, 0);
    call_node_.assign(n, 0);
    response_node_.assign(n, 0);
    node_call_.assign(count + 1, 0);
    node_is_response_.assign(count + 1, false);
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t node = k + 1;
      prev_[node] = k;
      next_[node] = k + 1 < count ? node + 1 : kEnd;
      node_call_[node] = events[k].call;
      node_is_response_[node] = events[k].response;
      (events[k].response ? response_node_ : call_node_)[events[k].call] = node;
    }
    next_[0] = count > 0 ? 1 : kEnd;
  }

  enum class Step : std::uint8_t { linearized, skipped, too_large };

  // Tries call i next from `state`: linearized (state, stack_ and the event list moved on) when
  // it is enabled, returns its recorded result (or is pending) and reaches an unseen
  // (linearized set, state); else skipped, or too_large past the state limit.
  Step linearize(std::size_t i, Model& state) {
    const auto& c = call(i);
    if (!c.operation->enabled(state)) return Step::skipped;
    Model after = state;
    Result r = c.operation->apply(after);
    if (c.completion != Completion::pending && !(r == c.result)) return Step::skipped;
    Bits bits = linearized_;
    set_bit(bits, i);
    auto& models = seen_[bits];
    if (std::find(models.begin(), models.end(), after) != models.end()) return Step::skipped;
    if (++states_ > limits_.max_states) return Step::too_large;
    models.push_back(after);
    stack_.push_back(Frame{i, std::move(state)});
    state = std::move(after);
    linearized_ = bits;
    if (c.completion == Completion::returned) --returned_left_;
    lift(i);
    if (stack_.size() > best_order_.size()) {
      best_order_.clear();
      for (const Frame& f : stack_) best_order_.push_back(f.call);
      best_state_ = state;
      best_linearized_ = linearized_;
    }
    return Step::linearized;
  }

  // Undoes the last linearized call; returns the node to try next (the entry after its call).
  std::size_t backtrack(Model& state) {
    Frame top = std::move(stack_.back());
    stack_.pop_back();
    state = std::move(top.before);
    clear_bit(linearized_, top.call);
    if (call(top.call).completion == Completion::returned) ++returned_left_;
    unlift(top.call);
    return next_[call_node_[top.call]];
  }

  bool blocked_all_wait(const Model& state) const {
    return std::all_of(blocked_.begin(), blocked_.end(),
                       [&](std::size_t i) { return !call(i).operation->enabled(state); });
  }

  void remove_node(std::size_t node) {
    next_[prev_[node]] = next_[node];
    if (next_[node] != kEnd) prev_[next_[node]] = prev_[node];
  }
  void restore_node(std::size_t node) {
    next_[prev_[node]] = node;
    if (next_[node] != kEnd) prev_[next_[node]] = node;
  }
  void lift(std::size_t i) {
    remove_node(call_node_[i]);
    remove_node(response_node_[i]);
  }
  void unlift(std::size_t i) {
    restore_node(response_node_[i]);
    restore_node(call_node_[i]);
  }

  const History<Model, Result>& history_;
  std::vector<std::size_t> calls_;
  CheckLimits limits_;
  std::vector<std::size_t> next_, prev_, call_node_, response_node_, node_call_;
  std::vector<bool> node_is_response_;
  std::vector<std::size_t> blocked_;
  std::size_t returned_left_ = 0;
  std::uint64_t states_ = 0;
  struct Frame {
    std::size_t call;
    Model before;
  };
  std::vector<Frame> stack_;  // the linearized calls, in order, with the state before each
  Bits linearized_{};         // the same calls as a set
  std::unordered_map<Bits, std::vector<Model>, BitsHash> seen_;  // (set, state) pairs explored
  std::vector<std::size_t> best_order_;
  Model best_state_{};
  Bits best_linearized_{};
};

}  // namespace detail::linearizability

// The history of one object as a per-thread timeline: one column per thread, one row per event in
// the order of the run; a call spans from its invocation row to its response row.
template <class Model, class Result>
std::string format_timeline(const History<Model, Result>& history, std::uint32_t object) {
  using detail::linearizability::shown;
  using detail::linearizability::shown_call;
  struct Row {
    std::uint64_t at;
    std::size_t call;
    bool response;
  };
  std::vector<Row> rows;
  std::vector<std::uint32_t> threads;
  for (std::size_t i = 0; i < history.calls.size(); ++i) {
    const auto& c = history.calls[i];
    if (c.object != object) continue;
    rows.push_back({c.invoked, i, false});
    rows.push_back({c.completion == Completion::returned ? c.returned : UINT64_MAX, i, true});
    if (std::find(threads.begin(), threads.end(), c.thread) == threads.end()) threads.push_back(c.thread);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.at < b.at; });
  std::sort(threads.begin(), threads.end());
  std::vector<std::string> cells(rows.size());
  std::size_t width = 0;
  for (std::uint32_t t : threads) width = std::max(width, detail::linearizability::thread_name(history, t).size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& c = history.calls[rows[r].call];
    if (!rows[r].response) {
      cells[r] = shown_call(c) + " ...";
    } else if (c.completion == Completion::returned) {
      cells[r] = "... -> " + shown(c.result);
    } else if (c.completion == Completion::pending) {
      cells[r] = "... (no response)";
    } else {
      cells[r] = "... (blocked at the end)";
    }
    width = std::max(width, cells[r].size());
  }
  width += 2;
  std::ostringstream out;
  std::string header(8, ' ');
  for (std::uint32_t t : threads) {
    std::string name = detail::linearizability::thread_name(history, t);
    name.resize(width, ' ');
    header += name;
  }
  while (!header.empty() && header.back() == ' ') header.pop_back();
  out << header << "\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& c = history.calls[rows[r].call];
    const auto column = static_cast<std::size_t>(std::find(threads.begin(), threads.end(), c.thread) - threads.begin());
    std::string line = "  " + std::string(4 - std::min<std::size_t>(4, std::to_string(r + 1).size()), ' ') +
                       std::to_string(r + 1) + "  " + std::string(column * width, ' ') + cells[r];
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
  return out.str();
}

// Checks every object of the history; stops at the first object that is not linearizable or too
// large. A call without an operation, naming an object outside history.initial, or returning
// before its invocation makes the verdict `malformed`, with the call named.
template <class Model, class Result>
CheckResult check(const History<Model, Result>& history, CheckLimits limits = {}) {
  CheckResult result;
  std::vector<std::vector<std::size_t>> per_object(history.initial.size());
  for (std::size_t i = 0; i < history.calls.size(); ++i) {
    const auto& c = history.calls[i];
    if (c.object >= history.initial.size() || c.operation == nullptr ||
        (c.completion == Completion::returned && c.returned <= c.invoked)) {
      result.verdict = Verdict::malformed;
      result.object = c.object;
      result.explanation = "call " + std::to_string(i) +
                           (c.operation == nullptr ? " has no operation"
                            : c.object >= history.initial.size()
                                ? " names object " + std::to_string(c.object) + ", but the history has " +
                                      std::to_string(history.initial.size()) + " initial states"
                                : " returned before it was invoked") +
                           "\n";
      return result;
    }
    per_object[c.object].push_back(i);
  }
  for (std::uint32_t object = 0; object < per_object.size(); ++object) {
    auto& calls = per_object[object];
    if (calls.empty()) continue;
    if (calls.size() > kMaxCallsPerObject) {
      result.verdict = Verdict::too_large;
      result.object = object;
      result.explanation = "object " + std::to_string(object) + " has " + std::to_string(calls.size()) +
                           " calls, more than the " + std::to_string(kMaxCallsPerObject) + " one search accepts\n";
      return result;
    }
    const std::size_t call_count = calls.size();
    detail::linearizability::ObjectSearch<Model, Result> search(history, std::move(calls), limits);
    const Verdict v = search.run();
    result.states += search.states();
    if (v == Verdict::linearizable) continue;
    result.verdict = v;
    result.object = object;
    if (v == Verdict::too_large) {
      result.explanation = "object " + std::to_string(object) + " (" + std::to_string(call_count) +
                           " calls) needed more than " + std::to_string(limits.max_states) +
                           " search states (CheckLimits::max_states)\n";
    } else {
      result.explanation = "no order of the calls on object " + std::to_string(object) +
                           " that respects real time explains their results\n" + format_timeline(history, object) +
                           search.explain();
    }
    return result;
  }
  return result;
}

}  // namespace interleave
