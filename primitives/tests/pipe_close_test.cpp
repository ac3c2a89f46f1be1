// Pipe: closing, and the handles to an end. End-of-stream comes once the data drains; a send to
// a closed peer is a broken pipe and sends nothing; operations on a closed end are logic errors;
// copies are handles to the same end (closing one closes it), destroying a handle does not
// close, and an empty handle throws.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "interleave/pipe.h"
#include "support/pipe_test_helpers.h"

namespace interleave {
namespace {

using namespace std::chrono_literals;

using test_support::thrown_message;

TEST(Pipe, EndOfStreamAfterTheDataDrains) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  a.send("1");
  a.send("2");
  a.send("");
  a.close();
  EXPECT_TRUE(a.closed());
  EXPECT_FALSE(b.closed());
  EXPECT_TRUE(b.poll());
  EXPECT_EQ(b.recv_string(), "1");
  EXPECT_EQ(b.recv_string(), "2");
  EXPECT_EQ(b.recv_string(), "");
  EXPECT_TRUE(b.poll());  // end-of-stream is ready
  EXPECT_THROW((void)b.recv(), EndOfStream);
  EXPECT_THROW((void)b.recv_for(0s), EndOfStream);
  EXPECT_THROW((void)b.recv_value<int>(), EndOfStream);
  EXPECT_THROW((void)b.recv(), EndOfStream);  // stays at end-of-stream
  // b's own direction: its peer is closed.
  EXPECT_THROW(b.send("late"), BrokenPipe);
  b.close();
}

TEST(Pipe, SendToClosedPeerIsBrokenPipeAndSendsNothing) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  b.close();
  const std::string message = thrown_message([&] { a.send("x"); });
  EXPECT_NE(message.find("closed"), std::string::npos) << message;
  EXPECT_THROW(a.send("x"), BrokenPipe);
  EXPECT_THROW(a.send_value(1.5), BrokenPipe);
  EXPECT_THROW((void)a.recv(), EndOfStream);
}

TEST(Pipe, OperationsOnAClosedEndAreLogicErrors) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  b.send("pending");
  a.close();
  EXPECT_THROW(a.send("x"), std::logic_error);
  EXPECT_THROW((void)a.recv(), std::logic_error);  // even though a message is waiting
  EXPECT_THROW((void)a.poll(), std::logic_error);
  EXPECT_THROW((void)a.recv_for(1ms), std::logic_error);
  const std::string message = thrown_message([&] { a.close(); });
  EXPECT_NE(message.find("already closed"), std::string::npos) << message;
  // Not mistaken for the peer's conditions:
  try {
    a.send("x");
    ADD_FAILURE() << "send on a closed end did not throw";
  } catch (const BrokenPipe&) {
    ADD_FAILURE() << "send on a closed end threw BrokenPipe";
  } catch (const std::logic_error&) {
  }
}

TEST(Pipe, CopiesAreHandlesToTheSameEnd) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  PipeEnd a2 = a;
  a2.send("via copy");
  EXPECT_EQ(b.recv_string(), "via copy");
  a2.close();
  EXPECT_TRUE(a.closed());
  EXPECT_THROW(a.close(), std::logic_error);
  EXPECT_THROW((void)b.recv(), EndOfStream);
}

TEST(Pipe, EmptyHandlesThrow) {
  PipeEnd empty;
  EXPECT_FALSE(empty);
  EXPECT_THROW(empty.send("x"), std::logic_error);
  EXPECT_THROW((void)empty.recv(), std::logic_error);
  EXPECT_THROW(empty.close(), std::logic_error);
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  PipeEnd moved = std::move(a);
  EXPECT_TRUE(moved);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): a moved-from handle is empty by contract
  EXPECT_THROW(a.send("x"), std::logic_error);
  moved.send("ok");
  EXPECT_EQ(b.recv_string(), "ok");
}

TEST(Pipe, DestroyingHandlesDoesNotClose) {
  PipeEnd a;
  PipeEnd b;
  std::tie(a, b) = make_pipe();
  { PipeEnd copy = a; }
  a.send("still open");
  EXPECT_EQ(b.recv_string(), "still open");
  EXPECT_FALSE(a.closed());
}

}  // namespace
}  // namespace interleave
