// Fibers: exceptions thrown and caught inside a fiber, and the exception state each fiber keeps
// of its own while fibers switch inside catch blocks and during unwinding.
#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "fiber_task.h"
#include "interleave/detail/fiber.h"

namespace interleave::detail {
namespace {

using fiber_task::Task;

TEST(Fiber, ExceptionsThrownAndCaughtInsideAFiber) {
  std::string caught;
  Task task([&](Task& t) {
    try {
      t.yield();
      throw std::runtime_error("inside");
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    try {
      std::vector<int> v;
      (void)v.at(3);
    } catch (const std::out_of_range&) {
      caught += " and out_of_range";
    }
  });
  task.resume();
  task.resume();
  EXPECT_TRUE(task.finished);
  EXPECT_EQ(caught, "inside and out_of_range");
}

// Logs, yields and logs again in its destructor, so that the fiber is suspended while an
// exception unwinds it.
struct YieldWhileUnwinding {
  Task& task;
  std::vector<std::string>& entries;
  ~YieldWhileUnwinding() {
    entries.push_back("a unwinding, uncaught=" + std::to_string(std::uncaught_exceptions()));
    task.yield();  // a scheduling point in a destructor during unwinding
    entries.push_back("a still unwinding, uncaught=" + std::to_string(std::uncaught_exceptions()));
  }
};

// Fibers switch while inside catch blocks and while unwinding: each keeps its own exception
// state (the runtime keeps it per OS thread, so the switch must save it).
TEST(Fiber, ExceptionStateIsPerFiber) {
  std::vector<std::string> log;
  Task b([&](Task& t) {
    try {
      throw std::logic_error("b");
    } catch (const std::logic_error&) {
      log.push_back("b caught, uncaught=" + std::to_string(std::uncaught_exceptions()));
      t.yield();  // suspended inside its catch block
      try {
        throw;
      } catch (const std::logic_error& e) {
        log.push_back(std::string("b rethrew ") + e.what());
      }
    }
  });
  Task a([&](Task& t) {
    try {
      throw std::runtime_error("a");
    } catch (const std::runtime_error&) {
      t.yield();  // suspended inside its catch block while b enters its own
      try {
        throw;
      } catch (const std::runtime_error& e) {
        log.push_back(std::string("a rethrew ") + e.what());
      }
    }
    try {
      YieldWhileUnwinding guard{t, log};
      throw std::runtime_error("unwind");
    } catch (const std::runtime_error& e) {
      log.push_back(std::string("a caught ") + e.what());
    }
  });
  a.resume();  // a: in catch
  b.resume();  // b: in catch
  log.push_back("thread uncaught=" + std::to_string(std::uncaught_exceptions()));
  a.resume();  // a: rethrows its own, then starts unwinding and yields in the destructor
  log.push_back("thread uncaught=" + std::to_string(std::uncaught_exceptions()));
  b.resume();  // b: rethrows its own
  a.resume();  // a: finishes unwinding
  EXPECT_TRUE(a.finished);
  EXPECT_TRUE(b.finished);
  EXPECT_EQ(log, (std::vector<std::string>{
                     "b caught, uncaught=0",
                     "thread uncaught=0",
                     "a rethrew a",
                     "a unwinding, uncaught=1",
                     "thread uncaught=0",
                     "b rethrew b",
                     "a still unwinding, uncaught=1",
                     "a caught unwind",
                 }));
}

}  // namespace
}  // namespace interleave::detail
