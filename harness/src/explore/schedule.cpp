#include "interleave/schedule.h"

#include <absl/strings/escaping.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>

#include <stdexcept>
#include <vector>

#include "model/strategies/registry.h"
#include "quote.h"

namespace interleave {

namespace {

constexpr std::string_view kForm =
    "'random.s=<hex>.i=<n>.w=<0..1000>.m=<n>=1..>.t=<fingerprint>' (or the same fields after 'pos.'), "
    "'pct.d=<1..64>.c=<n>=1..>.s=<hex>.i=<n>.w=<0..1000>.m=<n>=1..>.t=<fingerprint>', "
    "'surw.e=<n>_<n>_...|-.s=<hex>.i=<n>.w=<0..1000>.m=<n>=1..>.t=<fingerprint>' "
    "or 'choices.c=<fiber>_<decision>:<value>,...|-.m=<n>=1..>.t=<fingerprint>' (<fingerprint>: "
    "<steps 1..32>-<fibers 1..steps>-<8 hex digits>), each with an optional field "
    "'v=weak-<store history 1..64>-<spurious compare-exchange per-mille 0..1000>' before '.t=', as printed in a "
    "failure report";

// Input is quoted with C escapes (a byte such as NUL or a newline must not cut or garble the
// message) and at most 80 bytes of it (a pasted 50 MB file must not become a 200 MB message).
std::string quoted(std::string_view text) { return detail::quote_input(text); }

[[noreturn]] void reject(std::string_view token, std::string_view why) {
  throw std::invalid_argument(
      absl::StrFormat("interleave: schedule token %s is malformed: %s; expected %s", quoted(token), why, kForm));
}

std::uint64_t field(std::string_view token, std::string_view part, std::string_view key, bool hex, std::uint64_t min,
                    std::uint64_t max) {
  if (part.size() <= key.size() + 1 || part.substr(0, key.size()) != key || part[key.size()] != '=') {
    reject(token, absl::StrCat("expected field '", std::string(key), "=' but found ", quoted(part)));
  }
  const std::string_view digits = part.substr(key.size() + 1);
  const std::string_view allowed = hex ? "0123456789abcdef" : "0123456789";
  std::uint64_t value = 0;
  const bool ok = digits.size() <= (hex ? 16U : 20U) && digits.find_first_not_of(allowed) == std::string_view::npos &&
                  (hex ? absl::SimpleHexAtoi(absl::string_view(digits.data(), digits.size()), &value)
                       : absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), &value));
  if (!ok || value < min || value > max) {
    reject(token, absl::StrCat("field '", std::string(key), "' has value ", quoted(digits), "; it must be ",
                               hex ? "lower-case hexadecimal" : "a decimal integer", " from ", min, " to ", max));
  }
  // Canonical form only, so every accepted token prints back to itself.
  if (digits.size() > 1 && digits[0] == '0')
    reject(token, absl::StrCat("field '", std::string(key), "' has a leading zero"));
  return value;
}

std::uint64_t number(std::string_view token, std::string_view digits, std::string_view what, std::uint64_t min,
                     std::uint64_t max) {
  std::uint64_t value = 0;
  const bool ok = !digits.empty() && digits.size() <= 20 &&
                  digits.find_first_not_of("0123456789") == std::string_view::npos &&
                  absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), &value) &&
                  !(digits.size() > 1 && digits[0] == '0');
  if (!ok || value < min || value > max) {
    reject(token, absl::StrCat(std::string(what), " ", quoted(digits), " must be a decimal integer from ", min, " to ",
                               max, " without leading zeros"));
  }
  return value;
}

// "c=<fiber>_<decision>:<value>,..." or "c=-".
std::vector<Choice> choice_list(std::string_view token, std::string_view part) {
  if (part.substr(0, 2) != "c=") {
    reject(token, absl::StrCat("expected field 'c=' but found ", quoted(part)));
  }
  const std::string_view list = part.substr(2);
  std::vector<Choice> out;
  if (list == "-") return out;
  if (list.empty()) reject(token, "the choice list is empty (write '-' for no choices)");
  for (absl::string_view item : absl::StrSplit(absl::string_view(list.data(), list.size()), ',')) {
    const std::string_view entry(item.data(), item.size());
    const auto underscore = entry.find('_');
    const auto colon = entry.find(':');
    if (underscore == std::string_view::npos || colon == std::string_view::npos || colon < underscore) {
      reject(token, absl::StrCat("choice ", quoted(entry), " is not <fiber>_<decision>:<value>"));
    }
    Choice c;
    c.fiber = static_cast<std::uint32_t>(number(token, entry.substr(0, underscore), "fiber", 0, UINT32_MAX - 1));
    c.decision = number(token, entry.substr(underscore + 1, colon - underscore - 1), "decision", 0, UINT64_MAX);
    c.value = static_cast<std::uint32_t>(number(token, entry.substr(colon + 1), "value", 1, UINT32_MAX));
    if (!out.empty() && !(out.back() < c)) {
      reject(token, absl::StrCat("choice ", c.fiber, "_", c.decision, " does not come after choice ", out.back().fiber,
                                 "_", out.back().decision, " (sort by fiber, then decision)"));
    }
    out.push_back(c);
  }
  return out;
}

