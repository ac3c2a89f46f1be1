// Fuzzes Perturbation::parse, the parser of INTERLEAVE_PERTURB values (outside input: typed in a
// shell or a CI file). For every input:
//   - parse returns exactly what an independent statement of the accepted form (options.h and the
//     README's table) says, or throws std::invalid_argument exactly when that statement rejects the
//     input, with a message that quotes the accepted form; any other exception, a crash, a
//     sanitizer report or a hang is a finding;
//   - a value that parses describes itself canonically: parse(describe()) gives the same value, and
//     describe() of that is the same text again.
// The input's bytes also build a Perturbation directly (each rate 0..1000, the sum at most 1000),
// whose describe() must parse back to it: the other direction of the round trip.
//
// The accepted form: "off", "light", "heavy", or one to three comma-separated items <kind>=<n>,
// kind one of yield, spin, sleep (each at most once, in any order), n decimal digits (leading zeros
// allowed) with a value from 0 to 1000, the rates summing to at most 1000; a missing kind is 0.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "interleave/options.h"

namespace {

using interleave::Perturbation;

[[noreturn]] void finding(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "perturbation_fuzzer: %s\n  input: '", what);
  for (const char c : input) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      std::fputc(byte, stderr);
    } else {
      std::fprintf(stderr, "\\x%02x", byte);
    }
  }
  std::fprintf(stderr, "'\n  %s\n", detail.c_str());
  std::abort();
}

std::string show(const Perturbation& p) {
  return "yield=" + std::to_string(p.yield_permille) + " spin=" + std::to_string(p.spin_permille) +
         " sleep=" + std::to_string(p.sleep_permille);
}

// The accepted form, stated independently of the parser.
std::optional<Perturbation> expected(std::string_view text) {
  if (text == "off") return Perturbation{0, 0, 0};
  if (text == "light") return Perturbation{20, 30, 2};
  if (text == "heavy") return Perturbation{100, 100, 20};
  Perturbation p;
  bool seen[3] = {false, false, false};
  std::size_t start = 0;
  while (true) {
    std::size_t end = start;
    while (end < text.size() && text[end] != ',') ++end;
    const std::string_view item = text.substr(start, end - start);
    std::size_t eq = 0;
    while (eq < item.size() && item[eq] != '=') ++eq;
    if (eq == item.size()) return std::nullopt;
    const std::string_view kind = item.substr(0, eq);
    const std::string_view digits = item.substr(eq + 1);
    int* rate = nullptr;
    int which = 0;
    if (kind == "yield") {
      rate = &p.yield_permille;
      which = 0;
    } else if (kind == "spin") {
      rate = &p.spin_permille;
      which = 1;
    } else if (kind == "sleep") {
      rate = &p.sleep_permille;
      which = 2;
    } else {
      return std::nullopt;
    }
    if (seen[which] || digits.empty()) return std::nullopt;
    seen[which] = true;
    long value = 0;
    for (const char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
      if (value > 1000) return std::nullopt;
    }
    *rate = static_cast<int>(value);
    if (end == text.size()) break;
    start = end + 1;
  }
  if (p.yield_permille + p.spin_permille + p.sleep_permille > 1000) return std::nullopt;
  return p;
}

void check_round_trip(const Perturbation& p, std::string_view input) {
  const std::string described = p.describe();
  Perturbation again;
  try {
    again = Perturbation::parse(described);
  } catch (const std::exception& e) {
    finding("describe() prints what parse() rejects", input, show(p) + " printed '" + described + "': " + e.what());
  }
  if (!(again == p))
    finding("parse(describe()) differs", input, show(p) + " printed '" + described + "' parsed as " + show(again));
  if (again.describe() != described)
    finding("describe() is not canonical", input, described + " then " + again.describe());
}

void check_parse(std::string_view text) {
  const std::optional<Perturbation> want = expected(text);
  Perturbation got;
  try {
    got = Perturbation::parse(text);
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    if (want) finding("an accepted value was rejected", text, "expected " + show(*want) + "; got: " + message);
    if (message.find("yield=<n>,spin=<n>,sleep=<n>") == std::string::npos ||
        message.find("perturbation") == std::string::npos) {
      finding("the error does not name the value and the accepted form", text, message);
    }
    return;
  } catch (const std::exception& e) {
    finding("an exception other than std::invalid_argument", text, e.what());
  } catch (...) {
    finding("a non-standard exception", text, "");
  }
  if (!want) finding("a malformed value was accepted", text, "parsed as " + show(got));
  if (!(got == *want)) finding("parsed to the wrong value", text, "expected " + show(*want) + ", got " + show(got));
  check_round_trip(got, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_parse(text);
  // The other direction: three rates from the first bytes, scaled into range and kept to a sum of
  // at most 1000; their description must parse back to them.
  if (size >= 6) {
    const auto rate = [&](std::size_t i) { return static_cast<int>((data[i] | (data[i + 1] << 8)) % 1001); };
    Perturbation p{rate(0), rate(2), rate(4)};
    if (p.yield_permille + p.spin_permille > 1000) p.spin_permille = 1000 - p.yield_permille;
    if (p.yield_permille + p.spin_permille + p.sleep_permille > 1000) {
      p.sleep_permille = 1000 - p.yield_permille - p.spin_permille;
    }
    check_round_trip(p, text);
  }
  return 0;
}
