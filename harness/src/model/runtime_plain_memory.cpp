// Plain memory accesses of code compiled with the compiler's ThreadSanitizer instrumentation
// (interleave::std_runtime), checked by address, and the code locations reports name them by.
#include <absl/container/flat_hash_map.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <dlfcn.h>
#include <execinfo.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/runtime.h"

namespace interleave::detail::model {

namespace {

// A source location made at run time. interleave::source_location is std::source_location where
// the library has it: a pointer to a record of this layout (the one the compiler's
// __builtin_source_location() returns), which cannot be made any other way at run time.
struct LocationRecord {
  const char* file = "";
  const char* function = "";
  std::uint_least32_t line = 0;
  std::uint_least32_t column = 0;
};

interleave::source_location location_of(const LocationRecord& r) noexcept {
#if defined(__cpp_lib_source_location)
  static_assert(sizeof(std::source_location) == sizeof(const LocationRecord*));
  return std::bit_cast<std::source_location>(&r);
#else
  return interleave::source_location::current(r.file, r.function, r.line);
#endif
}

// A spin lock: the runtime's own code runs on fibers, where a pthread mutex of the test program may
// be modelled (interleave::std_runtime), so it must not take one. Held only briefly, and contended
// only by explorations on other threads.
class SpinLock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

// A site: its frames (innermost first) and the record reports read, filled when resolved, with
// the user's frames that called it (outermost last, at most kCallers).
// A chained site (chained_site()) is a call site known from the source code, its anchor: its
// record is the anchor's from the start, and resolving adds the callers only.
struct Site {
  static constexpr std::size_t kCallers = 2;
  LocationRecord record;
  std::vector<LocationRecord*> frames;
  std::vector<LocationRecord> callers;
  const LocationRecord* anchor = nullptr;
  bool resolved = false;
};

// The innermost frames of an access (its pc, then its callers): a site's key, held inline.
struct Frames {
  static constexpr std::size_t kMax = 8;  // enough to leave the library's headers
  std::array<const void*, kMax> pc{};
  std::size_t count = 0;

  friend bool operator==(const Frames& a, const Frames& b) noexcept {
    if (a.count != b.count) return false;
    for (std::size_t i = 0; i < a.count; ++i) {  // a loop, not std::equal: that calls memcmp
      if (a.pc[i] != b.pc[i]) return false;
    }
    return true;
  }
  template <class H>
  friend H AbslHashValue(H h, const Frames& f) {
    return H::combine_contiguous(std::move(h), f.pc.data(), f.count);
  }
};

// Every code address and site seen (never freed: reports and traces keep the locations).
struct CodeLocations {
  SpinLock lock;
  absl::flat_hash_map<const void*, LocationRecord*> by_pc;
  absl::flat_hash_map<std::vector<const void*>, Site*> sites;  // user_call_site's, by whole stack
  absl::flat_hash_map<Frames, Site*> access_sites;             // code_location's
  std::deque<LocationRecord> records;
  std::deque<Site> site_records;
  absl::flat_hash_map<const LocationRecord*, const Site*> site_of_record;  // by &Site::record
  std::deque<std::string> strings;
  std::vector<std::pair<const void*, LocationRecord*>> unresolved;
  std::vector<Site*> unresolved_sites;
  // For an address in code the compiler inlined: the functions it was inlined into, innermost
  // first (the record of the address itself names the innermost inlined function's line).
  absl::flat_hash_map<const LocationRecord*, std::vector<LocationRecord>> inlined_into;

  LocationRecord* record_of(const void* pc) {
    auto [it, inserted] = by_pc.try_emplace(pc, nullptr);
    if (inserted) {
      it->second = &records.emplace_back();
      unresolved.emplace_back(pc, it->second);
    }
    return it->second;
  }