// "e=<n>_<n>_..." or "e=-": SURW's estimates, one per fiber.
std::vector<std::uint64_t> estimate_list(std::string_view token, std::string_view part) {
  if (part.substr(0, 2) != "e=") reject(token, absl::StrCat("expected field 'e=' but found ", quoted(part)));
  const std::string_view list = part.substr(2);
  std::vector<std::uint64_t> out;
  if (list == "-") return out;
  if (list.empty()) reject(token, "the estimate list is empty (write '-' for none)");
  for (absl::string_view item : absl::StrSplit(absl::string_view(list.data(), list.size()), '_')) {
    if (out.size() == detail::model::kMaxSurwEstimates) {
      reject(token, absl::StrCat("the estimate list has more than ", detail::model::kMaxSurwEstimates,
                                 " entries (one per fiber)"));
    }
    out.push_back(number(token, std::string_view(item.data(), item.size()), "estimate", 0, UINT64_MAX));
  }
  return out;
}

// "t=<steps>-<fibers>-<hash>".
TestFingerprint fingerprint_field(std::string_view token, std::string_view part) {
  if (part.substr(0, 2) != "t=") {
    reject(token, absl::StrCat("expected the test fingerprint field 't=' but found ", quoted(part)));
  }
  const std::string_view text = part.substr(2);
  if (text == "-") {
    reject(token, "it records no test fingerprint ('t=-'), so a replay could not tell whether it fits the test");
  }
  const auto first = text.find('-');
  const auto second = first == std::string_view::npos ? first : text.find('-', first + 1);
  if (second == std::string_view::npos) {
    reject(token, absl::StrCat("the test fingerprint ", quoted(text), " is not <steps>-<fibers>-<hash>"));
  }
  TestFingerprint f;
  f.steps =
      static_cast<std::uint32_t>(number(token, text.substr(0, first), "fingerprint steps", 1, TestFingerprint::kSteps));
  f.fibers = static_cast<std::uint32_t>(
      number(token, text.substr(first + 1, second - first - 1), "fingerprint fibers", 1, f.steps));
  const std::string_view hash = text.substr(second + 1);
  std::uint32_t value = 0;
  if (hash.size() != 8 || hash.find_first_not_of("0123456789abcdef") != std::string_view::npos ||
      !absl::SimpleHexAtoi(absl::string_view(hash.data(), hash.size()), &value)) {
    reject(token, absl::StrCat("fingerprint hash ", quoted(hash), " must be 8 lower-case hexadecimal digits"));
  }
  f.hash = value;
  return f;
}

// A token of the form before fingerprints: the field count one short and 'm=' last.
[[noreturn]] void reject_unfingerprinted(std::string_view token) {
  reject(token,
         "it has no test fingerprint (a last field 't=<steps>-<fibers>-<hash>'): tokens printed before fingerprints "
         "were added are not accepted, because a replay could not tell whether the token belongs to the test; run "
         "the test without INTERLEAVE_REPLAY (or let its regression file record the failure again) and use the "
         "token its report prints");
}

// "v=weak-<history>-<per-mille>": the weak memory model's settings.
void memory_field(std::string_view token, std::string_view part, ScheduleId& id) {
  const std::string_view prefix = "v=weak-";
  if (part.substr(0, prefix.size()) != prefix) {
    reject(token,
           absl::StrCat("expected the memory model field 'v=weak-<history>-<per-mille>' but found ", quoted(part)));
  }
  const std::string_view rest = part.substr(prefix.size());
  const auto dash = rest.find('-');
  if (dash == std::string_view::npos) {
    reject(token, absl::StrCat("the memory model field ", quoted(part), " is not v=weak-<history>-<per-mille>"));
  }
  id.memory_model = MemoryModel::weak;
  id.store_history = static_cast<int>(number(token, rest.substr(0, dash), "store history", 1, 64));
  id.spurious_cas_permille =
      static_cast<int>(number(token, rest.substr(dash + 1), "spurious compare-exchange per-mille", 0, 1000));
}

}  // namespace

std::string TestFingerprint::text() const {
  if (!recorded()) return "-";
  return absl::StrFormat("%d-%d-%08x", steps, fibers, hash);
}

