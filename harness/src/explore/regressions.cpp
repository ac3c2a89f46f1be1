#include "interleave/regressions.h"

#include <absl/strings/escaping.h>
#include <absl/strings/str_cat.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "interleave/schedule.h"
#include "quote.h"

namespace interleave {

namespace {

constexpr std::string_view kAcceptedLine =
    "'<TestName> rc <RapidCheck reproduce string>' or '<TestName> replay <INTERLEAVE_REPLAY token>' (TestName: "
    "letters, digits and '_', optionally '/<n>' with n >= 2), a comment starting with '#', or a blank line";

constexpr std::string_view kHeader =
    "# interleave regression file: failing cases of this suite's INTERLEAVE_PROPERTY and INTERLEAVE_TEST tests,\n"
    "# replayed before any new exploration on every run. Check it in; delete a case's line once its bug is fixed\n"
    "# and the case has passed (see docs/properties.md, \"Regression files\"). One case per line:\n"
    "#   <TestName> rc <RapidCheck reproduce string>\n"
    "#   <TestName> replay <INTERLEAVE_REPLAY token>\n"
    "# '#' starts a comment line; blank lines are ignored.\n";

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Letters, digits and the punctuation of Base64 alphabets (RapidCheck's uses '+' and '_').
bool is_reproduce_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '_' ||
         c == '-' || c == '/' || c == '=';
}

// At most 80 bytes, escaped: a line of 50 MB of NUL bytes must not become a 200 MB message.
std::string quote_escaped(std::string_view text) { return detail::quote_input(text); }

[[noreturn]] void malformed(const std::string& path, int line, std::string_view what) {
  throw std::invalid_argument(absl::StrCat("interleave: ", regression_location(path, line), ": ", std::string(what),
                                           "; accepted: ", std::string(kAcceptedLine)));
}

// Empty when `name` is a valid test name, else what is wrong with it.
std::string check_test_name(std::string_view name) {
  const auto slash = name.find('/');
  const std::string_view base = name.substr(0, slash);
  if (base.empty()) return absl::StrCat("the test name ", quote_escaped(name), " is empty before '/'");
  for (char c : base) {
    if (!is_name_char(c))
      return absl::StrCat("the test name ", quote_escaped(name), " has a character other than letters, digits and '_'");
  }
  if (slash == std::string_view::npos) return {};
  const std::string_view ordinal = name.substr(slash + 1);
  bool ok = !ordinal.empty() && ordinal.size() <= 9 && ordinal[0] != '0' &&
            ordinal.find_first_not_of("0123456789") == std::string_view::npos;
  if (ok && ordinal.size() == 1 && ordinal[0] == '1') ok = false;
  if (!ok)
    return absl::StrCat("the test name ", quote_escaped(name), " has '/' not followed by a number from 2 to 999999999");
  return {};
}

// Empty when `c` is a valid case, else what is wrong with it.
std::string check_case(const RegressionCase& c) {
  if (std::string problem = check_test_name(c.test); !problem.empty()) return problem;
  if (c.value.empty())
    return absl::StrCat("the ", std::string(to_string(c.kind)), " case of ", c.test, " has no value");
  if (c.kind == RegressionKind::rapidcheck) {
    for (char ch : c.value) {
      if (!is_reproduce_char(ch)) {
        return absl::StrCat("the RapidCheck reproduce string ", quote_escaped(c.value),
                            " has a character other than letters, digits and + _ - / =");
      }
    }
    return {};
  }
  try {
    const ScheduleId id = ScheduleId::parse(c.value);
    if (id.token() != c.value) {
      return absl::StrCat("the schedule token ", quote_escaped(c.value), " is not written as printed: ", id.token());
    }
  } catch (const std::invalid_argument& e) {
    std::string reason = e.what();
    if (reason.rfind("interleave: ", 0) == 0) reason.erase(0, 12);
    return reason;
  }
  return {};
}

std::string system_error_text(int error) { return std::error_code(error, std::generic_category()).message(); }

// Regression files are read whole; the harness writes a few hundred bytes per case, so a larger
// file is not one it wrote (a log or a core file under the wrong name) and is refused, not read.
constexpr std::size_t kMaxRegressionFileBytes = 16 << 20;

[[noreturn]] void too_large(const std::string& path, std::uint64_t size) {
  throw std::runtime_error(absl::StrCat("interleave: regression file ", path, " is ",
                                        size > kMaxRegressionFileBytes ? absl::StrCat(size, " bytes") : "growing",
                                        "; a regression file is read whole and may be at most ",
                                        kMaxRegressionFileBytes, " bytes (16 MiB): is it the file you meant?"));
}

// Reads the whole of an open regular file from offset 0, at most kMaxRegressionFileBytes.
std::string read_all(int fd, const std::string& path) {
  std::string text;
  char buffer[8192];
  off_t offset = 0;
  while (true) {
    if (text.size() > kMaxRegressionFileBytes) too_large(path, text.size());
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(
          absl::StrCat("interleave: cannot read regression file ", path, ": ", system_error_text(errno)));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    offset += n;
  }
  return text;
}

void write_all(int fd, std::string_view text, const std::string& path) {
  // One write() for the whole text; a short write (a full disk) is finished by further writes.
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(
          absl::StrCat("interleave: cannot write regression file ", path, ": ", system_error_text(errno)));
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string_view file_type(mode_t mode) noexcept {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

[[noreturn]] void not_regular(const std::string& path, std::string_view type) {
  throw std::runtime_error(absl::StrCat("interleave: regression file ", path, " is ", std::string(type),
                                        "; a regression file must be a regular file (or not exist yet)"));
}

// Refuses what is not a regular file of at most kMaxRegressionFileBytes. The descriptor was opened
// with O_NONBLOCK, so opening a FIFO did not wait for a writer (it would wait for ever).
void check_regular(int fd, const std::string& path) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    throw std::runtime_error(
        absl::StrCat("interleave: cannot examine regression file ", path, ": ", system_error_text(errno)));
  }
  if (!S_ISREG(status.st_mode)) not_regular(path, file_type(status.st_mode));
  if (static_cast<std::uint64_t>(status.st_size) > kMaxRegressionFileBytes) {
    too_large(path, static_cast<std::uint64_t>(status.st_size));
  }
}

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::string_view to_string(RegressionKind kind) noexcept {
  switch (kind) {
    case RegressionKind::rapidcheck:
      return "rc";
    case RegressionKind::replay:
      return "replay";
  }
  return "?";
}

std::string RegressionCase::entry() const { return absl::StrCat(test, " ", std::string(to_string(kind)), " ", value); }

std::string regression_location(const std::string& path, int line) { return absl::StrCat(path, ":", line); }

std::string_view regression_file_header() noexcept { return kHeader; }

std::string regression_comment_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

RegressionFile RegressionFile::parse(std::string_view text, std::string path) {
  RegressionFile file;
  file.path_ = std::move(path);
  int number = 0;
  while (!text.empty()) {
    ++number;
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // a file saved with CRLF line ends
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_blank(line[i])) ++i;
      if (i == line.size()) break;
      std::size_t end = i;
      while (end < line.size() && !is_blank(line[end])) ++end;
      fields.push_back(line.substr(i, end - i));
      i = end;
    }
    if (fields.empty() || fields[0][0] == '#') continue;
    if (fields.size() != 3) {
      malformed(file.path_, number,
                absl::StrCat("the line ", quote_escaped(line), " has ", fields.size(), " field",
                             fields.size() == 1 ? "" : "s", ", not 3"));
    }
    RegressionCase c;
    c.test = std::string(fields[0]);
    c.value = std::string(fields[2]);
    c.line = number;
    if (fields[1] == "rc") {
      c.kind = RegressionKind::rapidcheck;
    } else if (fields[1] == "replay") {
      c.kind = RegressionKind::replay;
    } else {
      malformed(file.path_, number,
                absl::StrCat("the kind ", quote_escaped(fields[1]), " is neither 'rc' nor 'replay'"));
    }
    if (const std::string problem = check_case(c); !problem.empty()) malformed(file.path_, number, problem);
    file.cases_.push_back(std::move(c));
  }
  return file;
}

