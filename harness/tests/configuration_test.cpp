// Schedule tokens and INTERLEAVE_* variables: everything printed parses back, and malformed input
// is refused with a message that names it and the accepted form.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <stdlib.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "interleave/explore.h"
#include "interleave/options.h"
#include "interleave/schedule.h"
#include "interleave_test_support.h"

namespace interleave {
namespace {

using test_support::ScopedEnv;

// Any recorded fingerprint: 1..32 points, 1..points fibers, any hash.
TestFingerprint generate_fingerprint() {
  TestFingerprint f;
  f.steps = *rc::gen::inRange<std::uint32_t>(1, TestFingerprint::kSteps + 1);
  f.fibers = *rc::gen::inRange<std::uint32_t>(1, f.steps + 1);
  f.hash = *rc::gen::arbitrary<std::uint32_t>();
  return f;
}

// The memory model part of a token: sc (no field, the defaults) or weak with its settings.
void generate_memory_model(ScheduleId& id) {
  if (*rc::gen::arbitrary<bool>()) return;
  id.memory_model = MemoryModel::weak;
  id.store_history = *rc::gen::inRange(1, 65);
  id.spurious_cas_permille = *rc::gen::inRange(0, 1001);
}

ScheduleId generate_schedule_id() {
  ScheduleId id;
  generate_memory_model(id);
  id.test = generate_fingerprint();
  id.strategy = *rc::gen::element(Strategy::random_walk, Strategy::pct, Strategy::surw, Strategy::choices);
  if (id.strategy == Strategy::choices) {
    // Sorted by (fiber, decision), non-zero values; nothing else is part of a choices token.
    const auto gaps = *rc::gen::container<std::vector<std::uint64_t>>(rc::gen::inRange<std::uint64_t>(1, 1'000'000));
    Choice c;
    c.fiber = *rc::gen::inRange<std::uint32_t>(0, 3);
    c.decision = *rc::gen::inRange<std::uint64_t>(0, 10);
    for (std::uint64_t gap : gaps) {
      c.value = *rc::gen::inRange<std::uint32_t>(1, UINT32_MAX);
      id.choices.push_back(c);
      if (gap % 7 == 0) {
        c.fiber += 1 + static_cast<std::uint32_t>(gap % 3);  // the next fiber's decisions
        c.decision = gap % 5;
      } else {
        c.decision += gap;
      }
    }
    id.max_steps = *rc::gen::inRange<std::uint64_t>(1, UINT64_MAX);
    return id;
  }
  if (id.strategy == Strategy::pct) {
    id.pct_depth = *rc::gen::inRange(1, 65);
    id.pct_choice_points =
        *rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(1, 100000), rc::gen::just<std::uint64_t>(UINT64_MAX));
  } else {
    id.pct_choice_points = 0;
  }
  if (id.strategy == Strategy::surw) {
    id.surw_estimates = *rc::gen::container<std::vector<std::uint64_t>>(
        rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(0, 100000), rc::gen::just<std::uint64_t>(UINT64_MAX)));
  }
  id.seed = *rc::gen::arbitrary<std::uint64_t>();
  id.index = *rc::gen::arbitrary<std::uint64_t>();
  id.spurious_wakeup_permille = *rc::gen::inRange(0, 1001);
  id.max_steps = *rc::gen::inRange<std::uint64_t>(1, UINT64_MAX);
  return id;
}

RC_GTEST_PROP(ScheduleToken, EveryTokenParsesBackToItself, ()) {
  const ScheduleId id = generate_schedule_id();
  const std::string token = id.token();
  RC_ASSERT(ScheduleId::parse(token) == id);
  RC_ASSERT(ScheduleId::parse(token).token() == token);
  RC_ASSERT(token.find_first_of(" \t\n'\"$`\\") == std::string::npos);  // shell-safe as one word
  // The fingerprint is the last field, so it stays visible at the end of a long choices list.
  RC_ASSERT(token.ends_with(".t=" + id.test.text()));
}

