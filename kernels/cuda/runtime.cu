// The CUDA device runtime: discovery with a CPU fallback, one stream per device, a caching
// allocator (size-binned free lists, stream-ordered reuse), library handles and workspaces.
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <vector>

#include "kernels/cuda/check.cuh"
#include "kernels/device.h"

namespace sakuga::device {

namespace {

std::atomic<bool> g_deterministic{true};
std::atomic<Precision> g_precision{Precision::tf32};

struct Discovery {
  int count = 0;
  std::string reason;
};

// Asked once. A CUDA build on a machine without a driver must still run (on the CPU).
const Discovery& discovery() {
  static Discovery d = [] {
    Discovery r;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      r.reason = cudaGetErrorString(e);
      cudaGetLastError();  // clear the sticky error so later queries are clean
      std::fprintf(stderr, "sakuga: no CUDA device answered (%s); using the CPU\n", r.reason.c_str());
    } else if (n == 0) {
      r.reason = "no CUDA devices";
      std::fprintf(stderr, "sakuga: no CUDA device found; using the CPU\n");
    }
    r.count = e == cudaSuccess ? n : 0;
    return r;
  }();
  return d;
}

// Rounding keeps the number of distinct block sizes small, so freed blocks get reused:
// ≤ 1 MiB → multiples of 512 B; larger → multiples of 2 MiB.
size_t round_size(size_t n) {
  if (n <= (1u << 20)) return (n + 511) / 512 * 512;
  return (n + (2u << 20) - 1) / (2u << 20) * (2u << 20);
}

// One pool per device. All sakuga work on a device runs on that device's single stream, so
// a block freed by the host can be handed out again at once: any later use is queued after
// every earlier use on the same stream.
struct Pool {
  std::mutex mu;
  std::multimap<size_t, void*> free_blocks;  // size → ptr
  std::map<void*, size_t> live;              // ptr → size
  MemStats stats;
};

Pool& pool(int dev) {
  static std::vector<Pool*> pools(64, nullptr);
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  SAKUGA_CHECK(dev >= 0 && dev < 64, "bad CUDA device index ", dev);
  if (!pools[size_t(dev)]) pools[size_t(dev)] = new Pool();  // lives until exit: no teardown order issues
  return *pools[size_t(dev)];
}

struct DeviceState {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cublasLtHandle_t cublaslt = nullptr;
  cudnnHandle_t cudnn = nullptr;
};

DeviceState& state(int dev) {
  static std::vector<DeviceState> states(64);
  SAKUGA_CHECK(dev >= 0 && dev < 64, "bad CUDA device index ", dev);
  return states[size_t(dev)];
}

std::mutex g_state_mu;

void ensure_device(int dev) {
  int cur = -1;
  SAKUGA_CUDA_CHECK(cudaGetDevice(&cur));
  if (cur != dev) SAKUGA_CUDA_CHECK(cudaSetDevice(dev));
}

}  // namespace

bool cuda_built() { return true; }
int cuda_device_count() { return discovery().count; }
std::string cuda_unavailable_reason() { return discovery().reason; }

std::vector<DeviceInfo> devices() {
  std::vector<DeviceInfo> out;
  for (int i = 0; i < cuda_device_count(); ++i) {
    cudaDeviceProp p;
    SAKUGA_CUDA_CHECK(cudaGetDeviceProperties(&p, i));
    DeviceInfo d;
    d.index = i;
    d.name = p.name;
    d.cc_major = p.major;
    d.cc_minor = p.minor;
    d.total_bytes = p.totalGlobalMem;
    d.sm_count = p.multiProcessorCount;
    out.push_back(d);
  }
  return out;
}

Versions versions() {
  Versions v;
  cudaRuntimeGetVersion(&v.cuda_runtime);
  if (cudaDriverGetVersion(&v.cuda_driver) != cudaSuccess) v.cuda_driver = 0;
  cudaGetLastError();
  v.cudnn = int(cudnnGetVersion());
  v.cublas = CUBLAS_VERSION;
  return v;
}

void set_device(int dev) { ensure_device(dev); }

Stream stream(int dev) {
  std::lock_guard<std::mutex> lock(g_state_mu);
  ensure_device(dev);
  DeviceState& s = state(dev);
  if (!s.stream) SAKUGA_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
  return s.stream;
}

void synchronize(int dev) {
  if (cuda_device_count() == 0) return;
  SAKUGA_CUDA_CHECK(cudaStreamSynchronize(stream(dev)));
}

