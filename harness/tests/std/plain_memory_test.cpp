// Plain memory is checked byte by byte under the model (the shadow is kept per 8-byte granule,
// one shadow for bytes always accessed together, split per byte once they are not): threads that
// touch different bytes of one word never race, and accesses that share a byte do, whatever the
// widths and the order in which the word's bytes were first touched.
#include <gtest/gtest.h>
#include <strings.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <source_location>
#include <string>
#include <thread>
#include <utility>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::FailureKind;
using interleave::Result;

using std_tests::options;

// The shared objects live on the heap: clang's instrumentation leaves out accesses to a local
// variable's fields whose own address it sees no one take, even when a lambda captures the
// variable by reference (g++ checks them).
struct alignas(8) TwoHalves {
  std::uint32_t low = 0;
  std::uint32_t high = 0;
};

// Reads the byte at `offset` of `object` through a volatile char pointer (a 1-byte access).
template <class T>
unsigned char byte_of(const T& object, std::size_t offset) {
  return reinterpret_cast<const volatile unsigned char*>(&object)[offset];
}

void expect_plain_race(const Result& r) {
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::data_race) << r;
  EXPECT_NE(r.failure->message.find("plain memory"), std::string::npos) << r.failure->message;
  EXPECT_NE(r.failure->message.find("plain_memory_test.cpp:"), std::string::npos) << r.failure->message;
}

// A loop that polls a plain flag and yields: a yield is an event (no choice) unless the one
// before it was too, so the setter still runs, and the unsynchronized flag is the data race it is
// (were every yield an event, the loop would spin to the step bound and report a livelock).
TEST(StdPlainMemory, AYieldLoopPollingAPlainFlagIsARaceNotALivelock) {
  const Result r = interleave::explore(options(50), [] {
    const auto flag = std::make_unique<bool>(false);
    std::thread setter([&] { *flag = true; });
    while (!*flag) std::this_thread::yield();
    setter.join();
  });
  expect_plain_race(r);
}

TEST(StdPlainMemory, TwoThreadsWritingTheTwoHalvesOfOneWordDoNotRace) {
  const Result r = interleave::explore(options(300), [] {
    const auto word = std::make_unique<TwoHalves>();
    std::thread other([&] { word->high = 2; });
    word->low = 1;
    other.join();
    INTERLEAVE_ASSERT(word->low == 1 && word->high == 2);
  });
  EXPECT_TRUE(r.passed()) << r;
  EXPECT_EQ(r.schedules_run, 300U);
}

TEST(StdPlainMemory, TwoThreadsWritingOneHalfRace) {
  const Result r = interleave::explore(options(300), [] {
    const auto word = std::make_unique<TwoHalves>();
    std::thread other([&] { word->high = 2; });
    word->high = 1;
    other.join();
  });
  expect_plain_race(r);
}

TEST(StdPlainMemory, AOneByteReadInsideAnotherThreadsWideWriteRaces) {
  const Result r = interleave::explore(options(300), [] {
    const auto value = std::make_unique<std::uint64_t>(0);
    std::thread other([&] { *value = ~std::uint64_t{0}; });
    (void)byte_of(*value, 5);
    other.join();
  });
  expect_plain_race(r);
}

TEST(StdPlainMemory, AOneByteReadBesideAnotherThreadsNarrowWriteDoesNotRace) {
  const Result r = interleave::explore(options(300), [] {
    const auto word = std::make_unique<TwoHalves>();
    std::thread other([&] { word->low = 7; });
    (void)byte_of(*word, 6);  // a byte of `high`
    other.join();
    INTERLEAVE_ASSERT(word->low == 7);
  });
  EXPECT_TRUE(r.passed()) << r;
}

// Writes the half at `index` (0: the low address) of `word` with one 4-byte store.
void write_half(std::uint64_t& word, std::size_t index, std::uint32_t value) {
  reinterpret_cast<volatile std::uint32_t*>(&word)[index] = value;
}

