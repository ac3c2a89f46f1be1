// Fuzzes RegressionFile::parse, the parser of the regression files in properties/regressions/ and
// users' own (outside input: checked in, merged and edited by hand). For every input:
//   - parse returns exactly the cases an independent statement of the format (regressions.h,
//     docs/properties.md) finds, or throws std::invalid_argument exactly when that statement finds
//     a malformed line, naming "<file>:<that line>: " and the accepted form in a message of at most
//     2048 bytes (at most 80 bytes of the line are quoted); any other exception, a crash, a
//     sanitizer report or a hang is a finding;
//   - every case prints back (entry()) to a line that parses to the same case, and the file made of
//     the header and those lines parses to the same cases;
//   - the input as a comment (regression_comment_text) is one line of printable ASCII that parses
//     as a comment, so a comment written from a failure message never breaks its file.
//
// The format: lines split at '\n', one trailing '\r' dropped; fields split at runs of spaces and
// tabs; no field, or a first field starting with '#': nothing; otherwise exactly three fields
// <TestName> <kind> <value>: TestName [A-Za-z0-9_]+ with an optional "/<n>", n from 2 to 999999999
// without leading zeros; kind "rc" with a value of letters, digits and + _ - / =, or "replay" with
// a schedule token exactly as ScheduleId::token() prints it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "interleave/regressions.h"
#include "interleave/schedule.h"

namespace {

using interleave::RegressionCase;
using interleave::RegressionFile;
using interleave::RegressionKind;

constexpr const char* kPath = "fuzz/Suite.txt";

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out += c;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    }
  }
  return out;
}

[[noreturn]] void finding(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "regression_file_fuzzer: %s\n  input: '%s'\n  %s\n", what, printable(input).c_str(),
               detail.c_str());
  std::abort();
}

bool name_ok(std::string_view name) {
  const std::size_t slash = name.find('/');
  const std::string_view base = name.substr(0, slash);
  if (base.empty()) return false;
  for (const char c : base) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  if (slash == std::string_view::npos) return true;
  const std::string_view n = name.substr(slash + 1);
  if (n.empty() || n.size() > 9 || n[0] == '0') return false;
  std::uint64_t value = 0;
  for (const char c : n) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value >= 2;
}

bool value_ok(RegressionKind kind, std::string_view value) {
  if (value.empty()) return false;
  if (kind == RegressionKind::rapidcheck) {
    for (const char c : value) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
                      c == '_' || c == '-' || c == '/' || c == '=';
      if (!ok) return false;
    }
    return true;
  }
  try {
    return interleave::ScheduleId::parse(value).token() == value;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

// The cases the format finds, or the 1-based number of the first malformed line.
struct Expected {
  std::vector<RegressionCase> cases;
  int malformed_line = 0;
};

Expected expected(std::string_view text) {
  Expected out;
  int number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    ++number;
    std::size_t end = start;
    while (end < text.size() && text[end] != '\n') ++end;
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line[line.size() - 1] == '\r') line = line.substr(0, line.size() - 1);
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (true) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i >= line.size()) break;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      fields.push_back(line.substr(i, j - i));
      i = j;
    }
    if (fields.empty() || fields[0][0] == '#') continue;
    RegressionCase c;
    const bool kind_ok = fields.size() == 3 && (fields[1] == "rc" || fields[1] == "replay");
    if (kind_ok) c.kind = fields[1] == "rc" ? RegressionKind::rapidcheck : RegressionKind::replay;
    if (!kind_ok || !name_ok(fields[0]) || !value_ok(c.kind, fields[2])) {
      out.malformed_line = number;
      return out;
    }
    c.test = std::string(fields[0]);
    c.value = std::string(fields[2]);
    c.line = number;
    out.cases.push_back(std::move(c));
  }
  return out;
}

std::string show(const RegressionCase& c) { return c.entry() + " (line " + std::to_string(c.line) + ")"; }

void check_same(const std::vector<RegressionCase>& got, const std::vector<RegressionCase>& want, std::string_view input,
                const char* what) {
  if (got.size() != want.size()) {
    finding(what, input, "expected " + std::to_string(want.size()) + " cases, got " + std::to_string(got.size()));
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!got[i].same_case(want[i]) || got[i].line != want[i].line) {
      finding(what, input, "case " + std::to_string(i) + ": expected " + show(want[i]) + ", got " + show(got[i]));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Expected want = expected(text);
  RegressionFile file;
  try {
    file = RegressionFile::parse(text, kPath);
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    if (want.malformed_line == 0) finding("a well-formed file was rejected", text, message);
    const std::string where = std::string(kPath) + ":" + std::to_string(want.malformed_line) + ": ";
    if (message.find(where) == std::string::npos) finding("the error does not name the malformed line", text, message);
    if (message.find("accepted: '<TestName> rc <RapidCheck reproduce string>'") == std::string::npos) {
      finding("the error does not state the accepted form", text, message);
    }
    if (message.size() > 2048) finding("the error is longer than 2048 bytes", text, message.substr(0, 2048));
    return 0;
  } catch (const std::exception& e) {
    finding("an exception other than std::invalid_argument", text, e.what());
  } catch (...) {
    finding("a non-standard exception", text, "");
  }
  if (want.malformed_line != 0) {
    finding("a malformed line was accepted", text, "line " + std::to_string(want.malformed_line));
  }
  check_same(file.cases(), want.cases, text, "parsed the wrong cases");

  // Round trip: the cases printed under the header parse to the same cases (at their new lines).
  std::string printed(interleave::regression_file_header());
  const int header_lines = static_cast<int>(std::count(printed.begin(), printed.end(), '\n'));
  std::vector<RegressionCase> renumbered = file.cases();
  for (std::size_t i = 0; i < renumbered.size(); ++i) {
    printed += renumbered[i].entry() + "\n";
    renumbered[i].line = header_lines + static_cast<int>(i) + 1;
  }
  try {
    check_same(RegressionFile::parse(printed, kPath).cases(), renumbered, text, "printed cases parse differently");
  } catch (const std::invalid_argument& e) {
    finding("printed cases do not parse", text, e.what());
  }

  // The input as a comment: one printable line, which parses as nothing at all.
  const std::string comment = interleave::regression_comment_text(text);
  for (const char c : comment) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      finding("a comment holds a control or non-ASCII byte", text, printable(comment));
    }
  }
  try {
    if (!RegressionFile::parse("# " + comment + "\n", kPath).cases().empty()) {
      finding("a comment line parsed as a case", text, comment);
    }
  } catch (const std::invalid_argument& e) {
    finding("a comment line is malformed", text, e.what());
  }
  return 0;
}
