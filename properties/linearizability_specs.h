// Sequential specifications of Queue, Semaphore, Event, Mutex and Pipe for the linearizability
// properties (linearizability_properties.cpp), each over an object type so the zoo's broken
// variants run the same check. Each spec is a plain model plus one Command per call.
#pragma once

#include <rapidcheck.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <ostream>
#include <utility>
#include <vector>

#include "interleave/event.h"
#include "interleave/model_platform.h"
#include "interleave/mutex.h"
#include "interleave/parallel_state_machine.h"
#include "interleave/pipe.h"
#include "interleave/queue.h"
#include "interleave/semaphore.h"
#include "scenarios/pipe_scenarios.h"

namespace interleave::specs {

using P = ModelPlatform;

// What a call returned, for every primitive here.
struct Reply {
  enum class Kind : std::uint8_t { ok, value, closed, empty, yes, no };
  Kind kind = Kind::ok;
  int value = 0;

  static Reply ok() { return {}; }
  static Reply of(int v) { return {Kind::value, v}; }
  static Reply closed() { return {Kind::closed, 0}; }
  static Reply empty() { return {Kind::empty, 0}; }
  static Reply boolean(bool b) { return {b ? Kind::yes : Kind::no, 0}; }
  friend bool operator==(const Reply&, const Reply&) = default;
  friend std::ostream& operator<<(std::ostream& out, const Reply& r) {
    switch (r.kind) {
      case Kind::ok:
        return out << "ok";
      case Kind::value:
        return out << r.value;
      case Kind::closed:
        return out << "closed";
      case Kind::empty:
        return out << "empty";
      case Kind::yes:
        return out << "true";
      case Kind::no:
        return out << "false";
    }
    return out;
  }
};

// A short timeout for the timed calls; virtual time, so it costs nothing.
inline constexpr std::chrono::milliseconds kShortTimeout{1};

template <class Model, class Sut>
using CommandPtr = std::shared_ptr<const Command<Model, Sut, Reply>>;

template <class C, class... Args>
auto just(Args&&... args) {
  return rc::gen::just(
      CommandPtr<typename C::ModelType, typename C::SutType>(std::make_shared<C>(std::forward<Args>(args)...)));
}
template <class C>
auto with_value() {
  return rc::gen::map(rc::gen::inRange(0, 10), [](int v) {
    return CommandPtr<typename C::ModelType, typename C::SutType>(std::make_shared<C>(v));
  });
}

// Counts the commands of type C in a scenario part.
template <class C, class List>
int count_of(const List& calls) {
  int n = 0;
  for (const auto& c : calls) n += dynamic_cast<const C*>(c.get()) != nullptr ? 1 : 0;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Queue: bounded FIFO; put waits while full and open, get while empty and open; close ends it.
// Adapters give every queue one interface: put(int) (refused silently once closed), get() ->
// std::optional<int> (std::nullopt: closed and drained), close().

template <class Platform>
class RealQueue {
 public:
  explicit RealQueue(int capacity) : queue_(capacity) {}
  void put(int value) {
    try {
      queue_.put(value);
    } catch (const QueueClosed&) {
    }
  }
  std::optional<int> get() { return queue_.get(); }
  void close() { queue_.close(); }

 private:
  BasicQueue<int, Platform> queue_;
};

template <class Queue>
struct QueueObject {
  explicit QueueObject(int capacity) : queue(capacity) {}
  Queue queue;
  P::Atomic<std::uint32_t> closed{0};  // set by the test's Close, so unblock() does not close twice
};

struct QueueModel {
  std::deque<int> items;
  std::size_t capacity = 1;
  bool closed = false;
  friend bool operator==(const QueueModel&, const QueueModel&) = default;
  friend std::ostream& operator<<(std::ostream& out, const QueueModel& m) {
    out << "[";
    for (std::size_t i = 0; i < m.items.size(); ++i) out << (i == 0 ? "" : " ") << m.items[i];
    return out << "]" << (m.closed ? " closed" : "");
  }
};

template <class Queue>
struct QueueSpec {
  using Model = QueueModel;
  using Sut = QueueObject<Queue>;
  using Result = Reply;

  struct Put : Command<Model, Sut, Reply> {
    explicit Put(int v) : value(v) {}
    bool enabled(const Model& m) const override { return m.closed || m.items.size() < m.capacity; }
    Reply apply(Model& m) const override {
      if (!m.closed) m.items.push_back(value);
      return Reply::ok();
    }
    Reply run(Sut& s) const override {
      s.queue.put(value);
      return Reply::ok();
    }
    void show(std::ostream& out) const override { out << "put(" << value << ")"; }
    int value;
  };
  struct Get : Command<Model, Sut, Reply> {
    bool enabled(const Model& m) const override { return m.closed || !m.items.empty(); }
    Reply apply(Model& m) const override {
      if (m.items.empty()) return Reply::closed();
      const int v = m.items.front();
      m.items.pop_front();
      return Reply::of(v);
    }
    Reply run(Sut& s) const override {
      const std::optional<int> v = s.queue.get();
      return v ? Reply::of(*v) : Reply::closed();
    }
    void show(std::ostream& out) const override { out << "get()"; }
  };
  struct Close : Command<Model, Sut, Reply> {
    Reply apply(Model& m) const override {
      m.closed = true;
      return Reply::ok();
    }
    Reply run(Sut& s) const override {
      s.queue.close();
      s.closed.store(1);
      return Reply::ok();
    }
    void show(std::ostream& out) const override { out << "close()"; }
  };

  int capacity = 1;

  Model initial_model() const { return {{}, static_cast<std::size_t>(capacity), false}; }
  std::unique_ptr<Sut> make_object() const { return std::make_unique<Sut>(capacity); }
  rc::Gen<CommandPtr<Model, Sut>> command() const {
    return rc::gen::weightedOneOf<CommandPtr<Model, Sut>>(
        {{4, with_value<Put>()}, {4, just<Get>()}, {1, just<Close>()}});
  }
  // Closing twice is a usage error of the queue, not a behaviour to check.
  bool admits(const ParallelScenario<Command<Model, Sut, Reply>>& s) const {
    int closes = count_of<Close>(s.prefix) + count_of<Close>(s.suffix);
    for (const auto& t : s.threads) closes += count_of<Close>(t);
    return closes <= 1;
  }
  // Close wakes every blocked put and get.
  std::vector<CommandPtr<Model, Sut>> unblock(Sut& s) const {
    if (s.closed.load() != 0) return {};
    return {std::make_shared<Close>()};
  }
};

// ---------------------------------------------------------------------------------------------
// Semaphore: acquire waits for a permit; try_acquire_for(1 ms) takes one or reports false;
// release(n) adds n.

struct SemaphoreModel {
  std::int64_t permits = 0;
  friend bool operator==(const SemaphoreModel&, const SemaphoreModel&) = default;
  friend std::ostream& operator<<(std::ostream& out, const SemaphoreModel& m) { return out << m.permits << " permits"; }
};

template <class Semaphore>
struct SemaphoreSpec {
  using Model = SemaphoreModel;
  using Sut = Semaphore;
  using Result = Reply;

  struct Acquire : Command<Model, Sut, Reply> {
    bool enabled(const Model& m) const override { return m.permits > 0; }
    Reply apply(Model& m) const override {
      --m.permits;
      return Reply::ok();
    }
    Reply run(Sut& s) const override {
      s.acquire();
      return Reply::ok();
    }
    void show(std::ostream& out) const override { out << "acquire()"; }
  };
  struct TryAcquireFor : Command<Model, Sut, Reply> {
    Reply apply(Model& m) const override {
      if (m.permits == 0) return Reply::boolean(false);
      --m.permits;
      return Reply::boolean(true);
    }
    Reply run(Sut& s) const override { return Reply::boolean(s.try_acquire_for(kShortTimeout)); }
    void show(std::ostream& out) const override { out << "try_acquire_for(1ms)"; }
  };
  struct Release : Command<Model, Sut, Reply> {
    explicit Release(int n) : permits(n) {}
    Reply apply(Model& m) const override {
      m.permits += permits;
      return Reply::ok();
    }
    Reply run(Sut& s) const override {
      s.release(permits);
      return Reply::ok();
    }
    void show(std::ostream& out) const override { out << "release(" << permits << ")"; }
    int permits;
  };

  int initial = 0;

  Model initial_model() const { return {initial}; }
  std::unique_ptr<Sut> make_object() const { return std::make_unique<Sut>(initial); }
  rc::Gen<CommandPtr<Model, Sut>> command() const {
    return rc::gen::weightedOneOf<CommandPtr<Model, Sut>>(
        {{3, just<Acquire>()}, {2, just<TryAcquireFor>()}, {3, rc::gen::map(rc::gen::inRange(1, 3), [](int n) {
                                                              return CommandPtr<Model, Sut>(
                                                                  std::make_shared<Release>(n));
                                                            })}});
  }
  // Enough permits for every call a scenario can leave asleep.
  std::vector<CommandPtr<Model, Sut>> unblock(Sut&) const { return {std::make_shared<Release>(64)}; }
};

// ---------------------------------------------------------------------------------------------
// Event: wait waits for the flag; wait_for(1 ms) reports whether it saw it; set, clear, is_set.

struct EventModel {
  bool set = false;
  friend bool operator==(const EventModel&, const EventModel&) = default;
  friend std::ostream& operator<<(std::ostream& out, const EventModel& m) { return out << (m.set ? "set" : "clear"); }
};

template <class Event>
struct EventSpec {
  using Model = EventModel;
  using Sut = Event;
  using Result = Reply;

  struct Set : Command<Model, Sut, Reply> {
    Reply apply(Model& m) const override {
      m.set = true;
      return Reply::ok();
    }
    Reply run(Sut& s) const override {
      s.set();
      return Reply::ok();
    }
    void show(std::ostream& out) const override { out << "set()"; }
  };
  struct Clear : Command<Model, Sut, Reply> {
    Reply apply(Model& m) const override {
      m.set = false;
      return Reply::ok();
    }
    Reply run(Sut& s) const override {
      s.clear();
      return Reply::ok();
    }
    void show(std::ostream& out) const override { out << "clear()"; }
  };
  struct IsSet : Command<Model, Sut, Reply> {
    Reply apply(Model& m) const override { return Reply::boolean(m.set); }
    Reply run(Sut& s) const override { return Reply::boolean(s.is_set()); }
    void show(std::ostream& out) const override { out << "is_set()"; }
  };
  struct Wait : Command<Model, Sut, Reply> {
    bool enabled(const Model& m) const override { return m.set; }
    Reply apply(Model&) const override { return Reply::ok(); }
    Reply run(Sut& s) const override {
      s.wait();
      return Reply::ok();
    }
    void show(std::ostream& out) const override { out << "wait()"; }
  };
  struct WaitFor : Command<Model, Sut, Reply> {
    Reply apply(Model& m) const override { return Reply::boolean(m.set); }
    Reply run(Sut& s) const override { return Reply::boolean(s.wait_for(kShortTimeout)); }
    void show(std::ostream& out) const override { out << "wait_for(1ms)"; }
  };

  Model initial_model() const { return {}; }
  std::unique_ptr<Sut> make_object() const { return std::make_unique<Sut>(); }
  rc::Gen<CommandPtr<Model, Sut>> command() const {
    return rc::gen::weightedOneOf<CommandPtr<Model, Sut>>(
        {{3, just<Wait>()}, {2, just<Set>()}, {2, just<Clear>()}, {1, just<IsSet>()}, {1, just<WaitFor>()}});
  }
  std::vector<CommandPtr<Model, Sut>> unblock(Sut&) const { return {std::make_shared<Set>()}; }
};

// ---------------------------------------------------------------------------------------------
// Mutex: lock waits while held; try_lock takes it if free; unlock frees it. Each thread calls
// unlock only while it holds the lock and lock/try_lock only while it does not (a non-recursive
// mutex), and releases it at the end of its list.

template <class Mutex>
class MutexObject {
 public:
  Mutex mutex;
  [[nodiscard]] bool held_by_me() const { return holding_[me()]; }
  void mark(bool held) { holding_[me()] = held; }

 private:
  // Each entry is touched only by its own thread.
  static std::size_t me() { return P::this_thread_id() % 64; }
  std::array<bool, 64> holding_{};
};

struct MutexModel {
  bool held = false;
  friend bool operator==(const MutexModel&, const MutexModel&) = default;
  friend std::ostream& operator<<(std::ostream& out, const MutexModel& m) { return out << (m.held ? "held" : "free"); }
};

template <class Mutex>
struct MutexSpec {
  using Model = MutexModel;
  using Sut = MutexObject<Mutex>;
  using Result = Reply;

  struct Lock : Command<Model, Sut, Reply> {
    bool enabled(const Model& m) const override { return !m.held; }
    Reply apply(Model& m) const override {
      m.held = true;
      return Reply::ok();
    }
    bool applicable(Sut& s) const override { return !s.held_by_me(); }
    Reply run(Sut& s) const override {
      s.mutex.lock();
      s.mark(true);
      return Reply::ok();
    }
    void show(std::ostream& out) const override { out << "lock()"; }
  };
  struct TryLock : Command<Model, Sut, Reply> {
    Reply apply(Model& m) const override {
      if (m.held) return Reply::boolean(false);
      m.held = true;
      return Reply::boolean(true);
    }
    bool applicable(Sut& s) const override { return !s.held_by_me(); }
    Reply run(Sut& s) const override {
      const bool taken = s.mutex.try_lock();
      s.mark(taken);
      return Reply::boolean(taken);
    }
    void show(std::ostream& out) const override { out << "try_lock()"; }
  };
  struct Unlock : Command<Model, Sut, Reply> {
    Reply apply(Model& m) const override {
      m.held = false;
      return Reply::ok();
    }
    bool applicable(Sut& s) const override { return s.held_by_me(); }
    Reply run(Sut& s) const override {
      s.mark(false);
      s.mutex.unlock();
      return Reply::ok();
    }
    void show(std::ostream& out) const override { out << "unlock()"; }
  };

  Model initial_model() const { return {}; }
  std::unique_ptr<Sut> make_object() const { return std::make_unique<Sut>(); }
  rc::Gen<CommandPtr<Model, Sut>> command() const {
    return rc::gen::weightedOneOf<CommandPtr<Model, Sut>>(
        {{3, just<Lock>()}, {2, just<TryLock>()}, {3, just<Unlock>()}});
  }
  std::vector<CommandPtr<Model, Sut>> epilogue() const { return {std::make_shared<Unlock>()}; }
  // Every holder releases at the end of its list, so nothing is left to wake.
  std::vector<CommandPtr<Model, Sut>> unblock(Sut&) const { return {}; }
};

// ---------------------------------------------------------------------------------------------
// Pipe (one way, of ints): send never waits here (the ring holds every message a scenario sends);
// recv waits while empty and open, and reports end-of-stream once closed and drained; close by the
// sending side.

// The real pipe through the interface the zoo's pipes share (the property scenarios' adapter).
template <class Platform>
using RealPipe = scenarios::RealPipe<Platform>;

template <class Pipe>
struct PipeObject {
  static constexpr int kCapacity = 32;  // messages: more than any scenario sends
  PipeObject() : pipe(kCapacity) {}
  Pipe pipe;
  P::Atomic<std::uint32_t> closed{0};
};

struct PipeModel {
  std::deque<int> messages;
  bool closed = false;
  friend bool operator==(const PipeModel&, const PipeModel&) = default;
  friend std::ostream& operator<<(std::ostream& out, const PipeModel& m) {
    out << "[";
    for (std::size_t i = 0; i < m.messages.size(); ++i) out << (i == 0 ? "" : " ") << m.messages[i];
    return out << "]" << (m.closed ? " closed" : "");
  }
};

template <class Pipe>
struct PipeSpec {
  using Model = PipeModel;
  using Sut = PipeObject<Pipe>;
  using Result = Reply;

  struct Send : Command<Model, Sut, Reply> {
    explicit Send(int v) : value(v) {}
    Reply apply(Model& m) const override {
      m.messages.push_back(value);
      return Reply::ok();
    }
    Reply run(Sut& s) const override {
      s.pipe.send(value);
      return Reply::ok();
    }
    void show(std::ostream& out) const override { out << "send(" << value << ")"; }
    int value;
  };
  struct Recv : Command<Model, Sut, Reply> {
    bool enabled(const Model& m) const override { return m.closed || !m.messages.empty(); }
    Reply apply(Model& m) const override {
      if (m.messages.empty()) return Reply::closed();
      const int v = m.messages.front();
      m.messages.pop_front();
      return Reply::of(v);
    }
    Reply run(Sut& s) const override {
      const std::optional<int> v = s.pipe.recv();
      return v ? Reply::of(*v) : Reply::closed();
    }
    void show(std::ostream& out) const override { out << "recv()"; }
  };
  struct Close : Command<Model, Sut, Reply> {
    Reply apply(Model& m) const override {
      m.closed = true;
      return Reply::ok();
    }
    Reply run(Sut& s) const override {
      s.pipe.close();
      s.closed.store(1);
      return Reply::ok();
    }
    void show(std::ostream& out) const override { out << "close()"; }
  };

  Model initial_model() const { return {}; }
  std::unique_ptr<Sut> make_object() const { return std::make_unique<Sut>(); }
  rc::Gen<CommandPtr<Model, Sut>> command() const {
    return rc::gen::weightedOneOf<CommandPtr<Model, Sut>>(
        {{4, with_value<Send>()}, {4, just<Recv>()}, {1, just<Close>()}});
  }
  // One sending side, as a one-way pipe has: every send and the close (at most one, after the
  // last send) come from one part of the scenario.
  bool admits(const ParallelScenario<Command<Model, Sut, Reply>>& s) const {
    std::vector<const std::vector<CommandPtr<Model, Sut>>*> parts{&s.prefix, &s.suffix};
    for (const auto& t : s.threads) parts.push_back(&t);
    int senders = 0;
    int closes = 0;
    for (const auto* part : parts) {
      const int sends = count_of<Send>(*part);
      const int part_closes = count_of<Close>(*part);
      if (sends + part_closes > 0) ++senders;
      closes += part_closes;
      bool closed = false;
      for (const auto& c : *part) {
        if (closed && dynamic_cast<const Send*>(c.get()) != nullptr) return false;
        closed = closed || dynamic_cast<const Close*>(c.get()) != nullptr;
      }
    }
    return senders <= 1 && closes <= 1;
  }
  std::vector<CommandPtr<Model, Sut>> unblock(Sut& s) const {
    if (s.closed.load() != 0) return {};
    return {std::make_shared<Close>()};
  }
};

}  // namespace interleave::specs
