// Regression files: failing cases persisted beside a test suite and replayed first on every later
// run, before any new exploration (docs/properties.md, "Regression files").
//
// One file per GoogleTest suite, <directory>/<Suite>.txt, written by the tests and checked in by
// the user. Line-oriented text:
//
//   # a comment: '#' as the first non-blank character; blank lines are ignored
//   <TestName> rc <RapidCheck reproduce string>     a case of an INTERLEAVE_PROPERTY test
//   <TestName> replay <INTERLEAVE_REPLAY token>     a schedule of an INTERLEAVE_TEST test
//
// Fields are separated by spaces or tabs. <TestName> is the test's name within the suite
// ([A-Za-z0-9_]+), followed by /<n> (n >= 2) for the n-th exploration of an INTERLEAVE_TEST that
// runs several. Lines of other tests are left to them; a malformed line is an error naming
// file:line and the accepted form. Writers append one whole line per write() under an exclusive
// lock, so test processes running at once (ctest -j) neither interleave nor duplicate entries.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "interleave/explore.h"
#include "interleave/options.h"

namespace interleave {

enum class RegressionKind {
  rapidcheck,  // "rc": the reproduce string RapidCheck prints (RC_PARAMS="reproduce=...")
  replay,      // "replay": a schedule token (INTERLEAVE_REPLAY=...)
};

// "rc" / "replay".
std::string_view to_string(RegressionKind kind) noexcept;

struct RegressionCase {
  std::string test;  // the test's name within its suite, with /<n> for a later exploration
  RegressionKind kind = RegressionKind::replay;
  std::string value;  // the reproduce string or the token
  int line = 0;       // 1-based line in the file it was read from; 0 when not read from a file

  // The line that records this case, without the newline: "<test> <kind> <value>".
  [[nodiscard]] std::string entry() const;
  // Identical cases: same test, kind and value (wherever they stand).
  [[nodiscard]] bool same_case(const RegressionCase& other) const noexcept {
    return test == other.test && kind == other.kind && value == other.value;
  }
};

class RegressionFile {
 public:
  // Parses the text of a regression file; `path` names it in errors. Throws std::invalid_argument
  // "<path>:<line>: <what is wrong>; accepted: ..." for the first malformed line, quoting at most
  // 80 bytes of it, escaped ("... (N more bytes)" after).
  static RegressionFile parse(std::string_view text, std::string path);
  // Reads and parses the file; a file that does not exist has no cases. Throws
  // std::invalid_argument for a malformed line and std::runtime_error (naming the file and the
  // reason) when it exists but cannot be read, is not a regular file (a FIFO, a directory, a
  // device: refused without waiting on it) or is larger than 16 MiB.
  static RegressionFile load(std::string path);

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::vector<RegressionCase>& cases() const noexcept { return cases_; }
  // The cases of one test, in file order.
  [[nodiscard]] std::vector<RegressionCase> cases_of(std::string_view test) const;

 private:
  std::string path_;
  std::vector<RegressionCase> cases_;
};

// What append_regression did.
struct AppendedRegression {
  int line = 0;        // the case's line in the file (the existing one when it was already there)
  bool added = false;  // false: an identical case was already recorded
};

// Appends `c` to the regression file at `path`, after `comments` (one '#' line each; control
// characters are written as C escapes so a comment stays one line), unless an identical case is
// already there. Creates the file with the format's description on top, and missing directories
// above it. The check and the append happen under an exclusive flock(), and the new text goes out
// in one write() to a descriptor opened with O_APPEND. Throws std::invalid_argument when `c` would
// not parse back (a bad name, kind or value), or when the file holds a malformed line; throws
// std::runtime_error naming the file and the reason when it cannot be written.
AppendedRegression append_regression(const std::string& path, const RegressionCase& c,
                                     const std::vector<std::string>& comments);

// The file of a suite: "<directory>/<suite>.txt".
std::string regression_file_path(std::string_view directory, std::string_view suite);

// The directory of the regression files in force: Options::regressions when set (from the code or
// INTERLEAVE_REGRESSIONS), else `default_directory`; nullopt when that is "off" or empty.
std::optional<std::string> regression_directory(const Options& options, std::string_view default_directory);

// The header written on top of a new regression file (every line a comment).
std::string_view regression_file_header() noexcept;

// "<path>:<line>" for messages.
std::string regression_location(const std::string& path, int line);

// A comment's text as one printable line: control characters and non-ASCII bytes as C escapes.
std::string regression_comment_text(std::string_view text);

namespace detail {
// The test an exploration records its failures for (interleave/gtest.h's INTERLEAVE_TEST).
struct RegressionTarget {
  std::string suite;              // the GoogleTest suite: the file is <directory>/<suite>.txt
  std::string test;               // the case's test name in the file (with /<n> for a later exploration)
  std::string display_name;       // "Suite.Name", for comments
  std::string default_directory;  // when Options::regressions is empty
};

// Runs an exploration of `target` with its regression file: every recorded schedule of the test
// first (the first that fails again is returned, its message saying it is a recorded regression
// and where), then `run(options)`; a new failure is appended to the file and its message says so.
// With a replay token in force (Options::replay or INTERLEAVE_REPLAY) it only runs `run(options)`:
// reproducing one schedule neither replays nor records cases. Throws std::invalid_argument for a
// malformed INTERLEAVE_* variable or regression file line, ReplayMismatch naming the file:line for
// a recorded schedule that no longer fits the test (see explore.h), std::runtime_error for a file
// that cannot be read.
Result explore_recorded(const RegressionTarget& target, Options options, const std::function<Result(Options)>& run);

// "2026-11-26 02:40:11 UTC", for comments.
std::string utc_timestamp();

// The directory part of a source file's path (__FILE__), "." when it has none.
std::string source_directory(std::string_view file);
}  // namespace detail

}  // namespace interleave
