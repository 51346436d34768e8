// CUDA optimizer family: fused multi-tensor kernels (after apex / torch's multi_tensor_apply).
// A table in device memory — a DevTensor per parameter (pointers, size, scalar class)
// followed by a Chunk per 64K-element piece of each — drives one kernel with a block per
// chunk. So a ResNet-50 step is one launch, not ~160 × several elementwise launches.
//
// The table does not change from step to step: it is cached on the device by its content and
// uploaded again only when a parameter, state or gradient pointer, a size, or the grouping of
// the per-step scalars changes (so normally once). The per-step scalars — lr, weight decay,
// bias corrections, the first-step flag — are few distinct values (one per parameter group
// and step count): they travel as kernel arguments, with each tensor naming its class.
#include <algorithm>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/cuda/check.cuh"
#include "kernels/optim.h"

namespace sakuga::kernels::cuda {

namespace {

constexpr int64_t kChunk = 1 << 16;  // elements per block
constexpr int kBlock = 256;
constexpr int kMaxClasses = 64;      // distinct per-step scalar sets per launch (kernel argument)
constexpr size_t kCachedTables = 16; // tables kept per process (several optimizers, clipping)

struct DevTensor {
  float* p;         // param (or grad, for the clipping kernels)
  const float* g;   // grad
  float* s0;
  float* s1;
  float* s2;
  int64_t n;
  int32_t cls;      // index into the launch's Scalars
  int32_t unused;   // keeps the struct free of padding bytes (it is compared bytewise)
};

struct Chunk {
  int32_t tensor;
  int32_t index;  // chunk number within the tensor
};

// Per-step scalars of one class of tensors (see each functor for their meaning).
struct Scalars {
  float a, b, c, d;
  int32_t flag;
};
struct ScalarTable {
  Scalars v[kMaxClasses];
};

// A table resident on the device; `host` is its exact content (the cache key).
struct CachedTable {
  int dev = 0;
  std::string host;
  void* ptr = nullptr;
  size_t tbytes = 0;
  unsigned num_chunks = 0;
};

std::mutex g_table_mu;
std::list<CachedTable>& table_cache() {  // most recently used first
  static auto* c = new std::list<CachedTable>();  // lives until exit (device blocks outlive statics)
  return *c;
}
size_t g_uploads = 0;

// Where a cached table lives (copied out under the lock).
struct TableRef {
  const void* ptr;
  size_t tbytes;
  unsigned num_chunks;
};
TableRef ref_of(const CachedTable& t) { return {t.ptr, t.tbytes, t.num_chunks}; }

// The device table for `ts` (their chunks appended), from the cache or uploaded now.
TableRef device_table(const std::vector<DevTensor>& ts, int dev, Stream s) {
  std::vector<Chunk> chunks;
  for (size_t k = 0; k < ts.size(); ++k) {
    int64_t nc = (ts[k].n + kChunk - 1) / kChunk;
    SAKUGA_CHECK(nc < (int64_t(1) << 31), "multi-tensor: tensor of ", ts[k].n, " elements is too large");
    for (int64_t c = 0; c < nc; ++c) chunks.push_back({int32_t(k), int32_t(c)});
  }
  const size_t tbytes = ts.size() * sizeof(DevTensor), cbytes = chunks.size() * sizeof(Chunk);
  std::string host(tbytes + cbytes, '\0');
  if (tbytes) std::memcpy(&host[0], ts.data(), tbytes);
  if (cbytes) std::memcpy(&host[tbytes], chunks.data(), cbytes);

  std::lock_guard<std::mutex> lock(g_table_mu);
  auto& cache = table_cache();
  for (auto it = cache.begin(); it != cache.end(); ++it) {
    if (it->dev == dev && it->host == host) {
      cache.splice(cache.begin(), cache, it);
      return ref_of(cache.front());
    }
  }
  CachedTable t;
  t.dev = dev;
  t.tbytes = tbytes;
  t.num_chunks = unsigned(chunks.size());
  t.ptr = device::alloc(std::max<size_t>(host.size(), 16), dev);
  t.host = std::move(host);
  SAKUGA_CUDA_CHECK(cudaMemcpyAsync(t.ptr, t.host.data(), t.host.size(), cudaMemcpyHostToDevice, s));
  ++g_uploads;
  cache.push_front(std::move(t));
  if (cache.size() > kCachedTables) {
    // Stream-ordered reuse: later users of the block queue after the kernels that read it.
    device::free(cache.back().ptr, cache.back().dev);
    cache.pop_back();
  }
  return ref_of(cache.front());
}

const DevTensor* tensors_of(const TableRef& t) { return static_cast<const DevTensor*>(t.ptr); }
const Chunk* chunks_of(const TableRef& t) {
  return reinterpret_cast<const Chunk*>(static_cast<const char*>(t.ptr) + t.tbytes);
}

// Host-side list being built: tensors plus the distinct scalar sets they use.
struct Launch {
  std::vector<DevTensor> ts;
  ScalarTable scalars{};
  int classes = 0;
};

// Appends a tensor with its scalars; a new launch starts when kMaxClasses are taken.
void add_tensor(std::vector<Launch>& launches, DevTensor d, const Scalars& sc) {
  if (launches.empty()) launches.emplace_back();
  Launch* l = &launches.back();
  int cls = -1;
  for (int k = 0; k < l->classes && cls < 0; ++k)
    if (std::memcmp(&l->scalars.v[k], &sc, sizeof(Scalars)) == 0) cls = k;
  if (cls < 0) {
    if (l->classes == kMaxClasses) {
      launches.emplace_back();
      l = &launches.back();
    }
    cls = l->classes++;
    l->scalars.v[cls] = sc;
  }
  d.cls = cls;
  l->ts.push_back(d);
}

// One block per chunk; the functor updates element i of tensor t.
template <class F>
__global__ void multi_tensor_kernel(const DevTensor* __restrict__ ts, const Chunk* __restrict__ chunks, F f,
                                    const ScalarTable sc) {
  const Chunk c = chunks[blockIdx.x];
  const DevTensor t = ts[c.tensor];
  const Scalars k = sc.v[t.cls];
  const int64_t begin = int64_t(c.index) * kChunk;
  const int64_t end = min(begin + kChunk, t.n);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) f(t, k, i);
}

// a = lr, b = weight_decay, flag = first step.
struct SgdFn {
  float mu, damp;
  bool nesterov;
  __device__ void operator()(const DevTensor& t, const Scalars& k, int64_t i) const {
    float p = t.p[i];
    sgd_elem<float>(p, t.g[i], t.s0 ? t.s0 + i : nullptr, k.a, k.b, mu, damp, nesterov, k.flag != 0);
    t.p[i] = p;
  }
};

// a = step_size, b = sqrt(1 − β2^t), c = decay, d = weight decay added to the gradient.
struct AdamFn {
  float b1, b2, eps;
  __device__ void operator()(const DevTensor& t, const Scalars& k, int64_t i) const {
    float p = t.p[i], m = t.s0[i], v = t.s1[i];
    adam_elem<float>(p, t.g[i], m, v, t.s2 ? t.s2 + i : nullptr, k.a, k.b, k.c, k.d, b1, b2, eps);
    t.p[i] = p;
    t.s0[i] = m;
    t.s1[i] = v;
  }
};

// a = lr, b = weight_decay.
struct RmspropFn {
  float alpha, eps, mu;
  __device__ void operator()(const DevTensor& t, const Scalars& k, int64_t i) const {
    float p = t.p[i], sq = t.s0[i];
    rmsprop_elem<float>(p, t.g[i], sq, t.s1 ? t.s1 + i : nullptr, t.s2 ? t.s2 + i : nullptr, k.a, k.b, alpha,
                        eps, mu);
    t.p[i] = p;
    t.s0[i] = sq;
  }
};

// a = the clip value.
struct ClampFn {
  __device__ void operator()(const DevTensor& t, const Scalars& k, int64_t i) const {
    float v = t.p[i];
    t.p[i] = v < -k.a ? -k.a : (v > k.a ? k.a : v);
  }
};

// Combine for the norms: sum of squares, or max |g| that propagates NaN.
__device__ __forceinline__ float combine(float a, float b, bool inf_norm) {
  if (!inf_norm) return a + b;
  return (a > b || a != a) ? a : b;
}

// Per-chunk partial: Σ g² (or max |g|) of one chunk, reduced in shared memory in a fixed order.
__global__ void chunk_norm_kernel(const DevTensor* __restrict__ ts, const Chunk* __restrict__ chunks,
                                  float* __restrict__ partial, bool inf_norm) {
  __shared__ float sh[kBlock];
  const Chunk c = chunks[blockIdx.x];
  const DevTensor t = ts[c.tensor];
  const int64_t begin = int64_t(c.index) * kChunk;
  const int64_t end = min(begin + kChunk, t.n);
  float acc = 0.f;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    float v = t.p[i];
    acc = combine(acc, inf_norm ? fabsf(v) : v * v, inf_norm);
  }
  sh[threadIdx.x] = acc;
  __syncthreads();
  for (int w = kBlock / 2; w > 0; w >>= 1) {
    if (int(threadIdx.x) < w) sh[threadIdx.x] = combine(sh[threadIdx.x], sh[threadIdx.x + w], inf_norm);
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
}

// One block: the partials in a fixed order → the total norm.
__global__ void final_norm_kernel(const float* __restrict__ partial, unsigned n, float* __restrict__ out,
                                  bool inf_norm) {
  __shared__ float sh[kBlock];
  float acc = 0.f;
  for (unsigned i = threadIdx.x; i < n; i += blockDim.x) acc = combine(acc, partial[i], inf_norm);
  sh[threadIdx.x] = acc;
  __syncthreads();
  for (int w = kBlock / 2; w > 0; w >>= 1) {
    if (int(threadIdx.x) < w) sh[threadIdx.x] = combine(sh[threadIdx.x], sh[threadIdx.x + w], inf_norm);
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = inf_norm ? sh[0] : sqrtf(sh[0]);
}

// g *= min(max_norm / (norm + 1e-6), 1), the coefficient read from the device.
__global__ void scale_by_norm_kernel(const DevTensor* __restrict__ ts, const Chunk* __restrict__ chunks,
                                     const float* __restrict__ norm, float max_norm) {
  const Chunk c = chunks[blockIdx.x];
  const DevTensor t = ts[c.tensor];
  float coef = max_norm / (norm[0] + 1e-6f);
  coef = (coef < 1.f || coef != coef) ? coef : 1.f;  // a NaN norm gives NaN gradients, as in torch
  const int64_t begin = int64_t(c.index) * kChunk;
  const int64_t end = min(begin + kChunk, t.n);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) t.p[i] = t.p[i] * coef;
}

void check_f32(const char* op, DType dtype) {
  SAKUGA_CHECK(dtype == DType::f32, op, ": CUDA optimizers update f32 (master) weights, got ", dtype_name(dtype));
}

DevTensor base(const OptimTensor& t) {
  DevTensor d{};
  d.p = static_cast<float*>(t.param);
  d.g = static_cast<const float*>(t.grad);
  d.s0 = static_cast<float*>(t.s0);
  d.s1 = static_cast<float*>(t.s1);
  d.s2 = static_cast<float*>(t.s2);
  d.n = t.n;
  return d;
}

template <class F>
void launch(const std::vector<Launch>& launches, const F& f, int dev, Stream s) {
  for (const Launch& l : launches) {
    if (l.ts.empty()) continue;
    const TableRef table = device_table(l.ts, dev, s);
    if (table.num_chunks == 0) continue;
    multi_tensor_kernel<F><<<table.num_chunks, kBlock, 0, s>>>(tensors_of(table), chunks_of(table), f, l.scalars);
    SAKUGA_LAUNCH_CHECK();
  }
}

// The gradients as tensors of one class (the clipping kernels read the per-step values as
// kernel arguments directly).
std::vector<DevTensor> grad_table(void* const* grads, const int64_t* sizes, int64_t count) {
  std::vector<DevTensor> ts;
  for (int64_t k = 0; k < count; ++k) {
    if (sizes[k] == 0) continue;
    DevTensor d{};
    d.p = static_cast<float*>(grads[k]);
    d.n = sizes[k];
    ts.push_back(d);
  }
  return ts;
}

}  // namespace

