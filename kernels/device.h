#pragma once
// The GPU runtime as the rest of sakuga sees it: device discovery, the caching allocator,
// copies, streams and library versions. Implemented in kernels/cuda/runtime.cu in a CUDA
// build and by kernels/cpu/no_cuda.cpp otherwise (where no device ever answers).
#include <memory>
#include <string>
#include <vector>

#include "kernels/common.h"

namespace sakuga::device {

// Number of usable CUDA devices; 0 when the build has no CUDA or no driver/device answers.
// Never throws. The first call that finds none prints a one-line notice to stderr.
int cuda_device_count();
// Why no device answered ("" when one did).
std::string cuda_unavailable_reason();
bool cuda_built();

struct DeviceInfo {
  int index = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  size_t total_bytes = 0;
  int sm_count = 0;
};
std::vector<DeviceInfo> devices();

// The CUDA device `--device auto` uses: the first device on which a context can be created
// and a small allocation succeeds (an exclusive-mode GPU held by another process, or one with
// no memory left, fails here instead of at the first real call). -1 when none can be used;
// the reason is printed to stderr once. Never throws; the answer is computed once.
int auto_cuda_device();

struct Versions {
  int cuda_runtime = 0, cuda_driver = 0, cudnn = 0, cublas = 0;
};
Versions versions();

void set_device(int dev);
// The stream all sakuga work on `dev` is queued on (created on first use).
Stream stream(int dev);
void synchronize(int dev);

// Caching allocator: size-binned free lists per device, reused in stream order.
void* alloc(size_t bytes, int dev);
void free(void* ptr, int dev);
struct MemStats {
  size_t current_bytes = 0;  // handed out to tensors/workspaces now
  size_t peak_bytes = 0;     // max of current_bytes since the last reset
  size_t cached_bytes = 0;   // held by the allocator (in use + free lists)
  size_t num_allocs = 0;     // cudaMalloc calls made
};
MemStats mem_stats(int dev);
void reset_peak(int dev);
void empty_cache();  // returns free cached blocks to the driver

// Copies and fills, queued on the device's stream. `*_sync` variants wait for completion.
// copy_h2d takes pageable host memory: it returns once the source has been staged, so the
// caller may reuse `src` at once. A page-locked (pinned) source would still be read after
// the call returns: copy_h2d synchronises the stream then (see copy_h2d_async instead).
void copy_h2d(void* dst, const void* src, size_t bytes, int dev);
void copy_d2h_sync(void* dst, const void* src, size_t bytes, int dev);
void copy_d2d(void* dst, const void* src, size_t bytes, int dev);
void memset_zero(void* dst, size_t bytes, int dev);

// --- asynchronous uploads (input batches) ------------------------------------------------
// Page-locked host memory from a caching allocator (size-binned free lists, like the device
// pool). Throws when no CUDA device answered. free_pinned takes pointers of alloc_pinned only.
void* alloc_pinned(size_t bytes);
void free_pinned(void* ptr);
bool is_pinned(const void* ptr);  // true for a block handed out by alloc_pinned
MemStats pinned_stats();
// The device's copy stream (created on first use): host→device uploads that overlap compute.
Stream copy_stream(int dev);
// Device memory that a copy_h2d_async may write at once: from a separate free list whose
// blocks are handed out again only after the compute-stream work queued before their free()
// has completed (an event per freed block). Freed with free().
void* alloc_copy_target(size_t bytes, int dev);
// Copies a pinned host block to device memory from alloc_copy_target on the copy stream and
// makes the compute stream wait for it (an event): work queued on stream(dev) afterwards sees
// the data, and the host does not wait. `keep_alive` (the source's owner) is held until the
// copy has completed, so the pinned block cannot be reused under the transfer; completed
// copies are released on later calls and by synchronize(). The caller must not write to the
// source until then.
void copy_h2d_async(void* dst, const void* src, size_t bytes, int dev, std::shared_ptr<const void> keep_alive);
// Copies queued by copy_h2d_async whose sources are still held (for tests).
size_t copies_in_flight(int dev);

// --- deferred errors ---------------------------------------------------------------------
// Bad indices that a CUDA kernel can only see on the device (a label outside [0, C), an index
// out of range) are not read back at once, which would stall the host every step. The kernel
// sets a per-device flag instead (the op still returns: the bad items are zeros or NaN, as
// each op documents), and raise_deferred_errors reads all flags of the device with one small
// copy — the training loop calls it at its log interval — and throws naming the op and what
// was wrong, resetting the flags. The CPU path keeps its immediate errors.
enum class DeferredError : int {
  one_hot_label,
  cross_entropy_target,
  nll_target,
  focal_target,
  gather_index,
  index_select_index,
  count
};
const char* deferred_error_message(DeferredError e);
// The device address of the flag (an i32, 0 = nothing seen) that kernels set to 1.
int32_t* deferred_error_flag(int dev, DeferredError e);
// Throws sakuga::Error listing every flag that is set (and clears them). A synchronisation
// of the device's stream; a no-op on the CPU, without CUDA, or when no flag was ever taken.
void raise_deferred_errors(int dev);

// SAKUGA_SYNC_LAUNCHES=1 in the environment (read once): every kernel launch check also waits
// for the device, so a fault is reported at the launch that caused it (debugging and
// compute-sanitizer runs; slow; not usable while a CUDA graph is being captured).
bool sync_launches();
// How the variable's value is read: on for "1" only (unset, empty, "0" or anything else: off).
bool sync_launches_value(const char* env);

// Deterministic mode (default on): no atomics in reductions, deterministic cuDNN algorithms.
void set_deterministic(bool on);
bool deterministic();

// Compute precision for conv/matmul: fp32, tf32 (default on GPU) or bf16.
enum class Precision { fp32, tf32, bf16 };
void set_precision(Precision p);
Precision precision();
Precision parse_precision(const std::string& s);  // throws on anything else
const char* precision_name(Precision p);

// CPU threads of sakuga's thread pool (kernels/cpu/parallel.h), which runs every parallel CPU
// loop and splits GEMMs (OpenBLAS and OpenMP themselves stay single-threaded). Default: the
// SAKUGA_THREADS environment variable, else OMP_NUM_THREADS, else the physical cores this
// process may run on. The pool never waits for a thread the OS has not scheduled, so a busy
// machine slows a run toward single-thread speed instead of stalling it; results do not
// depend on the thread count.
int default_cpu_threads();
void set_cpu_threads(int n);
int cpu_threads();

}  // namespace sakuga::device
