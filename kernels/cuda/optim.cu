// CUDA optimizer family: fused multi-tensor kernels (after apex / torch's multi_tensor_apply).
// The host builds one table — a DevTensor per parameter (pointers, size, per-tensor scalars)
// followed by a Chunk per 64K-element piece of each — copies it to the device in one
// cudaMemcpyAsync (pageable source: staged at once, no device synchronisation) and launches
// one kernel with a block per chunk. So a ResNet-50 step is one copy and one launch, not
// ~160 × several elementwise launches.
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/cuda/check.cuh"
#include "kernels/optim.h"

namespace sakuga::kernels::cuda {

namespace {

constexpr int64_t kChunk = 1 << 16;  // elements per block
constexpr int kBlock = 256;

struct DevTensor {
  float* p;         // param (or grad, for the clipping kernels)
  const float* g;   // grad
  float* s0;
  float* s1;
  float* s2;
  int64_t n;
  float a, b, c, d;  // per-tensor scalars (see each functor)
  int flag;
};

struct Chunk {
  int32_t tensor;
  int32_t index;  // chunk number within the tensor
};

// The table in device memory: tensors then chunks (and optional per-chunk f32 results).
class Table {
 public:
  Table(const std::vector<DevTensor>& ts, int dev, Stream s, size_t extra_floats = 0) {
    for (size_t k = 0; k < ts.size(); ++k) {
      int64_t nc = (ts[k].n + kChunk - 1) / kChunk;
      SAKUGA_CHECK(nc < (int64_t(1) << 31), "multi-tensor: tensor of ", ts[k].n, " elements is too large");
      for (int64_t c = 0; c < nc; ++c) chunks_.push_back({int32_t(k), int32_t(c)});
    }
    size_t tbytes = ts.size() * sizeof(DevTensor);
    size_t cbytes = chunks_.size() * sizeof(Chunk);
    size_t cbytes_al = (cbytes + 15) / 16 * 16;
    size_t total = tbytes + cbytes_al + extra_floats * sizeof(float);
    ws_ = std::make_unique<sakuga::cuda::Workspace>(std::max<size_t>(total, 16), dev);
    std::vector<unsigned char> host(tbytes + cbytes);
    if (tbytes) std::memcpy(host.data(), ts.data(), tbytes);
    if (cbytes) std::memcpy(host.data() + tbytes, chunks_.data(), cbytes);
    if (!host.empty())
      SAKUGA_CUDA_CHECK(cudaMemcpyAsync(ws_->get(), host.data(), host.size(), cudaMemcpyHostToDevice, s));
    base_ = static_cast<unsigned char*>(ws_->get());
    tbytes_ = tbytes;
    cbytes_al_ = cbytes_al;
  }
  const DevTensor* tensors() const { return reinterpret_cast<const DevTensor*>(base_); }
  const Chunk* chunks() const { return reinterpret_cast<const Chunk*>(base_ + tbytes_); }
  float* extra() const { return reinterpret_cast<float*>(base_ + tbytes_ + cbytes_al_); }
  unsigned num_chunks() const { return unsigned(chunks_.size()); }

