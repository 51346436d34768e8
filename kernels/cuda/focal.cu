// CUDA focal losses (kernels/focal.h; the derivative formulas are in kernels/cpu/focal.cpp).
// One fused kernel per variant: each thread owns one item, reads its logits once, and writes
// the item's loss, its full gradient row and its `valid` flag. Math in f32 whatever the storage.
//
// Softmax: logits are (n, c, inner); thread j takes item (n, i) = (j / inner, j % inner), so a
// warp reads 32 consecutive `inner` positions of one class at a time (coalesced) and walks the
// classes with stride `inner`. For c ≤ 32 the row is kept in registers (template K ≥ c, fully
// unrolled, so it never spills to local memory) and the gradient is written from them; for
// larger c the max / sum are computed online in one read and the gradient pass reads the row a
// second time (from L2 for moderate sizes). No atomics, no shared memory, deterministic.
#include <climits>

#include "kernels/cuda/check.cuh"
#include "kernels/focal.h"
#include "kernels/loss.h"  // softplus_neg, sigmoid_neg (SAKUGA_HD)

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

constexpr int kBlock = 256;

// q^γ with 0^0 = 1.
__device__ __forceinline__ float pow_gamma(float q, float g) {
  if (g == 0.f) return 1.f;
  if (g == 1.f) return q;
  if (g == 2.f) return q * q;
  return powf(q, g);
}

template <class T>
__global__ void binary_focal_kernel(const T* logits, const T* target, int64_t count, float g, float a,
                                    bool use_alpha, T* loss, T* dlogits) {
  SAKUGA_GRID_LOOP(k, count) {
    const float z = load(logits, k), t = load(target, k);
    const float p = sigmoid_neg(-z), pm = sigmoid_neg(z);  // σ(z), 1 − σ(z)
    const float ce = t * softplus_neg(z) + (1.f - t) * softplus_neg(-z);
    const float q = p * (1.f - t) + pm * t;
    const float qg = pow_gamma(q, g);
    const float at = use_alpha ? a * t + (1.f - a) * (1.f - t) : 1.f;
    store(loss, k, at * ce * qg);
    if (dlogits) {
      float d = p * (1.f - t) - pm * t;  // p − t
      if (g != 0.f) {
        const float r = q > 0.f ? p * pm / q : 1.f;
        d += g * (1.f - 2.f * t) * ce * r;
      }
      store(dlogits, k, at * qg * d);
    }
  }
}

__device__ __forceinline__ float max_nan(float a, float b) {
  if (isnan(a)) return a;
  if (isnan(b)) return b;
  return a > b ? a : b;
}

// The per-item scalars once log p_y is known: loss and the gradient factor w·F (kernels/cpu/focal.cpp).
struct FocalItem {
  float loss, wf, q;
};
__device__ __forceinline__ FocalItem focal_item(float l, float w, float g) {
  const float q = -expm1f(l);
  const float qg = pow_gamma(q, g);
  float f = qg;
  if (g != 0.f) {
    const float py = expf(l);
    const float sr = q > 0.f ? -l / q : 1.f;
    f = qg * (1.f + g * py * sr);
  }
  return {-w * qg * l, w * f, q};
}

