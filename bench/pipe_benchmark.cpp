// Pipe round trip between two threads (one sends, the other echoes the message back) against
// the same round trip over two pipe(2) file-descriptor pairs with read/write; then the same two
// between a parent and a fork()ed child process.
//
//   pipe_benchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Every benchmark reports the real (wall) time of one round trip; both sides block when there is
// nothing to read, so CPU time would hide the sleeping side.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include "interleave/pipe.h"
#include "interleave/process.h"

namespace {

using interleave::BasicPipeEnd;
using interleave::EndOfStream;

// Pipe<P>: the benchmark thread sends, an echo thread receives and sends the message back.
template <class P>
void BM_PipeRoundTrip(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  BasicPipeEnd<P> near_end;
  BasicPipeEnd<P> far_end;
  std::tie(near_end, far_end) = interleave::make_pipe<P>();
  std::thread echo([far = far_end, size] {
    std::vector<std::byte> buffer(size);
    try {
      for (;;) {
        const std::size_t n = far.recv_into(buffer);
        far.send(std::span<const std::byte>(buffer.data(), n));
      }
    } catch (const EndOfStream&) {
    }
  });
  std::vector<std::byte> out(size, std::byte{0x5a});
  std::vector<std::byte> in(size);
  for (auto _ : state) {
    near_end.send(out);
    benchmark::DoNotOptimize(near_end.recv_into(in));
  }
  near_end.close();
  echo.join();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(size) * 2);
}

void write_all(int fd, const std::byte* data, std::size_t n) {
  while (n != 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "write");
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Reads exactly n bytes; false at end of file.
bool read_all(int fd, std::byte* data, std::size_t n) {
  while (n != 0) {
    const ssize_t r = ::read(fd, data, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "read");
    }
    if (r == 0) return false;
    data += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// The same round trip over two pipe(2) pairs (fixed-size messages, so no framing is needed).
void BM_FdPipeRoundTrip(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  int there[2];
  int back[2];
  if (::pipe(there) != 0 || ::pipe(back) != 0) {
    state.SkipWithError("pipe(2) failed");
    return;
  }
  std::thread echo([&, size] {
    std::vector<std::byte> buffer(size);
    while (read_all(there[0], buffer.data(), size)) write_all(back[1], buffer.data(), size);
  });
  std::vector<std::byte> out(size, std::byte{0x5a});
  std::vector<std::byte> in(size);
  for (auto _ : state) {
    write_all(there[1], out.data(), size);
    benchmark::DoNotOptimize(read_all(back[0], in.data(), size));
  }
  ::close(there[1]);  // the echo thread reads end of file and stops
  echo.join();
  ::close(there[0]);
  ::close(back[0]);
  ::close(back[1]);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(size) * 2);
}

// The same two round trips with the echo in a child process (Process, fork()).
void BM_PipeRoundTripAcrossProcesses(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  interleave::PipeEnd near_end;
  interleave::PipeEnd far_end;
  std::tie(near_end, far_end) = interleave::make_pipe();
  interleave::Process echo(
      [far = far_end, size] {
        std::vector<std::byte> buffer(size);
        try {
          for (;;) {
            const std::size_t n = far.recv_into(buffer);
            far.send(std::span<const std::byte>(buffer.data(), n));
          }
        } catch (const EndOfStream&) {
        }
      },
      "pipe echo");
  echo.start();
  std::vector<std::byte> out(size, std::byte{0x5a});
  std::vector<std::byte> in(size);
  for (auto _ : state) {
    near_end.send(out);
    benchmark::DoNotOptimize(near_end.recv_into(in));
  }
  near_end.close();
  if (!echo.join().success()) state.SkipWithError("the echo process failed");
}

void BM_FdPipeRoundTripAcrossProcesses(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  int there[2];
  int back[2];
  if (::pipe(there) != 0 || ::pipe(back) != 0) {
    state.SkipWithError("pipe(2) failed");
    return;
  }
  interleave::Process echo(
      [&, size] {
        ::close(there[1]);  // or the child would never read end of file
        std::vector<std::byte> buffer(size);
        while (read_all(there[0], buffer.data(), size)) write_all(back[1], buffer.data(), size);
      },
      "fd echo");
  echo.start();
  std::vector<std::byte> out(size, std::byte{0x5a});
  std::vector<std::byte> in(size);
  for (auto _ : state) {
    write_all(there[1], out.data(), size);
    benchmark::DoNotOptimize(read_all(back[0], in.data(), size));
  }
  ::close(there[1]);
  if (!echo.join().success()) state.SkipWithError("the echo process failed");
  ::close(there[0]);
  ::close(back[0]);
  ::close(back[1]);
}

// Process-shared futexes (the default Pipe, usable across fork) and private ones (threads only).
BENCHMARK(BM_PipeRoundTrip<interleave::NativeSharedPlatform>)->Arg(8)->Arg(4096)->UseRealTime();
BENCHMARK(BM_PipeRoundTrip<interleave::NativePlatform>)->Arg(8)->Arg(4096)->UseRealTime();
BENCHMARK(BM_FdPipeRoundTrip)->Arg(8)->Arg(4096)->UseRealTime();
BENCHMARK(BM_PipeRoundTripAcrossProcesses)->Arg(8)->UseRealTime();
BENCHMARK(BM_FdPipeRoundTripAcrossProcesses)->Arg(8)->UseRealTime();

}  // namespace
