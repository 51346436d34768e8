// CUDA normalisation family (see kernels/norm.h). The statistics are per-group sums over x
// viewed as (N, G, S), done by the two-stage chunked reduction of kernels/cuda/group_reduce.cuh
// (fixed order, no atomics: deterministic), so that a few large groups — batch norm with 64
// channels at 1080p — still fill the GPU. The normalisation and the input gradient are flat
// elementwise kernels. bf16 storage computes in f32; the per-group totals are added in double.
//
// Forward (training): Σx → mean; Σ(x − mean)² → var, invstd, running statistics; then y.
// Backward: Σdy and Σdy·x̂ per group → dx (flat), dw/db (per channel, in group order).
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/group_reduce.cuh"
#include "kernels/norm.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;
using group::Sums;

namespace {

group::Plan plan_of(const NormGeom& g) { return group::make_plan(g.N, g.G, g.S); }

// Σ x of the group.
template <class T>
struct SumX {
  const T* x;
  __device__ Sums<1> operator()(int64_t i, int64_t) const { return {{load(x, i)}}; }
};

// Σ (x − mean)² of the group.
template <class T>
struct SumSqDev {
  const T* x;
  const float* mean;
  __device__ Sums<1> operator()(int64_t i, int64_t g) const {
    const float d = load(x, i) - mean[g];
    return {{d * d}};
  }
};

// Σ dy and Σ dy·x̂ of the group.
template <class T>
struct SumDy {
  const T* dy;
  const T* x;
  const float* mean;
  const float* invstd;
  __device__ Sums<2> operator()(int64_t i, int64_t g) const {
    const float d = load(dy, i);
    return {{d, d * ((load(x, i) - mean[g]) * invstd[g])}};
  }
};

__global__ void mean_kernel(const float* partial, group::Plan p, float* mean) {
  for (int64_t g = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; g < p.G; g += int64_t(gridDim.x) * blockDim.x)
    mean[g] = float(group::group_total(partial, p, 0, g) / double(p.count()));
}

__global__ void var_kernel(const float* partial, group::Plan p, const float* mean, float* invstd,
                           float* running_mean, float* running_var, float eps, float momentum) {
  const double M = double(p.count());
  for (int64_t g = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; g < p.G; g += int64_t(gridDim.x) * blockDim.x) {
    const float var = float(group::group_total(partial, p, 0, g) / M);
    invstd[g] = 1.0f / sqrtf(var + eps);
    if (running_mean) running_mean[g] = (1.0f - momentum) * running_mean[g] + momentum * mean[g];
    if (running_var) {
      const float unbiased = M > 1 ? float(double(var) * M / (M - 1)) : var;
      running_var[g] = (1.0f - momentum) * running_var[g] + momentum * unbiased;
    }
  }
}

// Per group: Σdy, Σdy·x̂ (for dw, db) and their means over the group (for dx).
__global__ void dy_totals_kernel(const float* partial, group::Plan p, float* sum_dy, float* sum_dyxh,
                                 float* mean_dy, float* mean_dyxh) {
  const double M = double(p.count());
  for (int64_t g = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; g < p.G; g += int64_t(gridDim.x) * blockDim.x) {
    const double a = group::group_total(partial, p, 0, g), c = group::group_total(partial, p, 1, g);
    sum_dy[g] = float(a);
    sum_dyxh[g] = float(c);
    mean_dy[g] = float(a / M);
    mean_dyxh[g] = float(c / M);
  }
}

// y = (x − mean)·invstd·w + b, from per-group statistics (training and eval).
template <class T>
__global__ void normalize_kernel(const T* x, const float* w, const float* b, const float* mean, const float* var,
                                 const float* invstd, T* y, group::Plan p, int64_t C, float eps) {
  const int64_t n = p.N * p.G * p.S;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t g = group::group_of(i, p);
    const float is = invstd ? invstd[g] : 1.0f / sqrtf(var[g] + eps);
    const float k = (w ? w[g % C] : 1.0f) * is, bv = b ? b[g % C] : 0.0f;
    store(y, i, (load(x, i) - mean[g]) * k + bv);
  }
}

__global__ void eval_stats_kernel(const float* stat_mean, const float* stat_var, float* mean, float* invstd,
                                  int64_t G, float eps) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < G; i += int64_t(gridDim.x) * blockDim.x) {
    if (mean) mean[i] = stat_mean[i];
    if (invstd) invstd[i] = 1.0f / sqrtf(stat_var[i] + eps);
  }
}

