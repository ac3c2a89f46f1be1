// The scoreboard without Relacy (relacy-dev is not installed): no published bug has a Relacy
// version, so the "Relacy random" strategy marks every row unavailable.
#include <cstdint>
#include <functional>
#include <string>

#include "scoreboard.h"

namespace scoreboard {

std::function<RelacyOutcome(std::uint64_t, std::uint64_t)> relacy_version(const std::string& /*name*/,
                                                                          bool /*control*/) {
  return {};
}

}  // namespace scoreboard
