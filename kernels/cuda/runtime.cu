// The CUDA device runtime: discovery with a CPU fallback, a compute stream and a copy stream
// per device, a caching allocator (size-binned free lists, stream-ordered reuse), a caching
// pinned host allocator, asynchronous uploads, deferred device-side errors, library handles
// and workspaces.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "kernels/cuda/check.cuh"
#include "kernels/device.h"
#include "kernels/log.h"

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
      log::info("no CUDA device answered (" + r.reason + "); using the CPU");
    } else if (n == 0) {
      r.reason = "no CUDA devices";
      log::info("no CUDA device found; using the CPU");
    }
    r.count = e == cudaSuccess ? n : 0;
    return r;
  }();
  return d;
}

// Creates the context of `dev` and makes one small allocation there: what the first real call
// on the device would do. Returns the error of the first step that failed.
cudaError_t try_device(int dev) {
  cudaError_t e = cudaSetDevice(dev);
  if (e == cudaSuccess) e = cudaFree(nullptr);  // creates the primary context
  void* p = nullptr;
  if (e == cudaSuccess) e = cudaMalloc(&p, 256);
  if (e == cudaSuccess) e = cudaFree(p);
  if (e != cudaSuccess) cudaGetLastError();  // not sticky: clear it for later calls
  return e;
}

// Rounding keeps the number of distinct block sizes small, so freed blocks get reused:
// ≤ 1 MiB → multiples of 512 B; larger → multiples of 2 MiB.
size_t round_size(size_t n) {
  if (n <= (1u << 20)) return (n + 511) / 512 * 512;
  return (n + (2u << 20) - 1) / (2u << 20) * (2u << 20);
}

// One pool per device. All sakuga compute on a device runs on that device's compute stream,
// so a block freed by the host can be handed out again at once: any later use is queued after
// every earlier use on the same stream.
//
// The copy stream is the exception: an upload into a block that queued compute work may still
// read would race with it. Copy targets therefore come from their own free lists: freeing one
// records an event on the compute stream, and the block is handed out again only after that
// event has completed (every use of the block, which was on the compute stream after the
// upload, is then done).
struct PendingBlock {
  cudaEvent_t done;
  void* ptr;
  size_t size;
};
struct Block {
  size_t size;
  bool copy_target;
};
struct Pool {
  std::mutex mu;
  std::multimap<size_t, void*> free_blocks;  // size → ptr
  std::multimap<size_t, void*> copy_free;    // copy targets whose last use has completed
  std::deque<PendingBlock> copy_pending;     // copy targets freed by the host, in free order
  std::map<void*, Block> live;               // ptr → block
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

// An upload whose source is held until its event completes.
struct InFlightCopy {
  cudaEvent_t done;
  std::shared_ptr<const void> source;
};

struct DeviceState {
  cudaStream_t stream = nullptr;
  cudaStream_t copy_stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cublasLtHandle_t cublaslt = nullptr;
  cudnnHandle_t cudnn = nullptr;
  int32_t* deferred = nullptr;         // DeferredError::count flags (device memory)
  std::vector<cudaEvent_t> events;     // idle events of this device (reused)
  std::deque<InFlightCopy> in_flight;  // uploads of copy_h2d_async, oldest first
};

DeviceState& state(int dev) {
  // Never destroyed: tensors in function-level caches free their blocks at exit, after
  // ordinary statics are gone.
  static auto* states = new std::vector<DeviceState>(64);
  SAKUGA_CHECK(dev >= 0 && dev < 64, "bad CUDA device index ", dev);
  return (*states)[size_t(dev)];
}

std::mutex g_state_mu;

void ensure_device(int dev) {
  int cur = -1;
  SAKUGA_CUDA_CHECK(cudaGetDevice(&cur));
  if (cur != dev) SAKUGA_CUDA_CHECK(cudaSetDevice(dev));
}

// An idle event of `dev` (g_state_mu held; the device is current).
cudaEvent_t take_event(DeviceState& st) {
  if (!st.events.empty()) {
    cudaEvent_t e = st.events.back();
    st.events.pop_back();
    return e;
  }
  cudaEvent_t e = nullptr;
  SAKUGA_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  return e;
}

// Drops the sources of completed uploads, oldest first (g_state_mu held). The sources are
// moved out and destroyed by the caller after the lock is released: a pinned Storage going
// away calls back into the runtime.
void collect_completed_copies(DeviceState& st, std::vector<std::shared_ptr<const void>>& released) {
  while (!st.in_flight.empty()) {
    cudaError_t e = cudaEventQuery(st.in_flight.front().done);
    if (e == cudaErrorNotReady) break;
    if (e != cudaSuccess) cudaGetLastError();  // a failed upload: its source may go (the error surfaces elsewhere)
    st.events.push_back(st.in_flight.front().done);
    released.push_back(std::move(st.in_flight.front().source));
    st.in_flight.pop_front();
  }
}

// --- pinned host memory ----------------------------------------------------------------------

struct PinnedPool {
  std::mutex mu;
  std::multimap<size_t, void*> free_blocks;
  std::map<void*, size_t> live;
  MemStats stats;
};

PinnedPool& pinned_pool() {
  static PinnedPool* p = new PinnedPool();  // lives until exit, like the device pools
  return *p;
}

// Returns the cached free pinned blocks to the driver (p.mu held).
void release_free_pinned(PinnedPool& p) {
  for (auto& [size, ptr] : p.free_blocks) {
    cudaFreeHost(ptr);
    p.stats.cached_bytes -= size;
  }
  p.free_blocks.clear();
}

}  // namespace

