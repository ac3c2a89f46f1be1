// Parallel state-machine testing: RapidCheck generates a concurrent scenario of commands, the model
// scheduler runs it under many schedules, and every run's history must be linearizable with
// respect to the specification (linearizability.h).
//
// A scenario is a sequential prefix, then 2-4 threads each with a short list of commands, then an
// optional suffix; each part runs on its own thread, the parts one after another. Every call's
// invocation and response are numbered in the order the schedule makes them (all fibers run on one
// OS thread, so that order is exact).
//
// Blocking calls. After starting a part's threads, the test's main fiber waits for them with a
// deadline on the virtual clock, which only advances when every fiber is blocked. If the deadline
// passes, the run is quiescent: every unfinished call is asleep with nothing left to wake it. Those
// calls are checked as Completion::blocked (not taken effect, and the specification must agree
// that they wait in the state reached). The rest of the scenario is dropped; the calls
// Spec::unblock returns (close a queue, set an event, release permits) run on one more thread,
// recorded like the others, and must wake every sleeper: if the run goes quiescent again, the
// history is checked again (a put still asleep after close() is not linearizable), and calls the
// specification agrees must still wait fail the run as an unblock() that does not unblock.
//
// A specification for check_linearizable is a type with
//   using Model = ...; using Sut = ...; using Result = ...;       // Command<Model, Sut, Result>
//   Model initial_model() const;                                   // the model of a new object
//   std::unique_ptr<Sut> make_object() const;                      // a new object, per schedule
//   rc::Gen<std::shared_ptr<const Command<Model, Sut, Result>>> command() const;
//   std::vector<CommandPtr> unblock(Sut&) const;  // calls that wake every blocked call (close, set)
// and optionally
//   std::vector<CommandPtr> epilogue() const;    // appended to every thread's list (release a lock)
//   bool admits(const ParallelScenario<...>&) const;  // scenarios the object supports (one close)
// docs/linearizability.md walks through one.
#pragma once

#include <rapidcheck.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "interleave/explore.h"
#include "interleave/linearizability.h"
#include "interleave/model_platform.h"
#include "interleave/rapidcheck.h"
#include "interleave/thread.h"

namespace interleave {

template <class CommandT>
struct ParallelScenario {
  using CommandPtr = std::shared_ptr<const CommandT>;
  std::vector<CommandPtr> prefix;
  std::vector<std::vector<CommandPtr>> threads;
  std::vector<CommandPtr> suffix;
};

template <class CommandT>
void showValue(const ParallelScenario<CommandT>& s, std::ostream& out) {
  auto list = [&out](const char* name, const std::vector<std::shared_ptr<const CommandT>>& calls) {
    out << "\n  " << name << ":";
    for (const auto& c : calls) {
      out << " ";
      c->show(out);
    }
  };
  list("prefix", s.prefix);
  for (std::size_t t = 0; t < s.threads.size(); ++t) {
    const std::string name = "thread " + std::to_string(t + 1);
    list(name.c_str(), s.threads[t]);
  }
  list("suffix", s.suffix);
}

struct ScenarioShape {
  int min_threads = 2;
  int max_threads = 4;
  int max_calls_per_thread = 3;
  int max_prefix = 3;
  int max_suffix = 2;
};

struct ParallelCheckOptions {
  ScenarioShape shape;
  CheckLimits limits;
  // false: run the scenario and record its history, but do not check it (to measure the checker).
  bool check = true;
};

namespace detail::parallel {

template <class Spec>
using CommandOf = Command<typename Spec::Model, typename Spec::Sut, typename Spec::Result>;

template <class Spec>
concept HasEpilogue = requires(const Spec& spec) {
  spec.epilogue();
};
template <class Spec>
concept HasAdmits = requires(const Spec& spec, const ParallelScenario<CommandOf<Spec>>& s) {
  { spec.admits(s) } -> std::convertible_to<bool>;
};

// One thread's calls as it made them. The thread writes them; the main fiber reads the first
// `invoked` / `returned` entries after an acquire, so a call still running is never read half-made.
template <class Spec>
struct ThreadRecord {
  // The command by its place in the thread's list: copying a shared_ptr on the thread would
  // touch a reference count other fibers touch too (not atomic in a program libstdc++ considers
  // single-threaded, and a race to ThreadSanitizer either way).
  struct Invocation {
    std::size_t command = 0;
    std::uint64_t at = 0;
  };
  struct Response {
    std::uint64_t at = 0;
    typename Spec::Result result{};
  };
  explicit ThreadRecord(std::size_t capacity) : invocations(capacity), responses(capacity) {}
  std::vector<Invocation> invocations;
  std::vector<Response> responses;
  std::atomic<std::size_t> invoked{0};
  std::atomic<std::size_t> returned{0};
  bool stoppable = true;  // stops before its next call once the run went quiescent
};

template <class Spec>
class Run {
 public:
  using P = ModelPlatform;
  using CommandPtr = std::shared_ptr<const CommandOf<Spec>>;
  using HistoryType = History<typename Spec::Model, typename Spec::Result>;

