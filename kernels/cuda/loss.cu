// CUDA loss family: per-item cross entropy / NLL / BCE-with-logits (see kernels/loss.h).
// Cross entropy forward reduces over classes like the softmax kernels of reduce.cu: a warp
// (C ≤ 2048) or a block per item when the classes are contiguous (inner == 1), else one
// thread per item walking the classes with stride `inner` (neighbouring threads read
// neighbouring pixels). Fixed combine order, no atomics. Everything else is elementwise.
#include <climits>

#include "kernels/cuda/check.cuh"
#include "kernels/loss.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;

__device__ __forceinline__ float max_nan(float a, float b) {
  if (isnan(a)) return a;
  if (isnan(b)) return b;
  return a > b ? a : b;
}

// All-reduce over a group of G threads (32: the warp; kBlock: the block, called uniformly).
// Butterfly within the warp, then the warp results combined in a fixed order.
template <int G, bool IsMax>
__device__ __forceinline__ float group_allreduce(float v, float* smem) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    const float o = __shfl_xor_sync(0xffffffffu, v, off);
    v = IsMax ? max_nan(v, o) : v + o;
  }
  if constexpr (G == 32) {
    return v;
  } else {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    float r = smem[0];
#pragma unroll
    for (int w = 1; w < kWarps; ++w) r = IsMax ? max_nan(r, smem[w]) : r + smem[w];
    return r;
  }
}

// A bad target was seen: the deferred error flag (every writer stores the same value).
__device__ __forceinline__ void flag_bad(int32_t* bad) {
  if (bad) *bad = 1;
}

// Writes the outputs of item j from its log-sum-exp.
template <class T>
__device__ __forceinline__ void ce_item_out(int64_t j, float l, float xy, int32_t y, const T* weight, T* loss,
                                            T* item_weight, float* lse, int64_t C, int64_t ignore_index,
                                            int32_t* bad) {
  lse[j] = l;
  if (int64_t(y) == ignore_index) {
    store(loss, j, 0.f);
    store(item_weight, j, 0.f);
  } else if (y < 0 || int64_t(y) >= C) {
    store(loss, j, NAN);
    store(item_weight, j, NAN);
    flag_bad(bad);
  } else {
    const float w = weight ? load(weight, y) : 1.f;
    store(loss, j, w * (l - xy));
    store(item_weight, j, w);
  }
}

template <int G, class T>
__global__ void ce_rows_kernel(const T* x, const int32_t* target, const T* weight, T* loss, T* item_weight,
                               float* lse, int64_t N, int64_t C, int64_t ignore_index, int32_t* bad) {
  __shared__ float smem[kWarps];
  constexpr int kRows = kBlock / G;
  const int lane = threadIdx.x % G;
  for (int64_t row = int64_t(blockIdx.x) * kRows + threadIdx.x / G; row < N; row += int64_t(gridDim.x) * kRows) {
    const T* p = x + row * C;
    float m = -INFINITY;
    for (int64_t c = lane; c < C; c += G) m = max_nan(m, load(p, c));
    m = group_allreduce<G, true>(m, smem);
    float s = 0.f;
    for (int64_t c = lane; c < C; c += G) s += expf(load(p, c) - m);
    s = group_allreduce<G, false>(s, smem);
    if (lane == 0) {
      const int32_t y = target[row];
      const float xy = (y >= 0 && int64_t(y) < C) ? load(p, y) : 0.f;
      ce_item_out(row, isinf(m) ? m : m + logf(s), xy, y, weight, loss, item_weight, lse, C, ignore_index, bad);
    }
  }
}

template <class T>
__global__ void ce_cols_kernel(const T* x, const int32_t* target, const T* weight, T* loss, T* item_weight,
                               float* lse, int64_t N, int64_t C, int64_t inner, int64_t ignore_index, int32_t* bad) {
  const int64_t total = N * inner;
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < total; j += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = j / inner, i = j % inner;
    const T* p = x + n * C * inner + i;
    float m = -INFINITY;
    for (int64_t c = 0; c < C; ++c) m = max_nan(m, load(p, c * inner));
    float s = 0.f;
    for (int64_t c = 0; c < C; ++c) s += expf(load(p, c * inner) - m);
    const int32_t y = target[j];
    const float xy = (y >= 0 && int64_t(y) < C) ? load(p, int64_t(y) * inner) : 0.f;
    ce_item_out(j, isinf(m) ? m : m + logf(s), xy, y, weight, loss, item_weight, lse, C, ignore_index, bad);
  }
}

