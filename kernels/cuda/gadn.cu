// CUDA GADN fused losses (kernels/gadn.h has the formulas; kernels/cpu/gadn.cpp is the
// reference). Math in f32 whatever the storage.
//
// Forward passes are the two-stage deterministic reduction of kernels/cuda/group_reduce.cuh
// over one group (all B·P pixels, or all B·Z code entries): each element is visited exactly
// once by partial_kernel, whose per-element functor also writes the element's outputs (d for
// the pixel L2, z for the Gaussian sample), so one read of the inputs yields the loss and
// what its backward needs. A one-thread kernel then adds the chunk sums in order in double
// and scales by 1/B. No atomics; the shape alone fixes every summation order.
#include <algorithm>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/group_reduce.cuh"
#include "kernels/gadn.h"

namespace sakuga::kernels::cuda {

using group::Sums;
using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

constexpr int kBlock = 256;
// Elements per chunk (≥ 16 per thread of a block). group::make_plan's 16384 would leave most
// SMs idle at the usual loss sizes (8×256² pixels: 32 blocks); 4096 gives 128 there.
constexpr int64_t kMinChunk = 4096;

// out[0] = scale · Σ of the chunk sums (in chunk order, in double).
template <class T>
__global__ void finish_kernel(const float* __restrict__ partial, group::Plan p, double scale, T* out) {
  if (blockIdx.x == 0 && threadIdx.x == 0) store(out, 0, float(group::group_total(partial, p, 0, 0) * scale));
}

// Pixel k = b·P + p: returns w_k·n_k and writes d at its C channels.
template <class T>
struct PixelL2Term {
  const T* g;
  const T* x;
  const T* w;
  T* d;
  int64_t C, P;
  float inv_b, uniform_w;
  __device__ Sums<1> operator()(int64_t k, int64_t) const {
    const int64_t b = k / P;
    const int64_t base = b * C * P + (k - b * P);
    float sq = 0.f;
    for (int64_t c = 0; c < C; ++c) {
      const float diff = load(g, base + c * P) - load(x, base + c * P);
      sq += diff * diff;
    }
    const float norm = sqrtf(sq);
    const float wk = w ? load(w, k) : uniform_w;
    if (d) {
      const float scale = norm > 0.f ? wk * inv_b / norm : 0.f;
      for (int64_t c = 0; c < C; ++c) store(d, base + c * P, scale * (load(g, base + c * P) - load(x, base + c * P)));
    }
    return {{wk * norm}};
  }
};

// Code entry k = b·Z + i: writes z_k and returns w_i·KL term.
template <class T>
struct GaussianKlTerm {
  const T* mu;
  const T* sigma;
  const T* eps;
  const T* w;
  T* z;
  int64_t Z;
  __device__ Sums<1> operator()(int64_t k, int64_t) const {
    const float m = load(mu, k), s = load(sigma, k);
    store(z, k, eps ? m + s * load(eps, k) : m);
    const float term = (m * m + s * s) * 0.5f - logf(s) - 0.5f;
    return {{w ? load(w, k % Z) * term : term}};
  }
};

template <class T>
__global__ void gaussian_kl_backward_kernel(const T* mu, const T* sigma, const T* eps, const T* w, int64_t n, int64_t Z,
                                            const T* gz, const T* gkl, float inv_b, T* gmu, T* gsigma) {
  const float gk = load(gkl, 0) * inv_b;
  SAKUGA_GRID_LOOP(k, n) {
    const float wk = w ? load(w, k % Z) * gk : gk;
    const float g = load(gz, k);
    if (gmu) store(gmu, k, g + wk * load(mu, k));
    if (gsigma) {
      const float s = load(sigma, k);
      store(gsigma, k, (eps ? g * load(eps, k) : 0.f) + wk * (s - 1.f / s));
    }
  }
}

// Runs the reduction of `term` over n elements and writes scale · Σ to out.
template <class T, class F>
void reduce_to(int64_t n, const F& term, double scale, T* out, Stream s) {
  const group::Plan p = group::flat_plan(n, kMinChunk);
  sakuga::cuda::Workspace ws(size_t(p.blocks()) * sizeof(float), sakuga::cuda::current_device());
  float* partial = static_cast<float*>(ws.get());
  group::launch_partial<1>(p, term, partial, s);
  finish_kernel<T><<<1, 1, 0, s>>>(partial, p, scale, out);
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace

void pixel_l2_forward(DType dtype, const void* g, const void* x, const void* w, int64_t B, int64_t C, int64_t P,
                      void* loss, void* d, Stream s) {
  SAKUGA_CHECK(B > 0 && C > 0 && P > 0, "pixel_l2_forward: empty input (B=", B, ", C=", C, ", P=", P, ")");
  sakuga::cuda::dispatch_float_bf16("pixel_l2_forward", dtype, [&](auto tag) {
    using T = decltype(tag);
    const PixelL2Term<T> term{
        static_cast<const T*>(g), static_cast<const T*>(x), static_cast<const T*>(w), static_cast<T*>(d), C, P,
        float(1.0 / double(B)),   float(1.0 / double(P))};
    reduce_to(B * P, term, 1.0 / double(B), static_cast<T*>(loss), s);
  });
}

void gaussian_kl_forward(DType dtype, const void* mu, const void* sigma, const void* eps, const void* w, int64_t B,
                         int64_t Z, void* z, void* kl, Stream s) {
  SAKUGA_CHECK(B > 0 && Z > 0, "gaussian_kl_forward: empty input (B=", B, ", Z=", Z, ")");
  sakuga::cuda::dispatch_float_bf16("gaussian_kl_forward", dtype, [&](auto tag) {
    using T = decltype(tag);
    const GaussianKlTerm<T> term{static_cast<const T*>(mu), static_cast<const T*>(sigma), static_cast<const T*>(eps),
                                 static_cast<const T*>(w),  static_cast<T*>(z),           Z};
    reduce_to(B * Z, term, 1.0 / double(B), static_cast<T*>(kl), s);
  });
}

void gaussian_kl_backward(DType dtype, const void* mu, const void* sigma, const void* eps, const void* w, int64_t B,
                          int64_t Z, const void* gz, const void* gkl, void* gmu, void* gsigma, Stream s) {
  const int64_t n = B * Z;
  if (n == 0 || (!gmu && !gsigma)) return;
  sakuga::cuda::dispatch_float_bf16("gaussian_kl_backward", dtype, [&](auto tag) {
    using T = decltype(tag);
    gaussian_kl_backward_kernel<T><<<grid_for(n, kBlock), kBlock, 0, s>>>(
        static_cast<const T*>(mu), static_cast<const T*>(sigma), static_cast<const T*>(eps), static_cast<const T*>(w),
        n, Z, static_cast<const T*>(gz), static_cast<const T*>(gkl), float(1.0 / double(B)), static_cast<T*>(gmu),
        static_cast<T*>(gsigma));
  });
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