// Two readers of the whole word (written whole before: one shadow for its eight bytes) leave
// unordered reads behind, a read set. A write of one half ordered after both (the main thread's,
// after joining them) splits the word and clears that half's reads; a write of the other half
// that is not ordered after them (the writer's: it waits on a relaxed flag, no happens-before)
// must still race with them: each half keeps its own copy of the reads.
TEST(StdPlainMemory, EachHalfKeepsItsOwnReadsAfterTheWordIsSplit) {
  const Result r = interleave::explore(options(300), [] {
    const auto word = std::make_unique<std::uint64_t>(0);  // one 8-byte write
    std::uint64_t seen[2] = {0, 0};
    std::atomic<bool> low_written{false};
    std::thread first([&] { seen[0] = *word; });
    std::thread second([&] { seen[1] = *word; });
    std::thread writer([&] {
      while (!low_written.load(std::memory_order_relaxed)) {
      }
      write_half(*word, 1, 3);  // unordered with both reads
    });
    first.join();
    second.join();
    write_half(*word, 0, 4);  // ordered after both reads
    low_written.store(true, std::memory_order_relaxed);
    writer.join();
  });
  expect_plain_race(r);
  EXPECT_NE(r.failure->message.find("(byte 0 of a 4-byte access)"), std::string::npos) << r.failure->message;
}

TEST(StdPlainMemory, AHalfWrittenAfterJoiningTheWholeReadsDoesNotRace) {
  const Result r = interleave::explore(options(300), [] {
    const auto word = std::make_unique<TwoHalves>();
    std::uint64_t seen[2] = {0, 0};
    std::thread first([&] { seen[0] = word->low + word->high; });
    std::thread second([&] {
      const TwoHalves copy = *word;
      seen[1] = copy.low + copy.high;
    });
    first.join();
    second.join();
    std::thread writer([&] { word->high = 3; });
    writer.join();
    INTERLEAVE_ASSERT(word->high == 3);
  });
  EXPECT_TRUE(r.passed()) << r;
}

// A helper both threads call: a race inside it names the helper's line and, for each access, the
// user's line that called it.
constexpr int kBumpLine = __LINE__ + 1;
[[gnu::noinline]] void bump(int& counter) { ++counter; }

TEST(StdPlainMemory, ARaceInsideASharedHelperNamesEachAccessesCaller) {
  int other_call = 0;
  int main_call = 0;
  const Result r = interleave::explore(options(300), [&] {
    const auto counter = std::make_unique<int>(0);
    std::thread other([&] {
      other_call = __LINE__ + 1;
      bump(*counter);
    });
    main_call = __LINE__ + 1;
    bump(*counter);
    other.join();
  });
  expect_plain_race(r);
#if !defined(__cpp_lib_source_location)
  GTEST_SKIP() << "call chains need std::source_location (g++ 11, clang 15 with libstdc++ 12)";
#endif
  const std::string& m = r.failure->message;
  const std::string file = "plain_memory_test.cpp:";
  for (const int call : {other_call, main_call}) {
    EXPECT_NE(m.find(file + std::to_string(kBumpLine) + ", called from /"), std::string::npos) << m;
    EXPECT_NE(m.find(file + std::to_string(call)), std::string::npos) << "the call at line " << call << "\n" << m;
  }
}

// The compilers leave a copy of a size known only at run time, and every memset, to the C
// library: the runtime's memcpy / memmove / memset check those bytes as instrumented code's.
[[gnu::noinline]] std::size_t runtime_size(std::size_t n) {
  asm volatile("" : "+r"(n));  // the compiler no longer knows the value
  return n;
}

TEST(StdPlainMemory, AMemcpyIntoABufferAnotherThreadReadsRaces) {
  const Result r = interleave::explore(options(300), [] {
    char buffer[64] = {};
    const char message[] = "hello, world";
    std::thread writer([&] { std::memcpy(buffer, message, runtime_size(sizeof message)); });
    (void)byte_of(buffer, 3);
    writer.join();
  });
  expect_plain_race(r);
}

TEST(StdPlainMemory, AMemsetBesideAnotherThreadsReadOfTheSameBytesRaces) {
  const Result r = interleave::explore(options(300), [] {
    char buffer[64] = {};
    std::thread writer([&] { std::memset(buffer + 8, 'x', runtime_size(16)); });
    (void)byte_of(buffer, 20);
    writer.join();
  });
  expect_plain_race(r);
}

// The string copies the C library makes outside the instrumentation (strcpy, stpcpy, strncpy,
// strcat, strncat, mempcpy) are checked as memcpy is: each writes buffer[2] in one thread while
// the other reads it.
[[gnu::noinline]] const char* runtime_text(const char* text) {
  asm volatile("" : "+r"(text));  // the compiler no longer knows the string
  return text;
}