void sgd_step(DType dtype, const OptimTensor* ts, int64_t count, const SgdHyper& h, int dev, Stream s) {
  check_f32("sgd_step", dtype);
  std::vector<Launch> launches;
  for (int64_t k = 0; k < count; ++k) {
    if (ts[k].n == 0) continue;
    Scalars sc{};
    sc.a = float(ts[k].lr);
    sc.b = float(ts[k].weight_decay);
    sc.flag = ts[k].step <= 1;
    add_tensor(launches, base(ts[k]), sc);
  }
  launch(launches, SgdFn{float(h.momentum), float(h.dampening), h.nesterov}, dev, s);
}

void adam_step(DType dtype, const OptimTensor* ts, int64_t count, const AdamHyper& h, int dev, Stream s) {
  check_f32("adam_step", dtype);
  std::vector<Launch> launches;
  for (int64_t k = 0; k < count; ++k) {
    if (ts[k].n == 0) continue;
    const AdamScalars a = adam_scalars(h, ts[k]);
    Scalars sc{};
    sc.a = float(a.step_size);
    sc.b = float(a.bias2_sqrt);
    sc.c = float(a.decay);
    sc.d = float(a.wd);
    add_tensor(launches, base(ts[k]), sc);
  }
  launch(launches, AdamFn{float(h.beta1), float(h.beta2), float(h.eps)}, dev, s);
}

