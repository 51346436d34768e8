// CUDA normalisation family (see kernels/norm.h). The statistics kernels run one block per
// group: each thread accumulates its strided elements in a fixed order, then a shared-memory
// tree of fixed shape combines them — deterministic, no atomics. bf16 storage computes in f32.
#include "kernels/cuda/check.cuh"
#include "kernels/norm.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

constexpr int kThreads = 512;  // power of two (the tree below halves it)

// f(index) for this thread's share of group `grp`. Rows of S contiguous elements are walked
// with the threads side by side (coalesced) when S is large, else the group is flattened.
template <class F>
__device__ __forceinline__ void for_group(const NormGeom& g, int64_t grp, F&& f) {
  if (g.S >= kThreads) {
    for (int64_t n = 0; n < g.N; ++n) {
      const int64_t base = (n * g.G + grp) * g.S;
      for (int64_t s = threadIdx.x; s < g.S; s += kThreads) f(base + s);
    }
  } else {
    const int64_t M = g.N * g.S;
    for (int64_t i = threadIdx.x; i < M; i += kThreads) {
      const int64_t n = i / g.S, s = i - n * g.S;
      f((n * g.G + grp) * g.S + s);
    }
  }
}

// Sum over the block in a fixed tree; every thread gets the result.
__device__ __forceinline__ float block_sum(float v, float* sh) {
  const int t = threadIdx.x;
  sh[t] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (t < s) sh[t] += sh[t + s];
    __syncthreads();
  }
  const float r = sh[0];
  __syncthreads();
  return r;
}

// Two sums at once (sh holds 2·kThreads floats).
__device__ __forceinline__ void block_sum2(float& a, float& b, float* sh) {
  const int t = threadIdx.x;
  sh[t] = a;
  sh[kThreads + t] = b;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (t < s) {
      sh[t] += sh[t + s];
      sh[kThreads + t] += sh[kThreads + t + s];
    }
    __syncthreads();
  }
  a = sh[0];
  b = sh[kThreads];
  __syncthreads();
}

template <class T>
__global__ void __launch_bounds__(kThreads) forward_train_kernel(const T* x, const float* w, const float* b, T* y,
                                                                 float* mean, float* invstd, float* running_mean,
                                                                 float* running_var, NormGeom g, float eps,
                                                                 float momentum) {
  __shared__ float sh[kThreads];
  const int64_t grp = blockIdx.x;
  const double M = double(g.count());
  float acc = 0.f;
  for_group(g, grp, [&](int64_t i) { acc += load(x, i); });
  const float m = float(double(block_sum(acc, sh)) / M);
  acc = 0.f;
  for_group(g, grp, [&](int64_t i) {
    const float d = load(x, i) - m;
    acc += d * d;
  });
  const float var = float(double(block_sum(acc, sh)) / M);
  const float is = 1.0f / sqrtf(var + eps);
  const float k = (w ? w[grp % g.C] : 1.0f) * is, bv = b ? b[grp % g.C] : 0.0f;
  for_group(g, grp, [&](int64_t i) { store(y, i, (load(x, i) - m) * k + bv); });
  if (threadIdx.x == 0) {
    mean[grp] = m;
    invstd[grp] = is;
    if (running_mean) running_mean[grp] = (1.0f - momentum) * running_mean[grp] + momentum * m;
    if (running_var) {
      const float unbiased = M > 1 ? float(double(var) * M / (M - 1)) : var;
      running_var[grp] = (1.0f - momentum) * running_var[grp] + momentum * unbiased;
    }
  }
}

__global__ void eval_stats_kernel(const float* stat_mean, const float* stat_var, float* mean, float* invstd,
                                  int64_t G, float eps) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < G; i += int64_t(gridDim.x) * blockDim.x) {
    if (mean) mean[i] = stat_mean[i];
    if (invstd) invstd[i] = 1.0f / sqrtf(stat_var[i] + eps);
  }
}

template <class T>
__global__ void forward_eval_kernel(const T* x, const float* w, const float* b, const float* stat_mean,
                                    const float* stat_var, T* y, NormGeom g, float eps) {
  const int64_t n = g.numel();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t grp = (i / g.S) % g.G;
    const float is = 1.0f / sqrtf(stat_var[grp] + eps);
    const float k = (w ? w[grp % g.C] : 1.0f) * is, bv = b ? b[grp % g.C] : 0.0f;
    store(y, i, (load(x, i) - stat_mean[grp]) * k + bv);
  }
}

// Per-group Σdy and Σdy·x̂ (into group_dy / group_dyxh when not null), then dx.
template <class T>
__global__ void __launch_bounds__(kThreads) backward_kernel(const T* dy, const T* x, const float* mean,
                                                            const float* invstd, const float* w, T* dx,
                                                            float* group_dy, float* group_dyxh, NormGeom g,
                                                            bool batch_stats) {
  __shared__ float sh[2 * kThreads];
  const int64_t grp = blockIdx.x;
  const float m = mean[grp], is = invstd[grp];
  const float k = (w ? w[grp % g.C] : 1.0f) * is;
  if (!batch_stats && !group_dy) {  // dx only, no reduction needed
    for_group(g, grp, [&](int64_t i) { store(dx, i, k * load(dy, i)); });
    return;
  }
  float a = 0.f, c = 0.f;
  for_group(g, grp, [&](int64_t i) {
    const float d = load(dy, i);
    a += d;
    c += d * ((load(x, i) - m) * is);
  });
  block_sum2(a, c, sh);
  if (threadIdx.x == 0 && group_dy) {
    group_dy[grp] = a;
    group_dyxh[grp] = c;
  }
  if (!dx) return;
  if (batch_stats) {
    const double M = double(g.count());
    const float mean_dy = float(double(a) / M), mean_dyxh = float(double(c) / M);
    for_group(g, grp, [&](int64_t i) {
      const float xh = (load(x, i) - m) * is;
      store(dx, i, k * (load(dy, i) - mean_dy - xh * mean_dyxh));
    });
  } else {
    for_group(g, grp, [&](int64_t i) { store(dx, i, k * load(dy, i)); });
  }
}

