// Names for a test's threads and objects, used by reports, deadlock lists and trace files instead
// of bare numbers ("fiber 2 (producer)", "object #3 \"queue\"").
//
//   interleave::name(queue, "queue");        // the object and every atomic or cell inside it
//   interleave::name_this_thread("producer");  // the calling thread (or Thread(target, "producer"))
//
// Names last for one schedule: name objects and threads inside the explored body (each schedule
// runs it again). Outside an exploration both calls do nothing. A name is cut to 48 characters,
// and control characters in it print as '?'.
#pragma once

#include <memory>
#include <string_view>

#include "interleave/detail/model_runtime.h"

namespace interleave {

inline void name_this_thread(std::string_view name) { detail::model::name_fiber(name); }

// Names the bytes of `object`: a step on any atomic or cell inside it is shown with this name
// (with an offset, "queue+8", for one not at its start). The innermost named object wins, so a
// member named on its own keeps its own name.
template <class T>
void name(const T& object, std::string_view name) {
  detail::model::name_object(std::addressof(object), sizeof(T), name);
}

}  // namespace interleave
