// Internal to the harness library: the happens-before race detector behind Shared<T> and the
// lifetime checks of atomic objects.
//
// Every fiber has a vector clock. Happens-before edges come only from what the model executes:
//   - spawn: the child starts with its parent's clock; join: the joiner takes the child's clock;
//   - atomics by memory order: an object keeps the clock of its release sequence (a release store
//     or release RMW sets/extends it, a relaxed RMW continues it, a relaxed store ends it); an
//     acquire load or acquire RMW joins it; a relaxed load remembers it for a later acquire fence;
//     a release fence makes the fiber's later relaxed stores/RMWs carry the fence's clock; seq_cst
//     fences are ordered among themselves;
//   - a futex wake: the woken waiter, when its wait returns because of that wake, joins the
//     waker's clock.
// The primitives get no special cases: their happens-before follows from these.
//
// Shared<T> cells are checked with FastTrack (Flanagan & Freund, PLDI 2009): a cell keeps the
// epoch (fiber, clock) of its last write and of its last read, and a per-fiber read set only while
// reads are unordered among themselves; an access in the epoch already recorded costs one compare.
#pragma once

#include <absl/container/inlined_vector.h>
#include <absl/functional/function_ref.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "interleave/detail/model_runtime.h"
#include "interleave/source_location.h"

namespace interleave::detail::model {

// For a site that code_location() or user_call_site() handed out, once resolved: the user's
// frames that called it, as ", called from file:line, from file:line" (at most two); else empty
// (runtime_plain_memory.cpp). Race reports append it to each access's site.
std::string call_chain(const interleave::source_location& where);

// One clock per fiber. The first kInline fibers' entries live in a fixed array, so that copying,
// joining and ticking a clock of a typical test (a handful of threads) is a few vector
// instructions with no size checks and no allocation; fibers beyond them spill to a vector.
class VectorClock {
 public:
  static constexpr std::uint32_t kInline = 8;

  [[nodiscard]] std::uint32_t get(std::uint32_t fiber) const noexcept {
    if (fiber < kInline) return small_[fiber];
    const std::size_t i = fiber - kInline;
    return i < large_.size() ? large_[i] : 0;
  }
  void set(std::uint32_t fiber, std::uint32_t value) {
    if (fiber < kInline) {
      small_[fiber] = value;
      return;
    }
    const std::size_t i = fiber - kInline;
    if (i >= large_.size()) large_.resize(i + 1, 0);
    large_[i] = value;
  }
  // Sets the entry of `fiber` to `value` unless it is already non-zero.
  void set_if_unset(std::uint32_t fiber, std::uint32_t value) {
    if (fiber < kInline) [[likely]] {
      if (small_[fiber] == 0) small_[fiber] = value;
      return;
    }
    if (get(fiber) == 0) set(fiber, value);
  }
  void tick(std::uint32_t fiber) {
    if (fiber < kInline) {
      ++small_[fiber];
    } else {
      set(fiber, get(fiber) + 1);
    }
  }
  void join(const VectorClock& other) {
    for (std::uint32_t i = 0; i < kInline; ++i) small_[i] = std::max(small_[i], other.small_[i]);
    if (!other.large_.empty()) join_large(other);
  }
  // *this = other, without touching the spill vectors when neither clock has spilled.
  void assign(const VectorClock& other) {
    small_ = other.small_;
    if (!other.large_.empty() || !large_.empty()) [[unlikely]]
      large_ = other.large_;
  }
  // Fibers whose entry may be non-zero: 0 .. size()-1.
  [[nodiscard]] std::uint32_t size() const noexcept { return kInline + static_cast<std::uint32_t>(large_.size()); }
  void clear() noexcept {
    small_ = {};
    large_.clear();
  }

 private:
  void join_large(const VectorClock& other) {
    if (other.large_.size() > large_.size()) large_.resize(other.large_.size(), 0);
    for (std::size_t i = 0; i < other.large_.size(); ++i) large_[i] = std::max(large_[i], other.large_[i]);
  }

