// Fuzzes ScheduleId::parse, the parser of INTERLEAVE_REPLAY tokens (outside input: pasted from a
// report, typed, or corrupted in a shell). For every input:
//   - parse either returns or throws std::invalid_argument whose message quotes the accepted form
//     and stays short (at most 80 bytes of the input are quoted); anything else (another exception,
//     a crash, a sanitizer report, a hang) is a finding;
//   - a token that parses prints back to exactly itself, and the printed token parses to the same
//     ScheduleId (tokens are canonical: one schedule, one spelling).
// The input's bytes also build a ScheduleId directly (every field in its documented range), whose
// token must parse back to it: the other direction of the round trip.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "interleave/schedule.h"

namespace {

[[noreturn]] void finding(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "schedule_token_fuzzer: %s\n  input: '%.*s'\n  %s\n", what, static_cast<int>(input.size()),
               input.data(), detail.c_str());
  std::abort();
}

std::uint64_t take_u64(const std::uint8_t*& data, std::size_t& size) {
  std::uint64_t v = 0;
  const std::size_t n = size < 8 ? size : 8;
  std::memcpy(&v, data, n);
  data += n;
  size -= n;
  return v;
}

void check_parse(std::string_view token) {
  interleave::ScheduleId id;
  try {
    id = interleave::ScheduleId::parse(token);
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    if (message.find("schedule token") == std::string::npos || message.find("expected") == std::string::npos) {
      finding("the error does not name the token and the accepted form", token, message);
    }
    if (message.size() > 2048) finding("the error is longer than 2048 bytes", token, message.substr(0, 2048));
    return;
  }
  const std::string printed = id.token();
  if (printed != token) finding("an accepted token does not print back to itself", token, "printed: " + printed);
  if (!(interleave::ScheduleId::parse(printed) == id)) finding("the printed token parses differently", token, printed);
}

void check_print(const std::uint8_t* data, std::size_t size) {
  interleave::ScheduleId id;
  const std::uint64_t bits = take_u64(data, size);
  // Every token carries a recorded fingerprint: 1..32 points, 1..points fibers, any hash.
  id.test.steps = 1 + static_cast<std::uint32_t>((bits >> 16) % interleave::TestFingerprint::kSteps);
  id.test.fibers = 1 + static_cast<std::uint32_t>((bits >> 24) % id.test.steps);
  id.test.hash = static_cast<std::uint32_t>(bits >> 32);
  if ((bits & 6U) == 6U) {
    // A choices schedule: entries sorted by (fiber, decision), values >= 1.
    id.strategy = interleave::Strategy::choices;
    id.max_steps = take_u64(data, size) | 1U;
    interleave::Choice c;
    while (size >= 4) {
      const std::uint64_t word = take_u64(data, size);
      if ((word & 3U) == 0) {
        c.fiber += 1 + static_cast<std::uint32_t>((word >> 2) & 7U);
        c.decision = 0;
      }
      c.decision += (word >> 5) & 0xffffU;
      c.value = static_cast<std::uint32_t>(word >> 32) | 1U;
      if (!id.choices.empty() && !(id.choices.back() < c)) continue;
      id.choices.push_back(c);
    }
  } else {
    id.strategy = (bits & 1U) != 0 ? interleave::Strategy::pct : interleave::Strategy::random_walk;
    if (id.strategy == interleave::Strategy::pct) {
      id.pct_depth = static_cast<int>(1 + (bits >> 1) % 64);
      id.pct_choice_points = take_u64(data, size) | 1U;  // >= 1
    }
    id.seed = take_u64(data, size);
    id.index = take_u64(data, size);
    id.spurious_wakeup_permille = static_cast<int>((bits >> 8) % 1001);
    id.max_steps = take_u64(data, size);
    if (id.max_steps == 0) id.max_steps = 1;
  }
  const std::string token = id.token();
  try {
    if (!(interleave::ScheduleId::parse(token) == id))
      finding("a printed token parses to another ScheduleId", token, "");
  } catch (const std::invalid_argument& e) {
    finding("a printed token is rejected", token, e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_parse(std::string_view(reinterpret_cast<const char*>(data), size));
  check_print(data, size);
  return 0;
}
