// Internal to the harness library: the runtime behind ModelPlatform.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "interleave/detail/fiber.h"
#include "interleave/detail/model_runtime.h"
#include "interleave/explore.h"
#include "interleave/schedule.h"
#include "interleave/source_location.h"
#include "model/chooser.h"
#include "model/names.h"
#include "model/race_detector.h"

namespace interleave::detail::model {

// The scheduler's own bookkeeping is hidden from ThreadSanitizer (its state is touched by every
// fiber, and fibers are TSan threads).
// It also marks the runtime's own code for in_runtime() (model_runtime.h); a fiber switch keeps
// each fiber's own depth (switch_keeping_depth).
struct IgnoreScope {
  IgnoreScope() noexcept {
    set_runtime_depth(get_runtime_depth() + 1);
    tsan_ignore_begin();
  }
  ~IgnoreScope() {
    tsan_ignore_end();
    set_runtime_depth(get_runtime_depth() - 1);
  }
  IgnoreScope(const IgnoreScope&) = delete;
  IgnoreScope& operator=(const IgnoreScope&) = delete;
};

#if INTERLEAVE_TSAN
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);
inline void tsan_acquire(void* address) noexcept { __tsan_acquire(address); }
inline void tsan_release(void* address) noexcept { __tsan_release(address); }
#else
inline void tsan_acquire(void*) noexcept {}
inline void tsan_release(void*) noexcept {}
#endif

// One of the first scheduling points of a run, for its TestFingerprint (schedule.h).
struct FingerprintPoint {
  std::uint32_t fiber = 0;
  const char* what = "";
  const char* operation = nullptr;
  bool choice = false;  // a scheduling point where another fiber could be picked; else an event
};

// One executed scheduling point (or event) of a schedule.
struct TraceEntry {
  std::uint64_t step = 0;  // scheduling points executed so far (events share their step's number)
  std::uint32_t fiber = 0;
  const char* what = "";
  const void* object = nullptr;
  const char* operation = nullptr;  // outermost primitive operation in progress, if any
  const void* operation_object = nullptr;
  interleave::source_location where{};
  std::uint32_t spawned = UINT32_MAX;  // spawn/join: the other fiber
  std::int64_t now_ns = 0;             // the virtual clock when it ran
  // The first entry after a preemption: the fiber the scheduler switched away from while it was
  // still runnable (UINT32_MAX: none).
  std::uint32_t preempted = UINT32_MAX;
};

// The objects of a trace numbered by first appearance (an entry's operation object before its
// own object), so that the numbers are the same on every replay. Reports and trace files both
// number objects with it.
class ObjectNumbers {
 public:
  explicit ObjectNumbers(const std::vector<TraceEntry>& trace) {
    for (const TraceEntry& e : trace) {
      for (const void* o : {e.operation_object, e.object}) {
        if (o != nullptr) numbers_.try_emplace(o, static_cast<std::uint32_t>(numbers_.size() + 1));
      }
    }
  }
  // 0 for none; an object the trace does not name gets the number after the last.
  [[nodiscard]] std::uint32_t of(const void* object) const {
    if (object == nullptr) return 0;
    const auto it = numbers_.find(object);
    return it != numbers_.end() ? it->second : static_cast<std::uint32_t>(numbers_.size() + 1);
  }

 private:
  absl::flat_hash_map<const void*, std::uint32_t> numbers_;
};

// A happens-before edge between two entries of a full trace (indices into it), recorded for the
// trace export (trace_export.h): what a reader needs to see why one step could follow another.
enum class EdgeKind : std::uint8_t {
  wake,             // a futex wake picked this waiter: from the wake to the wait's return
  release_acquire,  // an acquire load/RMW read what a release store/RMW of another fiber wrote
};
struct TraceEdge {
  std::size_t from = 0;
  std::size_t to = 0;
  EdgeKind kind = EdgeKind::wake;
};