  std::array<std::uint32_t, kInline> small_{};
  std::vector<std::uint32_t> large_;  // fibers kInline, kInline + 1, ...
};

// The latest operation of one fiber on an atomic object (for lifetime checks): the fiber's clock
// and the step it ran at. clock 0: none. What the operation was is told by the trace, when the
// run keeps one (see on_atomic_destroyed).
struct UseSite {
  std::uint32_t clock = 0;
  std::uint64_t step = 0;
};

// What the runtime knows about the running fiber when it calls the detector.
struct Context {
  std::uint32_t fiber = 0;
  std::uint64_t step = 0;
  const char* operation = nullptr;  // outermost primitive operation in progress, if any
  interleave::source_location operation_where{};
};

// Weak memory model: one store of an atomic object's modification order, as its history keeps it.
struct StoreRecord {
  std::uint64_t value = 0;           // the stored bytes (the object's low `size` bytes)
  std::uint64_t step = 0;            // the scheduling point of the store (0: the object's initial value)
  std::uint64_t sc_order = 0;        // its place in the order of seq_cst operations (0: not seq_cst)
  std::uint32_t fiber = UINT32_MAX;  // UINT32_MAX: the initial value
  VectorClock release;               // the clock of the release sequence it belongs to (empty: none)
  VectorClock seen;                  // per fiber, the earliest epoch in which it read or wrote this store (0: never)
};

// Weak memory model: the stores a load may read (modification order numbers oldest..newest).
struct ReadWindow {
  std::uint64_t oldest = 0;
  std::uint64_t newest = 0;
};

class RaceDetector {
 public:
  // Starts a schedule. `clocks` false makes every hook a no-op; `reports` false keeps the clocks
  // (the weak memory model needs happens-before) but reports no race.
  void begin(bool clocks, bool reports, int store_history);
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }
  [[nodiscard]] bool reports() const noexcept { return reports_; }

  // --- Weak memory model (clocks enabled) ---
  // The stores fiber `id` may read with a load of order `order`: from the newest one that it, or
  // an operation that happens-before it, already read or wrote (coherence), and for a seq_cst load
  // (or one after a seq_cst fence) no older than the seq_cst stores before it; to the newest.
  // `current` is the object's value, its initial store if its history has not begun.
  ReadWindow read_window(std::uint32_t id, AtomicShadow& shadow, std::uint64_t current, std::memory_order order);
  // A read-modify-write's read: the newest store (its history begun with `current` if need be).
  // Returns its order number.
  std::uint64_t newest(AtomicShadow& shadow, std::uint64_t current) {
    AtomicState& a = atomic(shadow);
    if (a.stores == 0) begin_history(a, current);
    return a.stores - 1;
  }
  // Fiber `id` reads store `mo` (within the window) with order `order`: its happens-before effects.
  const StoreRecord& read(std::uint32_t id, std::uint64_t step, AtomicShadow& shadow, std::uint64_t mo,
                          std::memory_order order);
  // Fiber `id` appends a store of `value` to the modification order (a plain store heads a new
  // release sequence; a read-modify-write, which read the newest store just before, continues it).
  void write(std::uint32_t id, std::uint64_t step, AtomicShadow& shadow, std::uint64_t value, std::memory_order order,
             bool rmw);
  // Fiber `id` saw the newest store (a futex wait's comparison): its later loads read no older one.
  void observe_newest(std::uint32_t id, AtomicShadow& shadow, std::uint64_t current);
  [[nodiscard]] const StoreRecord& store(const AtomicShadow& shadow, std::uint64_t mo) const noexcept {
    const AtomicState& a = states_[shadow.index];
    return a.history[mo & (a.history.size() - 1)];
  }
  [[nodiscard]] std::uint64_t schedule() const noexcept { return schedule_; }

  // Thread start (parent < 0: the body's main fiber) and join.
  void on_spawn(std::uint32_t child, std::int64_t parent);
  void on_join(std::uint32_t joiner, std::uint32_t joined);
  // A wake by `waker` that releases `woken`, and the woken fiber's return from its wait.
  void on_wake(std::uint32_t waker, std::uint32_t woken);
  void on_woken(std::uint32_t fiber);

