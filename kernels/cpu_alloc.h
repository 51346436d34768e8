#pragma once
// Host memory for CPU tensor storage: a caching allocator, the CPU counterpart of the GPU's
// device::alloc. Why: a training step frees and re-allocates the same few hundred activation
// and gradient buffers every step; with plain malloc the large ones are fresh mmap'd (or
// trimmed) pages each time, so every step page-faults them in again (the douga demo spent ~9 %
// of its time in the kernel on 17 million minor faults). Freed blocks go to size-binned free
// lists and are handed out again, already mapped.
//
// - Blocks are 64-byte aligned (vector loads) and rounded to size classes: multiples of 64 B up
//   to 4 KiB, above that 8 classes per power of two (≤ 12.5 % rounding).
// - Thread safe (one mutex): batches are built on worker threads while the step runs.
// - At most cpu_cache_limit() bytes sit in the free lists; a block freed beyond that goes back
//   to the system. cpu_empty_cache() returns every free block.
// - Contents of a block are garbage (never assume zeroed memory).
// - Environment, read once at first use: SAKUGA_CPU_CACHE=0 turns caching off (every block
//   comes from and returns to aligned_alloc/free, for leak checkers and debugging);
//   SAKUGA_CPU_CACHE=poison keeps it on and fills every block handed out with 0xFF bytes (NaN
//   as f32), so code that reads memory it never wrote shows up; SAKUGA_CPU_CACHE_LIMIT_MB=N
//   caps the free lists at N MiB (default: a quarter of the physical memory).
#include <cstddef>

#include "kernels/device.h"

namespace sakuga::device {

// 64-byte aligned block of at least `bytes` bytes (0 is allowed); throws sakuga::Error when the
// system has no memory left even after the cache was emptied.
void* cpu_alloc(size_t bytes);
// Returns a block from cpu_alloc; `bytes` must be the size it was allocated with.
void cpu_free(void* ptr, size_t bytes);

// current_bytes: handed out now (size classes); peak_bytes: max of current_bytes since the
// last cpu_reset_peak(); cached_bytes: held from the system (in use + free lists);
// num_allocs: aligned_alloc calls made.
MemStats cpu_mem_stats();
void cpu_reset_peak();
void cpu_empty_cache();  // returns every free block to the system

// The size class a request of `bytes` is served from.
size_t cpu_block_size(size_t bytes);

struct CpuCacheConfig {
  bool enabled = true;
  bool poison = false;
  size_t limit_bytes = 0;  // most bytes kept in the free lists
};
CpuCacheConfig cpu_cache_config();
// The configuration the values of SAKUGA_CPU_CACHE and SAKUGA_CPU_CACHE_LIMIT_MB (null or ""
// = unset) give; throws sakuga::Error naming the variable on a bad value.
CpuCacheConfig cpu_cache_config_from(const char* cache, const char* limit_mb);
// Replaces the configuration (the environment's, by default); free blocks beyond the new limit
// (all of them when caching is turned off) are returned to the system. For tests and embedders.
void set_cpu_cache_config(const CpuCacheConfig& c);

}  // namespace sakuga::device
