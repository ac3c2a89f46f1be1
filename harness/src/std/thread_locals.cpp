// thread_local variables of the code under test, one copy per model thread.
//
// Model threads are fibers of one OS thread, so a `thread_local` of the test's code would be one
// variable shared by all of them (and its accesses reported as races). The test executable's
// thread_local variables live in its static TLS block (glibc, x86-64: below the thread pointer);
// their bytes are switched with the running fiber: on every switch the outgoing fiber's bytes are
// saved and the incoming fiber's restored, in place. A fiber starts with the block's initial
// image (what a new thread gets: initialized data, zeros), and dynamic initialization of a
// thread_local runs again on its first use in each fiber (its guard is switched too); the
// destructors that initialization registers run when the fiber's task returns. Fiber 0, the body,
// runs on the OS thread's own copy.
//
// Which bytes: the executable's TLS symbols from its symbol table, less the harness's own (names
// in namespace interleave, and the guards of its translation units), whose state belongs to the
// OS thread and must not change with the fiber. Without a symbol table (a stripped executable)
// nothing is switched (docs/std.md).
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>  // std::__once_callable, std::__once_call
#include <string_view>
#include <utility>
#include <vector>

#include "std/std_runtime.h"

namespace interleave::detail::std_runtime {
namespace {

struct Range {
  std::size_t offset = 0;  // from the start of the executable's TLS block
  std::size_t size = 0;
};

// The executable's TLS block: its size, initial image and the ranges switched per fiber.
struct Layout {
  std::vector<Range> ranges;
  std::size_t bytes = 0;               // total size of the ranges
  std::vector<unsigned char> initial;  // the ranges' bytes in a new thread, concatenated
  std::size_t block_size = 0;
};

// The executable's PT_TLS segment as the dynamic linker loaded it.
struct TlsSegment {
  bool found = false;
  const unsigned char* image = nullptr;  // initialized part of the template
  std::size_t image_size = 0;
  std::size_t block_size = 0;
  void* block = nullptr;  // the calling thread's copy
};

int find_executable_tls(dl_phdr_info* info, std::size_t /*size*/, void* data) {
  auto* segment = static_cast<TlsSegment*>(data);
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& header = info->dlpi_phdr[i];
    if (header.p_type != PT_TLS) continue;
    segment->found = true;
    segment->image = reinterpret_cast<const unsigned char*>(info->dlpi_addr + header.p_vaddr);
    segment->image_size = header.p_filesz;
    segment->block_size = header.p_memsz;
    segment->block = info->dlpi_tls_data;
  }
  return 1;  // the first object listed is the executable: stop there
}

TlsSegment executable_tls() {
  TlsSegment segment;
  dl_iterate_phdr(&find_executable_tls, &segment);
  return segment;
}

bool is_harness_symbol(std::string_view name) { return name.find("10interleave") != std::string_view::npos; }

// One symbol table's TLS symbols that belong to the code under test, appended to `ranges` as
// ranges of the block. `bytes` is the whole file, `strings` the table's string section (both
// bounds-checked by the caller).
void add_user_tls(const unsigned char* bytes, const ElfW(Shdr) & table, const ElfW(Shdr) & strings,
                  std::size_t block_size, std::vector<Range>& ranges) {
  const auto* symbols = reinterpret_cast<const ElfW(Sym)*>(bytes + table.sh_offset);
  const std::size_t count = table.sh_size / sizeof(ElfW(Sym));
  const auto name_of = [&](const ElfW(Sym) & symbol) -> std::string_view {
    if (symbol.st_name >= strings.sh_size) return {};
    const char* start = reinterpret_cast<const char*>(bytes + strings.sh_offset + symbol.st_name);
    return {start, ::strnlen(start, strings.sh_size - symbol.st_name)};
  };
  // Local symbols come grouped by source file (after an STT_FILE entry): a TLS guard of a file
  // that also defines thread_local variables of the harness is the harness's.
  std::vector<Range> guards;
  bool harness_file = false;
  const auto close_file = [&] {
    if (!harness_file) ranges.insert(ranges.end(), guards.begin(), guards.end());
    guards.clear();
    harness_file = false;
  };
  for (std::size_t i = 0; i < count; ++i) {
    const ElfW(Sym)& symbol = symbols[i];
    const unsigned type = ELF64_ST_TYPE(symbol.st_info);
    const std::string_view name = name_of(symbol);
    if (type == STT_FILE) {
      close_file();
      continue;
    }
    if (type == STT_TLS && ELF64_ST_BIND(symbol.st_info) == STB_LOCAL && is_harness_symbol(name)) {
      harness_file = true;
    }
    if (type != STT_TLS || symbol.st_size == 0 || is_harness_symbol(name)) continue;
    if (symbol.st_value > block_size || symbol.st_size > block_size - symbol.st_value) continue;
    const Range range{symbol.st_value, symbol.st_size};
    if (name == "__tls_guard" && ELF64_ST_BIND(symbol.st_info) == STB_LOCAL) {
      guards.push_back(range);
    } else {
      ranges.push_back(range);
    }
  }
  close_file();
}

// Sorted and merged: one copy per run of adjacent variables.
std::vector<Range> merged(std::vector<Range> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.offset < b.offset; });
  std::vector<Range> out;
  for (const Range& r : ranges) {
    if (!out.empty() && r.offset <= out.back().offset + out.back().size) {
      out.back().size = std::max(out.back().size, r.offset + r.size - out.back().offset);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

// The executable's TLS symbols that belong to the code under test, as ranges of the block, read
// from the symbol table of /proc/self/exe (none where it has none: a stripped executable).
std::vector<Range> user_ranges(std::size_t block_size) {
  std::vector<Range> ranges;
  const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ranges;
  struct stat info {};
  if (::fstat(fd, &info) != 0 || info.st_size < static_cast<off_t>(sizeof(ElfW(Ehdr)))) {
    ::close(fd);
    return ranges;
  }
  const auto file_size = static_cast<std::size_t>(info.st_size);
  void* mapped = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapped == MAP_FAILED) return ranges;
  const auto* bytes = static_cast<const unsigned char*>(mapped);
  const auto* elf = reinterpret_cast<const ElfW(Ehdr)*>(bytes);
  const auto within = [&](std::size_t offset, std::size_t size) {
    return offset <= file_size && size <= file_size - offset;
  };
  if (std::memcmp(elf->e_ident, ELFMAG, SELFMAG) == 0 && elf->e_shentsize == sizeof(ElfW(Shdr)) &&
      within(elf->e_shoff, std::size_t{elf->e_shnum} * sizeof(ElfW(Shdr)))) {
    const auto* sections = reinterpret_cast<const ElfW(Shdr)*>(bytes + elf->e_shoff);
    for (ElfW(Half) s = 0; s < elf->e_shnum; ++s) {
      const ElfW(Shdr)& table = sections[s];
      if (table.sh_type != SHT_SYMTAB || table.sh_link >= elf->e_shnum) continue;
      const ElfW(Shdr)& strings = sections[table.sh_link];
      if (!within(table.sh_offset, table.sh_size) || !within(strings.sh_offset, strings.sh_size)) continue;
      add_user_tls(bytes, table, strings, block_size, ranges);
      break;
    }
  }
  ::munmap(mapped, file_size);
  return merged(std::move(ranges));
}

const Layout& layout() {
  static const Layout computed = [] {
    Layout l;
    const TlsSegment segment = executable_tls();
    if (!segment.found || segment.block == nullptr) return l;
    l.block_size = segment.block_size;
    l.ranges = user_ranges(segment.block_size);
    for (const Range& r : l.ranges) {
      for (std::size_t i = 0; i < r.size; ++i) {
        const std::size_t at = r.offset + i;
        l.initial.push_back(at < segment.image_size ? segment.image[at] : 0);
      }
      l.bytes += r.size;
    }
    return l;
  }();
  return computed;
}

struct Destructor {
  void (*run)(void*) = nullptr;
  void* object = nullptr;
};

// One fiber's copy of the switched bytes, and the destructors its thread_locals registered.
struct FiberStorage {
  std::uint64_t execution = 0;  // the copy is this execution's (else the fiber has none yet)
  std::vector<unsigned char> bytes;
  std::vector<Destructor> destructors;
};

// Per OS thread: its TLS block and the copies of the fibers of the execution running on it.
struct Storage {
  unsigned char* block = nullptr;
  std::vector<FiberStorage> by_fiber;
};
Storage& storage() {
  thread_local Storage s;
  if (s.block == nullptr) s.block = static_cast<unsigned char*>(executable_tls().block);
  return s;
}

// Fiber 0 and the OS thread share one copy.
std::uint32_t slot_of(std::uint32_t fiber) noexcept { return fiber == model::kOsThread ? 0 : fiber; }

FiberStorage& slot(Storage& s, std::uint32_t fiber) {
  if (fiber >= s.by_fiber.size()) s.by_fiber.resize(fiber + 1);
  return s.by_fiber[fiber];
}

void switch_threads(std::uint32_t from, std::uint32_t to) noexcept {
  const Layout& l = layout();
  if (l.ranges.empty()) return;
  const std::uint32_t saving = slot_of(from);
  const std::uint32_t restoring = slot_of(to);
  if (saving == restoring) return;
  Storage& s = storage();
  if (s.block == nullptr) return;
  const std::uint64_t execution = model::execution();
  FiberStorage& out = slot(s, saving);
  out.bytes.resize(l.bytes);
  out.execution = execution;
  std::size_t at = 0;
  for (const Range& r : l.ranges) {
    std::memcpy(out.bytes.data() + at, s.block + r.offset, r.size);
    at += r.size;
  }
  FiberStorage& in = slot(s, restoring);
  if (in.execution != execution && restoring != 0) {
    in.destructors.clear();  // a fiber torn down in an earlier execution never ran them
    in.bytes = l.initial;    // a new thread's storage
    in.execution = execution;
  }
  at = 0;
  for (const Range& r : l.ranges) {
    std::memcpy(s.block + r.offset, in.bytes.data() + at, r.size);
    at += r.size;
  }
}

void thread_exit(std::uint32_t fiber) {
  if (layout().ranges.empty()) return;
  Storage& s = storage();
  if (fiber >= s.by_fiber.size()) return;
  // Last registered, first run; a destructor may register another (it runs too).
  while (!s.by_fiber[fiber].destructors.empty()) {
    const Destructor d = s.by_fiber[fiber].destructors.back();
    s.by_fiber[fiber].destructors.pop_back();
    d.run(d.object);
  }
}

// True when `object` lies in the switched bytes of the calling thread's block.
bool switched(const void* object) {
  const Layout& l = layout();
  if (l.ranges.empty()) return false;
  const auto* block = storage().block;
  const auto* p = static_cast<const unsigned char*>(object);
  if (block == nullptr || p < block || p >= block + l.block_size) return false;
  const auto offset = static_cast<std::size_t>(p - block);
  return std::any_of(l.ranges.begin(), l.ranges.end(),
                     [&](const Range& r) { return offset >= r.offset && offset < r.offset + r.size; });
}

const model::ThreadStorageHooks kHooks{&switch_threads, &thread_exit};

// Registered with the runtime before main: the hooks cost nothing until a switch finds ranges.
[[maybe_unused]] const bool kRegistered = [] {
  model::set_thread_storage_hooks(&kHooks);
  return true;
}();

}  // namespace