// Weak memory model, full traces: a load that read an older store than the newest one.
struct StaleRead {
  std::uint64_t step = 0;  // the load's scheduling point
  std::uint32_t fiber = 0;
  const char* what = "";
  interleave::source_location where{};  // the load's call site
  std::uint64_t read_step = 0;          // the store it read (0: the object's initial value)
  std::uint32_t read_fiber = UINT32_MAX;
  std::uint64_t newest_step = 0;  // the newest store then
  std::uint32_t newest_fiber = UINT32_MAX;
  std::uint32_t stores_old = 0;  // how many stores older than the newest
};

struct Outcome {
  std::optional<Failure> failure;
  std::uint64_t steps = 0;
  std::uint32_t preemptions = 0;
  std::uint64_t choice_points = 0;  // picks an exploration strategy made among two or more runnable fibers
  // Per fiber, the choice points at which it was picked; owned by the Runtime until its next run.
  const std::vector<std::uint64_t>* fiber_choice_points = nullptr;
  const std::vector<TraceEntry>* trace = nullptr;  // full-trace runs only; owned by the Runtime until its next run
  const std::vector<std::uint32_t>* sequence = nullptr;  // the fiber that ran each recorded step
  const std::vector<TraceEdge>* edges = nullptr;         // full-trace runs only, like `trace`
  const Names* names = nullptr;  // the names the run gave its fibers and objects; owned like `trace`
  const std::vector<StaleRead>* stale_reads = nullptr;  // full-trace runs only, like `trace`
  MemoryModel memory_model = MemoryModel::sc;
};

// What is visible of a scheduler from outside it: a watchdog thread may sample it,
// and a fatal-signal handler on the scheduler's own thread reads it. Written only by the
// scheduler, with relaxed stores (plain moves on x86-64: no fence on the hot path); readers need
// no ordering with anything else, only the values.
struct Heartbeat {
  std::atomic<std::uint64_t> beats{0};       // bumped at every scheduling point, fiber start and
                                             // run start; never reset, so a change means progress
  std::atomic<bool> running{false};          // inside Runtime::run
  std::atomic<std::uint32_t> fiber{0};       // the fiber running now
  std::atomic<std::uint64_t> step{0};        // the schedule's steps at the last scheduling point
  std::atomic<const char*> what{nullptr};    // that point's kind ("atomic load", ...): a literal
  std::atomic<std::uint32_t> what_fiber{0};  // the fiber that made it
};

struct PooledFiber {
  class Runtime* runtime = nullptr;
  std::unique_ptr<Fiber> fiber;
  bool busy = false;
  bool abandoned = false;  // its stack was left mid-run (abandon_fiber): reset before reuse
};

enum class Status : std::uint8_t { not_started, runnable, blocked, finished };
enum class BlockedOn : std::uint8_t { nothing, futex, join };

struct FiberState {
  Status status = Status::not_started;
  BlockedOn blocked_on = BlockedOn::nothing;
  bool timed_out = false;
  bool joined = false;
  bool waits_in_teardown = false;  // unwinding, and waiting for a fiber still to unwind (a lock)
  bool folded = false;             // its last step: a yield or clock read run as an event
  PooledFiber* pooled = nullptr;   // the pool fiber it runs on, while it has one
  std::uint32_t join_target = 0;
  const std::uint32_t* wait_word = nullptr;
  std::int64_t deadline_ns = -1;
  int saved_errno = 0;              // while another fiber runs (a fiber starts with 0)
  std::size_t woken_by = SIZE_MAX;  // full traces: the trace entry of the wake that picked this waiter
  // The call site of the atomic operation whose scheduling point is pending (its trace entry
  // names it when no primitive operation is in progress), and, in full traces, the site of the
  // fiber's last recorded step (a deadlock report names it for a blocked fiber).
  interleave::source_location pending_site{};
  interleave::source_location last_site{};
  std::function<void()> task;
  OperationStack operations;
};

