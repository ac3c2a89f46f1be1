// What the bug table's parts share (bugs.cpp, published_bugs.cpp, published_bugs_2.cpp): the
// primitives' short names, the constructor of a Bug from a test body, and the published programs'
// thread helpers.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "interleave/explore.h"
#include "interleave/mutex.h"
#include "interleave/native_platform.h"
#include "interleave/shared.h"
#include "interleave/stress.h"
#include "interleave/thread.h"
#include "scoreboard.h"

namespace scoreboard::body {

using interleave::NativePlatform;

template <Platform P>
using Mutex = interleave::BasicMutex<P>;
template <class T, Platform P>
using Atomic = typename P::template Atomic<T>;
template <class T, Platform P>
using Shared = interleave::Shared<T, P>;

// One bug of the table: its names, and its body run by the model, on plain threads, under
// stress and (through relacy_version) as its Relacy twin.
template <class Body>
Bug make_bug(std::string name, std::string origin, std::string property, std::string scenario, Body body,
             bool control = false) {
  auto shared = std::make_shared<Body>(std::move(body));
  Bug bug;
  bug.control = control;
  bug.name = std::move(name);
  bug.origin = std::move(origin);
  bug.property = std::move(property);
  bug.scenario = std::move(scenario);
  bug.explore = [shared](const Options& options) { return interleave::explore(options, *shared); };
  bug.run_native_once = [shared] { shared->template operator()<NativePlatform>(); };
  bug.stress = [shared](const Options& options, ChildRecord* record) {
    return interleave::stress(
        options,
        [shared, record]<Platform P>() {
          record->iterations_started.fetch_add(1, std::memory_order_relaxed);
          shared->template operator()<P>();
        },
        "bench/scoreboard");
  };
  bug.relacy = relacy_version(bug.name, control);
  return bug;
}

// A zoo bug, or its control: no origin, and no Relacy twin.
template <class Body>
Bug make_zoo_bug(std::string name, std::string property, std::string scenario, Body body, bool control = false) {
  return make_bug(std::move(name), "", std::move(property), std::move(scenario), std::move(body), control);
}

// A scenario as the property suites show it (its showValue).
template <class T>
std::string shown(const T& scenario) {
  std::ostringstream out;
  showValue(scenario, out);
  return out.str();
}

// Starts one thread per target, in order, then joins them all.
template <Platform P>
void run_threads(std::vector<std::function<void()>> targets) {
  std::vector<std::unique_ptr<interleave::BasicThread<P>>> threads;
  threads.reserve(targets.size());
  for (auto& target : targets) threads.push_back(std::make_unique<interleave::BasicThread<P>>(std::move(target)));
  for (auto& thread : threads) thread->start();
  for (auto& thread : threads) thread->join();
}

// Runs f() under `lock` when Locked, else bare.
template <bool Locked, class Lock, class F>
void maybe_locked(Lock& lock, F&& f) {
  if constexpr (Locked) {
    std::lock_guard guard(lock);
    f();
  } else {
    f();
  }
}

// `count` copies of `target`, then `rest`.
inline std::vector<std::function<void()>> repeat(int count, const std::function<void()>& target,
                                                 std::vector<std::function<void()>> rest = {}) {
  std::vector<std::function<void()>> targets(static_cast<std::size_t>(count), target);
  for (auto& t : rest) targets.push_back(std::move(t));
  return targets;
}

}  // namespace scoreboard::body