// K > 0: c ≤ K, row cached in registers. K == 0: any c, online max/sum, two reads.
template <int K, class T>
__global__ void softmax_focal_kernel(const T* logits, const int32_t* target, const T* weight, int64_t items,
                                     int64_t c, int64_t inner, float g, int64_t ignore_index, T* loss, T* dlogits,
                                     T* valid, int32_t* bad) {
  SAKUGA_GRID_LOOP(j, items) {
    const int64_t b = j / inner, i = j % inner;
    const T* xb = logits + b * c * inner + i;
    T* db = dlogits ? dlogits + b * c * inner + i : nullptr;
    const int32_t y = target[j];
    if (int64_t(y) == ignore_index) {
      store(loss, j, 0.f);
      if (valid) store(valid, j, 0.f);
      if (db)
        for (int64_t k = 0; k < c; ++k) store(db, k * inner, 0.f);
      continue;
    }
    if (valid) store(valid, j, 1.f);
    if (y < 0 || int64_t(y) >= c) {  // bad label: NaN, counted (so a mean is NaN too), flagged
      if (bad) *bad = 1;               // every writer stores the same value
      store(loss, j, NAN);
      if (db)
        for (int64_t k = 0; k < c; ++k) store(db, k * inner, NAN);
      continue;
    }
    const float w = weight ? load(weight, y) : 1.f;
    if constexpr (K > 0) {
      float v[K];
      float m = -INFINITY, xy = 0.f;
#pragma unroll
      for (int k = 0; k < K; ++k) {
        if (k < c) {
          v[k] = load(xb, int64_t(k) * inner);
          m = max_nan(m, v[k]);
          if (k == y) xy = v[k];
        }
      }
      float s = 0.f;
#pragma unroll
      for (int k = 0; k < K; ++k)
        if (k < c) s += expf(v[k] - m);
      const float lse = m + logf(s);
      const FocalItem it = focal_item(xy - lse, w, g);
      store(loss, j, it.loss);
      if (db) {
#pragma unroll
        for (int k = 0; k < K; ++k)
          if (k < c) store(db, int64_t(k) * inner, k == y ? -it.wf * it.q : it.wf * expf(v[k] - lse));
      }
    } else {
      float m = -INFINITY, s = 0.f;
      for (int64_t k = 0; k < c; ++k) {
        const float xv = load(xb, k * inner);
        if (isnan(xv) || isnan(m)) {
          m = NAN;
        } else if (xv > m) {
          s = s * expf(m - xv) + 1.f;
          m = xv;
        } else {
          s += expf(xv - m);
        }
      }
      const float lse = m + logf(s);
      const FocalItem it = focal_item(load(xb, int64_t(y) * inner) - lse, w, g);
      store(loss, j, it.loss);
      if (db)
        for (int64_t k = 0; k < c; ++k)
          store(db, k * inner, k == int64_t(y) ? -it.wf * it.q : it.wf * expf(load(xb, k * inner) - lse));
    }
  }
}

template <int K, class T>
void launch_softmax(const T* x, const int32_t* target, const T* w, int64_t items, int64_t c, int64_t inner, float g,
                    int64_t ignore_index, T* loss, T* dl, T* valid, int32_t* bad, Stream s) {
  softmax_focal_kernel<K, T><<<grid_for(items, kBlock), kBlock, 0, s>>>(x, target, w, items, c, inner, g,
                                                                       ignore_index, loss, dl, valid, bad);
}

}  // namespace

void binary_focal_forward(DType dtype, const void* logits, const void* target, int64_t count, double gamma,
                          double alpha, void* loss, void* dlogits, Stream s) {
  if (count == 0) return;
  sakuga::cuda::dispatch_float_bf16("binary_focal_forward", dtype, [&](auto tag) {
    using T = decltype(tag);
    binary_focal_kernel<T><<<grid_for(count, kBlock), kBlock, 0, s>>>(
        static_cast<const T*>(logits), static_cast<const T*>(target), count, float(gamma), float(alpha), alpha >= 0,
        static_cast<T*>(loss), static_cast<T*>(dlogits));
  });
  SAKUGA_LAUNCH_CHECK();
}

void softmax_focal_forward(DType dtype, const void* logits, const int32_t* target, const void* weight, int64_t n,
                           int64_t c, int64_t inner, double gamma, int64_t ignore_index, void* loss, void* dlogits,
                           void* valid, int32_t* bad, Stream s) {
  const int64_t items = n * inner;
  if (items == 0) return;
  sakuga::cuda::dispatch_float_bf16("softmax_focal_forward", dtype, [&](auto tag) {
    using T = decltype(tag);
    auto x = static_cast<const T*>(logits);
    auto w = static_cast<const T*>(weight);
    auto l = static_cast<T*>(loss);
    auto d = static_cast<T*>(dlogits);
    auto v = static_cast<T*>(valid);
    const float g = float(gamma);
    if (c <= 2)
      launch_softmax<2>(x, target, w, items, c, inner, g, ignore_index, l, d, v, bad, s);
    else if (c <= 4)
      launch_softmax<4>(x, target, w, items, c, inner, g, ignore_index, l, d, v, bad, s);
    else if (c <= 8)
      launch_softmax<8>(x, target, w, items, c, inner, g, ignore_index, l, d, v, bad, s);
    else if (c <= 16)
      launch_softmax<16>(x, target, w, items, c, inner, g, ignore_index, l, d, v, bad, s);
    else if (c <= 32)
      launch_softmax<32>(x, target, w, items, c, inner, g, ignore_index, l, d, v, bad, s);
    else
      launch_softmax<0>(x, target, w, items, c, inner, g, ignore_index, l, d, v, bad, s);
  });
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