class Runtime {
 public:
  explicit Runtime(std::size_t stack_bytes);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Runs `body` once under schedule `id`, on fibers, and returns what happened.
  // With `full_trace`, every step is recorded for reports; otherwise only which fiber ran each
  // step (enough to tell whether a replay diverged, and much cheaper).
  // With `record`, the run's departures from the undisturbed schedule are stored there, as a
  // choices schedule lists them (see Chooser).
  Outcome run(const ScheduleId& id, const std::function<void()>& body, bool full_trace,
              std::vector<Choice>* record = nullptr);

  [[nodiscard]] std::size_t stack_bytes() const noexcept { return stack_bytes_; }

  // The last run's TestFingerprint over its first min(steps, points it made) scheduling points.
  // Reads only names kept since the run (string literals): safe in a signal handler.
  [[nodiscard]] TestFingerprint fingerprint(std::uint32_t steps = TestFingerprint::kSteps) const noexcept;
  // Those points as a report shows them: "fiber 0 spawn, fiber 1 atomic load in Mutex::lock, ...".
  [[nodiscard]] std::string describe_fingerprint(std::uint32_t steps) const;
  // The last run's chooser: how a choices schedule fitted it.
  [[nodiscard]] const Chooser& chooser() const noexcept { return chooser_; }

  // Asked whenever a fiber finishes: a non-empty answer is a failure found outside the runtime
  // (a GoogleTest assertion), recorded as an assertion failure.
  void set_failure_probe(std::function<std::string()> probe) { probe_ = std::move(probe); }