TEST(StdPlainMemory, StringCopiesIntoABufferAnotherThreadReadsRace) {
  using Write = void (*)(char* buffer, const char* text);
  const std::pair<const char*, Write> writers[] = {
      {"strcpy", [](char* b, const char* t) { std::strcpy(b, t); }},
      {"stpcpy", [](char* b, const char* t) { ::stpcpy(b, t); }},
      {"strncpy", [](char* b, const char* t) { std::strncpy(b, t, runtime_size(8)); }},
      {"strcat", [](char* b, const char* t) { std::strcat(b, t); }},
      {"strncat", [](char* b, const char* t) { std::strncat(b, t, runtime_size(8)); }},
      {"mempcpy", [](char* b, const char* t) { ::mempcpy(b, t, runtime_size(6)); }},
  };
  for (const auto& [name, write] : writers) {
    SCOPED_TRACE(name);
    const Result r = interleave::explore(options(300), [write = write] {
      char buffer[64] = {};
      std::thread writer([&] { write(buffer, runtime_text("hello")); });
      (void)byte_of(buffer, 2);
      writer.join();
    });
    expect_plain_race(r);
  }
}

// And the string reads (strlen, strnlen, strchr, strrchr, memchr, strstr, memmem, strspn, strcspn,
// strpbrk): each reads buffer[2] in one thread
// while the other writes it.
TEST(StdPlainMemory, StringReadsOfABufferAnotherThreadWritesRace) {
  using Read = bool (*)(const char* text);
  const std::pair<const char*, Read> readers[] = {
      {"strlen", [](const char* t) { return std::strlen(t) > 2; }},
      {"strnlen", [](const char* t) { return ::strnlen(t, runtime_size(16)) > 2; }},
      {"strchr", [](const char* t) { return std::strchr(t, 'z') != nullptr; }},
      {"strrchr", [](const char* t) { return std::strrchr(t, 'a') != nullptr; }},
      {"memchr", [](const char* t) { return std::memchr(t, 'z', runtime_size(5)) != nullptr; }},
      {"strstr", [](const char* t) { return std::strstr(t, runtime_text("cz")) != nullptr; }},
      {"memmem",
       [](const char* t) { return ::memmem(t, runtime_size(4), runtime_text("cz"), runtime_size(2)) != nullptr; }},
      {"strspn", [](const char* t) { return std::strspn(t, runtime_text("abz")) == 2; }},  // stops at [2]
      {"strcspn", [](const char* t) { return std::strcspn(t, runtime_text("z")) > 2; }},
      {"strpbrk", [](const char* t) { return std::strpbrk(t, runtime_text("dz")) != nullptr; }},
  };
  for (const auto& [name, read] : readers) {
    SCOPED_TRACE(name);
    const Result r = interleave::explore(options(300), [read = read] {
      char buffer[64] = "abcd";
      std::thread writer([&] { buffer[2] = 'x'; });
      (void)read(runtime_text(buffer));
      writer.join();
    });
    expect_plain_race(r);
  }
}

// The comparisons (strcmp, strncmp, memcmp, bcmp, strcasecmp, strncasecmp) read both sides up to the first byte that
// differs: comparing the buffer with an equal text reads buffer[2], which the other thread writes.
using Compare = int (*)(const char* a, const char* b);
constexpr std::pair<const char*, Compare> kComparisons[] = {
    {"strcmp", [](const char* a, const char* b) { return std::strcmp(a, b); }},
    {"strncmp", [](const char* a, const char* b) { return std::strncmp(a, b, runtime_size(8)); }},
    {"memcmp", [](const char* a, const char* b) { return std::memcmp(a, b, runtime_size(5)); }},
    {"bcmp", [](const char* a, const char* b) { return ::bcmp(a, b, runtime_size(5)); }},
    {"strcasecmp", [](const char* a, const char* b) { return ::strcasecmp(a, b); }},
    {"strncasecmp", [](const char* a, const char* b) { return ::strncasecmp(a, b, runtime_size(8)); }},
};