  Run(const Spec& spec, const ParallelScenario<CommandOf<Spec>>& scenario, const ParallelCheckOptions& options)
      : spec_(spec), options_(options) {
    std::vector<CommandPtr> epilogue;
    if constexpr (HasEpilogue<Spec>) epilogue = spec.epilogue();
    // Room for every part and the unblocking thread: threads hold references into these.
    const std::size_t parts = scenario.threads.size() + 3;
    names_.reserve(parts);
    lists_.reserve(parts);
    records_.reserve(parts);
    auto add = [&](std::string name, const std::vector<CommandPtr>& calls) {
      std::vector<CommandPtr> all = calls;
      all.insert(all.end(), epilogue.begin(), epilogue.end());
      return add_thread(std::move(name), std::move(all));
    };
    if (!scenario.prefix.empty()) phases_.push_back({add("prefix", scenario.prefix)});
    std::vector<std::size_t> parallel;
    for (std::size_t t = 0; t < scenario.threads.size(); ++t) {
      parallel.push_back(add("thread " + std::to_string(t + 1), scenario.threads[t]));
    }
    if (!parallel.empty()) phases_.push_back(std::move(parallel));
    if (!scenario.suffix.empty()) phases_.push_back({add("suffix", scenario.suffix)});
  }

  void operator()() {
    std::unique_ptr<typename Spec::Sut> sut = spec_.make_object();
    for (const auto& phase : phases_) {
      typename P::template Atomic<std::uint32_t> done{0};
      std::vector<std::unique_ptr<BasicThread<P>>> threads;
      for (std::size_t index : phase) threads.push_back(start(index, *sut, done));
      if (!all_finished(done, phase.size())) {
        // Quiescent: check who is asleep, then stop the scenario and let the specification's
        // unblocking calls (recorded like any other) wake the sleepers. Anyone still asleep
        // after them fails the run: either the history says the call must proceed (checked
        // here), or the specification's unblock() does not wake it.
        stop_.store(true, std::memory_order_release);
        verify(/*quiescent=*/true);
        const std::size_t waker = add_thread("unblock", spec_.unblock(*sut), /*stoppable=*/false);
        threads.push_back(start(waker, *sut, done));
        if (!all_finished(done, phase.size() + 1)) {
          verify(/*quiescent=*/true);
          detail::model::fail(FailureKind::assertion,
                              "the specification's unblock() left calls asleep that it says must wait:\n" +
                                  format_timeline(history(true), 0),
                              interleave::source_location::current());
        }
        for (auto& t : threads) t->join();
        break;
      }
      for (auto& t : threads) t->join();
    }
    verify(/*quiescent=*/false);
  }

 private:
  std::size_t add_thread(std::string name, std::vector<CommandPtr> calls, bool stoppable = true) {
    names_.push_back(std::move(name));
    records_.push_back(std::make_unique<ThreadRecord<Spec>>(calls.size()));
    records_.back()->stoppable = stoppable;
    lists_.push_back(std::move(calls));
    return lists_.size() - 1;
  }

  std::unique_ptr<BasicThread<P>> start(std::size_t index, typename Spec::Sut& sut,
                                        typename P::template Atomic<std::uint32_t>& done) {
    // The thread keeps its own list and record: the containers may grow (the unblocking thread)
    // while it runs.
    ThreadRecord<Spec>* record = records_[index].get();
    const std::vector<CommandPtr>* calls = &lists_[index];
    auto thread = std::make_unique<BasicThread<P>>([this, record, calls, &sut, &done] {
      perform(*calls, *record, sut);
      done.fetch_add(1);
      P::wake_all(done);
    });
    thread->start();
    return thread;
  }

  // Waits until `expected` threads finished, or until nothing can run any more (false).
  static bool all_finished(typename P::template Atomic<std::uint32_t>& done, std::size_t expected) {
    // Far beyond any timeout a command uses: the deadline passes only when nothing else can run.
    const auto deadline = P::now() + std::chrono::hours(24 * 365);
    for (;;) {
      const std::uint32_t seen = done.load();
      if (seen == expected) return true;
      if (!P::wait_until(done, seen, deadline) && done.load() != expected) return false;
    }
  }

  void perform(const std::vector<CommandPtr>& calls, ThreadRecord<Spec>& record, typename Spec::Sut& sut) {
    bool first = true;
    for (std::size_t i = 0; i < calls.size(); ++i) {
      const CommandOf<Spec>* command = calls[i].get();
      if (record.stoppable && stop_.load(std::memory_order_acquire)) return;
      if (!command->applicable(sut)) continue;
      // Real code runs between two calls: let other threads act between this thread's response
      // and its next invocation (an empty critical section would otherwise hide a double lock).
      // The history's clock is shared state the model does not see, so this is a scheduling point
      // on it (a yield would be an event, run without a choice: docs/harness.md).
      if (!first) detail::model::step("between calls", &clock_);
      first = false;
      const std::size_t k = record.invoked.load(std::memory_order_relaxed);
      record.invocations[k] = {i, clock_.fetch_add(1, std::memory_order_relaxed) + 1};
      record.invoked.store(k + 1, std::memory_order_release);
      typename Spec::Result result = command->run(sut);
      record.responses[k] = {clock_.fetch_add(1, std::memory_order_relaxed) + 1, std::move(result)};
      record.returned.store(k + 1, std::memory_order_release);
    }
  }

