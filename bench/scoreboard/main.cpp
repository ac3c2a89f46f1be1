// The bug-finding scoreboard: how many of the zoo's broken primitives (properties/zoo/) each way
// of running a test finds, and how fast.
//
// For every zoo bug, one fixed scenario of the property that catches it (the bodies of
// properties/scenarios/), run under seven strategies with N seeds each:
//   - the model (interleave::explore): random walk, PCT depth 1, 2 and 3, POS, `--budget` schedules;
//   - a plain loop on real std::threads (NativePlatform, no perturbation), `--budget` iterations;
//   - interleave::stress (the Perturbed platform, its default `light` perturbation), `--budget`
//     iterations.
// Each real-thread run happens in a forked child process, watched by this (single-threaded)
// process: a bug that deadlocks real threads cannot be cancelled in-process, so a child whose
// current iteration makes no progress for `--hang-ms` is killed and counted as having found the
// bug (hung); an INTERLEAVE_ASSERT on plain threads aborts, which the child turns into an exit
// code. The child also stops starting iterations after `--real-ms`.
//
// Controls run the library's correct primitives on the same scenarios (`--control-seeds`): a
// scenario that fails its control on some strategy proves nothing about the bug there, and the
// bug rows sharing that scenario and strategy are marked and not counted in the summary.
//
// The result is a markdown table (docs/scoreboard.md, written by ci/scoreboard.sh). Run with
// --help for the flags.
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "scoreboard.h"

namespace scoreboard {
namespace {

// --list: every bug and control with its property and scenario.
void list_bugs(const std::vector<Bug>& every_bug) {
  for (const Bug& bug : every_bug) {
    std::cout << bug.name << (bug.control ? " (control)" : "") << ": " << bug.property << ", " << bug.scenario << "\n";
  }
}

// The bugs whose name contains --filter; none is a bad flag.
std::vector<const Bug*> matching_bugs(const std::vector<Bug>& every_bug, const std::string& filter) {
  std::vector<const Bug*> bugs;
  for (const Bug& bug : every_bug) {
    if (bug.name.find(filter) != std::string::npos) bugs.push_back(&bug);
  }
  if (bugs.empty()) {
    std::vector<std::string> names;
    for (const Bug& bug : every_bug) names.push_back(bug.name);
    bad_flag(absl::StrCat("--filter=", filter, " matches no bug; the bugs are: ", absl::StrJoin(names, ", ")));
  }
  return bugs;
}

// The command as the page shows it: "scoreboard" and the arguments given.
std::string command_line(int argc, char** argv) {
  std::vector<std::string> words;
  words.push_back("scoreboard");
  for (int i = 1; i < argc; ++i) words.emplace_back(argv[i]);
  return absl::StrJoin(words, " ");
}

// Writes the page to --output (standard output for -); returns the exit status.
int write_page(const std::string& text, const Settings& settings, std::ofstream& file) {
  if (settings.output == "-") {
    std::cout << text;
  } else {
    file << text;
    file.close();
    if (!file) {
      std::cerr << "scoreboard: writing " << settings.output << " failed\n";
      return 1;
    }
    std::cerr << "scoreboard: wrote " << settings.output << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace scoreboard

int main(int argc, char** argv) {
  using namespace scoreboard;
  const Settings settings = parse_flags(argc, argv);
  const std::vector<Bug> every_bug = all_bugs();
  if (settings.list) {
    list_bugs(every_bug);
    return 0;
  }
  const std::vector<const Bug*> bugs = matching_bugs(every_bug, settings.filter);
  // Open the output before the long run, so a bad path fails at once.
  std::ofstream file;
  if (settings.output != "-") {
    file.open(settings.output, std::ios::trunc);
    if (!file)
      bad_flag(absl::StrCat("--output=", settings.output, ": cannot open for writing: ", std::strerror(errno)));
  }
  const std::string command = command_line(argc, argv);

  const std::string started_at = utc_now();
  const std::string load_before = load_average();
  const auto began = std::chrono::steady_clock::now();
  std::vector<Row> rows;
  try {
    rows = run_all(bugs, settings);
  } catch (const std::exception& e) {
    std::cerr << "scoreboard: " << e.what() << "\n";
    return 1;
  }
  const std::chrono::duration<double> total = std::chrono::steady_clock::now() - began;
  const std::string text = markdown(rows, settings, bugs, started_at, load_before, total.count(), command);
  return write_page(text, settings, file);
}
