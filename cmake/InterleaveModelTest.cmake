# Unmodified std:: code under the model (docs/std.md).
#
#   interleave_model_instrument(<target>)
#     Compiles <target>'s own sources with the compiler's ThreadSanitizer instrumentation
#     (-fsanitize=thread on the compile line only) and links interleave::std_runtime in place of
#     the sanitizer's runtime: every plain access, std::atomic operation, std::thread, std::mutex,
#     std::condition_variable and clock of that code then reaches the model inside explore().
#   interleave_model_test(<target> <source>...)
#     add_executable(<target> <source>...) and interleave_model_instrument(<target>).
# Both add -g to the target's sources whatever the build type: reports read their lines from it.
#
# The runtime takes ThreadSanitizer's place: such a target cannot also be built with
# -fsanitize=thread on its link line (a tsan build of the whole project leaves them out).
function(interleave_model_instrument target)
  # -g: reports name the user's file and line from the debug information of these sources, in
  # every build type (a Release build has none otherwise, and each site would be "unknown").
  target_compile_options(${target} PRIVATE -fsanitize=thread -g)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC warns that it does not instrument atomic_thread_fence (it emits the call anyway).
    target_compile_options(${target} PRIVATE -Wno-tsan)
  endif()
  # The whole archive: its pthread and clock functions are found by the C and C++ libraries'
  # calls (std::thread's start inside libstdc++), which do not pull archive members by themselves.
  target_link_libraries(${target} PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,interleave::std_runtime>"
                        interleave::harness)
endfunction()

function(interleave_model_test target)
  add_executable(${target} ${ARGN})
  interleave_model_instrument(${target})
endfunction()
