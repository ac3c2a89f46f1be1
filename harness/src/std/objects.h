// Internal to interleave::std_runtime: what the hooks of C library synchronization objects share
// (mutexes, condition variables, futexes, once controls, rwlocks, semaphores, barriers): the C
// library's own function for calls outside an exploration, the model's state of an object kept
// beside its address, and the name of the operation in progress for traces and deadlock reports.
#pragma once

#include <dlfcn.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <unordered_map>

#include "std/std_runtime.h"

namespace interleave::detail::std_runtime {

// The C library's definition of `name` (the next one after the runtime's), of symbol version
// `version` when given and found. Aborts with a message if there is none: a hook that cannot
// forward cannot run at all.
inline void* next_symbol(const char* name, const char* version = nullptr) {
  void* found = version != nullptr ? ::dlvsym(RTLD_NEXT, name, version) : ::dlsym(RTLD_NEXT, name);
  if (found == nullptr) found = ::dlsym(RTLD_NEXT, name);
  if (found == nullptr) {
    std::fprintf(stderr, "interleave: the C library's %s was not found\n", name);
    std::abort();
  }
  return found;
}

template <class Function>
Function real(const char* name, const char* version = nullptr) {
  return reinterpret_cast<Function>(next_symbol(name, version));
}

// The model's state of the C object at `object`, created zeroed at its first use in an execution
// and dropped when the next execution starts: the C object itself is not touched, so it may have
// been initialized by the C library (outside an exploration) or not at all.
template <class Model>
Model& model_of(const void* object) {
  struct Table {
    std::uint64_t execution = 0;
    std::unordered_map<const void*, std::unique_ptr<Model>> by_address;
    // The objects used last, in front of the map (its values never move; entries of an earlier
    // execution are told apart by `execution`).
    struct Recent {
      const void* object = nullptr;
      std::uint64_t execution = 0;
      Model* model = nullptr;
    };
    std::array<Recent, 16> recent{};
  };
  thread_local Table table;
  const std::uint64_t now = model::execution();
  const auto bits = reinterpret_cast<std::uintptr_t>(object);
  typename Table::Recent& recent = table.recent[(bits ^ (bits >> 6)) % table.recent.size()];
  if (recent.object == object && recent.execution == now) return *recent.model;
  if (table.execution != now) {
    table.by_address.clear();
    table.execution = now;
  }
  auto& slot = table.by_address[object];
  if (!slot) slot = std::make_unique<Model>();
  recent = {object, now, slot.get()};
  return *slot;
}

// Names the operation for traces and deadlock reports while it runs.
struct Operation {
  Operation(const char* name, const void* object, const void* pc) {
    model::push_operation(name, object, caller_location(pc));
  }
  ~Operation() { model::pop_operation(); }
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;
};

}  // namespace interleave::detail::std_runtime