// A token that differs from a printed one only in its fingerprint names another test: it parses to
// a ScheduleId that is not equal, so a replay compares the fingerprint it was given.
RC_GTEST_PROP(ScheduleToken, TheFingerprintIsPartOfTheIdentity, ()) {
  const ScheduleId id = generate_schedule_id();
  ScheduleId other = id;
  other.test = generate_fingerprint();
  RC_PRE(!(other.test == id.test));
  RC_ASSERT(!(ScheduleId::parse(other.token()) == id));
  RC_ASSERT(ScheduleId::parse(other.token()).test == other.test);
}

RC_GTEST_PROP(ScheduleToken, ArbitraryStringsParseOrAreRejectedCleanly, ()) {
  const std::string text = *rc::gen::oneOf(
      rc::gen::arbitrary<std::string>(),
      rc::gen::map(rc::gen::arbitrary<std::string>(), [](std::string tail) { return "random.s=1f.i=2.w=3.m=" + tail; }),
      rc::gen::map(rc::gen::arbitrary<std::string>(), [](std::string tail) { return "pct.d=3.c=" + tail; }),
      rc::gen::map(rc::gen::arbitrary<std::string>(), [](std::string tail) { return "surw.e=3_0_" + tail; }),
      rc::gen::map(rc::gen::arbitrary<std::string>(), [](std::string tail) { return "choices.c=1_4:2," + tail; }));
  try {
    const ScheduleId id = ScheduleId::parse(text);
    RC_ASSERT(id.token() == text);  // whatever is accepted is canonical
  } catch (const std::invalid_argument& e) {
    RC_ASSERT(std::string(e.what()).find("is malformed") != std::string::npos);
  }
}