RegressionFile RegressionFile::load(std::string path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      RegressionFile empty;
      empty.path_ = std::move(path);
      return empty;
    }
    throw std::runtime_error(
        absl::StrCat("interleave: cannot open regression file ", path, ": ", system_error_text(errno)));
  }
  const Descriptor descriptor(fd);
  check_regular(fd, path);
  const std::string text = read_all(fd, path);
  return parse(text, std::move(path));
}

std::vector<RegressionCase> RegressionFile::cases_of(std::string_view test) const {
  std::vector<RegressionCase> out;
  for (const RegressionCase& c : cases_) {
    if (c.test == test) out.push_back(c);
  }
  return out;
}

AppendedRegression append_regression(const std::string& path, const RegressionCase& c,
                                     const std::vector<std::string>& comments) {
  if (const std::string problem = check_case(c); !problem.empty()) {
    throw std::invalid_argument(absl::StrCat("interleave: cannot record a regression in ", path, ": ", problem));
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) {
      throw std::runtime_error(absl::StrCat("interleave: cannot create the directory ", parent.string(), " for ", path,
                                            ": ", error.message()));
    }
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EISDIR) not_regular(path, "a directory");
    throw std::runtime_error(
        absl::StrCat("interleave: cannot open regression file ", path, " to append: ", system_error_text(errno)));
  }
  const Descriptor descriptor(fd);
  check_regular(fd, path);
  // Held until the descriptor closes: test processes of one suite (ctest -j) append in turn, and
  // each sees the others' cases before deciding whether its own is new.
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      throw std::runtime_error(
          absl::StrCat("interleave: cannot lock regression file ", path, ": ", system_error_text(errno)));
    }
  }
  const std::string existing = read_all(fd, path);
  const RegressionFile file = RegressionFile::parse(existing, path);
  int lines = 0;
  for (char ch : existing) lines += ch == '\n' ? 1 : 0;
  for (const RegressionCase& old : file.cases()) {
    if (old.same_case(c)) return {old.line, false};
  }
  std::string text;
  if (existing.empty()) {
    text += kHeader;
  } else if (existing.back() != '\n') {
    text += '\n';  // the last line was saved without its newline
  }
  text += '\n';
  for (const std::string& comment : comments) absl::StrAppend(&text, "# ", regression_comment_text(comment), "\n");
  absl::StrAppend(&text, c.entry(), "\n");
  int before_entry = lines;
  for (char ch : text) before_entry += ch == '\n' ? 1 : 0;
  write_all(fd, text, path);
  return {before_entry, true};
}