template <class T>
__global__ void ce_bwd_kernel(const T* x, const int32_t* target, const T* weight, const float* lse, const T* gloss,
                              T* gx, int64_t total, int64_t C, int64_t inner, int64_t ignore_index) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e % inner, c = (e / inner) % C, n = e / (inner * C);
    const int64_t j = n * inner + i;
    const int32_t y = target[j];
    float g;
    if (int64_t(y) == ignore_index) {
      g = 0.f;
    } else if (y < 0 || int64_t(y) >= C) {
      g = NAN;
    } else {
      const float w = weight ? load(weight, y) : 1.f;
      const float p = expf(load(x, e) - lse[j]);
      g = load(gloss, j) * w * (p - (c == int64_t(y) ? 1.f : 0.f));
    }
    store(gx, e, g);
  }
}

template <class T>
__global__ void nll_fwd_kernel(const T* x, const int32_t* target, const T* weight, T* loss, T* item_weight,
                               int64_t total, int64_t C, int64_t inner, int64_t ignore_index, int32_t* bad) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < total; j += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = j / inner, i = j % inner;
    const int32_t y = target[j];
    if (int64_t(y) == ignore_index) {
      store(loss, j, 0.f);
      store(item_weight, j, 0.f);
    } else if (y < 0 || int64_t(y) >= C) {
      store(loss, j, NAN);
      store(item_weight, j, NAN);
      flag_bad(bad);
    } else {
      const float w = weight ? load(weight, y) : 1.f;
      store(loss, j, -w * load(x, (n * C + y) * inner + i));
      store(item_weight, j, w);
    }
  }
}

template <class T>
__global__ void nll_bwd_kernel(const int32_t* target, const T* weight, const T* gloss, T* gx, int64_t total,
                               int64_t C, int64_t inner, int64_t ignore_index) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e % inner, c = (e / inner) % C, n = e / (inner * C);
    const int64_t j = n * inner + i;
    const int32_t y = target[j];
    float g;
    if (int64_t(y) == ignore_index)
      g = 0.f;
    else if (y < 0 || int64_t(y) >= C)
      g = NAN;
    else
      g = c == int64_t(y) ? -(weight ? load(weight, y) : 1.f) * load(gloss, j) : 0.f;
    store(gx, e, g);
  }
}

template <class T>
__global__ void bce_fwd_kernel(const T* x, const T* t, const T* pw, T* loss, int64_t n) {
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < n; k += int64_t(gridDim.x) * blockDim.x) {
    const float xv = load(x, k), tv = load(t, k);
    const float lw = pw ? 1.f + (load(pw, k) - 1.f) * tv : 1.f;
    store(loss, k, (1.f - tv) * xv + lw * softplus_neg(xv));
  }
}

template <class T>
__global__ void bce_bwd_kernel(const T* x, const T* t, const T* pw, const T* g, T* gx, T* gt, T* gp, int64_t n) {
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < n; k += int64_t(gridDim.x) * blockDim.x) {
    const float xv = load(x, k), tv = load(t, k), gv = load(g, k);
    const float p = pw ? load(pw, k) : 1.f;
    if (gx) store(gx, k, gv * ((1.f - tv) - (1.f + (p - 1.f) * tv) * sigmoid_neg(xv)));
    if (gt) store(gt, k, gv * (-xv + (p - 1.f) * softplus_neg(xv)));
    if (gp) store(gp, k, gv * tv * softplus_neg(xv));
  }
}

unsigned row_grid(int64_t rows, int g) {
  int64_t rpb = kBlock / g;
  int64_t b = (rows + rpb - 1) / rpb;
  return unsigned(b < 1 ? 1 : (b > (1 << 20) ? (1 << 20) : b));
}

}  // namespace