  // A new site of `count` frames from `pcs`, to be resolved.
  Site* new_site(const void* const* pcs, std::size_t count) {
    Site& site = site_records.emplace_back();
    for (std::size_t i = 0; i < count; ++i) site.frames.push_back(record_of(pcs[i]));
    unresolved_sites.push_back(&site);
    site_of_record.emplace(&site.record, &site);
    return &site;
  }
};

CodeLocations& code_locations() {
  static auto* locations = new CodeLocations;  // never destroyed: used until the process ends
  return *locations;
}

bool in_system_header(const LocationRecord& r) noexcept { return std::strncmp(r.file, "/usr/", 5) == 0; }

// interleave's own sources, by the path this file was compiled from (".../harness/src/model/"):
// the folders under that root that hold the library's code, not the tests'.
std::string_view source_root() noexcept {
  static const std::string_view root = [] {
    const std::string_view here = __FILE__;
    const std::size_t at = here.rfind("harness/src/model/");
    return at == std::string_view::npos ? std::string_view() : here.substr(0, at);
  }();
  return root;
}

bool in_library(const char* file) noexcept {
  const std::string_view f = file;
  if (f.find("/include/interleave/") != std::string_view::npos) return true;  // installed headers too
  const std::string_view root = source_root();
  if (root.empty() || f.substr(0, root.size()) != root) return false;
  const std::string_view rest = f.substr(root.size());
  for (const std::string_view folder : {"harness/src/", "harness/include/", "primitives/include/", "primitives/src/"}) {
    if (rest.substr(0, folder.size()) == folder) return true;
  }
  return false;
}

// One "function\nfile:line" answer of addr2line, or nothing where it knows no line.
std::optional<LocationRecord> parse_location(CodeLocations& c, const std::string& function, const std::string& place) {
  const std::size_t colon = place.rfind(':');
  if (colon == std::string::npos || place.compare(0, 2, "??") == 0) return std::nullopt;
  const auto line = static_cast<std::uint_least32_t>(std::strtoul(place.c_str() + colon + 1, nullptr, 10));
  if (line == 0) return std::nullopt;
  LocationRecord r;
  r.file = c.strings.emplace_back(std::filesystem::path(place.substr(0, colon)).lexically_normal().string()).c_str();
  r.function = c.strings.emplace_back(function).c_str();
  r.line = line;
  return r;
}

// addr2line on one module's addresses; fills the records it can, with the chain of functions
// each address was inlined into (an optimized build inlines the standard library's and
// interleave's headers into the user's functions: the user's line is then one of those).
void resolve_module(CodeLocations& c, const std::string& module, std::uintptr_t base,
                    const std::vector<std::pair<const void*, LocationRecord*>>& items) {
  // -a: each address's answer starts with the address (a line "0x..."; no function name starts
  // so), then one "function\nfile:line" pair per inlining level (-i), innermost first.
  std::string command = absl::StrCat("addr2line -a -i -C -f -e '", module, "'");
  for (const auto& [pc, record] : items) {
    // A return address: the call before it is the site. Shared objects (and PIE executables)
    // are looked up by offset.
    absl::StrAppend(&command, absl::StrFormat(" 0x%x", reinterpret_cast<std::uintptr_t>(pc) - 1 - base));
  }
  absl::StrAppend(&command, " 2>/dev/null");
  std::FILE* out = ::popen(command.c_str(), "r");
  if (out == nullptr) return;
  const auto read_line = [out](std::string& line) {
    line.clear();
    int ch = 0;
    while ((ch = std::fgetc(out)) != EOF && ch != '\n') line.push_back(static_cast<char>(ch));
    return ch != EOF || !line.empty();
  };
  std::size_t answer = 0;  // answers begun so far; items[answer - 1] is the current one's
  std::vector<LocationRecord> chain;
  const auto finish = [&] {
    if (answer == 0 || answer > items.size() || chain.empty()) return;
    LocationRecord* record = items[answer - 1].second;
    *record = chain.front();
    if (chain.size() > 1) c.inlined_into[record].assign(chain.begin() + 1, chain.end());
  };
  std::string function;
  std::string place;
  while (read_line(function)) {
    if (function.compare(0, 2, "0x") == 0) {
      finish();
      chain.clear();
      ++answer;
      continue;
    }
    if (!read_line(place)) break;
    if (auto r = parse_location(c, function, place)) chain.push_back(*r);
  }
  finish();
  ::pclose(out);
}

}  // namespace

namespace {

// A per-thread cache in front of CodeLocations::access_sites (which takes a lock): an access
// mostly repeats one of the sites just seen. Sites are never freed, so an entry stays valid.
struct SiteCacheEntry {
  Frames key;
  const Site* site = nullptr;
};
constexpr std::size_t kSiteCache = 256;
constinit thread_local std::array<SiteCacheEntry, kSiteCache> site_cache{};

// In front of site_cache, for callers that name their stack's content with a version
// (model::memory_access): keyed by (pc, version) alone.
struct VersionedSiteEntry {
  const void* pc = nullptr;
  std::uint64_t version = 0;
  interleave::source_location location;
};
constexpr std::size_t kVersionedSiteCache = 64;
constinit thread_local std::array<VersionedSiteEntry, kVersionedSiteCache> versioned_site_cache{};
inline VersionedSiteEntry& versioned_site(const void* pc, std::uint64_t version) noexcept {
  const auto bits = reinterpret_cast<std::uintptr_t>(pc);
  return versioned_site_cache[(bits ^ (bits >> 7) ^ version) % kVersionedSiteCache];
}

std::size_t site_cache_slot(const Frames& key) noexcept {
  const auto pc = reinterpret_cast<std::uintptr_t>(key.pc[0]);
  const auto caller = key.count > 1 ? reinterpret_cast<std::uintptr_t>(key.pc[1]) : 0;
  return (pc ^ (pc >> 8) ^ (caller >> 4)) % kSiteCache;
}

// One source file named two ways: the path the compiler was given (a source_location's) and the
// one the debug information holds (normalized by parse_location).
bool same_file(const char* a, const char* b) {
  if (std::strcmp(a, b) == 0) return true;
  const std::string x = std::filesystem::path(a).lexically_normal().string();
  const std::string y = std::filesystem::path(b).lexically_normal().string();
  if (x == y) return true;
  // A relative path names the tail of the absolute one.
  const std::string& shorter = x.size() < y.size() ? x : y;
  const std::string& longer = x.size() < y.size() ? y : x;
  return !shorter.empty() && shorter.front() != '/' && longer.size() > shorter.size() &&
         longer.compare(longer.size() - shorter.size(), shorter.size(), shorter) == 0 &&
         longer[longer.size() - shorter.size() - 1] == '/';
}

// Fills `site`'s record (and callers) from its resolved frames.
void resolve_site(const CodeLocations& c, Site& site) {
  std::vector<const LocationRecord*> frames;  // with the inlined ones, innermost first
  for (const LocationRecord* frame : site.frames) {
    frames.push_back(frame);
    const auto inlined = c.inlined_into.find(frame);
    if (inlined == c.inlined_into.end()) continue;
    for (const LocationRecord& outer : inlined->second) frames.push_back(&outer);
  }
  const auto user = [](const LocationRecord& r) { return r.line != 0 && !in_system_header(r) && !in_library(r.file); };
  std::size_t at = 0;
  if (site.anchor != nullptr) {
    // The callers are those of the frame at the anchor's line; with no such frame (code without
    // debug information) there are none.
    while (at < frames.size() &&
           !(frames[at]->line == site.anchor->line && same_file(frames[at]->file, site.anchor->file))) {
      ++at;
    }
    if (at == frames.size()) return;
  } else {
    const LocationRecord* chosen = nullptr;
    for (; at < frames.size(); ++at) {
      if (frames[at]->line == 0) continue;
      if (chosen == nullptr) chosen = frames[at];
      if (user(*frames[at])) {
        chosen = frames[at];
        break;
      }
    }
    if (chosen == nullptr) return;
    site.record = *chosen;
  }
  for (++at; at < frames.size() && site.callers.size() < Site::kCallers; ++at) {
    const LocationRecord& r = *frames[at];
    const LocationRecord& last = site.callers.empty() ? site.record : site.callers.back();
    if (user(r) && (r.line != last.line || std::strcmp(r.file, last.file) != 0)) site.callers.push_back(r);
  }
}

}  // namespace

std::string call_chain(const interleave::source_location& where) {
#if defined(__cpp_lib_source_location)
  const auto* record = std::bit_cast<const LocationRecord*>(where);
  CodeLocations& c = code_locations();
  std::unique_lock lock(c.lock);
  auto found = c.site_of_record.find(record);
  if (found == c.site_of_record.end()) return {};
  if (!found->second->resolved) {  // a report is being written: look its sites up now
    lock.unlock();
    resolve_code_locations();
    lock.lock();
    found = c.site_of_record.find(record);
  }
  std::string text;
  for (const LocationRecord& caller : found->second->callers) {
    absl::StrAppend(&text, text.empty() ? ", called from " : ", from ", caller.file, ":", caller.line);
  }
  return text;
#else
  (void)where;
  return {};
#endif
}

namespace {

// The site of (pc, callers), through the per-thread cache of keys.
interleave::source_location code_location_of(const void* pc, const void* const* callers, std::size_t depth) {
  Frames key;
  key.pc[key.count++] = pc;
  for (std::size_t i = depth; i > 0 && key.count < Frames::kMax; --i) key.pc[key.count++] = callers[i - 1];
  SiteCacheEntry& cached = site_cache[site_cache_slot(key)];
  if (cached.site != nullptr && cached.key == key) return location_of(cached.site->record);
  CodeLocations& c = code_locations();
  const std::lock_guard lock(c.lock);
  auto [it, inserted] = c.access_sites.try_emplace(key, nullptr);
  if (inserted) it->second = c.new_site(key.pc.data(), key.count);
  cached = SiteCacheEntry{key, it->second};
  return location_of(it->second->record);
}

}  // namespace

interleave::source_location code_location(const void* pc, const void* const* callers, std::size_t depth,
                                          std::uint64_t version) noexcept {
  if (pc == nullptr) return {};
  // (pc, version) names the whole key: a hit costs two comparisons, not the key's copy and compare.
  VersionedSiteEntry* memo = nullptr;
  if (version != 0) {
    memo = &versioned_site(pc, version);
    if (memo->pc == pc && memo->version == version) return memo->location;
  }
  try {
    const interleave::source_location found = code_location_of(pc, callers, depth);
    if (memo != nullptr) *memo = VersionedSiteEntry{pc, version, found};
    return found;
  } catch (...) {
    return {};
  }
}

// glibc's backtrace() loads the unwinder on its first call: done here, before any fiber runs.
[[maybe_unused]] const int kUnwinderLoaded = [] {
  void* frame[1];
  return ::backtrace(frame, 1);
}();

interleave::source_location user_call_site() noexcept {
  constexpr int kFrames = 48;  // the runtime's and the primitive's frames come first
  void* frames[kFrames];
  const int count = ::backtrace(frames, kFrames);
  if (count <= 1) return {};
  try {
    std::vector<const void*> key(frames + 1, frames + count);  // this function's own frame left out
    CodeLocations& c = code_locations();
    interleave::source_location where;
    {
      const std::lock_guard lock(c.lock);
      auto [it, inserted] = c.sites.try_emplace(std::move(key), nullptr);
      if (inserted) it->second = c.new_site(it->first.data(), it->first.size());
      where = location_of(it->second->record);
    }
#if !defined(__cpp_lib_source_location)
    // This source_location holds the file and line themselves, not a pointer to the record that
    // resolving fills in later: resolve now (one addr2line run per new site).
    resolve_code_locations();
    const std::lock_guard lock(c.lock);
    where = location_of(c.sites.find(std::vector<const void*>(frames + 1, frames + count))->second->record);
#endif
    return where;
  } catch (...) {
    return {};
  }
}

interleave::source_location chained_site(const interleave::source_location& where) noexcept {
#if defined(__cpp_lib_source_location)
  if (where.line() == 0) return where;
  try {
    const auto* anchor = std::bit_cast<const LocationRecord*>(where);
    CodeLocations& c = code_locations();
    {
      const std::lock_guard lock(c.lock);
      if (c.site_of_record.contains(anchor)) return where;  // a site already (instrumented code's)
    }
    constexpr int kFrames = 48;
    void* frames[kFrames];
    const int count = ::backtrace(frames, kFrames);
    if (count <= 1) return where;
    // The key: the anchor, then the stack without this function's own frame.
    std::vector<const void*> key;
    key.reserve(static_cast<std::size_t>(count));
    key.push_back(anchor);
    key.insert(key.end(), frames + 1, frames + count);
    const std::lock_guard lock(c.lock);
    auto [it, inserted] = c.sites.try_emplace(std::move(key), nullptr);
    if (inserted) {
      Site* site = c.new_site(it->first.data() + 1, it->first.size() - 1);
      site->anchor = anchor;
      site->record = *anchor;
      it->second = site;
    }
    return location_of(it->second->record);
  } catch (...) {
    return where;
  }
#else
  return where;  // a source_location holds its file and line here, not a record a site could extend
#endif
}

bool library_site(const interleave::source_location& where) noexcept {
  const char* file = where.file_name();
  return std::strncmp(file, "/usr/include/", 13) == 0 || std::strstr(file, "/include/c++/") != nullptr ||
         in_library(file);
}

void resolve_code_locations() noexcept {
  try {
    CodeLocations& c = code_locations();
    const std::lock_guard lock(c.lock);
    // One addr2line run per module (the executable, shared objects).
    absl::flat_hash_map<std::string, std::pair<std::uintptr_t, std::vector<std::pair<const void*, LocationRecord*>>>>
        modules;
    for (const auto& item : c.unresolved) {
      Dl_info info{};
      if (::dladdr(item.first, &info) == 0 || info.dli_fname == nullptr) continue;
      auto& module = modules[info.dli_fname];
      module.first = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
      module.second.push_back(item);
    }
    c.unresolved.clear();
    for (const auto& [name, module] : modules) {
      std::string path = name;
      if (path.empty() || path.find('/') == std::string::npos) path = "/proc/self/exe";
      resolve_module(c, path, module.first, module.second);
    }
    // A site is its innermost frame outside system headers and interleave's own code (else its
    // innermost known frame); the user's frames after it are its callers. Each frame's inlined
    // functions count as frames of their own, innermost first.
    for (Site* site : c.unresolved_sites) {
      resolve_site(c, *site);
      site->resolved = true;
    }
    c.unresolved_sites.clear();
  } catch (...) {
    // Reports then name these sites without file and line.
  }
}

namespace {

bool same_where(const interleave::source_location& a, const interleave::source_location& b) noexcept {
#if defined(__cpp_lib_source_location)
  // One pointer (to the record code_location interned): equal sites, equal pointers.
  return std::bit_cast<std::uintptr_t>(a) == std::bit_cast<std::uintptr_t>(b);
#else
  return a.file_name() == b.file_name() && a.function_name() == b.function_name() && a.line() == b.line();
#endif
}
bool same_access(const CellAccess& a, const CellAccess& b) noexcept {
  return a.fiber == b.fiber && a.clock == b.clock && a.step == b.step && same_where(a.where, b.where);
}
// Equal shadows without a read set: an access changes both the same way (on_cell_access depends
// only on the shadow and the access).
bool same_plain_shadow(const CellShadow& a, const CellShadow& b) noexcept {
  return a.read_set == 0 && b.read_set == 0 && a.schedule == b.schedule && same_access(a.write, b.write) &&
         same_access(a.read, b.read);
}

}  // namespace

inline Runtime::Granule& Runtime::granule_at(std::uintptr_t key) {
  GranuleCacheEntry& cached = granule_cache_[(key ^ (key >> 8)) % kGranuleCache];
  if (cached.key == key && cached.generation == memory_generation_) return *cached.granule;
  auto [it, inserted] = memory_.try_emplace(key);
  if (inserted) ++memory_generation_;  // an insert may have moved the others
  cached = GranuleCacheEntry{key, memory_generation_, &it->second};
  return it->second;
}

void Runtime::check_memory(const PlainAccess& access) {
  if (access.size == 0 || aborting_ || !detector_.reports() || (access.accessed_only && memory_.empty())) return;
  const std::uintptr_t end = access.first + access.size;
  if (!access.accessed_only && access.first / 8 == (end - 1) / 8) {
    // Inside one granule (nearly every access): the common cases in place, the rest as below.
    const std::uintptr_t key = access.first / 8;
    Granule& granule = granule_at(key);
    const std::uintptr_t from = access.first - key * 8;
    const auto mask = static_cast<std::uint8_t>((0xffU << from) & (0xffU >> (8 - (from + access.size))));
    if (!granule.bytes && granule.used == mask) {
      if (detector_.same_epoch(granule.shadow, current_, access.write)) return;
      const VersionedSiteEntry& memo = versioned_site(access.pc, access.version);
      const interleave::source_location where =
          memo.pc == access.pc && memo.version == access.version && access.version != 0
              ? memo.location
              : code_location(access.pc, access.callers, access.depth, access.version);
      if (detector_.record_if_ordered(granule.shadow, current_, steps_, access.write, where)) return;
    }
    check_granule(granule, key * 8, mask, access);
    return;
  }
  for (std::uintptr_t key = access.first / 8; key <= (end - 1) / 8; ++key) {
    Granule* granule = nullptr;
    if (access.accessed_only) {
      const auto found = memory_.find(key);
      if (found == memory_.end()) continue;
      granule = &found->second;
    } else {
      granule = &granule_at(key);
    }
    const std::uintptr_t base = key * 8;
    const std::uintptr_t from = std::max(access.first, base) - base;
    const std::uintptr_t to = std::min(end, base + 8) - base;
    auto mask = static_cast<std::uint8_t>((0xffU << from) & (0xffU >> (8 - to)));
    if (access.accessed_only) mask &= granule->used;
    if (mask != 0 && !check_granule(*granule, base, mask, access)) return;
  }
}

bool Runtime::check_granule(Granule& granule, std::uintptr_t base, std::uint8_t mask, const PlainAccess& access) {
  if (!granule.bytes) {
    const std::uint8_t used = granule.used;
    // One shadow still serves every used byte when the access covers exactly those, when they
    // are new, or when a write covers them all (a write leaves every byte it checked alike).
    if (used == 0 || mask == used || (access.write && (mask & used) == used)) {
      if (used == 0) granule.shadow = CellShadow{};
      if (mask == used && detector_.same_epoch(granule.shadow, current_, access.write)) return true;
      const std::uint8_t checked = used != 0 ? used : mask;
      const std::uintptr_t byte = base + static_cast<unsigned>(std::countr_zero(checked));
      if (!check_plain(granule.shadow, byte, access)) return false;
      granule.used = static_cast<std::uint8_t>(used | mask);
      return true;
    }
    granule.bytes = std::make_unique<std::array<CellShadow, 8>>();
    for (unsigned i = 0; i < 8; ++i) {
      if ((used & (1U << i)) != 0) detector_.copy_cell(granule.shadow, (*granule.bytes)[i]);
    }
  }
  // The previous byte checked in full: its shadow before and after. A byte whose shadow equals
  // that `before` ends equal to that `after` without being checked again.
  CellShadow before{};
  CellShadow after{};
  bool have_after = false;
  for (unsigned i = 0; i < 8; ++i) {
    const auto bit = static_cast<std::uint8_t>(1U << i);
    if ((mask & bit) == 0) continue;
    CellShadow& shadow = (*granule.bytes)[i];
    if ((granule.used & bit) == 0) {
      granule.used |= bit;
      shadow = CellShadow{};
    }
    if (detector_.same_epoch(shadow, current_, access.write)) continue;
    if (have_after && same_plain_shadow(shadow, before) && after.read_set == 0) {
      shadow = after;
      continue;
    }
    before = shadow;
    if (!check_plain(shadow, base + i, access)) return false;
    after = shadow;
    have_after = true;
  }
  return true;
}

bool Runtime::check_plain(CellShadow& shadow, std::uintptr_t byte, const PlainAccess& access) {
  const interleave::source_location where = code_location(access.pc, access.callers, access.depth, access.version);
  if (detector_.record_if_ordered(shadow, current_, steps_, access.write, where)) return true;
  // A race leaves the shadow as it was before the access (on_cell_access changes it only when
  // the access raced with nothing), as report_memory_race wants it.
  auto race = detector_.on_cell_access(detector_context(), shadow, access.write, where);
  if (!race) return true;
  report_memory_race(std::move(*race), shadow, access.write, access.accessed_only, {access.first, byte, access.size},
                     where);
  return false;
}

void Runtime::report_memory_race(std::string race, CellShadow& shadow, bool write, bool freeing, RacyByte at,
                                 interleave::source_location where) {
  // Rare: the sites are looked up now, and the report written again with them.
  resolve_code_locations();
  if (auto named = detector_.on_cell_access(detector_context(), shadow, write, where)) race = std::move(*named);
  const std::string cell = "on a Shared<T> cell";
  if (const std::size_t found = race.find(cell); found != std::string::npos) {
    race.replace(
        found, cell.size(),
        absl::StrFormat("on plain memory at %p (byte %u of a %u-byte access)", reinterpret_cast<void*>(at.byte),
                        static_cast<unsigned>(at.byte - at.first), static_cast<unsigned>(at.size)));
  }
  if (freeing) {
    race.insert(0, "a heap block is freed (the write below) while an access to it is not ordered before the free; ");
  }
  report_race(std::move(race), where, true);
}

void Runtime::forget_memory(const void* address, std::size_t size) noexcept {
  if (memory_.empty() || size == 0) return;
  const auto first = reinterpret_cast<std::uintptr_t>(address);
  const std::uintptr_t end = first + size;
  // Clears the bytes of granule `key` inside the range; true when none of its bytes is left.
  const auto forget = [first, end](std::uintptr_t key, Granule& granule) {
    for (std::uintptr_t byte = std::max(first, key * 8); byte < std::min(end, key * 8 + 8); ++byte) {
      granule.used &= static_cast<std::uint8_t>(~(1U << (byte % 8)));
    }
    return granule.used == 0;
  };
  const std::uintptr_t first_key = first / 8;
  const std::uintptr_t last_key = (end - 1) / 8;
  ++memory_generation_;  // erasing may move the map's elements
  if (last_key - first_key >= memory_.size()) {
    absl::erase_if(memory_, [&](auto& entry) {
      return entry.first - first_key <= last_key - first_key && forget(entry.first, entry.second);
    });
    return;
  }
  for (std::uintptr_t key = first_key; key <= last_key; ++key) {
    const auto found = memory_.find(key);
    if (found != memory_.end() && forget(key, found->second)) memory_.erase(found);
  }
}

}  // namespace interleave::detail::model
