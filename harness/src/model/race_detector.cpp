// The happens-before race detector: vector clocks per fiber, release sequences per atomic object,
// FastTrack epochs per Shared<T> cell.
#include "model/race_detector.h"

#include <absl/strings/str_cat.h>

#include <algorithm>

#include "where.h"

namespace interleave::detail::model {

namespace {

// Schedule numbers are unique across runtimes, so a cell's shadow from any earlier schedule (on
// any thread) is never mistaken for this one's.
std::atomic<std::uint64_t> g_schedules{0};

// " (what)" for a known description, nothing for an unknown one.
std::string describe(const std::string& what) { return what.empty() ? std::string() : absl::StrCat(" (", what, ")"); }

std::string site(interleave::source_location where) {
  std::string text = location_text(where);
  return text.empty() ? std::string("an unknown location") : text + call_chain(where);
}

}  // namespace

void RaceDetector::begin(bool clocks, bool reports, int store_history) {
  enabled_ = clocks || reports;
  reports_ = reports;
  retained_ = static_cast<std::uint64_t>(std::max(store_history, 1)) + 1;  // the newest, and that many older
  capacity_ = 2;
  while (capacity_ < retained_) capacity_ *= 2;  // a power of two: slots by mask, not division
  sc_order_ = 0;
  schedule_ = g_schedules.fetch_add(1, std::memory_order_relaxed) + 1;
  fibers_.clear();
  states_used_ = 0;
  free_states_.clear();
  for (std::size_t i = 0; i < read_sets_used_; ++i) read_sets_[i].clear();
  read_sets_used_ = 0;
  seq_cst_fences_.clear();
}

RaceDetector::FiberClocks& RaceDetector::grow(std::uint32_t id) {
  fibers_.resize(id + 1);
  return fibers_[id];
}

RaceDetector::AtomicState& RaceDetector::adopt(AtomicShadow& shadow) {
  std::uint32_t index = 0;
  if (!free_states_.empty()) {
    index = free_states_.back();
    free_states_.pop_back();
  } else {
    if (states_used_ == states_.size()) states_.emplace_back();
    index = static_cast<std::uint32_t>(states_used_++);
  }
  states_[index].reset();
  shadow.schedule = schedule_;
  shadow.index = index;
  return states_[index];
}

UseSite& RaceDetector::more_use(AtomicState& state, std::uint32_t fiber) {
  const std::size_t i = fiber - VectorClock::kInline;
  if (i >= state.more_uses.size()) state.more_uses.resize(i + 1);
  return state.more_uses[i];
}

void RaceDetector::on_spawn(std::uint32_t child, std::int64_t parent) {
  if (!enabled_) return;
  if (parent >= 0) {
    FiberClocks& p = fiber(static_cast<std::uint32_t>(parent));
    VectorClock start = p.clock;
    p.clock.tick(static_cast<std::uint32_t>(parent));
    fiber(child).clock = std::move(start);
  }
  fiber(child).clock.tick(child);
}

void RaceDetector::on_join(std::uint32_t joiner, std::uint32_t joined) {
  if (!enabled_) return;
  const VectorClock finished = fiber(joined).clock;
  fiber(joiner).clock.join(finished);
}

void RaceDetector::on_wake(std::uint32_t waker, std::uint32_t woken) {
  if (!enabled_) return;
  fiber(std::max(waker, woken));
  fibers_[woken].wake.join(fibers_[waker].clock);
  fibers_[waker].clock.tick(waker);  // the waker's later accesses are not part of the wake
}

void RaceDetector::on_woken(std::uint32_t id) {
  if (!enabled_) return;
  FiberClocks& f = fiber(id);
  f.clock.join(f.wake);
  f.wake.clear();
}

std::optional<std::string> RaceDetector::on_atomic_destroyed(
    const Context& c, AtomicShadow& shadow,
    absl::FunctionRef<std::string(std::uint32_t fiber, std::uint64_t step)> describe_use, std::uint32_t* other) {
  if (shadow.schedule != schedule_) return std::nullopt;  // not used in this schedule
  const std::uint32_t index = shadow.index;
  shadow = AtomicShadow{};
  std::optional<std::string> race;
  if (reports_) {
    const VectorClock& mine = fiber(c.fiber).clock;
    const AtomicState& state = states_[index];
    const std::size_t fibers = VectorClock::kInline + state.more_uses.size();
    for (std::uint32_t u = 0; u < fibers; ++u) {
      const UseSite& use = use_of(state, u);
      if (u == c.fiber || use.clock == 0 || use.clock <= mine.get(u)) continue;
      race = absl::StrCat(
          "an object is destroyed while another fiber's last use of it is not ordered before the destruction "
          "(no happens-before edge between them)\n    fiber ",
          c.fiber, " destroys it at step ", c.step,
          c.operation != nullptr ? absl::StrCat(", in ", c.operation, " at ", site(c.operation_where)) : "",
          "\n    fiber ", u, " last used it", describe(describe_use(u, use.step)), " at step ", use.step);
      if (other != nullptr) *other = u;
      break;
    }
  }
  free_states_.push_back(index);
  return race;
}

void RaceDetector::on_fence(std::uint32_t id, std::memory_order order) {
  if (!enabled_) return;
  FiberClocks& f = fiber(id);
  if (acquires(order)) f.clock.join(f.pending_acquire);
  if (order == std::memory_order_seq_cst) {
    f.sc_fence = ++sc_order_;
    // seq_cst fences are totally ordered; each one is taken to synchronize with the earlier ones
    // (stronger than the standard promises: it can hide a race that only seq_cst fences "order").
    f.clock.join(seq_cst_fences_);
    seq_cst_fences_ = f.clock;
  }
  if (releases(order)) {
    f.fence_release = f.clock;
    f.has_fence_release = true;
    f.clock.tick(id);
  }
}

// --- Weak memory model -------------------------------------------------------------------------

namespace {

// Whether some access recorded in `seen` (an epoch per fiber) happens-before a fiber whose clock
// is `clock` (and, for a seq_cst load, `also`, the clock of the seq_cst fences before it).
bool seen_before(const VectorClock& seen, const VectorClock& clock, const VectorClock* also) {
  const std::uint32_t fibers = seen.size();
  for (std::uint32_t g = 0; g < fibers; ++g) {
    const std::uint32_t e = seen.get(g);
    if (e != 0 && (e <= clock.get(g) || (also != nullptr && e <= also->get(g)))) return true;
  }
  return false;
}

inline void note_seen(StoreRecord& s, std::uint32_t fiber, std::uint32_t epoch) { s.seen.set_if_unset(fiber, epoch); }

}  // namespace

void RaceDetector::begin_history(AtomicState& a, std::uint64_t current) const {
  if (a.history.size() != capacity_) a.history.resize(capacity_);
  StoreRecord& s = a.history[0];
  s.value = current;
  s.step = 0;
  s.sc_order = 0;
  s.fiber = UINT32_MAX;
  s.release.clear();
  s.seen.clear();
  a.stores = 1;
}

StoreRecord& RaceDetector::append(AtomicState& a) {
  StoreRecord& s = a.history[slot(a.stores)];
  ++a.stores;
  s.seen.clear();
  return s;
}

ReadWindow RaceDetector::read_window(std::uint32_t id, AtomicShadow& shadow, std::uint64_t current,
                                     std::memory_order order) {
  AtomicState& a = atomic(shadow);
  if (a.stores == 0) begin_history(a, current);
  const FiberClocks& f = fiber(id);
  const std::uint64_t newest = a.stores - 1;
  const std::uint64_t retained = std::min<std::uint64_t>(a.stores, retained_);
  std::uint64_t oldest = a.stores - retained;
  const bool seq_cst = order == std::memory_order_seq_cst;
  // A seq_cst load reads the newest seq_cst store or a later one (RC11's SC order, which the
  // model takes to be the order operations ran in).
  if (seq_cst && a.last_sc != 0) oldest = std::max(oldest, a.last_sc - 1);
  for (std::uint64_t mo = newest; mo > oldest; --mo) {
    const StoreRecord& s = a.history[slot(mo)];
    // Coherence: not older than a store this fiber (or what happens-before it) read or wrote. A
    // load after a seq_cst fence reads no store older than a seq_cst store before that fence.
    if (s.seen.get(id) != 0 || seen_before(s.seen, f.clock, seq_cst ? &seq_cst_fences_ : nullptr) ||
        (f.sc_fence != 0 && s.sc_order != 0 && s.sc_order < f.sc_fence)) {
      oldest = mo;
      break;
    }
  }
  return ReadWindow{oldest, newest};
}

const StoreRecord& RaceDetector::read(std::uint32_t id, std::uint64_t step, AtomicShadow& shadow, std::uint64_t mo,
                                      std::memory_order order) {
  FiberClocks& f = fiber(id);
  AtomicState& a = atomic(shadow);
  record_use(a, id, f, step);
  StoreRecord& s = a.history[slot(mo)];
  note_seen(s, id, f.clock.get(id));
  if (acquires(order)) {
    f.clock.join(s.release);
  } else {
    f.pending_acquire.join(s.release);
  }
  return s;
}

void RaceDetector::write(std::uint32_t id, std::uint64_t step, AtomicShadow& shadow, std::uint64_t value,
                         std::memory_order order, bool rmw) {
  FiberClocks& f = fiber(id);
  AtomicState& a = atomic(shadow);
  record_use(a, id, f, step);
  const bool release = releases(order);
  // A read-modify-write continues the release sequence of the store it read (the newest; the
  // history has at least two slots, so appending does not overwrite it).
  const StoreRecord& previous = a.history[slot(a.stores - 1)];
  StoreRecord& s = append(a);
  s.value = value;
  s.step = step;
  s.fiber = id;
  s.sc_order = order == std::memory_order_seq_cst ? ++sc_order_ : 0;
  if (s.sc_order != 0) a.last_sc = a.stores;
  if (release) {
    s.release.assign(f.clock);
  } else if (f.has_fence_release) {
    s.release.assign(f.fence_release);
  } else {
    s.release.clear();
  }
  if (rmw) s.release.join(previous.release);
  note_seen(s, id, f.clock.get(id));
  if (release) f.clock.tick(id);
}

void RaceDetector::observe_newest(std::uint32_t id, AtomicShadow& shadow, std::uint64_t current) {
  AtomicState& a = atomic(shadow);
  if (a.stores == 0) begin_history(a, current);
  FiberClocks& f = fiber(id);
  note_seen(a.history[slot(a.stores - 1)], id, f.clock.get(id));
}

// --- Shared<T> cells (FastTrack) ----------------------------------------------------------------

void RaceDetector::adopt_cell(CellShadow& shadow) const noexcept {
  if (shadow.schedule == schedule_) return;
  shadow = CellShadow{};
  shadow.schedule = schedule_;
}

void RaceDetector::on_cell_created(const Context& c, CellShadow& shadow, interleave::source_location where) {
  shadow = CellShadow{};
  shadow.schedule = schedule_;
  if (!reports_) return;
  shadow.write = CellAccess{c.fiber, fiber(c.fiber).clock.get(c.fiber), c.step, where};
}

std::string RaceDetector::describe_cell_race(const Context& c, bool write, interleave::source_location where,
                                             const CellAccess& earlier, bool earlier_write, bool destroying) const {
  const char* now = destroying ? "destroys the cell" : (write ? "writes" : "reads");
  return absl::StrCat(destroying ? "a Shared<T> cell is destroyed while an access to it is not ordered before the "
                                   "destruction (no happens-before edge between them)"
                                 : "data race on a Shared<T> cell: two accesses, at least one a write, with no "
                                   "happens-before edge between them",
                      "\n    fiber ", c.fiber, " ", now, " at ", site(where), ", step ", c.step, "\n    fiber ",
                      earlier.fiber, earlier_write ? " wrote" : " read", " it at ", site(earlier.where), ", step ",
                      earlier.step);
}

std::optional<std::string> RaceDetector::on_cell_access(const Context& c, CellShadow& shadow, bool write,
                                                        interleave::source_location where) {
  if (!reports_) return std::nullopt;
  adopt_cell(shadow);
  const VectorClock& mine = fiber(c.fiber).clock;
  const std::uint32_t now = mine.get(c.fiber);
  const auto ordered = [&](const CellAccess& a) { return a.clock == 0 || a.clock <= mine.get(a.fiber); };
  const CellAccess me{c.fiber, now, c.step, where};

  if (!write) {
    if (shadow.read_set == 0 && shadow.read.fiber == c.fiber && shadow.read.clock == now) return std::nullopt;
    if (!ordered(shadow.write)) return describe_cell_race(c, false, where, shadow.write, true, false);
    if (shadow.read_set != 0) {
      auto& set = read_sets_[shadow.read_set - 1];
      for (auto& r : set) {
        if (r.fiber == c.fiber) {
          r = me;
          return std::nullopt;
        }
      }
      set.push_back(me);
    } else if (ordered(shadow.read)) {
      shadow.read = me;
    } else {
      // Reads unordered among themselves: keep one per fiber until the next write.
      if (read_sets_used_ == read_sets_.size()) read_sets_.emplace_back();
      auto& set = read_sets_[read_sets_used_++];
      set.push_back(shadow.read);
      set.push_back(me);
      shadow.read_set = static_cast<std::uint32_t>(read_sets_used_);
    }
    return std::nullopt;
  }

  if (shadow.write.fiber == c.fiber && shadow.write.clock == now && shadow.read_set == 0 &&
      (shadow.read.clock == 0 || shadow.read.fiber == c.fiber)) {
    shadow.write = me;  // same epoch: nothing new to check
    return std::nullopt;
  }
  if (!ordered(shadow.write)) return describe_cell_race(c, true, where, shadow.write, true, false);
  if (shadow.read_set != 0) {
    auto& set = read_sets_[shadow.read_set - 1];
    for (const auto& r : set) {
      if (!ordered(r)) return describe_cell_race(c, true, where, r, false, false);
    }
    set.clear();
    shadow.read_set = 0;
  } else if (!ordered(shadow.read)) {
    return describe_cell_race(c, true, where, shadow.read, false, false);
  }
  shadow.read = CellAccess{};
  shadow.write = me;
  return std::nullopt;
}

void RaceDetector::copy_cell(const CellShadow& shadow, CellShadow& copy) {
  copy = shadow;
  if (shadow.read_set == 0 || shadow.schedule != schedule_) return;
  if (read_sets_used_ == read_sets_.size()) read_sets_.emplace_back();
  read_sets_[read_sets_used_++] = read_sets_[shadow.read_set - 1];
  copy.read_set = static_cast<std::uint32_t>(read_sets_used_);
}

std::optional<std::string> RaceDetector::on_cell_destroyed(const Context& c, CellShadow& shadow, std::uint32_t* other) {
  if (!reports_ || shadow.schedule != schedule_) return std::nullopt;
  const VectorClock& mine = fiber(c.fiber).clock;
  const auto ordered = [&](const CellAccess& a) { return a.clock == 0 || a.clock <= mine.get(a.fiber); };
  const interleave::source_location where = c.operation != nullptr ? c.operation_where : interleave::source_location{};
  std::optional<std::string> race;
  const CellAccess* unordered = nullptr;
  if (!ordered(shadow.write)) {
    unordered = &shadow.write;
    race = describe_cell_race(c, true, where, shadow.write, true, true);
  } else if (shadow.read_set != 0) {
    for (const auto& r : read_sets_[shadow.read_set - 1]) {
      if (!ordered(r)) {
        unordered = &r;
        race = describe_cell_race(c, true, where, r, false, true);
        break;
      }
    }
  } else if (!ordered(shadow.read)) {
    unordered = &shadow.read;
    race = describe_cell_race(c, true, where, shadow.read, false, true);
  }
  if (unordered != nullptr && other != nullptr) *other = unordered->fiber;
  shadow.schedule = 0;
  return race;
}

}  // namespace interleave::detail::model