// dw[c], db[c]: the groups of channel c summed in group order (one thread per channel).
__global__ void affine_grad_kernel(const float* group_dy, const float* group_dyxh, float* dw, float* db, int64_t G,
                                   int64_t C) {
  for (int64_t ch = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; ch < C; ch += int64_t(gridDim.x) * blockDim.x) {
    float sw = 0.f, sb = 0.f;
    for (int64_t grp = ch; grp < G; grp += C) {
      sw += group_dyxh[grp];
      sb += group_dy[grp];
    }
    if (dw) dw[ch] = sw;
    if (db) db[ch] = sb;
  }
}

void check_geom(const char* op, const NormGeom& g) {
  SAKUGA_CHECK(g.N >= 0 && g.G >= 0 && g.S >= 0 && g.C > 0 && g.G % g.C == 0, op, ": bad geometry N=", g.N,
               " G=", g.G, " S=", g.S, " C=", g.C);
  SAKUGA_CHECK(g.G <= 0x7fffffff, op, ": too many groups (", g.G, ")");
}

}  // namespace

void norm_forward_train(DType dtype, const void* x, const float* w, const float* b, void* y, float* mean,
                        float* invstd, float* running_mean, float* running_var, const NormGeom& g, double eps,
                        double momentum, Stream s) {
  check_geom("norm_forward_train", g);
  if (g.G == 0) return;
  SAKUGA_CHECK(g.count() > 0, "norm_forward_train: empty groups");
  sakuga::cuda::dispatch_float_bf16("norm_forward_train", dtype, [&](auto t) {
    using T = decltype(t);
    forward_train_kernel<T><<<unsigned(g.G), kThreads, 0, s>>>(static_cast<const T*>(x), w, b, static_cast<T*>(y),
                                                               mean, invstd, running_mean, running_var, g,
                                                               float(eps), float(momentum));
  });
  SAKUGA_LAUNCH_CHECK();
}

void norm_forward_eval(DType dtype, const void* x, const float* w, const float* b, const float* stat_mean,
                       const float* stat_var, void* y, float* mean, float* invstd, const NormGeom& g, double eps,
                       Stream s) {
  check_geom("norm_forward_eval", g);
  if (g.G == 0) return;
  if (mean || invstd) {
    eval_stats_kernel<<<grid_for(g.G), 256, 0, s>>>(stat_mean, stat_var, mean, invstd, g.G, float(eps));
    SAKUGA_LAUNCH_CHECK();
  }
  const int64_t n = g.numel();
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("norm_forward_eval", dtype, [&](auto t) {
    using T = decltype(t);
    forward_eval_kernel<T><<<grid_for(n), 256, 0, s>>>(static_cast<const T*>(x), w, b, stat_mean, stat_var,
                                                       static_cast<T*>(y), g, float(eps));
  });
  SAKUGA_LAUNCH_CHECK();
}

void norm_backward(DType dtype, const void* dy, const void* x, const float* mean, const float* invstd,
                   const float* w, void* dx, float* dw, float* db, const NormGeom& g, bool batch_stats, Stream s) {
  check_geom("norm_backward", g);
  if (g.G == 0) return;
  const bool affine = dw || db;
  if (!affine && !dx) return;
  const int dev = sakuga::cuda::current_device();
  sakuga::cuda::Workspace ws(affine ? size_t(2 * g.G) * sizeof(float) : 0, dev);
  float* group_dy = affine ? static_cast<float*>(ws.get()) : nullptr;
  float* group_dyxh = affine ? group_dy + g.G : nullptr;
  if (g.count() == 0) {
    if (affine) SAKUGA_CUDA_CHECK(cudaMemsetAsync(group_dy, 0, size_t(2 * g.G) * sizeof(float), s));
  } else {
    sakuga::cuda::dispatch_float_bf16("norm_backward", dtype, [&](auto t) {
      using T = decltype(t);
      backward_kernel<T><<<unsigned(g.G), kThreads, 0, s>>>(static_cast<const T*>(dy), static_cast<const T*>(x),
                                                            mean, invstd, w, static_cast<T*>(dx), group_dy,
                                                            group_dyxh, g, batch_stats);
    });
    SAKUGA_LAUNCH_CHECK();
  }
  if (affine) {
    affine_grad_kernel<<<grid_for(g.C), 256, 0, s>>>(group_dy, group_dyxh, dw, db, g.G, g.C);
    SAKUGA_LAUNCH_CHECK();
  }
}

}  // namespace sakuga::kernels::cuda