bool cuda_built() { return true; }
int cuda_device_count() { return discovery().count; }
std::string cuda_unavailable_reason() { return discovery().reason; }

int auto_cuda_device() {
  static const int chosen = [] {
    const int n = cuda_device_count();
    if (n == 0) return -1;  // discovery() has printed why
    std::string why;
    for (int i = 0; i < n; ++i) {
      const cudaError_t e = try_device(i);
      if (e == cudaSuccess) {
        if (!why.empty()) log::warn(detail::concat("--device auto: ", why, "; using cuda:", i));
        return i;
      }
      why += detail::concat(why.empty() ? "" : "; ", "cuda:", i, " could not be used (", cudaGetErrorString(e), ")");
    }
    log::warn("--device auto: " + why + "; using the CPU");
    return -1;
  }();
  return chosen;
}

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

Stream copy_stream(int dev) {
  std::lock_guard<std::mutex> lock(g_state_mu);
  ensure_device(dev);
  DeviceState& s = state(dev);
  if (!s.copy_stream) SAKUGA_CUDA_CHECK(cudaStreamCreateWithFlags(&s.copy_stream, cudaStreamNonBlocking));
  return s.copy_stream;
}

void synchronize(int dev) {
  if (cuda_device_count() == 0) return;
  SAKUGA_CUDA_CHECK(cudaStreamSynchronize(stream(dev)));
  std::vector<std::shared_ptr<const void>> released;
  {
    std::lock_guard<std::mutex> lock(g_state_mu);
    collect_completed_copies(state(dev), released);
  }
}

namespace {

void* alloc_new(size_t size, int dev, bool copy_target) {
  Pool& p = pool(dev);
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
  p.live[ptr] = {size, copy_target};
  p.stats.num_allocs++;
  p.stats.cached_bytes += size;
  p.stats.current_bytes += size;
  p.stats.peak_bytes = std::max(p.stats.peak_bytes, p.stats.current_bytes);
  return ptr;
}

// Moves copy targets whose free-event has completed to the copy free list (p.mu held).
void collect_copy_pending(Pool& p) {
  while (!p.copy_pending.empty()) {
    PendingBlock& b = p.copy_pending.front();
    cudaError_t e = cudaEventQuery(b.done);
    if (e == cudaErrorNotReady) break;
    if (e != cudaSuccess) {
      cudaGetLastError();
      break;  // the device is in trouble: keep the block out of circulation
    }
    cudaEventDestroy(b.done);
    p.copy_free.emplace(b.size, b.ptr);
    p.copy_pending.pop_front();
  }
}

}  // namespace

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
      p.live[ptr] = {got, false};
      p.stats.current_bytes += got;
      p.stats.peak_bytes = std::max(p.stats.peak_bytes, p.stats.current_bytes);
      return ptr;
    }
  }
  return alloc_new(size, dev, false);
}

void* alloc_copy_target(size_t bytes, int dev) {
  SAKUGA_CHECK(dev < cuda_device_count(), "CUDA allocation on device ", dev, ", but ", cuda_device_count(),
               " device(s) answered");
  size_t size = round_size(bytes ? bytes : 1);
  Pool& p = pool(dev);
  {
    std::lock_guard<std::mutex> lock(p.mu);
    collect_copy_pending(p);
    auto it = p.copy_free.lower_bound(size);
    if (it != p.copy_free.end() && it->first <= 2 * size) {
      void* ptr = it->second;
      size_t got = it->first;
      p.copy_free.erase(it);
      p.live[ptr] = {got, true};
      p.stats.current_bytes += got;
      p.stats.peak_bytes = std::max(p.stats.peak_bytes, p.stats.current_bytes);
      return ptr;
    }
  }
  return alloc_new(size, dev, true);
}