  HistoryType history(bool quiescent) const {
    HistoryType h;
    h.initial.push_back(spec_.initial_model());
    h.thread_names = names_;
    for (std::size_t t = 0; t < records_.size(); ++t) {
      const ThreadRecord<Spec>& record = *records_[t];
      const std::size_t invoked = record.invoked.load(std::memory_order_acquire);
      const std::size_t returned = record.returned.load(std::memory_order_acquire);
      for (std::size_t k = 0; k < invoked; ++k) {
        Call<typename Spec::Model, typename Spec::Result> c;
        c.operation = lists_[t][record.invocations[k].command];
        c.thread = static_cast<std::uint32_t>(t);
        c.invoked = record.invocations[k].at;
        if (k < returned) {
          c.returned = record.responses[k].at;
          c.result = record.responses[k].result;
        } else {
          c.completion = quiescent ? Completion::blocked : Completion::pending;
        }
        h.calls.push_back(std::move(c));
      }
    }
    return h;
  }

  void verify(bool quiescent) const {
    if (!options_.check) {
      (void)history(quiescent);
      return;
    }
    const HistoryType h = history(quiescent);
    const CheckResult r = check(h, options_.limits);
    if (r.linearizable()) return;
    detail::model::fail(FailureKind::assertion,
                        std::string("history ") + to_string(r.verdict) +
                            (quiescent ? " (the run ended with every unfinished call asleep)" : "") + ": " +
                            r.explanation,
                        interleave::source_location::current());
  }

  const Spec& spec_;
  ParallelCheckOptions options_;
  std::vector<std::string> names_;
  std::vector<std::vector<CommandPtr>> lists_;
  std::vector<std::unique_ptr<ThreadRecord<Spec>>> records_;
  std::vector<std::vector<std::size_t>> phases_;
  std::atomic<std::uint64_t> clock_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace detail::parallel

// A generator of scenarios for `spec` (inside a RapidCheck property). Shrinks toward fewer
// threads, fewer calls and simpler calls.
template <class Spec>
rc::Gen<ParallelScenario<detail::parallel::CommandOf<Spec>>> parallel_scenarios(const Spec& spec,
                                                                                ScenarioShape shape = {}) {
  using Scenario = ParallelScenario<detail::parallel::CommandOf<Spec>>;
  using List = std::vector<typename Scenario::CommandPtr>;
  auto gen = rc::gen::exec([spec, shape] {
    Scenario s;
    const auto command = spec.command();
    s.prefix = *rc::gen::container<List>(static_cast<std::size_t>(*rc::gen::inRange(0, shape.max_prefix + 1)), command);
    const int threads = *rc::gen::inRange(shape.min_threads, shape.max_threads + 1);
    for (int t = 0; t < threads; ++t) {
      const int calls = *rc::gen::inRange(1, shape.max_calls_per_thread + 1);
      s.threads.push_back(*rc::gen::container<List>(static_cast<std::size_t>(calls), command));
    }
    s.suffix = *rc::gen::container<List>(static_cast<std::size_t>(*rc::gen::inRange(0, shape.max_suffix + 1)), command);
    return s;
  });
  if constexpr (detail::parallel::HasAdmits<Spec>) {
    return rc::gen::suchThat(std::move(gen), [spec](const Scenario& s) { return spec.admits(s); });
  } else {
    return gen;
  }
}

// Linearizability checks run under the sc memory model (Options::memory_model): the checker
// orders calls by the model's step order, which under the weak model is no happens-before order,
// so an acquire load in one thread that reads an older value than a call another thread completed
// earlier would be reported as not linearizable, though C++ allows it (docs/memory-model.md).
// INTERLEAVE_MEMORY_MODEL still overrides it.

// Explores one scenario (outside RapidCheck too: benchmarks, fixed regression scenarios).
template <class Spec>
Result explore_parallel(const Spec& spec, const ParallelScenario<detail::parallel::CommandOf<Spec>>& scenario,
                        Options options, ParallelCheckOptions check_options = {}) {
  options.memory_model = MemoryModel::sc;
  return explore(std::move(options), [&] { detail::parallel::Run<Spec>(spec, scenario, check_options)(); });
}

// The property: a generated scenario, explored under kSchedulesPerScenario schedules, every history
// linearizable. A failure fails the property with the non-linearizable history as a per-thread
// timeline and interleave's reproduce line; RapidCheck shrinks the scenario first.
template <class Spec>
void check_linearizable(const Spec& spec, ParallelCheckOptions check_options = {}) {
  const auto scenario = *parallel_scenarios(spec, check_options.shape).as("scenario");
  Options options = property_options();
  options.memory_model = MemoryModel::sc;
  check_schedules(options, [&] { detail::parallel::Run<Spec>(spec, scenario, check_options)(); });
}

}  // namespace interleave