constinit thread_local PrivateBytes t_private{};

bool thread_private_slow(const void* address) noexcept {
  PrivateBytes& p = t_private;
  if (!p.known) [[unlikely]] {
    const Layout& l = layout();
    p.block = l.ranges.empty() ? nullptr : storage().block;
    p.block_size = l.block_size;
    p.error_number = &errno;
    p.once_callable = &std::__once_callable;
    p.once_call = reinterpret_cast<const void*>(&std::__once_call);
    p.known = true;
  }
  if (address == p.error_number || address == p.once_callable || address == p.once_call) return true;
  const auto* byte = static_cast<const unsigned char*>(address);
  if (p.block == nullptr || byte < p.block || byte >= p.block + p.block_size) return false;
  const auto offset = static_cast<std::size_t>(byte - p.block);
  const std::vector<Range>& ranges = layout().ranges;
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const Range& r) { return offset >= r.offset && offset < r.offset + r.size; });
}

}  // namespace interleave::detail::std_runtime

namespace rt = interleave::detail::std_runtime;

// The C library's registration of a thread_local object's destructor (what libstdc++'s
// __cxa_thread_atexit calls). On a model thread other than the body, for an object in the
// switched bytes, the destructor belongs to that fiber and runs when its task returns.
extern "C" int __cxa_thread_atexit_impl(void (*destructor)(void*), void* object, void* dso_symbol) {
  using Impl = int (*)(void (*)(void*), void*, void*);
  static const Impl real = reinterpret_cast<Impl>(::dlsym(RTLD_NEXT, "__cxa_thread_atexit_impl"));
  if (interleave::detail::model::active()) {
    const std::uint32_t fiber = interleave::detail::model::current_fiber();
    if (fiber != 0 && rt::switched(object)) {
      rt::slot(rt::storage(), fiber).destructors.push_back({destructor, object});
      return 0;
    }
  }
  if (real == nullptr) {
    std::fprintf(stderr, "interleave: the C library's __cxa_thread_atexit_impl was not found\n");
    std::abort();
  }
  return real(destructor, object, dso_symbol);
}