  // An atomic operation of kind `op` with memory order `order` by fiber `id`, at scheduling point
  // `step`, on the object whose handle is `shadow`. Inline: it runs at every atomic operation.
  void on_atomic(std::uint32_t id, std::uint64_t step, AtomicShadow& shadow, AtomicOp op, std::memory_order order) {
    if (!enabled_) return;
    FiberClocks& f = fiber(id);
    AtomicState& a = atomic(shadow);
    record_use(a, id, f, step);
    if (op != AtomicOp::store) {  // reads the value: synchronizes with its release sequence
      if (acquires(order)) {
        f.clock.join(a.release);
      } else {
        f.pending_acquire.join(a.release);
      }
    }
    const bool release = releases(order);
    if (op == AtomicOp::store) {
      // A store heads a new release sequence (a relaxed one heads none, unless a release fence
      // came before it).
      if (release) {
        a.release.assign(f.clock);
      } else if (f.has_fence_release) {
        a.release.assign(f.fence_release);
      } else {
        a.release.clear();
      }
    } else if (op == AtomicOp::rmw) {
      // A read-modify-write continues the release sequence it read from, and adds its own.
      if (release) {
        a.release.join(f.clock);
      } else if (f.has_fence_release) {
        a.release.join(f.fence_release);
      }
    }
    if (release && op != AtomicOp::load) f.clock.tick(id);
  }
  // A futex wait's comparison or a wake: a use of the word for lifetime checks, no ordering.
  void on_atomic_use(std::uint32_t id, std::uint64_t step, AtomicShadow& shadow) {
    if (!enabled_) return;
    const FiberClocks& f = fiber(id);
    record_use(atomic(shadow), id, f, step);
  }
  // The object's state is dropped; a returned message is a lifetime race to report, and
  // `*other` (when given) the fiber whose use is not ordered before the destruction.
  // `describe_use(fiber, step)` names an earlier operation in the report (empty: unknown).
  std::optional<std::string> on_atomic_destroyed(
      const Context& c, AtomicShadow& shadow,
      absl::FunctionRef<std::string(std::uint32_t fiber, std::uint64_t step)> describe_use,
      std::uint32_t* other = nullptr);
  void on_fence(std::uint32_t fiber, std::memory_order order);

  // FastTrack's common case, without building a Context: true when the access needs no check
  // (detector off, or the fiber's own epoch is already recorded for this kind of access). The
  // recorded access then stands for this one in reports (the first access of that epoch).
  [[nodiscard]] bool same_epoch(const CellShadow& s, std::uint32_t fiber, bool write) const noexcept {
    if (!reports_) return true;
    if (s.schedule != schedule_ || fiber >= fibers_.size() || s.read_set != 0) return false;
    const std::uint32_t now = fibers_[fiber].clock.get(fiber);
    if (write) return s.write.fiber == fiber && s.write.clock == now && (s.read.clock == 0 || s.read.fiber == fiber);
    return s.read.fiber == fiber && s.read.clock == now;
  }

  // on_cell_access's common case, inline and without a Context: the shadow is this schedule's,
  // has no read set, and the access is ordered after every access it records. Records the access
  // as on_cell_access would and returns true; false when on_cell_access must decide (nothing
  // changed then).
  [[nodiscard]] bool record_if_ordered(CellShadow& s, std::uint32_t fiber, std::uint64_t step, bool write,
                                       interleave::source_location where) noexcept {
    if (!reports_ || s.schedule != schedule_ || s.read_set != 0 || fiber >= fibers_.size()) return false;
    const VectorClock& mine = fibers_[fiber].clock;
    const std::uint32_t now = mine.get(fiber);
    const auto ordered = [&mine](const CellAccess& a) { return a.clock == 0 || a.clock <= mine.get(a.fiber); };
    const CellAccess me{fiber, now, step, where};
    if (!write) {
      if (s.read.fiber == fiber && s.read.clock == now) return true;  // the epoch's first read stands
      if (!ordered(s.write) || !ordered(s.read)) return false;        // a race, or reads unordered
      s.read = me;
      return true;
    }
    if (s.write.fiber == fiber && s.write.clock == now && (s.read.clock == 0 || s.read.fiber == fiber)) {
      s.write = me;  // same epoch: nothing new to check
      return true;
    }
    if (!ordered(s.write) || !ordered(s.read)) return false;
    s.read = CellAccess{};
    s.write = me;
    return true;
  }

  // Shared<T> cells. A returned message is a data race to report.
  void on_cell_created(const Context& c, CellShadow& shadow, interleave::source_location where);
  std::optional<std::string> on_cell_access(const Context& c, CellShadow& shadow, bool write,
                                            interleave::source_location where);
  // `copy` takes `shadow`'s state as a shadow of its own: a read set is copied, not shared.
  void copy_cell(const CellShadow& shadow, CellShadow& copy);
  // As on_atomic_destroyed, for a cell.
  std::optional<std::string> on_cell_destroyed(const Context& c, CellShadow& shadow, std::uint32_t* other = nullptr);

