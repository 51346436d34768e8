// The host caching allocator (kernels/cpu_alloc.h): size classes, reuse, statistics, the cap,
// release, the off and poison switches, concurrent use, and tensor storage going through it.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "kernels/cpu_alloc.h"
#include "kernels/philox.h"
#include "tensor/tensor.h"
#include "test_util.h"

using namespace sakuga;

namespace {

// Sets a configuration for one test and restores the previous one (the process-wide pool is
// shared with every other test).
struct ConfigGuard {
  device::CpuCacheConfig saved = device::cpu_cache_config();
  explicit ConfigGuard(const device::CpuCacheConfig& c) { device::set_cpu_cache_config(c); }
  ~ConfigGuard() { device::set_cpu_cache_config(saved); }
};

device::CpuCacheConfig cache_on(size_t limit = size_t(1) << 30) {
  device::CpuCacheConfig c;
  c.enabled = true;
  c.limit_bytes = limit;
  return c;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("cpu_alloc: size classes are 64-byte multiples within 12.5 % of the request") {
  CHECK(device::cpu_block_size(0) == 64);
  CHECK(device::cpu_block_size(1) == 64);
  CHECK(device::cpu_block_size(64) == 64);
  CHECK(device::cpu_block_size(65) == 128);
  CHECK(device::cpu_block_size(4096) == 4096);
  CHECK(device::cpu_block_size(4097) == 4096 + 512);
  CHECK(device::cpu_block_size(size_t(1) << 20) == size_t(1) << 20);
  CHECK(device::cpu_block_size((size_t(1) << 20) + 1) == (size_t(1) << 20) + (size_t(1) << 17));
  size_t prev = 0;
  for (size_t n = 1; n < (size_t(1) << 24); n = n * 17 / 16 + 1) {
    const size_t b = device::cpu_block_size(n);
    INFO("n = ", n, ", block = ", b);
    CHECK(b >= n);
    CHECK(b % 64 == 0);
    CHECK(b <= n + n / 8 + 64);
    CHECK(b >= prev);  // monotone
    CHECK(device::cpu_block_size(b) == b);  // a class maps to itself
    prev = b;
  }
}

TEST_CASE("cpu_alloc: a freed block is handed out again, aligned, without a new system allocation") {
  ConfigGuard g(cache_on());
  device::cpu_empty_cache();
  const device::MemStats s0 = device::cpu_mem_stats();
  void* a = device::cpu_alloc(100000);
  CHECK(reinterpret_cast<uintptr_t>(a) % 64 == 0);
  std::memset(a, 1, 100000);  // the whole request is writable
  const device::MemStats s1 = device::cpu_mem_stats();
  const size_t block = device::cpu_block_size(100000);
  CHECK(s1.num_allocs == s0.num_allocs + 1);
  CHECK(s1.current_bytes == s0.current_bytes + block);
  CHECK(s1.cached_bytes == s0.cached_bytes + block);
  CHECK(s1.peak_bytes >= s1.current_bytes);
  device::cpu_free(a, 100000);
  const device::MemStats s2 = device::cpu_mem_stats();
  CHECK(s2.current_bytes == s0.current_bytes);
  CHECK(s2.cached_bytes == s1.cached_bytes);  // kept in the free list
  // Another request of the same size class gets the same block back.
  void* b = device::cpu_alloc(block - 10);
  CHECK(b == a);
  CHECK(device::cpu_mem_stats().num_allocs == s1.num_allocs);
  device::cpu_free(b, block - 10);
  // A different class does not.
  void* c = device::cpu_alloc(block + 1);
  CHECK(c != a);
  CHECK(device::cpu_mem_stats().num_allocs == s1.num_allocs + 1);
  device::cpu_free(c, block + 1);
  device::cpu_empty_cache();
  const device::MemStats s3 = device::cpu_mem_stats();
  CHECK(s3.cached_bytes == s3.current_bytes);  // nothing left in the free lists
}

TEST_CASE("cpu_alloc: peak follows current until reset") {
  ConfigGuard g(cache_on());
  device::cpu_reset_peak();
  const size_t base = device::cpu_mem_stats().current_bytes;
  void* a = device::cpu_alloc(1 << 20);
  void* b = device::cpu_alloc(1 << 20);
  device::cpu_free(a, 1 << 20);
  device::cpu_free(b, 1 << 20);
  CHECK(device::cpu_mem_stats().peak_bytes == base + (size_t(2) << 20));
  device::cpu_reset_peak();
  CHECK(device::cpu_mem_stats().peak_bytes == base);
}

TEST_CASE("cpu_alloc: the cap bounds the free lists; lowering it releases blocks") {
  ConfigGuard g(cache_on(size_t(3) << 20));  // room for three 1 MiB blocks
  device::cpu_empty_cache();
  const size_t held0 = device::cpu_mem_stats().cached_bytes;
  std::vector<void*> blocks;
  for (int i = 0; i < 5; ++i) blocks.push_back(device::cpu_alloc(1 << 20));
  for (void* p : blocks) device::cpu_free(p, 1 << 20);
  const device::MemStats s = device::cpu_mem_stats();
  CHECK(s.cached_bytes - s.current_bytes == size_t(3) << 20);
  CHECK(s.cached_bytes == held0 + (size_t(3) << 20));
  device::set_cpu_cache_config(cache_on(size_t(1) << 20));
  const device::MemStats t = device::cpu_mem_stats();
  CHECK(t.cached_bytes - t.current_bytes == size_t(1) << 20);
  device::set_cpu_cache_config(cache_on(0));
  const device::MemStats u = device::cpu_mem_stats();
  CHECK(u.cached_bytes == u.current_bytes);
}

TEST_CASE("cpu_alloc: switched off, every block comes from and goes back to the system") {
  device::CpuCacheConfig off;
  off.enabled = false;
  ConfigGuard g(off);
  const device::MemStats s0 = device::cpu_mem_stats();
  CHECK(s0.cached_bytes == s0.current_bytes);  // switching off released the free lists
  for (int i = 0; i < 3; ++i) {
    void* p = device::cpu_alloc(50000);
    CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0);
    device::cpu_free(p, 50000);
  }
  const device::MemStats s1 = device::cpu_mem_stats();
  CHECK(s1.num_allocs == s0.num_allocs + 3);
  CHECK(s1.cached_bytes == s1.current_bytes);
}

TEST_CASE("cpu_alloc: poison fills every handed-out block with 0xFF (NaN as f32)") {
  device::CpuCacheConfig c = cache_on();
  c.poison = true;
  ConfigGuard g(c);
  for (int round = 0; round < 2; ++round) {  // a fresh block, then a reused one
    auto* p = static_cast<float*>(device::cpu_alloc(4096));
    bool all_nan = true;
    for (int i = 0; i < 1024; ++i) all_nan = all_nan && p[i] != p[i];
    CHECK(all_nan);
    std::memset(p, 0, 4096);
    device::cpu_free(p, 4096);
  }
}

TEST_CASE("cpu_alloc: concurrent allocation from several threads keeps blocks private and stats exact") {
  ConfigGuard g(cache_on(size_t(64) << 20));
  const size_t base = device::cpu_mem_stats().current_bytes;
  std::vector<std::thread> threads;
  std::vector<int> errors(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &errors] {
      std::vector<std::pair<uint8_t*, size_t>> live;
      for (uint32_t i = 0; i < 2000; ++i) {
        const uint32_t r = philox::word(uint64_t(t) * 7919 + 7, i);
        if (live.size() < 8 && (r & 1)) {
          const size_t n = 1 + (r >> 8) % 300000;
          auto* p = static_cast<uint8_t*>(device::cpu_alloc(n));
          std::memset(p, t + 1, n);
          live.emplace_back(p, n);
        } else if (!live.empty()) {
          auto [p, n] = live.back();
          live.pop_back();
          for (size_t k = 0; k < n; k += 997) errors[size_t(t)] += p[k] != uint8_t(t + 1);  // nobody else wrote
          device::cpu_free(p, n);
        }
      }
      for (auto [p, n] : live) device::cpu_free(p, n);
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) CHECK(errors[size_t(t)] == 0);
  CHECK(device::cpu_mem_stats().current_bytes == base);
}

TEST_CASE("cpu_alloc: CPU tensor storage comes from the cache") {
  ConfigGuard g(cache_on());
  const size_t base = device::cpu_mem_stats().current_bytes;
  const size_t allocs = [] {
    Tensor warm = Tensor::empty({1000, 37});  // puts one block of this class in the free list
    return device::cpu_mem_stats().num_allocs;
  }();
  {
    Tensor t = Tensor::zeros({1000, 37});
    CHECK(device::cpu_mem_stats().current_bytes == base + device::cpu_block_size(1000 * 37 * 4));
    CHECK(device::cpu_mem_stats().num_allocs == allocs);  // reused the block freed above
    CHECK(reinterpret_cast<uintptr_t>(t.raw()) % 64 == 0);
  }
  CHECK(device::cpu_mem_stats().current_bytes == base);
}

TEST_CASE("cpu_alloc: environment values are checked") {
  device::CpuCacheConfig d = device::cpu_cache_config_from(nullptr, nullptr);
  CHECK(d.enabled);
  CHECK_FALSE(d.poison);
  CHECK(d.limit_bytes > 0);
  CHECK_FALSE(device::cpu_cache_config_from("0", "").enabled);
  CHECK(device::cpu_cache_config_from("poison", nullptr).poison);
  CHECK(device::cpu_cache_config_from("1", "64").limit_bytes == size_t(64) << 20);
  CHECK(device::cpu_cache_config_from("1", "0").limit_bytes == 0);
  CHECK_ERROR(device::cpu_cache_config_from("yes", nullptr), "SAKUGA_CPU_CACHE: expected 0 (off), 1 (on) or poison");
  CHECK_ERROR(device::cpu_cache_config_from(nullptr, "12x"), "SAKUGA_CPU_CACHE_LIMIT_MB: expected a size in MiB");
  CHECK_ERROR(device::cpu_cache_config_from(nullptr, "-5"), "SAKUGA_CPU_CACHE_LIMIT_MB");
}

}  // TEST_SUITE
