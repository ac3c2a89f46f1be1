// What the two files of Relacy versions share (relacy_bugs.cpp, relacy_bugs_2.cpp): the
// declaration that joins them and the base of every test (relacy_bugs.cpp explains why thread 0
// plays main). Included after relacy.hpp, which the including file puts last among its includes.
#pragma once

#include <string>

namespace scoreboard {

using RelacySimulate = bool (*)(rl::test_params&);

// relacy_bugs_2.cpp: rl::simulate<Test> for the CB/, CHESS, ConVul and RADBench programs.
RelacySimulate relacy_simulate_2(const std::string& name);

namespace relacy_tests {

// Threads 1..N started in order by thread 0 (main), as the program's pthread_create loop (the
// interleave version's BasicThread::start) does: thread k + 1 yields until main has started it.
// Derived supplies init() (the state's initial values), body(k) (thread k + 1), and may supply
// before_start(k) (main's work before starting thread k + 1) and main_work() (after all starts).
template <class Derived, int N>
struct Started : rl::test_suite<Derived, N + 1> {
  rl::atomic<bool> started[N];
  void before() {
    for (auto& flag : started) flag($).store(false);
    self().init();
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (int k = 0; k < N; ++k) {
        self().before_start(k);
        started[k]($).store(true);
      }
      self().main_work();
      return;
    }
    while (!started[index - 1]($).load()) rl::yield(1, $);
    self().body(static_cast<int>(index) - 1);
  }
  void before_start(int) {}
  void main_work() {}
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace relacy_tests
}  // namespace scoreboard
