// The internals of interleave::rapidcheck that its tests (RapidCheckGlue.*) check directly. Not
// installed: interleave/rapidcheck.h is the public side.
#pragma once

#include <rapidcheck.h>

#include <string>
#include <unordered_map>

#include "interleave/rapidcheck.h"
#include "interleave/regressions.h"

namespace rc::detail {
// Defined in librapidcheck (src/detail/StringSerialization.cpp) but not declared by the installed
// headers of Debian's librapidcheck-dev 0~1033: the functions behind RC_PARAMS="reproduce=...".
// Using them, a regression file holds exactly the string RapidCheck prints for a failure and accepts
// in RC_PARAMS, so a recorded case can also be pasted there. Both throw (a std::exception) on a
// string that is not one.
std::string reproduceMapToString(const std::unordered_map<std::string, Reproduce>& reproduceMap);
std::unordered_map<std::string, Reproduce> stringToReproduceMap(const std::string& str);
}  // namespace rc::detail

namespace interleave::detail {

// Replays the recorded case `c` (a reproduce string) of the property whose RapidCheck id is
// `test_id`, as RC_PARAMS="reproduce=..." would; `where` names the case in messages. Returns a
// failure message, or empty when the case passes.
std::string replay_recorded_case(const ErasedProperty& testable, const std::string& test_id, const std::string& where,
                                 const RegressionCase& c);

}  // namespace interleave::detail