void free(void* ptr, int dev) {
  if (!ptr) return;
  Pool& p = pool(dev);
  // A copy target waits for the compute stream's queued work (its users) before reuse. Called
  // from destructors: errors are swallowed, and a block without an event is never reused.
  cudaStream_t compute = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_state_mu);
    compute = state(dev).stream;
  }
  std::lock_guard<std::mutex> lock(p.mu);
  auto it = p.live.find(ptr);
  if (it == p.live.end()) return;  // not ours (should not happen); never double-free
  const Block b = it->second;
  p.stats.current_bytes -= b.size;
  p.live.erase(it);
  if (!b.copy_target) {
    p.free_blocks.emplace(b.size, ptr);
    return;
  }
  cudaEvent_t done = nullptr;
  if (compute && cudaEventCreateWithFlags(&done, cudaEventDisableTiming) == cudaSuccess) {
    if (cudaEventRecord(done, compute) == cudaSuccess) {
      p.copy_pending.push_back({done, ptr, b.size});
      return;
    }
    cudaEventDestroy(done);
  }
  cudaGetLastError();
  p.stats.cached_bytes -= b.size;  // leaked on purpose: reusing it could race
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
    if (p.free_blocks.empty() && p.copy_free.empty() && p.copy_pending.empty()) continue;
    ensure_device(dev);
    // Blocks may still be read by queued work: wait before returning them to the driver.
    cudaDeviceSynchronize();
    for (PendingBlock& b : p.copy_pending) {
      cudaEventDestroy(b.done);
      p.copy_free.emplace(b.size, b.ptr);
    }
    p.copy_pending.clear();
    for (auto* list : {&p.free_blocks, &p.copy_free}) {
      for (auto& [size, ptr] : *list) {
        cudaFree(ptr);
        p.stats.cached_bytes -= size;
      }
      list->clear();
    }
  }
  PinnedPool& pp = pinned_pool();
  std::lock_guard<std::mutex> lock(pp.mu);
  release_free_pinned(pp);
}

void copy_h2d(void* dst, const void* src, size_t bytes, int dev) {
  // Pageable host memory: cudaMemcpyAsync returns once the source has been staged, so the
  // caller may free or reuse `src` right after. A pinned source is read by the DMA engine
  // later: wait for it, so the contract holds (copy_h2d_async is the non-blocking way).
  cudaStream_t s = stream(dev);
  SAKUGA_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s));
  if (is_pinned(src)) SAKUGA_CUDA_CHECK(cudaStreamSynchronize(s));
}

void copy_h2d_async(void* dst, const void* src, size_t bytes, int dev, std::shared_ptr<const void> keep_alive) {
  cudaStream_t compute = stream(dev);
  cudaStream_t copy = copy_stream(dev);
  std::vector<std::shared_ptr<const void>> released;  // destroyed after the lock is released
  std::lock_guard<std::mutex> lock(g_state_mu);
  ensure_device(dev);
  DeviceState& st = state(dev);
  collect_completed_copies(st, released);
  cudaEvent_t done = take_event(st);
  cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, copy);
  if (e == cudaSuccess) e = cudaEventRecord(done, copy);
  if (e == cudaSuccess) e = cudaStreamWaitEvent(compute, done, 0);
  if (e != cudaSuccess) {
    cudaGetLastError();
    // The copy may have been queued: wait for the copy stream before dropping the source.
    cudaStreamSynchronize(copy);
    st.events.push_back(done);
    SAKUGA_FAIL("CUDA host-to-device upload of ", bytes, " bytes on cuda:", dev, " failed: ", cudaGetErrorString(e));
  }
  st.in_flight.push_back({done, std::move(keep_alive)});
}

size_t copies_in_flight(int dev) {
  if (dev < 0 || dev >= cuda_device_count()) return 0;
  std::vector<std::shared_ptr<const void>> released;
  std::lock_guard<std::mutex> lock(g_state_mu);
  DeviceState& st = state(dev);
  collect_completed_copies(st, released);
  return st.in_flight.size();
}

