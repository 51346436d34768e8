// The host caching allocator (kernels/cpu_alloc.h).
#include "kernels/cpu_alloc.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sakuga::device {

namespace {

constexpr size_t kAlign = 64;

size_t default_limit_bytes() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return size_t(1) << 30;
  return size_t(pages) * size_t(page) / 4;
}

}  // namespace

CpuCacheConfig cpu_cache_config_from(const char* cache, const char* limit_mb) {
  CpuCacheConfig c;
  c.limit_bytes = default_limit_bytes();
  if (cache && *cache) {
    const std::string s = cache;
    SAKUGA_CHECK(s == "0" || s == "1" || s == "poison",
                 "SAKUGA_CPU_CACHE: expected 0 (off), 1 (on) or poison, got '", s, "'");
    c.enabled = s != "0";
    c.poison = s == "poison";
  }
  if (limit_mb && *limit_mb) {
    char* end = nullptr;
    errno = 0;
    unsigned long long mb = std::strtoull(limit_mb, &end, 10);
    SAKUGA_CHECK(errno == 0 && end && *end == '\0' && *limit_mb >= '0' && *limit_mb <= '9' && mb < (1ull << 40),
                 "SAKUGA_CPU_CACHE_LIMIT_MB: expected a size in MiB (a whole number >= 0), got '", limit_mb, "'");
    c.limit_bytes = size_t(mb) << 20;
  }
  return c;
}

namespace {

struct Pool {
  std::mutex mu;
  CpuCacheConfig config = cpu_cache_config_from(std::getenv("SAKUGA_CPU_CACHE"), std::getenv("SAKUGA_CPU_CACHE_LIMIT_MB"));
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // size class → blocks
  size_t free_bytes = 0;                                      // in free_blocks
  MemStats stats;

  // Frees cached blocks until at most `keep` bytes remain; returns them for freeing unlocked.
  void evict_to(size_t keep, std::vector<void*>* out) {
    for (auto it = free_blocks.begin(); it != free_blocks.end() && free_bytes > keep;) {
      auto& list = it->second;
      while (!list.empty() && free_bytes > keep) {
        out->push_back(list.back());
        list.pop_back();
        free_bytes -= it->first;
        stats.cached_bytes -= it->first;
      }
      it = list.empty() ? free_blocks.erase(it) : std::next(it);
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool();  // lives until exit: tensors in static objects may free late
  return *p;
}

void release(const std::vector<void*>& blocks) {
  for (void* b : blocks) std::free(b);
}

}  // namespace

size_t cpu_block_size(size_t bytes) {
  if (bytes <= 4096) return bytes <= kAlign ? kAlign : (bytes + kAlign - 1) / kAlign * kAlign;
  // 8 classes per octave: the step is 1/8 of the largest power of two not above `bytes`.
  const int log2 = 63 - __builtin_clzll(static_cast<unsigned long long>(bytes));
  const size_t step = size_t(1) << (log2 - 3);
  return (bytes + step - 1) / step * step;
}

void* cpu_alloc(size_t bytes) {
  const size_t size = cpu_block_size(bytes);
  Pool& p = pool();
  void* ptr = nullptr;
  bool poison = false;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    poison = p.config.poison;
    auto it = p.config.enabled ? p.free_blocks.find(size) : p.free_blocks.end();
    if (it != p.free_blocks.end() && !it->second.empty()) {
      ptr = it->second.back();
      it->second.pop_back();
      p.free_bytes -= size;
      p.stats.current_bytes += size;
      p.stats.peak_bytes = std::max(p.stats.peak_bytes, p.stats.current_bytes);
    }
  }
  if (!ptr) {
    ptr = std::aligned_alloc(kAlign, size);
    if (!ptr) {
      cpu_empty_cache();
      ptr = std::aligned_alloc(kAlign, size);
    }
    if (!ptr) {
      MemStats st = cpu_mem_stats();
      SAKUGA_FAIL("out of host memory allocating ", bytes, " bytes (sakuga holds ", st.cached_bytes, " bytes, ",
                  st.current_bytes, " of them in use)");
    }
    std::lock_guard<std::mutex> lock(p.mu);
    p.stats.num_allocs++;
    p.stats.cached_bytes += size;
    p.stats.current_bytes += size;
    p.stats.peak_bytes = std::max(p.stats.peak_bytes, p.stats.current_bytes);
  }
  if (poison) std::memset(ptr, 0xFF, size);
  return ptr;
}

void cpu_free(void* ptr, size_t bytes) {
  if (!ptr) return;
  const size_t size = cpu_block_size(bytes);
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.stats.current_bytes -= size;
    if (p.config.enabled && p.free_bytes + size <= p.config.limit_bytes) {
      p.free_blocks[size].push_back(ptr);
      p.free_bytes += size;
      return;
    }
    p.stats.cached_bytes -= size;
  }
  std::free(ptr);
}

MemStats cpu_mem_stats() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  return p.stats;
}

void cpu_reset_peak() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  p.stats.peak_bytes = p.stats.current_bytes;
}

void cpu_empty_cache() {
  Pool& p = pool();
  std::vector<void*> out;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.evict_to(0, &out);
  }
  release(out);
}

CpuCacheConfig cpu_cache_config() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  return p.config;
}

void set_cpu_cache_config(const CpuCacheConfig& c) {
  Pool& p = pool();
  std::vector<void*> out;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.config = c;
    p.evict_to(c.enabled ? c.limit_bytes : 0, &out);
  }
  release(out);
}

}  // namespace sakuga::device