  // Entry points (see model_runtime.h).
  // `access` and `order` describe the operation the fiber runs after the point, for the strategy.
  void schedule(const char* what, const void* object, bool yielding, bool blocking = false,
                Access access = Access::none, std::memory_order order = std::memory_order_seq_cst);
  // The same, inlined into the entry points of the common operations (atomic operations, yields):
  // a fiber resumed by a switch then returns through one frame fewer, and the return-stack
  // predictor, filled by the fiber that switched away, has one fewer return to get wrong.
  [[gnu::always_inline]] inline void schedule_inline(const char* what, const void* object, bool yielding,
                                                     bool blocking = false, Access access = Access::none,
                                                     std::memory_order order = std::memory_order_seq_cst);
  // A step that no other fiber's operation can be ordered against, run as an event: counted,
  // recorded and bounded like a scheduling point, but no fiber is picked there (see
  // schedule_inline.h). `may_unwind`: during teardown the fiber may start unwinding here.
  [[gnu::always_inline]] inline void event_inline(const char* what, const void* object, bool may_unwind);
  // A yield (`yielding`) or a clock read: an event, unless the fiber's previous step was such an
  // event, then a scheduling point.
  [[gnu::always_inline]] inline void foldable_inline(const char* what, bool yielding);
  // The call site of the atomic operation about to be scheduled (for its trace entry).
  void note_site(interleave::source_location where) noexcept { fibers_[current_].pending_site = where; }
  bool futex_wait(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t expected, std::int64_t deadline_ns);
  std::uint32_t futex_wake(const std::uint32_t* word, AtomicShadow& shadow, std::uint32_t count);
  std::uint32_t spawn(std::function<void()> task);
  void join(std::uint32_t fiber);
  void abandon(std::uint32_t fiber) noexcept;
  [[noreturn]] void abandon_current(FailureKind kind, std::string message) noexcept;
  void atomic_effects(const void* object, AtomicShadow& shadow, AtomicOp op, std::memory_order order) {
    if (aborting_) return;
    if (full_trace_) record_release_acquire(object, op, order);
    if (!detector_.enabled()) return;
    detector_.on_atomic(current_, steps_, shadow, op, order);
  }
  void atomic_destroyed(const void* object, AtomicShadow& shadow) noexcept;
  void fence(std::memory_order order);
  // The memory model's operations (model_runtime.h), after their scheduling point.
  std::uint64_t atomic_read(const void* address, AtomicShadow& shadow, std::uint32_t size, std::memory_order order,
                            const char* what, interleave::source_location where);
  void atomic_write(void* address, AtomicShadow& shadow, std::uint32_t size, std::uint64_t value,
                    std::memory_order order);
  std::uint64_t atomic_rmw(void* address, AtomicShadow& shadow, std::uint32_t size, std::memory_order order,
                           AtomicUpdate update, const void* context);
  bool atomic_compare_exchange(void* address, AtomicShadow& shadow, std::uint32_t size, std::uint64_t& expected,
                               std::uint64_t desired, std::memory_order success, std::memory_order failure, bool weak);
  void cell_created(CellShadow& shadow, interleave::source_location where) noexcept;
  void cell_access(CellShadow& shadow, bool write, interleave::source_location where);
  void cell_destroyed(CellShadow& shadow) noexcept;
  void memory_access(const void* address, std::size_t size, bool write, const void* pc, const void* const* callers,
                     std::size_t depth, std::uint64_t version) {
    check_memory({reinterpret_cast<std::uintptr_t>(address), size, write, false, pc, callers, depth, version});
  }
  void memory_freed(const void* address, std::size_t size, const void* pc, const void* const* callers,
                    std::size_t depth, std::uint64_t version) {
    check_memory({reinterpret_cast<std::uintptr_t>(address), size, true, true, pc, callers, depth, version});
  }
  // Drops the shadow state of [address, address + size): the memory is reused (a fiber stack).
  void forget_memory(const void* address, std::size_t size) noexcept;
  // The shadow of plain memory of instrumented code (memory_), by aligned 8-byte granule
  // (address / 8): a cell per byte, held as one shadow for all of the granule's accessed bytes
  // while they were always accessed together (the common case: one lookup and one check per
  // access), split into a shadow per byte once they were not.
  struct Granule {
    CellShadow shadow;                                 // every used byte's, while `bytes` is null
    std::unique_ptr<std::array<CellShadow, 8>> bytes;  // per byte, once split
    std::uint8_t used = 0;                             // the bytes accessed, one bit each
  };
  // One access of plain memory, as check_memory takes it.
  struct PlainAccess {
    std::uintptr_t first;
    std::size_t size;
    bool write;
    bool accessed_only;
    const void* pc;
    const void* const* callers;
    std::size_t depth;
    std::uint64_t version;  // of `callers` (model::memory_access), 0 for none
  };
  // memory_access, or with `accessed_only` a check of the bytes accessed before alone (a free).
  void check_memory(const PlainAccess& access);
  // The granule of `key` in memory_, inserted when new (through granule_cache_).
  Granule& granule_at(std::uintptr_t key);
  // check_memory on the bytes `mask` of the granule at `base`; false when it reported a race.
  bool check_granule(Granule& granule, std::uintptr_t base, std::uint8_t mask, const PlainAccess& access);
  // Checks and records one shadow's access (`byte` names it in a report); false when it raced.
  bool check_plain(CellShadow& shadow, std::uintptr_t byte, const PlainAccess& access);
  // The byte of an access (first, first + size) that raced.
  struct RacyByte {
    std::uintptr_t first;
    std::uintptr_t byte;
    std::size_t size;
  };
  // Reports the race `race` found on `shadow` (restored to its state before the access): checked
  // again once the code locations are resolved, so that the report names them.
  void report_memory_race(std::string race, CellShadow& shadow, bool write, bool freeing, RacyByte at,
                          interleave::source_location where);
  [[nodiscard]] std::uint64_t execution() const noexcept { return execution_; }
  [[noreturn]] void fail(FailureKind kind, std::string message, interleave::source_location where);
  void fail_later(FailureKind kind, std::string message, interleave::source_location where) noexcept;
  [[nodiscard]] std::int64_t now() const noexcept { return now_ns_; }
  [[nodiscard]] std::uint32_t current_fiber() const noexcept { return current_; }
  void set_current(std::uint32_t fiber) noexcept {
    if (fiber != current_) switch_thread_storage(current_, fiber);
    current_ = fiber;
    current_operations = &fibers_[fiber].operations;
    heartbeat_.fiber.store(fiber, std::memory_order_relaxed);
  }
  [[nodiscard]] const Heartbeat& heartbeat() const noexcept { return heartbeat_; }
  Names& names() noexcept { return names_; }
  // A per-fiber address for the happens-before edges of thread start and join (TSan builds).
  char& fibers_token(std::uint32_t fiber) noexcept { return tokens_[fiber % tokens_.size()]; }