 private:
  struct FiberClocks {
    VectorClock clock;          // this fiber's vector clock
    VectorClock fence_release;  // the clock at its last release fence
    bool has_fence_release = false;
    VectorClock pending_acquire;  // release clocks seen by relaxed loads, for a later acquire fence
    VectorClock wake;             // the clocks of wakes that released it, taken when its wait returns
    std::uint64_t sc_fence = 0;   // weak model: the seq_cst order of its last seq_cst fence (0: none)
  };
  struct AtomicState {
    VectorClock release;  // the clock of the release sequence the object's current value heads
    std::array<UseSite, VectorClock::kInline> uses{};  // per fiber (clock 0: none)
    std::vector<UseSite> more_uses;                    // fibers kInline, kInline + 1, ...
    // Weak model: the last stores in modification order, a ring indexed by order number.
    std::vector<StoreRecord> history;
    std::uint64_t stores = 0;   // stores so far, the initial value included (0: history not begun)
    std::uint64_t last_sc = 0;  // 1 + the order number of the newest seq_cst store (0: none)
    void reset() noexcept {
      stores = 0;
      last_sc = 0;
      release.clear();
      for (UseSite& u : uses) u.clock = 0;
      more_uses.clear();
    }
  };

  static bool acquires(std::memory_order order) noexcept {
    return order == std::memory_order_acquire || order == std::memory_order_consume ||
           order == std::memory_order_acq_rel || order == std::memory_order_seq_cst;
  }
  static bool releases(std::memory_order order) noexcept {
    return order == std::memory_order_release || order == std::memory_order_acq_rel ||
           order == std::memory_order_seq_cst;
  }

  [[gnu::always_inline]] FiberClocks& fiber(std::uint32_t id) {
    if (id < fibers_.size()) [[likely]]
      return fibers_[id];
    return grow(id);
  }
  FiberClocks& grow(std::uint32_t id);
  // The object's state: through its inline handle when that belongs to this schedule, else (its
  // first operation in this schedule) a fresh state, and the handle set to it.
  [[gnu::always_inline]] AtomicState& atomic(AtomicShadow& shadow) {
    if (shadow.schedule == schedule_) [[likely]]
      return states_[shadow.index];
    return adopt(shadow);
  }
  AtomicState& adopt(AtomicShadow& shadow);
  [[gnu::always_inline]] void record_use(AtomicState& state, std::uint32_t id, const FiberClocks& f,
                                         std::uint64_t step) {
    UseSite& u = id < VectorClock::kInline ? state.uses[id] : more_use(state, id);
    u.clock = f.clock.get(id);
    u.step = step;
  }
  static UseSite& more_use(AtomicState& state, std::uint32_t fiber);
  // Fiber `fiber`'s use; `fiber` < kInline + more_uses.size().
  [[nodiscard]] static const UseSite& use_of(const AtomicState& state, std::uint32_t fiber) noexcept {
    return fiber < VectorClock::kInline ? state.uses[fiber] : state.more_uses[fiber - VectorClock::kInline];
  }
  // Brings a cell whose shadow belongs to an earlier schedule (or none) to this one.
  void adopt_cell(CellShadow& shadow) const noexcept;
  std::string describe_cell_race(const Context& c, bool write, interleave::source_location where,
                                 const CellAccess& earlier, bool earlier_write, bool destroying) const;

  // Weak model: begins an object's history with its initial value.
  void begin_history(AtomicState& a, std::uint64_t current) const;
  StoreRecord& append(AtomicState& a);

  bool enabled_ = true;
  bool reports_ = true;
  std::uint64_t retained_ = 8;  // stores a history keeps: the newest and Options::store_history older
  std::uint64_t capacity_ = 8;  // its slots: retained_ rounded up to a power of two
  [[nodiscard]] std::size_t slot(std::uint64_t mo) const noexcept {
    return static_cast<std::size_t>(mo & (capacity_ - 1));
  }
  std::uint64_t sc_order_ = 0;  // weak model: seq_cst operations so far
  std::uint64_t schedule_ = 0;
  std::vector<FiberClocks> fibers_;
  // Atomic objects' states, kept for reuse across schedules: states_[0, states_used_) are this
  // schedule's, those on free_states_ among them were dropped with their objects. An object finds
  // its state through its AtomicShadow, which names this schedule and the index.
  std::vector<AtomicState> states_;
  std::size_t states_used_ = 0;
  std::vector<std::uint32_t> free_states_;
  std::vector<absl::InlinedVector<CellAccess, 4>> read_sets_;  // indexed by CellShadow::read_set - 1
  std::size_t read_sets_used_ = 0;
  VectorClock seq_cst_fences_;
};

}  // namespace interleave::detail::model
