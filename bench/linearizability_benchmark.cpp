// The linearizability checker's cost, and what it adds to a parallel state-machine test.
//
//   Check/<threads>x<calls>/linearizable      check one recorded-shaped queue history that is
//                                             linearizable (the common case: a passing test)
//   Check/<threads>x<calls>/not_linearizable  the same histories with one result changed, so the
//                                             search must exhaust its states before it concludes
//                                             (or stop at the bound, 20 000 states: too_large)
//   Schedules/QueueScenario/checker_{on,off}  explore a fixed Queue scenario (prefix of 2 calls,
//                                             3 threads x 3 calls) under the model scheduler with
//                                             and without checking each schedule's history (one
//                                             exploring thread)
//
// Histories: T threads, each making C calls (put(v) with distinct v, or try_get() that returns
// the front item or -1), interleaved at random: every call is invoked, takes effect at a random
// later moment and returns at a random moment after that, so calls overlap as in real runs. 1000
// histories per shape (fixed seed); each benchmark iteration checks the next one and times it:
// the counters median_ns and p99_ns are over those per-history times.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <ostream>
#include <random>
#include <vector>

#include "interleave/linearizability.h"
#include "interleave/parallel_state_machine.h"
#include "linearizability_specs.h"

namespace {

using namespace interleave;

struct QueueModel {
  std::deque<int> items;
  friend bool operator==(const QueueModel&, const QueueModel&) = default;
  friend std::ostream& operator<<(std::ostream& out, const QueueModel& m) { return out << m.items.size() << " items"; }
};
using QueueOperation = Operation<QueueModel, int>;

struct Put : QueueOperation {
  explicit Put(int v) : value(v) {}
  int apply(QueueModel& m) const override {
    m.items.push_back(value);
    return 0;
  }
  void show(std::ostream& out) const override { out << "put(" << value << ")"; }
  int value;
};
struct TryGet : QueueOperation {
  int apply(QueueModel& m) const override {
    if (m.items.empty()) return -1;
    const int v = m.items.front();
    m.items.pop_front();
    return v;
  }
  void show(std::ostream& out) const override { out << "try_get()"; }
};

using QueueHistory = History<QueueModel, int>;

QueueHistory random_history(std::mt19937_64& rng, int threads, int calls_per_thread) {
  QueueHistory h;
  h.initial.push_back({});
  QueueModel model;
  struct Running {
    int made = 0;
    std::size_t call = 0;
    bool active = false;
    bool took_effect = false;
  };
  std::vector<Running> running(static_cast<std::size_t>(threads));
  std::uint64_t clock = 0;
  int next_value = 1;
  for (;;) {
    std::vector<std::size_t> can_move;
    for (std::size_t t = 0; t < running.size(); ++t) {
      if (running[t].active || running[t].made < calls_per_thread) can_move.push_back(t);
    }
    if (can_move.empty()) break;
    Running& r = running[can_move[std::uniform_int_distribution<std::size_t>(0, can_move.size() - 1)(rng)]];
    const auto thread = static_cast<std::uint32_t>(&r - running.data());
    if (!r.active) {
      Call<QueueModel, int> c;
      if (std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
        c.operation = std::make_shared<Put>(next_value++);
      } else {
        c.operation = std::make_shared<TryGet>();
      }
      c.thread = thread;
      c.invoked = ++clock;
      r.call = h.calls.size();
      h.calls.push_back(std::move(c));
      r.active = true;
      r.took_effect = false;
      ++r.made;
    } else if (!r.took_effect) {
      h.calls[r.call].result = h.calls[r.call].operation->apply(model);
      r.took_effect = true;
    } else {
      h.calls[r.call].returned = ++clock;
      r.active = false;
    }
  }
  return h;
}

// Changes one try_get's result to a value nobody put: no order explains it.
QueueHistory broken(QueueHistory h) {
  for (auto it = h.calls.rbegin(); it != h.calls.rend(); ++it) {
    if (dynamic_cast<const TryGet*>(it->operation.get()) != nullptr) {
      it->result = 1'000'000;
      break;
    }
  }
  return h;
}

constexpr std::uint64_t kMaxStates = 20'000;

void check_histories(benchmark::State& state, bool linearizable) {
  const int threads = static_cast<int>(state.range(0));
  const int calls = static_cast<int>(state.range(1));
  std::mt19937_64 rng(0x5eed);
  std::vector<QueueHistory> histories;
  for (int i = 0; i < 1000; ++i) {
    QueueHistory h = random_history(rng, threads, calls);
    histories.push_back(linearizable ? std::move(h) : broken(std::move(h)));
  }
  std::vector<double> times;
  std::size_t next = 0;
  std::uint64_t states = 0;
  std::uint64_t too_large = 0;
  // A bound, as a test would set one: an impossible result makes the search exhaust every state.
  CheckLimits limits;
  limits.max_states = kMaxStates;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const CheckResult r = check(histories[next], limits);
    const auto stop = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(r.verdict);
    too_large += r.verdict == Verdict::too_large ? 1 : 0;
    if (r.linearizable() != linearizable) {
      state.SkipWithError("the checker's verdict is not the expected one");
      return;
    }
    states += r.states;
    times.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count()));
    next = (next + 1) % histories.size();
  }
  std::sort(times.begin(), times.end());
  auto at = [&](double q) { return times[static_cast<std::size_t>(q * static_cast<double>(times.size() - 1))]; };
  state.counters["median_ns"] = at(0.5);
  state.counters["p99_ns"] = at(0.99);
  state.counters["states_per_check"] = static_cast<double>(states) / static_cast<double>(times.size());
  state.counters["too_large_fraction"] = static_cast<double>(too_large) / static_cast<double>(times.size());
}

