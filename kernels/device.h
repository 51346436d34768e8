#pragma once
// The GPU runtime as the rest of sakuga sees it: device discovery, the caching allocator,
// copies, streams and library versions. Implemented in kernels/cuda/runtime.cu in a CUDA
// build and by kernels/cpu/no_cuda.cpp otherwise (where no device ever answers).
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
void copy_h2d(void* dst, const void* src, size_t bytes, int dev);
void copy_d2h_sync(void* dst, const void* src, size_t bytes, int dev);
void copy_d2d(void* dst, const void* src, size_t bytes, int dev);
void memset_zero(void* dst, size_t bytes, int dev);

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