// dx = w·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)) with batch statistics, else w·invstd·dy.
template <class T>
__global__ void dx_kernel(const T* dy, const T* x, const float* mean, const float* invstd, const float* w,
                          const float* mean_dy, const float* mean_dyxh, T* dx, group::Plan p, int64_t C) {
  const int64_t n = p.N * p.G * p.S;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t g = group::group_of(i, p);
    const float is = invstd[g], k = (w ? w[g % C] : 1.0f) * is;
    if (mean_dy) {
      const float xh = (load(x, i) - mean[g]) * is;
      store(dx, i, k * (load(dy, i) - mean_dy[g] - xh * mean_dyxh[g]));
    } else {
      store(dx, i, k * load(dy, i));
    }
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
  const group::Plan p = plan_of(g);
  sakuga::cuda::Workspace ws(size_t(p.blocks()) * sizeof(float), sakuga::cuda::current_device());
  float* partial = static_cast<float*>(ws.get());
  sakuga::cuda::dispatch_float_bf16("norm_forward_train", dtype, [&](auto t) {
    using T = decltype(t);
    const T* px = static_cast<const T*>(x);
    group::launch_partial<1>(p, SumX<T>{px}, partial, s);
    mean_kernel<<<grid_for(g.G), 256, 0, s>>>(partial, p, mean);
    SAKUGA_LAUNCH_CHECK();
    group::launch_partial<1>(p, SumSqDev<T>{px, mean}, partial, s);
    var_kernel<<<grid_for(g.G), 256, 0, s>>>(partial, p, mean, invstd, running_mean, running_var, float(eps),
                                             float(momentum));
    SAKUGA_LAUNCH_CHECK();
    normalize_kernel<T><<<grid_for(g.numel()), 256, 0, s>>>(px, w, b, mean, nullptr, invstd, static_cast<T*>(y), p,
                                                            g.C, float(eps));
    SAKUGA_LAUNCH_CHECK();
  });
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
  const group::Plan p = plan_of(g);
  sakuga::cuda::dispatch_float_bf16("norm_forward_eval", dtype, [&](auto t) {
    using T = decltype(t);
    normalize_kernel<T><<<grid_for(n), 256, 0, s>>>(static_cast<const T*>(x), w, b, stat_mean, stat_var, nullptr,
                                                    static_cast<T*>(y), p, g.C, float(eps));
  });
  SAKUGA_LAUNCH_CHECK();
}

void norm_backward(DType dtype, const void* dy, const void* x, const float* mean, const float* invstd,
                   const float* w, void* dx, float* dw, float* db, const NormGeom& g, bool batch_stats, Stream s) {
  check_geom("norm_backward", g);
  if (g.G == 0) return;
  const bool affine = dw || db;
  if (!affine && !dx) return;
  const group::Plan p = plan_of(g);
  const bool sums = affine || (dx && batch_stats);
  const int dev = sakuga::cuda::current_device();
  // Workspace: partial sums (2 per block), then per group Σdy, Σdy·x̂ and their means.
  const size_t part_floats = size_t(2 * p.blocks()), group_floats = size_t(4 * g.G);
  sakuga::cuda::Workspace ws(sums ? (part_floats + group_floats) * sizeof(float) : 0, dev);
  float* partial = sums ? static_cast<float*>(ws.get()) : nullptr;
  float* sum_dy = sums ? partial + part_floats : nullptr;
  float* sum_dyxh = sums ? sum_dy + g.G : nullptr;
  float* mean_dy = sums ? sum_dyxh + g.G : nullptr;
  float* mean_dyxh = sums ? mean_dy + g.G : nullptr;
  sakuga::cuda::dispatch_float_bf16("norm_backward", dtype, [&](auto t) {
    using T = decltype(t);
    const T* pdy = static_cast<const T*>(dy);
    const T* px = static_cast<const T*>(x);
    if (sums) {
      if (g.count() == 0) {
        SAKUGA_CUDA_CHECK(cudaMemsetAsync(sum_dy, 0, group_floats * sizeof(float), s));
      } else {
        group::launch_partial<2>(p, SumDy<T>{pdy, px, mean, invstd}, partial, s);
        dy_totals_kernel<<<grid_for(g.G), 256, 0, s>>>(partial, p, sum_dy, sum_dyxh, mean_dy, mean_dyxh);
        SAKUGA_LAUNCH_CHECK();
      }
    }
    if (dx && g.numel() > 0) {
      dx_kernel<T><<<grid_for(g.numel()), 256, 0, s>>>(pdy, px, mean, invstd, w, batch_stats ? mean_dy : nullptr,
                                                       mean_dyxh, static_cast<T*>(dx), p, g.C);
      SAKUGA_LAUNCH_CHECK();
    }
  });
  if (affine) {
    affine_grad_kernel<<<grid_for(g.C), 256, 0, s>>>(sum_dy, sum_dyxh, dw, db, g.G, g.C);
    SAKUGA_LAUNCH_CHECK();
  }
}

}  // namespace sakuga::kernels::cuda