void* alloc_pinned(size_t bytes) {
  SAKUGA_CHECK(cuda_device_count() > 0, "pinned host memory needs a CUDA device (",
               cuda_unavailable_reason(), ")");
  const size_t size = round_size(bytes ? bytes : 1);
  PinnedPool& p = pinned_pool();
  std::lock_guard<std::mutex> lock(p.mu);
  auto it = p.free_blocks.lower_bound(size);
  void* ptr = nullptr;
  size_t got = size;
  if (it != p.free_blocks.end() && it->first <= 2 * size) {
    ptr = it->second;
    got = it->first;
    p.free_blocks.erase(it);
  } else {
    cudaError_t e = cudaHostAlloc(&ptr, size, cudaHostAllocPortable);
    if (e != cudaSuccess) {
      cudaGetLastError();
      release_free_pinned(p);
      e = cudaHostAlloc(&ptr, size, cudaHostAllocPortable);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      SAKUGA_FAIL("out of page-locked host memory allocating ", size, " bytes (in use ", p.stats.current_bytes,
                  "): ", cudaGetErrorString(e));
    }
    p.stats.num_allocs++;
    p.stats.cached_bytes += size;
  }
  p.live[ptr] = got;
  p.stats.current_bytes += got;
  p.stats.peak_bytes = std::max(p.stats.peak_bytes, p.stats.current_bytes);
  return ptr;
}

void free_pinned(void* ptr) {
  if (!ptr) return;
  PinnedPool& p = pinned_pool();
  std::lock_guard<std::mutex> lock(p.mu);
  auto it = p.live.find(ptr);
  if (it == p.live.end()) return;
  p.stats.current_bytes -= it->second;
  p.free_blocks.emplace(it->second, ptr);
  p.live.erase(it);
}

bool is_pinned(const void* ptr) {
  PinnedPool& p = pinned_pool();
  std::lock_guard<std::mutex> lock(p.mu);
  auto it = p.live.upper_bound(const_cast<void*>(ptr));
  if (it == p.live.begin()) return false;
  --it;
  const char* base = static_cast<const char*>(it->first);
  return static_cast<const char*>(ptr) >= base && static_cast<const char*>(ptr) < base + it->second;
}

MemStats pinned_stats() {
  PinnedPool& p = pinned_pool();
  std::lock_guard<std::mutex> lock(p.mu);
  return p.stats;
}

int32_t* deferred_error_flag(int dev, DeferredError e) {
  SAKUGA_CHECK(int(e) >= 0 && e < DeferredError::count, "deferred_error_flag: bad kind ", int(e));
  cudaStream_t s = stream(dev);
  std::lock_guard<std::mutex> lock(g_state_mu);
  DeviceState& st = state(dev);
  if (!st.deferred) {
    ensure_device(dev);
    const size_t bytes = size_t(DeferredError::count) * sizeof(int32_t);
    SAKUGA_CUDA_CHECK(cudaMalloc(&st.deferred, bytes));  // lives until exit
    SAKUGA_CUDA_CHECK(cudaMemsetAsync(st.deferred, 0, bytes, s));
  }
  return st.deferred + int(e);
}

void raise_deferred_errors(int dev) {
  if (dev < 0 || dev >= cuda_device_count()) return;
  int32_t* flags = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_state_mu);
    flags = state(dev).deferred;
  }
  if (!flags) return;  // no kernel ever took a flag on this device
  constexpr int n = int(DeferredError::count);
  int32_t host[n] = {};
  cudaStream_t s = stream(dev);
  SAKUGA_CUDA_CHECK(cudaMemcpyAsync(host, flags, sizeof(host), cudaMemcpyDeviceToHost, s));
  SAKUGA_CUDA_CHECK(cudaStreamSynchronize(s));
  std::string msg;
  for (int k = 0; k < n; ++k)
    if (host[k]) msg += detail::concat(msg.empty() ? "" : "\n", deferred_error_message(DeferredError(k)));
  if (msg.empty()) return;
  SAKUGA_CUDA_CHECK(cudaMemsetAsync(flags, 0, sizeof(host), s));
  throw Error(detail::concat("on cuda:", dev, ": ", msg));
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

void check_launch(const char* file, int line) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    detail::fail(file, line, detail::concat("CUDA kernel launch failed: ", cudaGetErrorString(e)));
  if (!device::sync_launches()) return;
  e = cudaDeviceSynchronize();
  if (e != cudaSuccess) {
    cudaGetLastError();
    detail::fail(file, line,
                 detail::concat("CUDA kernel launched here failed on the device (SAKUGA_SYNC_LAUNCHES=1 waits after "
                                "every launch): ",
                                cudaGetErrorString(e)));
  }
}

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