void BM_CheckLinearizable(benchmark::State& state) { check_histories(state, true); }
void BM_CheckNotLinearizable(benchmark::State& state) { check_histories(state, false); }
BENCHMARK(BM_CheckLinearizable)->Name("Check/linearizable")->Args({3, 5})->Args({4, 8});
BENCHMARK(BM_CheckNotLinearizable)->Name("Check/not_linearizable")->Args({3, 5})->Args({4, 8});

// A fixed Queue scenario on the real queue: schedules per second with and without the checker.
using QueueSpec = specs::QueueSpec<specs::RealQueue<ModelPlatform>>;

ParallelScenario<Command<QueueSpec::Model, QueueSpec::Sut, QueueSpec::Result>> queue_scenario() {
  using QueuePut = QueueSpec::Put;
  using QueueGet = QueueSpec::Get;
  ParallelScenario<Command<QueueSpec::Model, QueueSpec::Sut, QueueSpec::Result>> s;
  s.prefix = {std::make_shared<QueuePut>(1), std::make_shared<QueuePut>(2)};
  s.threads = {{std::make_shared<QueuePut>(3), std::make_shared<QueueGet>(), std::make_shared<QueuePut>(4)},
               {std::make_shared<QueueGet>(), std::make_shared<QueueGet>(), std::make_shared<QueuePut>(5)},
               {std::make_shared<QueuePut>(6), std::make_shared<QueueGet>(), std::make_shared<QueueGet>()}};
  return s;
}

void run_queue_scenario(benchmark::State& state, bool checker) {
  constexpr int kSchedules = 100;
  const auto scenario = queue_scenario();
  Options options;
  options.schedules = kSchedules;
  options.jobs = 1;  // one exploring thread: the checker's share, not the machine's parallelism
  ParallelCheckOptions check_options;
  check_options.check = checker;
  for (auto _ : state) {
    const Result r = explore_parallel(QueueSpec{4}, scenario, options, check_options);
    if (r.failed()) {
      state.SkipWithError(r.report().c_str());
      return;
    }
  }
  state.counters["schedules_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kSchedules, benchmark::Counter::kIsRate);
}

void BM_QueueScenarioCheckerOn(benchmark::State& state) { run_queue_scenario(state, true); }
void BM_QueueScenarioCheckerOff(benchmark::State& state) { run_queue_scenario(state, false); }
BENCHMARK(BM_QueueScenarioCheckerOn)->Name("Schedules/QueueScenario/checker_on")->UseRealTime();
BENCHMARK(BM_QueueScenarioCheckerOff)->Name("Schedules/QueueScenario/checker_off")->UseRealTime();

}  // namespace