std::string regression_file_path(std::string_view directory, std::string_view suite) {
  std::string path(directory);
  if (!path.empty() && path.back() != '/') path += '/';
  absl::StrAppend(&path, std::string(suite), ".txt");
  return path;
}

std::optional<std::string> regression_directory(const Options& options, std::string_view default_directory) {
  const std::string_view chosen = options.regressions.empty() ? default_directory : options.regressions;
  if (chosen.empty() || chosen == "off") return std::nullopt;
  return std::string(chosen);
}

namespace detail {

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  ::gmtime_r(&now, &parts);
  char text[32];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return std::string(text, n);
}

namespace {
std::string first_line(std::string_view text) { return std::string(text.substr(0, text.find('\n'))); }
}  // namespace

Result explore_recorded(const RegressionTarget& target, Options options, const std::function<Result(Options)>& run) {
  Options effective = options;
  effective.apply_environment();
  if (!effective.replay.empty()) return run(std::move(options));
  const std::optional<std::string> directory = regression_directory(effective, target.default_directory);
  if (!directory) return run(std::move(options));
  const std::string path = regression_file_path(*directory, target.suite);
  const RegressionFile file = RegressionFile::load(path);
  for (const RegressionCase& c : file.cases_of(target.test)) {
    const std::string where = regression_location(path, c.line);
    if (c.kind != RegressionKind::replay) {
      throw std::invalid_argument(absl::StrCat(
          "interleave: ", where, ": ", target.test, " is an INTERLEAVE_TEST exploration; its cases are '", target.test,
          " replay <INTERLEAVE_REPLAY token>' lines, not '", std::string(to_string(c.kind)), "'"));
    }
    Options replay = options;
    replay.replay = c.value;
    Result result;
    try {
      result = run(std::move(replay));
    } catch (const ReplayMismatch& e) {
      std::string reason = e.what();
      if (reason.rfind("interleave: ", 0) == 0) reason.erase(0, 12);
      throw ReplayMismatch(absl::StrCat(
          "interleave: ", where, ": the recorded case of ", target.test, " cannot be replayed: ", reason,
          "\n  For this recorded case: if its bug is fixed, delete its line; if not, delete it and run the test "
          "again, which records the failure anew when it finds it."));
    }
    if (result.failed()) {
      result.failure->message = absl::StrCat("recorded regression ", where, " fails again: ", result.failure->message);
      return result;
    }
  }
  Result result = run(std::move(options));
  if (!result.failed() || result.replayed) return result;
  RegressionCase c;
  c.test = target.test;
  c.kind = RegressionKind::replay;
  // The schedule the report names: the shrunk one when the failure was shrunk.
  c.value = result.reproduce_token();
  const std::string report = result.report();
  try {
    const AppendedRegression appended = append_regression(path, c,
                                                          {absl::StrCat(utc_timestamp(), " ", target.display_name),
                                                           first_line(report), first_line(result.failure->message)});
    const std::string where = regression_location(path, appended.line);
    absl::StrAppend(&result.failure->message,
                    appended.added ? absl::StrCat("\n  new failure recorded as a regression at ", where,
                                                  " (check the file in: it is replayed first on every run)")
                                   : absl::StrCat("\n  already recorded as a regression at ", where));
  } catch (const std::exception& e) {
    absl::StrAppend(&result.failure->message, "\n  could not record it as a regression: ", e.what());
  }
  return result;
}

std::string source_directory(std::string_view file) {
  const auto slash = file.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(file.substr(0, slash));
}
}  // namespace detail

}  // namespace interleave