 private:
  std::vector<Chunk> chunks_;
  std::unique_ptr<sakuga::cuda::Workspace> ws_;
  unsigned char* base_ = nullptr;
  size_t tbytes_ = 0, cbytes_al_ = 0;
};

// One block per chunk; the functor updates element i of tensor t.
template <class F>
__global__ void multi_tensor_kernel(const DevTensor* __restrict__ ts, const Chunk* __restrict__ chunks, F f) {
  const Chunk c = chunks[blockIdx.x];
  const DevTensor t = ts[c.tensor];
  const int64_t begin = int64_t(c.index) * kChunk;
  const int64_t end = min(begin + kChunk, t.n);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) f(t, i);
}

// a = lr, b = weight_decay, flag = first step.
struct SgdFn {
  float mu, damp;
  bool nesterov;
  __device__ void operator()(const DevTensor& t, int64_t i) const {
    float p = t.p[i];
    sgd_elem<float>(p, t.g[i], t.s0 ? t.s0 + i : nullptr, t.a, t.b, mu, damp, nesterov, t.flag != 0);
    t.p[i] = p;
  }
};

// a = step_size, b = sqrt(1 − β2^t), c = decay, d = weight decay added to the gradient.
struct AdamFn {
  float b1, b2, eps;
  __device__ void operator()(const DevTensor& t, int64_t i) const {
    float p = t.p[i], m = t.s0[i], v = t.s1[i];
    adam_elem<float>(p, t.g[i], m, v, t.s2 ? t.s2 + i : nullptr, t.a, t.b, t.c, t.d, b1, b2, eps);
    t.p[i] = p;
    t.s0[i] = m;
    t.s1[i] = v;
  }
};

// a = lr, b = weight_decay.
struct RmspropFn {
  float alpha, eps, mu;
  __device__ void operator()(const DevTensor& t, int64_t i) const {
    float p = t.p[i], sq = t.s0[i];
    rmsprop_elem<float>(p, t.g[i], sq, t.s1 ? t.s1 + i : nullptr, t.s2 ? t.s2 + i : nullptr, t.a, t.b, alpha,
                        eps, mu);
    t.p[i] = p;
    t.s0[i] = sq;
  }
};

struct ClampFn {
  float clip;
  __device__ void operator()(const DevTensor& t, int64_t i) const {
    float v = t.p[i];
    t.p[i] = v < -clip ? -clip : (v > clip ? clip : v);
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
void launch(const std::vector<DevTensor>& ts, const F& f, int dev, Stream s) {
  if (ts.empty()) return;
  Table table(ts, dev, s);
  if (table.num_chunks() == 0) return;
  multi_tensor_kernel<F><<<table.num_chunks(), kBlock, 0, s>>>(table.tensors(), table.chunks(), f);
  SAKUGA_LAUNCH_CHECK();
}

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
  std::vector<DevTensor> dt;
  for (int64_t k = 0; k < count; ++k) {
    if (ts[k].n == 0) continue;
    DevTensor d = base(ts[k]);
    d.a = float(ts[k].lr);
    d.b = float(ts[k].weight_decay);
    d.flag = ts[k].step <= 1;
    dt.push_back(d);
  }
  launch(dt, SgdFn{float(h.momentum), float(h.dampening), h.nesterov}, dev, s);
}

void adam_step(DType dtype, const OptimTensor* ts, int64_t count, const AdamHyper& h, int dev, Stream s) {
  check_f32("adam_step", dtype);
  std::vector<DevTensor> dt;
  for (int64_t k = 0; k < count; ++k) {
    if (ts[k].n == 0) continue;
    AdamScalars sc = adam_scalars(h, ts[k]);
    DevTensor d = base(ts[k]);
    d.a = float(sc.step_size);
    d.b = float(sc.bias2_sqrt);
    d.c = float(sc.decay);
    d.d = float(sc.wd);
    dt.push_back(d);
  }
  launch(dt, AdamFn{float(h.beta1), float(h.beta2), float(h.eps)}, dev, s);
}

void rmsprop_step(DType dtype, const OptimTensor* ts, int64_t count, const RmspropHyper& h, int dev, Stream s) {
  check_f32("rmsprop_step", dtype);
  std::vector<DevTensor> dt;
  for (int64_t k = 0; k < count; ++k) {
    if (ts[k].n == 0) continue;
    DevTensor d = base(ts[k]);
    d.a = float(ts[k].lr);
    d.b = float(ts[k].weight_decay);
    dt.push_back(d);
  }
  launch(dt, RmspropFn{float(h.alpha), float(h.eps), float(h.momentum)}, dev, s);
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
  // The chunk count is known only after the table is built: size the partials generously
  // (one per 64K elements of each tensor, which is exactly the chunk count).
  size_t nchunks = 0;
  for (const DevTensor& t : ts) nchunks += size_t((t.n + kChunk - 1) / kChunk);
  Table table(ts, dev, s, nchunks);
  float* partial = table.extra();
  chunk_norm_kernel<<<table.num_chunks(), kBlock, 0, s>>>(table.tensors(), table.chunks(), partial, inf_norm);
  SAKUGA_LAUNCH_CHECK();
  final_norm_kernel<<<1, kBlock, 0, s>>>(partial, table.num_chunks(), out, inf_norm);
  SAKUGA_LAUNCH_CHECK();
  if (apply) {
    scale_by_norm_kernel<<<table.num_chunks(), kBlock, 0, s>>>(table.tensors(), table.chunks(), out,
                                                               float(max_norm));
    SAKUGA_LAUNCH_CHECK();
  }
}

void clamp(DType dtype, void* const* grads, const int64_t* sizes, int64_t count, double clip, int dev, Stream s) {
  check_f32("clip_grad_value", dtype);
  launch(grad_table(grads, sizes, count), ClampFn{float(clip)}, dev, s);
}

}  // namespace sakuga::kernels::cuda