TEST(ScheduleToken, MalformedTokensAreRejectedWithTheReason) {
  const std::string t = ".t=1-1-00000000";  // a well-formed fingerprint, so that the fields before it are checked
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "it is empty"},
      {"dfs.s=1.i=0.w=0.m=1" + t, "unknown strategy 'dfs'"},
      {"random.s=1.i=0.w=0", "a random token has 6 fields"},
      {"random.s=xyz.i=0.w=0.m=1" + t, "field 's' has value 'xyz'"},
      {"random.s=1.i=-1.w=0.m=1" + t, "field 'i' has value '-1'"},
      {"random.s=1.i=0.w=1001.m=1" + t, "from 0 to 1000"},
      {"random.s=1.i=0.w=0.m=0" + t, "field 'm' has value '0'"},
      {"random.i=0.s=1.w=0.m=1" + t, "expected field 's='"},
      {"random.s=01.i=0.w=0.m=1" + t, "leading zero"},
      {"random.s=1F.i=0.w=0.m=1" + t, "lower-case hexadecimal"},
      {"pct.d=0.c=5.s=1.i=0.w=0.m=1" + t, "field 'd' has value '0'"},
      {"pct.d=3.s=1.i=0.w=0.m=1" + t, "a pct token has 8 fields"},
      // A PCT token of the version that drew change points over every step: refused, not replayed.
      {"pct.d=3.k=120.s=7.i=0.w=0.m=5000" + t, "it is a PCT token of an earlier version ('k=': change points"},
      {"random.s=1.i=99999999999999999999999.w=0.m=1" + t, "field 'i'"},
      {"surw.s=1.i=0.w=0.m=1" + t, "a surw token has 7 fields"},
      {"surw.c=5.s=1.i=0.w=0.m=1" + t, "expected field 'e=' but found 'c=5'"},
      {"surw.e=.s=1.i=0.w=0.m=1" + t, "the estimate list is empty (write '-' for none)"},
      {"surw.e=3__4.s=1.i=0.w=0.m=1" + t, "estimate '' must be a decimal integer"},
      {"surw.e=3_04.s=1.i=0.w=0.m=1" + t, "estimate '04' must be a decimal integer"},
      {"surw.e=3_x.s=1.i=0.w=0.m=1" + t, "estimate 'x'"},
      {"surw.e=18446744073709551616.s=1.i=0.w=0.m=1" + t, "estimate '18446744073709551616'"},
      {"choices.c=.m=1" + t, "the choice list is empty (write '-' for no choices)"},
      {"choices.c=-", "a choices token has 4 fields"},
      {"choices.c=1_5:1,1_5:2.m=1" + t, "choice 1_5 does not come after choice 1_5"},
      {"choices.c=1_7:1,1_3:2.m=1" + t, "choice 1_3 does not come after choice 1_7"},
      {"choices.c=2_1:1,1_3:2.m=1" + t, "choice 1_3 does not come after choice 2_1"},
      {"choices.c=4.m=1" + t, "choice '4' is not <fiber>_<decision>:<value>"},
      {"choices.c=4:1_2.m=1" + t, "choice '4:1_2' is not <fiber>_<decision>:<value>"},
      {"choices.c=1_4:0.m=1" + t, "value '0' must be a decimal integer from 1"},
      {"choices.c=1_04:1.m=1" + t, "decision '04' must be a decimal integer from 0"},
      {"choices.c=x_4:1.m=1" + t, "fiber 'x'"},
      {"choices.c=1_1:4294967296.m=1" + t, "value '4294967296'"},
      {"choices.m=1.c=-" + t, "expected field 'c='"},
      // The fingerprint field.
      {"random.s=1.i=0.w=0.m=1", "it has no test fingerprint"},  // a token printed before fingerprints
      {"pct.d=3.c=5.s=1.i=0.w=0.m=1", "it has no test fingerprint"},
      {"choices.c=1_4:2.m=1", "it has no test fingerprint"},
      {"random.s=1.i=0.w=0.m=1.t=-", "it records no test fingerprint ('t=-')"},
      {"random.s=1.i=0.w=0.m=1.x=1-1-00000000", "expected the test fingerprint field 't='"},
      {"random.s=1.i=0.w=0.m=1.t=1-1", "the test fingerprint '1-1' is not <steps>-<fibers>-<hash>"},
      {"random.s=1.i=0.w=0.m=1.t=0-1-00000000", "fingerprint steps '0' must be a decimal integer from 1 to 32"},
      {"random.s=1.i=0.w=0.m=1.t=33-1-00000000", "fingerprint steps '33' must be a decimal integer from 1 to 32"},
      {"random.s=1.i=0.w=0.m=1.t=01-1-00000000", "fingerprint steps '01'"},
      {"random.s=1.i=0.w=0.m=1.t=2-3-00000000", "fingerprint fibers '3' must be a decimal integer from 1 to 2"},
      {"random.s=1.i=0.w=0.m=1.t=2-0-00000000", "fingerprint fibers '0'"},
      {"random.s=1.i=0.w=0.m=1.t=2-1-0000000", "fingerprint hash '0000000' must be 8 lower-case hexadecimal"},
      {"random.s=1.i=0.w=0.m=1.t=2-1-0000000A", "fingerprint hash '0000000A'"},
      {"random.s=1.i=0.w=0.m=1.t=2-1-000000000", "fingerprint hash '000000000'"},
      {"random.s=1.i=0.w=0.m=1.t=2-1-00000000-1", "fingerprint hash '00000000-1'"},
  };
  for (const auto& [token, why] : cases) {
    try {
      (void)ScheduleId::parse(token);
      ADD_FAILURE() << "accepted '" << token << "'";
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(why), std::string::npos) << token << " -> " << message;
      EXPECT_NE(message.find("expected 'random.s="), std::string::npos) << message;
    }
  }
}

