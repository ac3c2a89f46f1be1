// INTERLEAVE_TSAN / INTERLEAVE_ASAN: 1 when the including translation unit is built with that
// sanitizer (GCC's __SANITIZE_*__ or clang's __has_feature), else 0. Defined before by the build,
// they are left alone. Its own header, so that code needing only these (model_platform.h,
// stress.cpp) does not include the fibers' header and its x86-64-only #error.
#pragma once

// INTERLEAVE_TSAN / INTERLEAVE_ASAN: 1 when this translation unit is built with that sanitizer.
#ifndef INTERLEAVE_TSAN
#if defined(__SANITIZE_THREAD__)
#define INTERLEAVE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INTERLEAVE_TSAN 1
#endif
#endif
#endif
#ifndef INTERLEAVE_TSAN
#define INTERLEAVE_TSAN 0
#endif

#ifndef INTERLEAVE_ASAN
#if defined(__SANITIZE_ADDRESS__)
#define INTERLEAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INTERLEAVE_ASAN 1
#endif
#endif
#endif
#ifndef INTERLEAVE_ASAN
#define INTERLEAVE_ASAN 0
#endif