std::string ScheduleId::token() const {
  const std::string memory = memory_model == MemoryModel::weak
                                 ? absl::StrCat(".v=weak-", store_history, "-", spurious_cas_permille)
                                 : std::string();
  if (strategy == Strategy::choices) {
    std::string list;
    for (const Choice& c : choices) {
      absl::StrAppend(&list, list.empty() ? "" : ",", c.fiber, "_", c.decision, ":", c.value);
    }
    return absl::StrCat("choices.c=", list.empty() ? std::string("-") : list, ".m=", max_steps, memory,
                        ".t=", test.text());
  }
  // StrCat, not StrFormat: formatted once per schedule explored (the watchdog's and the fatal-signal
  // report's copy), so its cost is part of every schedule's.
  std::string head;
  if (strategy == Strategy::pct) {
    head = absl::StrCat("pct.d=", pct_depth, ".c=", pct_choice_points);
  } else if (strategy == Strategy::surw) {
    head =
        surw_estimates.empty() ? std::string("surw.e=-") : absl::StrCat("surw.e=", absl::StrJoin(surw_estimates, "_"));
  } else {
    head = std::string(detail::model::strategy_entry(strategy).name);
  }
  return absl::StrCat(head, ".s=", absl::Hex(seed), ".i=", index, ".w=", spurious_wakeup_permille, ".m=", max_steps,
                      memory, ".t=", test.text());
}

ScheduleId ScheduleId::parse(std::string_view token) {
  if (token.empty()) reject(token, "it is empty");
  std::vector<std::string_view> parts;
  for (absl::string_view p : absl::StrSplit(absl::string_view(token.data(), token.size()), '.'))
    parts.emplace_back(p.data(), p.size());
  ScheduleId id;
  std::size_t next = 1;
  // The optional memory model field before the fingerprint: parsed here and removed.
  if (parts.size() >= 3 && parts[parts.size() - 2].substr(0, 2) == "v=") {
    memory_field(token, parts[parts.size() - 2], id);
    parts.erase(parts.end() - 2);
  }
  const auto count = [&](std::string_view kind, std::size_t expected) {
    if (parts.size() == expected - 1 && parts.back().substr(0, 2) == "m=") reject_unfingerprinted(token);
    if (parts.size() != expected) {
      reject(token,
             absl::StrCat("a ", std::string(kind), " token has ", expected, " fields, this one has ", parts.size()));
    }
  };
  const detail::model::StrategyEntry* entry = detail::model::find_strategy(parts[0]);
  if (entry != nullptr && entry->plain_token) {
    id.strategy = entry->strategy;
    count(entry->name, 6);
  } else if (parts[0] == "choices") {
    count("choices", 4);
    id.strategy = Strategy::choices;
    id.choices = choice_list(token, parts[1]);
    id.max_steps = field(token, parts[2], "m", false, 1, UINT64_MAX);
    id.test = fingerprint_field(token, parts[3]);
    return id;
  } else if (parts[0] == "pct") {
    id.strategy = Strategy::pct;
    count("pct", 8);
    id.pct_depth = static_cast<int>(field(token, parts[1], "d", false, 1, 64));
    if (parts[2].substr(0, 2) == "k=") {
      // Before 'c=', PCT drew its change points over every scheduling point ('k=', a step count):
      // such a token names a schedule this version does not make, so it is refused, not replayed.
      reject(token,
             "it is a PCT token of an earlier version ('k=': change points over every step; now 'c=': over the "
             "choice points, where two or more fibers can run), whose schedule this version cannot replay: explore "
             "the test again for a new token");
    }
    id.pct_choice_points = field(token, parts[2], "c", false, 1, UINT64_MAX);
    next = 3;
  } else if (parts[0] == "surw") {
    id.strategy = Strategy::surw;
    count("surw", 7);
    id.surw_estimates = estimate_list(token, parts[1]);
    next = 2;
  } else if (parts[0] == "dpor") {
    reject(token,
           "'dpor' names an execution by its place in a DPOR search, which a token alone cannot replay: a failure "
           "found by DPOR prints a 'choices' token; to run the search again, explore with INTERLEAVE_STRATEGY=dpor "
           "(it makes the same executions in the same order)");
  } else if (parts[0] == "portfolio") {
    reject(token,
           "'portfolio' names no schedule: each schedule of a portfolio is made by one of its members, and its token "
           "starts with that member's name");
  } else {
    std::string known;
    for (const detail::model::StrategyEntry& e : detail::model::strategy_entries()) {
      if (e.strategy == Strategy::portfolio || e.strategy == Strategy::dpor) continue;  // no token of its own
      absl::StrAppend(&known, known.empty() ? "" : ", ", std::string(e.name));
    }
    reject(token, absl::StrCat("unknown strategy ", quoted(parts[0]), " (known: ", known, ")"));
  }
  id.seed = field(token, parts[next], "s", true, 0, UINT64_MAX);
  id.index = field(token, parts[next + 1], "i", false, 0, UINT64_MAX);
  id.spurious_wakeup_permille = static_cast<int>(field(token, parts[next + 2], "w", false, 0, 1000));
  id.max_steps = field(token, parts[next + 3], "m", false, 1, UINT64_MAX);
  id.test = fingerprint_field(token, parts[next + 4]);
  return id;
}

}  // namespace interleave