void rmsprop_step(DType dtype, const OptimTensor* ts, int64_t count, const RmspropHyper& h, int dev, Stream s) {
  check_f32("rmsprop_step", dtype);
  std::vector<Launch> launches;
  for (int64_t k = 0; k < count; ++k) {
    if (ts[k].n == 0) continue;
    Scalars sc{};
    sc.a = float(ts[k].lr);
    sc.b = float(ts[k].weight_decay);
    add_tensor(launches, base(ts[k]), sc);
  }
  launch(launches, RmspropFn{float(h.alpha), float(h.eps), float(h.momentum)}, dev, s);
}

void clip_grad_norm(DType dtype, void* const* grads, const int64_t* sizes, int64_t count, bool inf_norm,
                    double max_norm, bool apply, void* norm_out, int dev, Stream s) {
  check_f32("clip_grad_norm", dtype);
  std::vector<DevTensor> ts = grad_table(grads, sizes, count);
  float* out = static_cast<float*>(norm_out);
  if (ts.empty()) {
    SAKUGA_CUDA_CHECK(cudaMemsetAsync(out, 0, sizeof(float), s));
    return;
  }
  const TableRef table = device_table(ts, dev, s);
  const unsigned nchunks = table.num_chunks;
  sakuga::cuda::Workspace partial(size_t(nchunks) * sizeof(float), dev);
  auto* part = static_cast<float*>(partial.get());
  chunk_norm_kernel<<<nchunks, kBlock, 0, s>>>(tensors_of(table), chunks_of(table), part, inf_norm);
  SAKUGA_LAUNCH_CHECK();
  final_norm_kernel<<<1, kBlock, 0, s>>>(part, nchunks, out, inf_norm);
  SAKUGA_LAUNCH_CHECK();
  if (apply) {
    scale_by_norm_kernel<<<nchunks, kBlock, 0, s>>>(tensors_of(table), chunks_of(table), out, float(max_norm));
    SAKUGA_LAUNCH_CHECK();
  }
}

void clamp(DType dtype, void* const* grads, const int64_t* sizes, int64_t count, double clip, int dev, Stream s) {
  check_f32("clip_grad_value", dtype);
  std::vector<Launch> launches;
  Scalars sc{};
  sc.a = float(clip);
  for (const DevTensor& d : grad_table(grads, sizes, count)) add_tensor(launches, d, sc);
  launch(launches, ClampFn{}, dev, s);
}

size_t optim_table_uploads() {
  std::lock_guard<std::mutex> lock(g_table_mu);
  return g_uploads;
}

}  // namespace sakuga::kernels::cuda