// A token pasted from the wrong place (a whole file of NUL bytes) was quoted whole, twice, into
// the message: 1 MiB gave a message of more than 8 MiB. Now the message quotes at most 80 bytes of
// it, escaped, and says how much is left out.
TEST(ScheduleToken, AHugeTokenGivesAShortMessage) {
  const std::string token(std::size_t{1} << 20, '\0');
  try {
    (void)ScheduleId::parse(token);
    FAIL() << "accepted a token of NUL bytes";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_LT(message.size(), 1500U) << message.substr(0, 2000);
    std::string quoted = "schedule token '";
    for (int i = 0; i < 80; ++i) quoted += "\\x00";
    EXPECT_NE(message.find(quoted + "'... (1048496 more bytes) is malformed"), std::string::npos)
        << message.substr(0, 2000);
    EXPECT_NE(message.find("unknown strategy"), std::string::npos) << message.substr(0, 2000);
    EXPECT_NE(message.find("expected 'random.s="), std::string::npos) << message.substr(0, 2000);
  }
}

TEST(Options, EveryVariableOverridesItsField) {
  ScopedEnv a("INTERLEAVE_STRATEGY", "pct");
  ScopedEnv b("INTERLEAVE_PCT_DEPTH", "5");
  ScopedEnv c("INTERLEAVE_SEED", "0xdeadBEEF");
  ScopedEnv d("INTERLEAVE_SCHEDULES", "77");
  ScopedEnv e("INTERLEAVE_MAX_STEPS", "1234");
  ScopedEnv f("INTERLEAVE_SPURIOUS_WAKEUPS", "0");
  ScopedEnv g("INTERLEAVE_REPORT_STEPS", "3");
  ScopedEnv h("INTERLEAVE_REPLAY", "random.s=1.i=2.w=3.m=4");
  ScopedEnv i("INTERLEAVE_STACK_KIB", "64");
  ScopedEnv j("INTERLEAVE_JOBS", "3");
  ScopedEnv k("INTERLEAVE_PROGRESS", "off");
  ScopedEnv l("INTERLEAVE_WATCHDOG_MS", "250");
  Options o;
  o.apply_environment();
  EXPECT_EQ(o.strategy, Strategy::pct);
  EXPECT_EQ(o.pct_depth, 5);
  EXPECT_EQ(o.seed, 0xdeadbeefU);
  EXPECT_EQ(o.schedules, 77U);
  EXPECT_EQ(o.max_steps, 1234U);
  EXPECT_EQ(o.spurious_wakeup_permille, 0);
  EXPECT_EQ(o.report_steps, 3);
  EXPECT_EQ(o.replay, "random.s=1.i=2.w=3.m=4");
  EXPECT_EQ(o.stack_kib, 64U);
  EXPECT_EQ(o.jobs, 3U);
  EXPECT_EQ(o.progress, Progress::off);
  EXPECT_EQ(o.watchdog_ms, 250U);
  EXPECT_NE(o.describe().find("jobs=3"), std::string::npos) << o.describe();
  EXPECT_NE(o.describe().find("watchdog_ms=250"), std::string::npos) << o.describe();
  EXPECT_NE(o.describe().find("strategy=pct pct_depth=5 seed=0xdeadbeef schedules=77"), std::string::npos)
      << o.describe();
}

// The configuration line names only what applies: PCT's depth under PCT, no seed under DPOR.
TEST(Options, DescribeNamesOnlyWhatTheStrategyUses) {
  Options o;
  o.seed = 0x77;
  o.strategy = Strategy::random_walk;
  EXPECT_NE(o.describe().find("strategy=random seed=0x77 schedules="), std::string::npos) << o.describe();
  o.strategy = Strategy::portfolio;
  EXPECT_EQ(o.describe().find("pct_depth"), std::string::npos) << o.describe();
  o.strategy = Strategy::dpor;
  EXPECT_NE(o.describe().find("strategy=dpor schedules="), std::string::npos) << o.describe();
}

