// The pseudo-random generator of the model scheduler and of the Perturbed platform: xoshiro256**
// (Blackman and Vigna), seeded through splitmix64. Internal.
#pragma once

#include <cstdint>

namespace interleave::detail {

struct Xoshiro256 {
  std::uint64_t s[4] = {};

  // One step of splitmix64: advances `x` and returns the next output.
  static constexpr std::uint64_t splitmix(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  void seed(std::uint64_t value) noexcept {
    for (auto& word : s) word = splitmix(value);
  }
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
  // A number in [0, n): Lemire's multiply-shift, no division (the bias, < n / 2^64, is irrelevant).
  std::uint64_t below(std::uint64_t n) noexcept {
    __extension__ using Wide = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<Wide>(next()) * n) >> 64);
  }
};

}  // namespace interleave::detail