 private:
  // errno, and the hooks' thread_local storage, follow the running model thread (kOsThread: the
  // OS thread itself, whose storage fiber 0 shares).
  void switch_thread_storage(std::uint32_t from, std::uint32_t to) noexcept;
  static void fiber_entry(void* argument);
  void beat() noexcept { heartbeat_.beats.store(++beats_, std::memory_order_relaxed); }
  void run_current_task();
  // Forgets the previous run: the state of a new schedule `id`, no fiber started yet.
  void begin_run(const ScheduleId& id, bool full_trace, std::vector<Choice>* record);
  void finish_current();
  void check_all_joined();
  [[nodiscard]] bool has_live_fibers() const noexcept;
  std::optional<std::uint32_t> next_to_tear_down();
  std::optional<std::uint32_t> pick_next(bool current_runnable);
  void advance_time();
  // Switches from the running fiber to `to` (starting it on a pool fiber if it never ran).
  void transfer(std::uint32_t to, bool synchronizing);
  void block_current();
  void make_runnable(std::uint32_t fiber);
  void remove_runnable(std::uint32_t fiber);
  void join_during_teardown(std::uint32_t fiber);
  void report_lifetime_race(std::string message, std::uint32_t other);
  bool wait_during_teardown(const std::uint32_t* word, std::uint32_t expected);
  // `choice`: the step was a scheduling point (a fiber was picked there); false for an event.
  void record(const char* what, const void* object, bool choice = false);
  // Counts a scheduling point or event, fails past max_steps, and records it.
  [[gnu::always_inline]] inline void count_step(const char* what, const void* object, bool choice);
  void record_release_acquire(const void* object, AtomicOp op, std::memory_order order);
  void check_abort(bool blocking);
  void record_failure(FailureKind kind, std::string message, interleave::source_location where);
  void report_deadlock();
  [[nodiscard]] Context detector_context() const noexcept;
  // Full traces: "what in operation at file:line" for the scheduling point `step` of `fiber`;
  // empty without a full trace or when the trace has no such step.
  [[nodiscard]] std::string describe_step(std::uint32_t fiber, std::uint64_t step) const;
  // Reports a race found by the detector: unwinds the fiber when it can, else (a destructor, or a
  // fiber already unwinding) records it for the next scheduling point.
  void report_race(std::string message, interleave::source_location where, bool can_unwind);
  // Gives `fiber_id` a pool fiber, mapping a new one when none is free. When a new stack cannot be
  // mapped, records a resources_exhausted failure (aborting_ is then set) and returns nullptr.
  PooledFiber* attach_pool_fiber(std::uint32_t fiber_id) noexcept;
  // attach_pool_fiber for a fiber about to run for the first time; false when it failed.
  bool start_on_pool_fiber(std::uint32_t fiber_id) noexcept;

