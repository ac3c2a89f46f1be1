// The model runtime's entry points, called by ModelPlatform's operations. Internal: users write
// against ModelPlatform (model_platform.h) and explore() (explore.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "interleave/source_location.h"

namespace interleave {

enum class FailureKind {
  assertion,            // INTERLEAVE_ASSERT or a GoogleTest assertion failed
  exception,            // an exception escaped a fiber or the body
  deadlock,             // every live fiber blocked, no deadline pending
  step_bound,           // more scheduling points than max_steps: a livelock or unbounded loop
  unjoined_fiber,       // a fiber was still running, or never joined, when the body returned
  contract_violation,   // a primitive was misused (for example unlock by a non-owner)
  nondeterminism,       // replaying the failing schedule did not fail the same way
  data_race,            // two accesses to a Shared<T> cell (one a write), or an object's destruction
                        // and a use of it, not ordered by happens-before
  resources_exhausted,  // a fiber could not be started: its stack could not be mapped
};

namespace detail::model {

class Runtime;
// The runtime of the exploration running on this OS thread, or nullptr outside one.
extern constinit thread_local Runtime* current_runtime;

// The number of the execution that runtime runs (0 outside one): see execution().
extern constinit thread_local std::uint64_t current_execution;

// True while the calling code runs inside an exploration (on one of its fibers).
inline bool active() noexcept { return current_runtime != nullptr; }

// How deep the calling thread is in the model runtime's own code (its entry points); kept per
// fiber across switches. Hooks of instrumented code (interleave::std_runtime) reached from the
// runtime must not re-enter it: an inline function that the linker took from an instrumented
// object is instrumented for every caller, the runtime's own calls included.
extern thread_local int runtime_depth;
// runtime_depth is kept per fiber by saving it across fiber switches. Under ThreadSanitizer fibers
// are TSan threads that share their OS thread's thread-locals, so its accesses are hidden from TSan
// (they would read as races between fibers).
__attribute__((no_sanitize("thread"))) inline int get_runtime_depth() noexcept { return runtime_depth; }
__attribute__((no_sanitize("thread"))) inline void set_runtime_depth(int depth) noexcept { runtime_depth = depth; }
inline bool in_runtime() noexcept { return get_runtime_depth() != 0; }

// One pointer of per-fiber data for the hooks of instrumented code (the std runtime keeps its
// shadow call stack there, found without a call into the runtime): kept per fiber like
// runtime_depth, and null when a fiber starts a task.
extern thread_local void* fiber_hook_data;
__attribute__((no_sanitize("thread"))) inline void* get_fiber_hook_data() noexcept { return fiber_hook_data; }
__attribute__((no_sanitize("thread"))) inline void set_fiber_hook_data(void* data) noexcept { fiber_hook_data = data; }

// A scheduling point: the strategy may switch to another fiber before the operation `what` on
// `object` happens. Throws detail::model::Aborted when the execution is being torn down.
void step(const char* what, const void* object);
// A scheduling point where the caller waits for another fiber (yield, one spin of a spin loop):
// strategies that favour one fiber (PCT) let the others go first.
void yield(const char* what);

// Virtual time in nanoseconds; advances only when every fiber is blocked.
std::int64_t now_ns();
std::uint32_t current_fiber() noexcept;

std::uint32_t spawn(std::function<void()> task);
// Names the running fiber, or the bytes [object, object + size), for this schedule's reports and
// traces (interleave/names.h). No-ops outside an exploration.
void name_fiber(std::string_view name);
void name_object(const void* object, std::size_t size, std::string_view name);
void join(std::uint32_t fiber);
// A fiber handle was destroyed without join: reported as a failure.
void abandon(std::uint32_t fiber) noexcept;

// Records a failure of the current schedule and unwinds the calling fiber.
[[noreturn]] void fail(FailureKind kind, std::string message, interleave::source_location where);
// Records a failure without unwinding (for noexcept contexts); the next scheduling point unwinds.
void fail_later(FailureKind kind, std::string message, interleave::source_location where) noexcept;

// Ends the calling fiber where it stands, without unwinding its stack (which is abandoned, its
// objects never destroyed): for a fiber that cannot unwind, such as one in std::terminate (a
// joinable std::thread destroyed by the teardown's unwinding, an exception through a noexcept
// function). Unless the execution is already failing, records `kind` with `message`. Must be
// called on a fiber of an exploration.
[[noreturn]] void abandon_fiber(FailureKind kind, std::string message) noexcept;

// The primitive operations in progress on a fiber, outermost first (for traces and deadlock
// reports). Operations nest (Queue::get inside, say, a Mutex::lock); frames past kDepth are
// counted but not kept.
struct OperationFrame {
  const char* name;
  const void* object;
  interleave::source_location where;
};
struct OperationStack {
  static constexpr std::uint32_t kDepth = 6;
  OperationFrame frames[kDepth];
  std::uint32_t depth = 0;
  [[nodiscard]] const OperationFrame* outermost() const noexcept { return depth > 0 ? &frames[0] : nullptr; }
  [[nodiscard]] const OperationFrame* innermost() const noexcept {
    return depth > 0 ? &frames[(depth < kDepth ? depth : kDepth) - 1] : nullptr;
  }
};

// The running fiber's stack of operations; null outside an exploration. Set by the scheduler on
// every switch, so naming an operation costs two stores and no call.
extern thread_local OperationStack* current_operations;

inline void push_operation(const char* name, const void* object, interleave::source_location where) noexcept {
  OperationStack* stack = current_operations;
  if (stack == nullptr) return;
  if (stack->depth < OperationStack::kDepth) stack->frames[stack->depth] = OperationFrame{name, object, where};
  ++stack->depth;
}
inline void pop_operation() noexcept {
  OperationStack* stack = current_operations;
  if (stack != nullptr && stack->depth > 0) --stack->depth;
}

// --- Per-thread storage of the code under test ------------------------------------------------

// Model threads are fibers of one OS thread, so what the C library and the compiler keep per OS
// thread is shared by all of them unless it is switched with the fiber. The runtime keeps `errno`
// per fiber itself; interleave::std_runtime registers these hooks to keep the test's own
// thread_local variables per fiber. kOsThread stands for the OS thread outside the schedule's
// fibers: fiber 0 (the body) has its storage, the other fibers start fresh.
inline constexpr std::uint32_t kOsThread = UINT32_MAX;
struct ThreadStorageHooks {
  // The running model thread changes from `from` to `to` (either may be kOsThread).
  void (*switch_threads)(std::uint32_t from, std::uint32_t to) noexcept = nullptr;
  // Fiber `fiber` (not 0) returned from its task and is about to finish, still running: the
  // destructors of its thread_local objects run here.
  void (*thread_exit)(std::uint32_t fiber) = nullptr;
};
// Set once, before explorations run (nullptr: none).
void set_thread_storage_hooks(const ThreadStorageHooks* hooks) noexcept;

// --- The race detector's hooks (vector clocks; see harness/src/model/race_detector.h) -----------------

// What an atomic operation does to its object, for happens-before: a load reads it, a store
// writes it, a read-modify-write (exchange, fetch_*, successful compare-exchange) does both and
// continues the object's release sequence.
enum class AtomicOp : std::uint8_t { load, store, rmw };

// The race detector's handle on an atomic object's state, kept inline in the object (as a
// Shared<T> cell keeps its CellShadow), so that finding the state is one comparison, not a hash
// lookup. Valid only for the schedule whose number it carries.
struct AtomicShadow {
  std::uint64_t schedule = 0;
  std::uint32_t index = 0;
};

// A scheduling point for atomic operation `op` (memory order `order`) on `object`, which happens
// right after it returns (no other fiber runs in between): step() plus the operation's
// happens-before effects. `shadow` is the object's own.
void atomic_step(const char* what, const void* object, AtomicShadow& shadow, AtomicOp op, std::memory_order order);
// The happens-before effects of an operation whose kind is known only after it ran (a
// compare-exchange: rmw with the success order, or load with the failure order). Not a
// scheduling point.
void atomic_effects(const void* object, AtomicShadow& shadow, AtomicOp op, std::memory_order order) noexcept;
// Futex wait on `word` (the value of an atomic object whose race detector handle is `shadow`):
// returns at once if *word != expected; else blocks until woken, a spurious wake-up, or
// (deadline_ns >= 0) the virtual clock reaching the deadline. False on timeout.
// `where` (when given) is the call's site, shown for the step in traces and reports.
bool futex_wait(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t expected, std::int64_t deadline_ns,
                interleave::source_location where = {});
// Wakes up to `count` of the fibers waiting on `word` (the strategy picks which); returns how many.
std::uint32_t futex_wake(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t count,
                         interleave::source_location where = {});
// An atomic object is being destroyed: every fiber's last operation on it must happen-before
// (else a data race is reported), and its clocks are dropped so a new object at the same address
// starts clean.
void atomic_destroyed(const void* object, AtomicShadow& shadow) noexcept;
// std::atomic_thread_fence(order) in the model.
void fence(std::memory_order order);

// --- Atomic operations by address (the memory model; docs/memory-model.md) ---------------------
//
// One implementation behind ModelAtomic<T> and any other caller that has only an address: each
// call is a scheduling point (`what`, on object `address`), then the operation, with the caller's
// memory order, on the `size` (1..8) bytes at `address`, whose value travels as the low `size`
// bytes of a std::uint64_t (memcpy order: the object representation). The memory at `address`
// always holds the newest store in the object's modification order; under the weak memory model a
// read may return an older store's value, as coherence and happens-before allow (a recorded
// decision of the schedule). `shadow` is the object's handle for the race detector and the memory
// model: one per object, zero-initialised, kept as long as the object (a caller without room in
// the object keeps it in a side table, keyed by address). `where`: the caller's source location,
// for the operation's step in reports and traces, and for reports of stale reads. Outside an exploration each one is a
// plain memory access.

// A load: returns the value read.
std::uint64_t atomic_read(const void* address, AtomicShadow& shadow, std::uint32_t size, std::memory_order order,
                          const char* what = "atomic load", interleave::source_location where = {});
// A store of `value`.
void atomic_write(void* address, AtomicShadow& shadow, std::uint32_t size, std::uint64_t value, std::memory_order order,
                  const char* what = "atomic store", interleave::source_location where = {});
// A read-modify-write (exchange, fetch_*): reads the newest store, writes update(old, context),
// returns old.
using AtomicUpdate = std::uint64_t (*)(std::uint64_t old, const void* context);
std::uint64_t atomic_rmw(void* address, AtomicShadow& shadow, std::uint32_t size, std::memory_order order,
                         AtomicUpdate update, const void* context, const char* what = "atomic read-modify-write",
                         interleave::source_location where = {});
// compare_exchange_strong (weak = false) or compare_exchange_weak (weak = true: under the weak
// memory model it may fail spuriously, a recorded decision): compares the newest store with
// `expected` (bytes), writes `desired` with `success` order if equal, else reads with `failure`
// order and sets `expected` to the value found.
bool atomic_compare_exchange(void* address, AtomicShadow& shadow, std::uint32_t size, std::uint64_t& expected,
                             std::uint64_t desired, std::memory_order success, std::memory_order failure, bool weak,
                             const char* what = "atomic compare_exchange", interleave::source_location where = {});

// One access to a Shared<T> cell, as its shadow state keeps it. clock 0: none.
struct CellAccess {
  std::uint32_t fiber = 0;
  std::uint32_t clock = 0;
  std::uint64_t step = 0;
  interleave::source_location where{};
};
// The shadow state a Shared<T> cell carries inline (FastTrack: the last write's epoch, and the
// last read's epoch or, while reads are unordered among themselves, a per-fiber read set kept by
// the runtime). Valid only for the schedule whose number is `schedule`.
struct CellShadow {
  std::uint64_t schedule = 0;
  CellAccess write;
  CellAccess read;
  std::uint32_t read_set = 0;  // 1-based index of the runtime's read set; 0: `read` alone
};
// Checks (and records) an access; reports a data race and unwinds when it is unordered with a
// conflicting earlier one. No-ops outside an exploration or with the detector off.
void cell_created(CellShadow& shadow, interleave::source_location where) noexcept;
void cell_access(CellShadow& shadow, bool write, interleave::source_location where);
void cell_destroyed(CellShadow& shadow) noexcept;

// --- Plain memory of code compiled with the compiler's ThreadSanitizer instrumentation ------------
// (interleave::std_runtime: unmodified std:: code). Memory is checked by address, byte by byte,
// with the same FastTrack rules as a Shared<T> cell. The site of an access is `pc`, a code address
// inside the accessing function (a return address), with the shadow call stack `callers` (return
// addresses, outermost first, `depth` of them); reports name the innermost of these frames that is
// not in a system header (/usr/...), as file:line. `version`, when not 0, names this content of
// `callers` for as long as the calling OS thread runs (a counter bumped at every change of the
// shadow stack): sites are then looked up once per (pc, version). No-ops outside an exploration.
// The caller keeps the runtime depth raised (std_runtime::HookScope) while it runs.
void memory_access(const void* address, std::size_t size, bool write, const void* pc,
                   const void* const* callers = nullptr, std::size_t depth = 0, std::uint64_t version = 0);
// A heap block of instrumented code's process was allocated: earlier accesses to its bytes (a
// block freed and given out again) are forgotten.
void memory_allocated(const void* address, std::size_t size) noexcept;
// A heap block is freed: a write of every byte already accessed in this execution (a use by
// another thread not ordered before the free, or after it, is a data race), at `pc`.
void memory_freed(const void* address, std::size_t size, const void* pc, const void* const* callers = nullptr,
                  std::size_t depth = 0, std::uint64_t version = 0);
// The source location of such a site. Cheap: the files and lines are looked up (addr2line) only
// when a report is written, for all sites seen so far at once. Stable for the life of the process.
interleave::source_location code_location(const void* pc, const void* const* callers = nullptr, std::size_t depth = 0,
                                          std::uint64_t version = 0) noexcept;
// A number that changes at every execution (schedule run), for state kept beside an address (a
// pthread mutex's model) that must start clean in each execution. 0 outside an exploration.
inline std::uint64_t execution() noexcept { return current_execution; }

// Turns the race detector on or off for explorations started afterwards on any thread (on by
// default); returns the previous setting.
bool set_race_detector(bool on) noexcept;
bool race_detector() noexcept;

// Thrown through a fiber's stack to tear an execution down after a failure. Never catch it
// without rethrowing (catch (...) { ...; throw; } is fine).
struct Aborted {};

}  // namespace detail::model
}  // namespace interleave
