// The memory model's atomic operations by address: sequentially consistent (every load reads the
// newest store) or weak (a load reads a store that coherence and happens-before allow, chosen by
// the schedule). The bytes at the address always hold the newest store; the weak model keeps the
// older ones in the race detector's per-object history (race_detector.h).
#include <cstdint>
#include <cstring>

#include "model/runtime.h"

namespace interleave::detail::model {

namespace {

std::uint64_t load_bits(const void* address, std::uint32_t size) noexcept {
  std::uint64_t bits = 0;
  std::memcpy(&bits, address, size);
  return bits;
}

void store_bits(void* address, std::uint32_t size, std::uint64_t bits) noexcept { std::memcpy(address, &bits, size); }

std::memory_order load_part(std::memory_order order) noexcept {
  if (order == std::memory_order_release) return std::memory_order_relaxed;
  if (order == std::memory_order_acq_rel) return std::memory_order_acquire;
  return order;
}

}  // namespace

std::uint64_t Runtime::atomic_read(const void* address, AtomicShadow& shadow, std::uint32_t size,
                                   std::memory_order order, const char* what, interleave::source_location where) {
  const std::uint64_t newest = load_bits(address, size);
  if (aborting_) return newest;
  if (!weak_) {
    atomic_effects(address, shadow, AtomicOp::load, order);
    return newest;
  }
  if (full_trace_) record_release_acquire(address, AtomicOp::load, order);
  const ReadWindow window = detector_.read_window(current_, shadow, newest, order);
  std::uint64_t back = 0;
  if (window.newest > window.oldest) {
    back = chooser_.pick_store(static_cast<std::uint32_t>(window.newest - window.oldest + 1), current_);
  }
  const StoreRecord& read = detector_.read(current_, steps_, shadow, window.newest - back, order);
  if (back != 0 && full_trace_) {
    const StoreRecord& latest = detector_.store(shadow, window.newest);
    stale_reads_.push_back(StaleRead{steps_, current_, what, where, read.step, read.fiber, latest.step, latest.fiber,
                                     static_cast<std::uint32_t>(back)});
  }
  return read.value;
}

void Runtime::atomic_write(void* address, AtomicShadow& shadow, std::uint32_t size, std::uint64_t value,
                           std::memory_order order) {
  if (!weak_ || aborting_) {
    atomic_effects(address, shadow, AtomicOp::store, order);
  } else {
    if (full_trace_) record_release_acquire(address, AtomicOp::store, order);
    (void)detector_.newest(shadow, load_bits(address, size));  // begins the history
    detector_.write(current_, steps_, shadow, value, order, false);
  }
  store_bits(address, size, value);
}

std::uint64_t Runtime::atomic_rmw(void* address, AtomicShadow& shadow, std::uint32_t size, std::memory_order order,
                                  AtomicUpdate update, const void* context) {
  const std::uint64_t old = load_bits(address, size);
  const std::uint64_t updated = update(old, context);
  if (!weak_ || aborting_) {
    atomic_effects(address, shadow, AtomicOp::rmw, order);
  } else {
    if (full_trace_) record_release_acquire(address, AtomicOp::rmw, order);
    (void)detector_.read(current_, steps_, shadow, detector_.newest(shadow, old), load_part(order));  // the newest
    detector_.write(current_, steps_, shadow, updated, order, true);
  }
  store_bits(address, size, updated);
  return old;
}

bool Runtime::atomic_compare_exchange(void* address, AtomicShadow& shadow, std::uint32_t size, std::uint64_t& expected,
                                      std::uint64_t desired, std::memory_order success, std::memory_order failure,
                                      bool weak) {
  const std::uint64_t found = load_bits(address, size);
  bool exchanged = found == expected;
  // A weak compare-exchange may fail although the values are equal (std::atomic allows it: LL/SC
  // hardware loses its reservation): a decision of the schedule, only where it would succeed.
  if (exchanged && weak && weak_ && !aborting_ && chooser_.spurious_cas_failure(current_)) exchanged = false;
  if (!weak_ || aborting_) {
    atomic_effects(address, shadow, exchanged ? AtomicOp::rmw : AtomicOp::load, exchanged ? success : failure);
  } else {
    const std::memory_order order = exchanged ? success : failure;
    if (full_trace_) record_release_acquire(address, exchanged ? AtomicOp::rmw : AtomicOp::load, order);
    // A compare-exchange reads the newest store, whether it then writes or not (a failed one could
    // read an older store in C++; the model does not produce that).
    (void)detector_.read(current_, steps_, shadow, detector_.newest(shadow, found),
                         exchanged ? load_part(order) : order);
    if (exchanged) detector_.write(current_, steps_, shadow, desired, order, true);
  }
  if (exchanged) {
    store_bits(address, size, desired);
  } else {
    expected = found;
  }
  return exchanged;
}

}  // namespace interleave::detail::model
