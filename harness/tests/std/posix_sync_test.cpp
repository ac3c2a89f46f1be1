// POSIX semaphores (sem_*) and barriers (pthread_barrier_*) under the model, unmodified
// (docs/std.md). Each must-report case stands next to a must-not-report control.
#include <gtest/gtest.h>
#include <pthread.h>
#include <semaphore.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <string>
#include <thread>

#include "interleave/explore.h"
#include "support.h"

namespace {

using interleave::FailureKind;
using interleave::Result;

using std_tests::options;

TEST(PosixSemaphore, PostAfterTheWriteOrdersItAndPostBeforeItRaces) {
  const auto body = [](bool post_first) {
    sem_t ready;
    sem_init(&ready, 0, 0);
    int data = 0;
    std::thread producer([&] {
      if (post_first) sem_post(&ready);
      data = 7;
      if (!post_first) sem_post(&ready);
    });
    sem_wait(&ready);
    const int seen = data;
    producer.join();
    sem_destroy(&ready);
    INTERLEAVE_ASSERT(post_first || seen == 7);
  };
  const Result control = interleave::explore(options(500), [&] { body(false); });
  EXPECT_TRUE(control.passed()) << control;
  const Result race = interleave::explore(options(500), [&] { body(true); });
  ASSERT_TRUE(race.failed()) << race;
  EXPECT_EQ(race.failure->kind, FailureKind::data_race) << race;
}

TEST(PosixSemaphore, AWaitNobodyPostsIsADeadlockAtTheWaitersLine) {
  const Result r = interleave::explore(options(300), [] {
    sem_t items;
    sem_init(&items, 0, 1);
    std::thread consumer([&] { sem_wait(&items); });
    sem_wait(&items);  // two takers, one item
    consumer.join();
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  EXPECT_NE(r.failure->message.find("sem_wait"), std::string::npos) << r.failure->message;
  EXPECT_NE(r.failure->message.find("posix_sync_test.cpp:"), std::string::npos) << r.failure->message;
}

TEST(PosixSemaphore, TryWaitAndTimedWaitOnTheVirtualClock) {
  const Result r = interleave::explore(options(50), [] {
    sem_t sem;
    sem_init(&sem, 0, 0);
    INTERLEAVE_ASSERT(sem_trywait(&sem) == -1 && errno == EAGAIN);
    timespec deadline{};
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    const auto before = std::chrono::steady_clock::now();
    INTERLEAVE_ASSERT(sem_timedwait(&sem, &deadline) == -1 && errno == ETIMEDOUT);
    INTERLEAVE_ASSERT(std::chrono::steady_clock::now() - before >= std::chrono::seconds(30));
    sem_post(&sem);
    int value = -1;
    sem_getvalue(&sem, &value);
    INTERLEAVE_ASSERT(value == 1);
    INTERLEAVE_ASSERT(sem_trywait(&sem) == 0);
    sem_destroy(&sem);
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(PosixBarrier, RoundsOrderWritesAndOneThreadPerRoundIsTheSerialOne) {
  const Result r = interleave::explore(options(300), [] {
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, nullptr, 2);
    int cells[2] = {0, 0};
    int read_back[2] = {0, 0};
    int serial[2] = {0, 0};
    const auto worker = [&](int me) {
      cells[me] = me + 1;
      if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD) ++serial[me];
      read_back[me] = cells[1 - me];  // written before the other's arrival: no race
      if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD) ++serial[me];
    };
    std::thread other(worker, 1);
    worker(0);
    other.join();
    pthread_barrier_destroy(&barrier);
    INTERLEAVE_ASSERT(read_back[0] == 2 && read_back[1] == 1);
    INTERLEAVE_ASSERT(serial[0] + serial[1] == 2, "one serial thread per round");
  });
  EXPECT_TRUE(r.passed()) << r;
}

TEST(PosixBarrier, ABarrierForMoreThreadsThanArriveIsADeadlock) {
  const Result r = interleave::explore(options(100), [] {
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, nullptr, 3);
    std::thread other([&] { pthread_barrier_wait(&barrier); });
    pthread_barrier_wait(&barrier);
    other.join();
  });
  ASSERT_TRUE(r.failed()) << r;
  EXPECT_EQ(r.failure->kind, FailureKind::deadlock) << r;
  EXPECT_NE(r.failure->message.find("pthread_barrier_wait"), std::string::npos) << r.failure->message;
}

}  // namespace