void cross_entropy_forward(DType dtype, const void* x, const int32_t* target, const void* weight, void* loss,
                           void* item_weight, float* lse, int64_t N, int64_t C, int64_t inner, int64_t ignore_index,
                           int32_t* bad, Stream s) {
  if (N * inner == 0) return;
  sakuga::cuda::dispatch_float_bf16("cross_entropy_forward", dtype, [&](auto t) {
    using T = decltype(t);
    auto px = static_cast<const T*>(x);
    auto pw = static_cast<const T*>(weight);
    auto pl = static_cast<T*>(loss);
    auto piw = static_cast<T*>(item_weight);
    if (inner == 1) {
      if (C <= 2048)
        ce_rows_kernel<32><<<row_grid(N, 32), kBlock, 0, s>>>(px, target, pw, pl, piw, lse, N, C, ignore_index, bad);
      else
        ce_rows_kernel<kBlock>
            <<<row_grid(N, kBlock), kBlock, 0, s>>>(px, target, pw, pl, piw, lse, N, C, ignore_index, bad);
    } else {
      ce_cols_kernel<<<grid_for(N * inner), kBlock, 0, s>>>(px, target, pw, pl, piw, lse, N, C, inner, ignore_index,
                                                            bad);
    }
  });
  SAKUGA_LAUNCH_CHECK();
}

void cross_entropy_backward(DType dtype, const void* x, const int32_t* target, const void* weight, const float* lse,
                            const void* gloss, void* gx, int64_t N, int64_t C, int64_t inner, int64_t ignore_index,
                            Stream s) {
  const int64_t total = N * C * inner;
  if (total == 0) return;
  sakuga::cuda::dispatch_float_bf16("cross_entropy_backward", dtype, [&](auto t) {
    using T = decltype(t);
    ce_bwd_kernel<<<grid_for(total), kBlock, 0, s>>>(static_cast<const T*>(x), target, static_cast<const T*>(weight),
                                                     lse, static_cast<const T*>(gloss), static_cast<T*>(gx), total, C,
                                                     inner, ignore_index);
  });
  SAKUGA_LAUNCH_CHECK();
}

void nll_forward(DType dtype, const void* x, const int32_t* target, const void* weight, void* loss, void* item_weight,
                 int64_t N, int64_t C, int64_t inner, int64_t ignore_index, int32_t* bad, Stream s) {
  const int64_t total = N * inner;
  if (total == 0) return;
  sakuga::cuda::dispatch_float_bf16("nll_forward", dtype, [&](auto t) {
    using T = decltype(t);
    nll_fwd_kernel<<<grid_for(total), kBlock, 0, s>>>(static_cast<const T*>(x), target, static_cast<const T*>(weight),
                                                      static_cast<T*>(loss), static_cast<T*>(item_weight), total, C,
                                                      inner, ignore_index, bad);
  });
  SAKUGA_LAUNCH_CHECK();
}

void nll_backward(DType dtype, const int32_t* target, const void* weight, const void* gloss, void* gx, int64_t N,
                  int64_t C, int64_t inner, int64_t ignore_index, Stream s) {
  const int64_t total = N * C * inner;
  if (total == 0) return;
  sakuga::cuda::dispatch_float_bf16("nll_backward", dtype, [&](auto t) {
    using T = decltype(t);
    nll_bwd_kernel<<<grid_for(total), kBlock, 0, s>>>(target, static_cast<const T*>(weight),
                                                      static_cast<const T*>(gloss), static_cast<T*>(gx), total, C,
                                                      inner, ignore_index);
  });
  SAKUGA_LAUNCH_CHECK();
}

void bce_logits_forward(DType dtype, const void* x, const void* t, const void* pos_weight, void* loss, int64_t n,
                        Stream s) {
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("bce_logits_forward", dtype, [&](auto tag) {
    using T = decltype(tag);
    bce_fwd_kernel<<<grid_for(n), kBlock, 0, s>>>(static_cast<const T*>(x), static_cast<const T*>(t),
                                                  static_cast<const T*>(pos_weight), static_cast<T*>(loss), n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void bce_logits_backward(DType dtype, const void* x, const void* t, const void* pos_weight, const void* g, void* gx,
                         void* gt, void* gp, int64_t n, Stream s) {
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("bce_logits_backward", dtype, [&](auto tag) {
    using T = decltype(tag);
    bce_bwd_kernel<<<grid_for(n), kBlock, 0, s>>>(static_cast<const T*>(x), static_cast<const T*>(t),
                                                  static_cast<const T*>(pos_weight), static_cast<const T*>(g),
                                                  static_cast<T*>(gx), static_cast<T*>(gt), static_cast<T*>(gp), n);
  });
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
