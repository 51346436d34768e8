// CUDA redraw dual-discriminator passes (kernels/redraw.h has the formulas; kernels/cpu/redraw.cpp
// is the reference). Math in f32 whatever the storage.
//
// The discriminator inputs are one grid-stride pass over B·C·P pixels. The patch losses are the
// two-stage deterministic reduction of kernels/cuda/group_reduce.cuh over one group of
// B·Pq + B·Pc patches (D_q's, then D_c's): each patch is visited once by partial_kernel, whose
// functor also writes the patch's gradient d, and adds its cross-entropy into sum 0 (D_q) or
// sum 1 (D_c); a one-thread kernel adds the chunk sums in order in double. No atomics.
#include <algorithm>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/group_reduce.cuh"
#include "kernels/redraw.h"

namespace sakuga::kernels::cuda {

using group::Sums;
using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

constexpr int kBlock = 256;
constexpr int64_t kMinChunk = 2048;  // patches per chunk (PatchGAN maps are small: 8×14² = 1568)

template <class T>
__global__ void d_inputs_forward_kernel(const T* g, const T* l, const T* m, const T* band, int64_t n, int64_t CP,
                                        int64_t P, T* t, T* q, T* c) {
  SAKUGA_GRID_LOOP(i, n) {
    const int64_t b = i / CP, k = b * P + i % P;
    const float mk = load(m, k), v = fmaxf(1.f - mk, load(band, k));
    const float ti = mk * load(g, i) + (1.f - mk) * load(l, i);
    store(t, i, ti);
    store(q, i, mk * ti);
    store(c, i, v * ti);
  }
}

template <class T>
__global__ void d_inputs_backward_kernel(const T* m, const T* band, int64_t n, int64_t CP, int64_t P, const T* gt,
                                         const T* gq, const T* gc, T* gg, T* gl) {
  SAKUGA_GRID_LOOP(i, n) {
    const int64_t b = i / CP, k = b * P + i % P;
    const float mk = load(m, k), v = fmaxf(1.f - mk, load(band, k));
    const float u = (gt ? load(gt, i) : 0.f) + (gq ? mk * load(gq, i) : 0.f) + (gc ? v * load(gc, i) : 0.f);
    if (gg) store(gg, i, mk * u);
    if (gl) store(gl, i, (1.f - mk) * u);
  }
}

// The cross-entropy of one patch of one discriminator, writing its gradient when d is set.
template <class T>
__device__ float patch_ce(const T* a, const int32_t* y, int64_t K, int64_t P, float scale, T* d, int64_t k) {
  const int64_t b = k / P, p = k - b * P, base = b * K * P + p;
  const int32_t yb = y[b];
  if (yb < 0 || yb >= K) return __int_as_float(0x7fc00000);  // NaN: a label outside [0, K)
  float mx = load(a, base);
  for (int64_t j = 1; j < K; ++j) mx = fmaxf(mx, load(a, base + j * P));
  float z = 0.f;
  for (int64_t j = 0; j < K; ++j) z += expf(load(a, base + j * P) - mx);
  if (d) {
    const float inv_z = 1.f / z;
    for (int64_t j = 0; j < K; ++j)
      store(d, base + j * P, (expf(load(a, base + j * P) - mx) * inv_z - (j == yb ? 1.f : 0.f)) * scale);
  }
  return mx + logf(z) - load(a, base + int64_t(yb) * P);
}

// Patch k of the B·Pq + B·Pc: D_q's first, then D_c's.
template <class T>
struct PatchPairTerm {
  const T* aq;
  const int32_t* yq;
  const T* ac;
  const int32_t* yc;
  T* dq;
  T* dc;
  int64_t Kq, Pq, Kc, Pc, nq;
  float sq, sc;
  __device__ Sums<2> operator()(int64_t k, int64_t) const {
    if (k < nq) return {{patch_ce(aq, yq, Kq, Pq, sq, dq, k), 0.f}};
    return {{0.f, patch_ce(ac, yc, Kc, Pc, sc, dc, k - nq)}};
  }
};

template <class T>
__global__ void pair_finish_kernel(const float* __restrict__ partial, group::Plan p, double inv_q, double inv_c,
                                   T* out) {
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    store(out, 0, float(group::group_total(partial, p, 0, 0) * inv_q));
    store(out, 1, float(group::group_total(partial, p, 1, 0) * inv_c));
  }
}

}  // namespace

void redraw_d_inputs_forward(DType dtype, const void* g, const void* l, const void* m, const void* band, int64_t B,
                             int64_t C, int64_t P, void* t, void* q, void* c, Stream s) {
  const int64_t n = B * C * P;
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("redraw_d_inputs_forward", dtype, [&](auto tag) {
    using T = decltype(tag);
    d_inputs_forward_kernel<T><<<grid_for(n, kBlock), kBlock, 0, s>>>(
        static_cast<const T*>(g), static_cast<const T*>(l), static_cast<const T*>(m), static_cast<const T*>(band), n,
        C * P, P, static_cast<T*>(t), static_cast<T*>(q), static_cast<T*>(c));
  });
  SAKUGA_LAUNCH_CHECK();
}

void redraw_d_inputs_backward(DType dtype, const void* m, const void* band, int64_t B, int64_t C, int64_t P,
                              const void* gt, const void* gq, const void* gc, void* gg, void* gl, Stream s) {
  const int64_t n = B * C * P;
  if (n == 0 || (!gg && !gl)) return;
  sakuga::cuda::dispatch_float_bf16("redraw_d_inputs_backward", dtype, [&](auto tag) {
    using T = decltype(tag);
    d_inputs_backward_kernel<T><<<grid_for(n, kBlock), kBlock, 0, s>>>(
        static_cast<const T*>(m), static_cast<const T*>(band), n, C * P, P, static_cast<const T*>(gt),
        static_cast<const T*>(gq), static_cast<const T*>(gc), static_cast<T*>(gg), static_cast<T*>(gl));
  });
  SAKUGA_LAUNCH_CHECK();
}

void patch_ce_pair_forward(DType dtype, const void* aq, const int32_t* yq, int64_t Kq, int64_t Pq, const void* ac,
                           const int32_t* yc, int64_t Kc, int64_t Pc, int64_t B, void* loss2, void* dq, void* dc,
                           Stream s) {
  SAKUGA_CHECK(B > 0 && Kq > 0 && Pq > 0 && Kc > 0 && Pc > 0, "patch_ce_pair_forward: empty input");
  const int64_t nq = B * Pq, n = nq + B * Pc;
  const group::Plan p = group::flat_plan(n, kMinChunk);
  sakuga::cuda::dispatch_float_bf16("patch_ce_pair_forward", dtype, [&](auto tag) {
    using T = decltype(tag);
    const PatchPairTerm<T> term{static_cast<const T*>(aq), yq, static_cast<const T*>(ac), yc,
                                static_cast<T*>(dq),        static_cast<T*>(dc),
                                Kq, Pq, Kc, Pc, nq, float(1.0 / double(nq)), float(1.0 / double(B * Pc))};
    sakuga::cuda::Workspace ws(size_t(2 * p.blocks()) * sizeof(float), sakuga::cuda::current_device());
    float* partial = static_cast<float*>(ws.get());
    group::launch_partial<2>(p, term, partial, s);
    pair_finish_kernel<T><<<1, 1, 0, s>>>(partial, p, 1.0 / double(nq), 1.0 / double(B * Pc), static_cast<T*>(loss2));
  });
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