TEST(StdPlainMemory, StringComparisonsOfABufferAnotherThreadWritesRace) {
  for (const auto& [name, compare] : kComparisons) {
    SCOPED_TRACE(name);
    const Result r = interleave::explore(options(300), [compare = compare] {
      char buffer[64] = "abcd";
      std::thread writer([&] { buffer[2] = 'x'; });
      (void)compare(runtime_text(buffer), runtime_text("abcd"));
      writer.join();
    });
    expect_plain_race(r);
  }
}

// A comparison decided at the first byte reads no further: the other thread's write of buffer[2]
// is no race with it.
TEST(StdPlainMemory, AComparisonDecidedBeforeTheWrittenByteDoesNotRace) {
  for (const auto& [name, compare] : kComparisons) {
    SCOPED_TRACE(name);
    const Result r = interleave::explore(options(300), [compare = compare] {
      char buffer[64] = "abcd";
      std::thread writer([&] { buffer[2] = 'x'; });
      INTERLEAVE_ASSERT(compare(runtime_text(buffer), runtime_text("zbcd")) != 0);
      writer.join();
    });
    EXPECT_TRUE(r.passed()) << r;
  }
}

// A search that finds what it looks for at the start reads no further.
TEST(StdPlainMemory, ASearchThatFindsItsBytesAtTheStartDoesNotRaceWithALaterByte) {
  const Result r = interleave::explore(options(300), [] {
    char buffer[64] = "abcd";
    std::thread writer([&] { buffer[2] = 'x'; });
    INTERLEAVE_ASSERT(std::memchr(runtime_text(buffer), 'a', runtime_size(5)) == buffer);
    INTERLEAVE_ASSERT(std::strstr(runtime_text(buffer), runtime_text("ab")) == buffer);
    INTERLEAVE_ASSERT(::memmem(runtime_text(buffer), runtime_size(5), runtime_text("ab"), runtime_size(2)) == buffer);
    INTERLEAVE_ASSERT(std::strpbrk(runtime_text(buffer), runtime_text("ba")) == buffer);
    INTERLEAVE_ASSERT(std::strspn(runtime_text(buffer), runtime_text("z")) == 0);
    writer.join();
  });
  EXPECT_TRUE(r.passed()) << r;
}

// The control: the same functions under a mutex, and after a join, order every access.
TEST(StdPlainMemory, CopiesAndStringFunctionsUnderAMutexAndAfterAJoinDoNotRace) {
  const Result r = interleave::explore(options(300), [] {
    char buffer[64] = {};
    char copy[64] = {};
    std::mutex lock;
    std::thread writer([&] {
      const std::lock_guard guard(lock);
      std::memset(buffer, 'a', runtime_size(32));
      std::memmove(buffer + 1, buffer, runtime_size(16));
      std::strcpy(buffer + 40, runtime_text("hello, "));
      std::strcat(buffer + 40, runtime_text("world"));
    });
    {
      const std::lock_guard guard(lock);
      std::memcpy(copy, buffer, runtime_size(32));
      std::strncpy(copy + 40, buffer + 40, runtime_size(20));
      INTERLEAVE_ASSERT(std::strlen(runtime_text(buffer + 40)) == 0 ||
                        std::strchr(runtime_text(buffer + 40), 'w') != nullptr);
      INTERLEAVE_ASSERT(std::memcmp(copy, buffer, runtime_size(32)) == 0);
      INTERLEAVE_ASSERT(std::strcmp(runtime_text(copy + 40), runtime_text(buffer + 40)) == 0);
    }
    writer.join();
    INTERLEAVE_ASSERT(std::strncmp(runtime_text(buffer + 40), runtime_text("hello, world"), runtime_size(20)) == 0);
    std::memcpy(copy, buffer, runtime_size(64));
    INTERLEAVE_ASSERT(copy[31] == 'a' && std::string(copy + 40) == "hello, world");
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(StdPlainMemory, CopiesIntoDifferentHalvesOfABufferDoNotRace) {
  const Result r = interleave::explore(options(300), [] {
    char buffer[64] = {};
    std::thread writer([&] { std::memset(buffer + 32, 'b', runtime_size(32)); });
    std::memset(buffer, 'a', runtime_size(32));
    writer.join();
    INTERLEAVE_ASSERT(buffer[0] == 'a' && buffer[63] == 'b');
  });
  EXPECT_TRUE(r.passed()) << r;
}

}  // namespace