  std::size_t stack_bytes_;
  std::vector<std::unique_ptr<PooledFiber>> pool_;
  PooledFiber* releasing_ = nullptr;  // the pool fiber of a fiber that is finishing right now
  std::vector<FiberState> fibers_;    // current_operations points into it: refresh after growth
  std::vector<std::uint32_t> runnable_;
  std::vector<std::uint32_t> waiters_;
  std::vector<TraceEntry> trace_;
  std::vector<std::uint32_t> sequence_;
  // The run's first scheduling points, kept in every run (a few stores per schedule) so that a
  // fatal signal's reproduce line and every report can carry the test's fingerprint.
  std::array<FingerprintPoint, TestFingerprint::kSteps> fingerprint_points_{};
  std::uint32_t fingerprint_size_ = 0;
  bool full_trace_ = false;
  // Full traces only: the edges, and per atomic object the head of its current release sequence
  // (the last release store/RMW not since overwritten by a plain store) with the fibers that
  // already acquired from it (one arrow per fiber, not one per spin of a polling loop).
  struct ReleaseHead {
    std::size_t entry = 0;
    std::uint32_t fiber = 0;
    absl::InlinedVector<std::uint32_t, 4> acquired_by;
  };
  std::vector<TraceEdge> edges_;
  absl::flat_hash_map<const void*, ReleaseHead> release_heads_;
  bool weak_ = false;                   // the weak memory model (ScheduleId::memory_model)
  std::vector<StaleRead> stale_reads_;  // full traces, weak model
  Chooser chooser_;
  std::uint32_t current_ = 0;
  std::uint64_t steps_ = 0;
  std::uint64_t max_steps_ = 0;
  std::uint32_t preemptions_ = 0;
  std::uint32_t preempted_ = UINT32_MAX;  // full trace: the fiber preempted before the next entry
  std::int64_t now_ns_ = 0;
  bool aborting_ = false;
  std::uint64_t abort_spins_ = 0;
  std::optional<Failure> failure_;
  std::array<char, 256> tokens_{};
  std::function<std::string()> probe_;
  RaceDetector detector_;
  Names names_;
  // Plain memory of instrumented code (runtime_plain_memory.cpp): granules by address / 8.
  absl::flat_hash_map<std::uintptr_t, Granule> memory_;
  // A direct-mapped cache of memory_'s entries by key: most accesses touch a granule touched just
  // before. An entry is valid while memory_generation_ is the one it was filled at; every insert
  // into memory_ and every erase bumps it (either may move the map's elements).
  struct GranuleCacheEntry {
    std::uintptr_t key = 0;
    std::uint64_t generation = 0;
    Granule* granule = nullptr;
  };
  static constexpr std::size_t kGranuleCache = 256;
  std::array<GranuleCacheEntry, kGranuleCache> granule_cache_{};
  std::uint64_t memory_generation_ = 1;
  std::uint64_t execution_ = 0;
  Heartbeat heartbeat_;
  std::uint64_t beats_ = 0;  // heartbeat_.beats, kept here so the hot path never loads the atomic
};

// Looks up the file and line of every code address code_location() handed out without them
// (runtime_plain_memory.cpp); called before a report is written.
void resolve_code_locations() noexcept;

// The user's call site on the calling fiber's stack: the innermost frame outside the standard
// library's and interleave's own code (resolved by resolve_code_locations()). For steps whose
// site is a library header, e.g. Mutex::lock called from std::lock_guard's constructor.
interleave::source_location user_call_site() noexcept;

// In a report's run: `where` (a call site the source code gave, e.g. an operation's default
// source_location argument) as a site whose call_chain() names the user's frames that called it,
// read from the calling fiber's stack. `where` itself where there is no stack to read or no way to
// make such a site (a library without std::source_location).
interleave::source_location chained_site(const interleave::source_location& where) noexcept;

// True for a site in the standard library's or interleave's own headers and sources: a report
// should name the user's line that led there instead.
bool library_site(const interleave::source_location& where) noexcept;

// What a failure inside the race detector was, for the report: "out of memory in the race
// detector", or the exception's message.
std::string detector_error(const std::exception_ptr& error);

// Writes the TestFingerprint text ("<steps>-<fibers>-<hash>", schedule.h) of the points run so far
// by the exploration running on this thread, or "-" outside one, into `out` (not terminated);
// returns its length. Async-signal-safe: the fatal-signal reproduce line uses it.
std::size_t fingerprint_text_for_signal(char* out, std::size_t capacity) noexcept;

}  // namespace interleave::detail::model