void* alloc(size_t bytes, int dev) {
  SAKUGA_CHECK(dev < cuda_device_count(), "CUDA allocation on device ", dev, ", but ", cuda_device_count(),
               " device(s) answered");
  size_t size = round_size(bytes ? bytes : 1);
  Pool& p = pool(dev);
  {
    std::lock_guard<std::mutex> lock(p.mu);
    // Best fit among cached blocks no more than 2× the request (avoid wasting big blocks).
    auto it = p.free_blocks.lower_bound(size);
    if (it != p.free_blocks.end() && it->first <= 2 * size) {
      void* ptr = it->second;
      size_t got = it->first;
      p.free_blocks.erase(it);
      p.live[ptr] = got;
      p.stats.current_bytes += got;
      p.stats.peak_bytes = std::max(p.stats.peak_bytes, p.stats.current_bytes);
      return ptr;
    }
  }
  ensure_device(dev);
  void* ptr = nullptr;
  cudaError_t e = cudaMalloc(&ptr, size);
  if (e == cudaErrorMemoryAllocation) {
    // Give cached blocks back and try once more before failing.
    cudaGetLastError();
    empty_cache();
    e = cudaMalloc(&ptr, size);
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    MemStats st = mem_stats(dev);
    SAKUGA_FAIL("CUDA out of memory allocating ", size, " bytes on cuda:", dev, " (in use ", st.current_bytes,
                ", cached ", st.cached_bytes, "): ", cudaGetErrorString(e));
  }
  std::lock_guard<std::mutex> lock(p.mu);
  p.live[ptr] = size;
  p.stats.num_allocs++;
  p.stats.cached_bytes += size;
  p.stats.current_bytes += size;
  p.stats.peak_bytes = std::max(p.stats.peak_bytes, p.stats.current_bytes);
  return ptr;
}

void free(void* ptr, int dev) {
  if (!ptr) return;
  Pool& p = pool(dev);
  std::lock_guard<std::mutex> lock(p.mu);
  auto it = p.live.find(ptr);
  if (it == p.live.end()) return;  // not ours (should not happen); never double-free
  p.stats.current_bytes -= it->second;
  p.free_blocks.emplace(it->second, ptr);
  p.live.erase(it);
}

MemStats mem_stats(int dev) {
  Pool& p = pool(dev);
  std::lock_guard<std::mutex> lock(p.mu);
  return p.stats;
}

void reset_peak(int dev) {
  Pool& p = pool(dev);
  std::lock_guard<std::mutex> lock(p.mu);
  p.stats.peak_bytes = p.stats.current_bytes;
}

void empty_cache() {
  for (int dev = 0; dev < cuda_device_count(); ++dev) {
    Pool& p = pool(dev);
    std::lock_guard<std::mutex> lock(p.mu);
    if (p.free_blocks.empty()) continue;
    ensure_device(dev);
    // Blocks may still be read by queued work: wait before returning them to the driver.
    cudaDeviceSynchronize();
    for (auto& [size, ptr] : p.free_blocks) {
      cudaFree(ptr);
      p.stats.cached_bytes -= size;
    }
    p.free_blocks.clear();
  }
}

void copy_h2d(void* dst, const void* src, size_t bytes, int dev) {
  // Pageable host memory: cudaMemcpyAsync returns once the source has been staged, so the
  // caller may free or reuse `src` right after.
  SAKUGA_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream(dev)));
}

void copy_d2h_sync(void* dst, const void* src, size_t bytes, int dev) {
  cudaStream_t s = stream(dev);
  SAKUGA_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s));
  SAKUGA_CUDA_CHECK(cudaStreamSynchronize(s));
}

void copy_d2d(void* dst, const void* src, size_t bytes, int dev) {
  SAKUGA_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream(dev)));
}

void memset_zero(void* dst, size_t bytes, int dev) {
  SAKUGA_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream(dev)));
}

void set_deterministic(bool on) { g_deterministic = on; }
bool deterministic() { return g_deterministic; }
void set_precision(Precision p) { g_precision = p; }
Precision precision() { return g_precision; }

}  // namespace sakuga::device

namespace sakuga::cuda {

int current_device() {
  int dev = 0;
  SAKUGA_CUDA_CHECK(cudaGetDevice(&dev));
  return dev;
}

cublasHandle_t cublas_handle(int dev) {
  cudaStream_t s = device::stream(dev);
  std::lock_guard<std::mutex> lock(device::g_state_mu);
  auto& st = device::state(dev);
  if (!st.cublas) {
    SAKUGA_CUBLAS_CHECK(cublasCreate(&st.cublas));
    SAKUGA_CUBLAS_CHECK(cublasSetStream(st.cublas, s));
  }
  return st.cublas;
}

cublasLtHandle_t cublaslt_handle(int dev) {
  device::stream(dev);
  std::lock_guard<std::mutex> lock(device::g_state_mu);
  auto& st = device::state(dev);
  if (!st.cublaslt) SAKUGA_CUBLAS_CHECK(cublasLtCreate(&st.cublaslt));
  return st.cublaslt;
}

cudnnHandle_t cudnn_handle(int dev) {
  cudaStream_t s = device::stream(dev);
  std::lock_guard<std::mutex> lock(device::g_state_mu);
  auto& st = device::state(dev);
  if (!st.cudnn) {
    SAKUGA_CUDNN_CHECK(cudnnCreate(&st.cudnn));
    SAKUGA_CUDNN_CHECK(cudnnSetStream(st.cudnn, s));
  }
  return st.cudnn;
}

Workspace::Workspace(size_t bytes, int dev) : bytes_(bytes), dev_(dev) {
  if (bytes) ptr_ = device::alloc(bytes, dev);
}
Workspace::~Workspace() {
  if (ptr_) device::free(ptr_, dev_);
}

}  // namespace sakuga::cuda
