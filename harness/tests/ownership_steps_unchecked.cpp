// ownership_steps_test's bodies with the ownership checks off, as a release (NDEBUG) build has them.
#undef INTERLEAVE_CHECK_OWNERSHIP
#define INTERLEAVE_CHECK_OWNERSHIP 0
#include "ownership_steps.h"

namespace interleave::ownership_steps {
namespace {
struct UncheckedPlatform : ModelPlatform {};
}  // namespace

Sample explore_unchecked(Body body, Strategy strategy) { return explore_body<UncheckedPlatform>(body, strategy); }

}  // namespace interleave::ownership_steps