TEST(Options, WatchdogIsOnForTenSecondsByDefaultAndZeroTurnsItOff) {
  EXPECT_EQ(Options{}.watchdog_ms, 10'000U);
  ScopedEnv a("INTERLEAVE_WATCHDOG_MS", "0");
  Options o;
  o.apply_environment();
  EXPECT_EQ(o.watchdog_ms, 0U);
}

TEST(Options, JobsAutoMeansTheAvailableCores) {
  ScopedEnv a("INTERLEAVE_JOBS", "auto");
  Options o;
  o.jobs = 5;
  o.apply_environment();
  EXPECT_EQ(o.jobs, 0U);
  EXPECT_GE(available_cores(), 1U);
}

TEST(Options, GoogleTestShardVariablesSelectAScheduleSlice) {
  ScopedEnv a("GTEST_TOTAL_SHARDS", "4");
  ScopedEnv b("GTEST_SHARD_INDEX", "3");
  Options o;
  o.apply_environment();
  EXPECT_EQ(o.shard_count, 4U);
  EXPECT_EQ(o.shard_index, 3U);
  EXPECT_NE(o.describe().find("shard=3/4"), std::string::npos) << o.describe();
}

TEST(Options, MalformedShardVariablesAreErrors) {
  const std::vector<std::tuple<const char*, const char*, const char*>> cases = {
      {"4", nullptr, "GTEST_TOTAL_SHARDS is set without GTEST_SHARD_INDEX"},
      {nullptr, "0", "GTEST_SHARD_INDEX is set without GTEST_TOTAL_SHARDS"},
      {"4", "4", "GTEST_SHARD_INDEX='4' is not valid; accepted: an integer from 0 to GTEST_TOTAL_SHARDS - 1 = 3"},
      {"0", "0", "GTEST_TOTAL_SHARDS='0' is not valid; accepted: an integer >= 1"},
      {"two", "0", "GTEST_TOTAL_SHARDS='two'"},
  };
  for (const auto& [total, index, message] : cases) {
    std::optional<ScopedEnv> t, i;
    if (total != nullptr) t.emplace("GTEST_TOTAL_SHARDS", total);
    if (index != nullptr) i.emplace("GTEST_SHARD_INDEX", index);
    Options o;
    try {
      o.apply_environment();
      ADD_FAILURE() << "accepted GTEST_TOTAL_SHARDS=" << (total ? total : "(unset)")
                    << " GTEST_SHARD_INDEX=" << (index ? index : "(unset)");
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

TEST(Options, DecimalSeedIsAccepted) {
  ScopedEnv a("INTERLEAVE_SEED", "42");
  Options o;
  o.apply_environment();
  EXPECT_EQ(o.seed, 42U);
}

TEST(Options, UnknownVariableIsAnErrorListingTheKnownOnes) {
  ScopedEnv a("INTERLEAVE_SCHEDULS", "10");  // a typo must not be ignored
  Options o;
  try {
    o.apply_environment();
    FAIL() << "accepted an unknown INTERLEAVE_ variable";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("unknown environment variable INTERLEAVE_SCHEDULS"), std::string::npos) << m;
    EXPECT_NE(m.find("INTERLEAVE_SCHEDULES"), std::string::npos) << m;
  }
}

TEST(Options, MalformedValuesAreErrorsNamingTheAcceptedForm) {
  const std::vector<std::tuple<const char*, const char*, const char*>> cases = {
      {"INTERLEAVE_STRATEGY", "dfs", "'random', 'pct', 'pos', 'surw', 'portfolio' or 'dpor'"},
      {"INTERLEAVE_STRATEGY", "choices", "'random', 'pct', 'pos', 'surw', 'portfolio' or 'dpor'"},
      {"INTERLEAVE_PCT_DEPTH", "0", "from 1 to 64"},
      {"INTERLEAVE_PCT_DEPTH", "3x", "from 1 to 64"},
      {"INTERLEAVE_SEED", "-1", "unsigned 64-bit"},
      {"INTERLEAVE_SEED", "0x", "unsigned 64-bit"},
      {"INTERLEAVE_SEED", "18446744073709551616", "unsigned 64-bit"},
      {"INTERLEAVE_SCHEDULES", "0", ">= 1"},
      {"INTERLEAVE_SCHEDULES", "", ">= 1"},
      {"INTERLEAVE_SCHEDULES", " 5", ">= 1"},
      {"INTERLEAVE_MAX_STEPS", "1e6", ">= 1"},
      {"INTERLEAVE_SPURIOUS_WAKEUPS", "1001", "from 0 to 1000"},
      {"INTERLEAVE_REPORT_STEPS", "-3", "from 0 to 100000"},
      {"INTERLEAVE_REPLAY", "", "schedule token"},
      {"INTERLEAVE_STACK_KIB", "8", "from 16 to 1048576"},
      {"INTERLEAVE_JOBS", "0", "'auto' or an integer from 1 to 1024"},
      {"INTERLEAVE_JOBS", "1025", "'auto' or an integer from 1 to 1024"},
      {"INTERLEAVE_JOBS", "all", "'auto' or an integer from 1 to 1024"},
      {"INTERLEAVE_PROGRESS", "yes", "'auto', 'on' or 'off'"},
      {"INTERLEAVE_WATCHDOG_MS", "-1", "an integer >= 0 (milliseconds; 0 turns the watchdog off)"},
      {"INTERLEAVE_WATCHDOG_MS", "10s", "an integer >= 0 (milliseconds; 0 turns the watchdog off)"},
      {"INTERLEAVE_WATCHDOG_MS", "", "an integer >= 0 (milliseconds; 0 turns the watchdog off)"},
  };
  for (const auto& [name, value, accepted] : cases) {
    ScopedEnv env(name, value);
    Options o;
    try {
      o.apply_environment();
      ADD_FAILURE() << name << "='" << value << "' was accepted";
    } catch (const std::invalid_argument& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(std::string(name) + "='" + value + "'"), std::string::npos) << m;
      EXPECT_NE(m.find(accepted), std::string::npos) << m;
    }
  }
}

// An environment variable can hold 128 KiB of anything: its value was echoed raw and whole. Now it
// is quoted escaped (control bytes as \x escapes, so the message stays one line) and at most 80
// bytes of it.
TEST(Options, ALongOrBinaryValueIsQuotedShortAndEscaped) {
  const std::string value = std::string("\x01\x7f\n", 3) + std::string(100'000, 'x');
  ScopedEnv env("INTERLEAVE_SEED", value.c_str());
  Options o;
  try {
    o.apply_environment();
    FAIL() << "accepted the value";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_LT(m.size(), 600U) << m.substr(0, 1000);
    EXPECT_EQ(m.find('\n'), std::string::npos) << m.substr(0, 1000);
    EXPECT_NE(m.find("INTERLEAVE_SEED='\\x01\\x7f\\n" + std::string(77, 'x') + "'... (99923 more bytes)"),
              std::string::npos)
        << m.substr(0, 1000);
    EXPECT_NE(m.find("unsigned 64-bit"), std::string::npos) << m.substr(0, 1000);
  }
}

TEST(Options, ExploreRefusesBadEnvironmentBeforeRunningAnything) {
  ScopedEnv a("INTERLEAVE_STRATEGY", "random-walk");
  bool ran = false;
  EXPECT_THROW((void)explore(Options{}, [&] { ran = true; }), std::invalid_argument);
  EXPECT_FALSE(ran);
}

TEST(Options, ExploreRefusesAMalformedReplayToken) {
  ScopedEnv a("INTERLEAVE_REPLAY", "random.s=1");
  EXPECT_THROW((void)explore(Options{}, [] {}), std::invalid_argument);
}

}  // namespace
}  // namespace interleave
