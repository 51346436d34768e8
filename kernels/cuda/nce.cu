// CUDA contrastive row losses (kernels/nce.h; the reference is kernels/cpu/nce.cpp). One block per
// row of S: the threads stride over the row's P entries (coalesced), a fixed shared-memory tree
// gives the negatives' max and then their sum of exponentials, and each thread writes its entries
// of the derivative; thread 0 writes the loss. Three reads of the row (from L1/L2 after the
// first), no atomics: deterministic.
#include "kernels/cuda/check.cuh"
#include "kernels/nce.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

constexpr int kBlock = 256;

// Reduces v over the block with a fixed tree (max or sum); every thread gets the result.
template <bool Max>
__device__ float block_reduce(float v, float* buf) {
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int half = kBlock / 2; half > 0; half >>= 1) {
    if (threadIdx.x < half) {
      const float o = buf[threadIdx.x + half];
      buf[threadIdx.x] = Max ? fmaxf(buf[threadIdx.x], o) : buf[threadIdx.x] + o;
    }
    __syncthreads();
  }
  const float r = buf[0];
  __syncthreads();  // buf is reused by the next reduction
  return r;
}

template <class T>
__global__ void nce_rows_kernel(const T* __restrict__ S, const T* __restrict__ W, int64_t P, float inv_tau,
                                bool decoupled, T* __restrict__ loss, T* __restrict__ dS) {
  __shared__ float buf[kBlock];
  const int64_t r = blockIdx.x;
  const int64_t i = r % P;
  const T* s = S + r * P;
  const T* w = W ? W + r * P : nullptr;
  const float masked = float(kNceMaskedDiagonal) * inv_tau;
  auto negative = [&](int64_t j) { return j == i ? masked : (w ? load(w, j) : 1.f) * load(s, j) * inv_tau; };
  float m = -INFINITY;
  for (int64_t j = threadIdx.x; j < P; j += kBlock) m = fmaxf(m, negative(j));
  const float m_neg = block_reduce<true>(m, buf);
  float part = 0.f;
  for (int64_t j = threadIdx.x; j < P; j += kBlock) part += expf(negative(j) - m_neg);
  const float sum_neg = block_reduce<false>(part, buf);
  const float pos = load(s, i) * inv_tau;
  const float lse_neg = m_neg + logf(sum_neg);
  // loss = softplus(lse_neg − pos), 1 − p_pos = e^(lse_neg − lse): no cancellation (the CPU's form).
  const float gap = lse_neg - pos;
  const float l = gap > 0.f ? gap + log1pf(expf(-gap)) : log1pf(expf(gap));
  const float lse = pos + l;
  if (threadIdx.x == 0) store(loss, r, l);
  if (!dS) return;
  T* d = dS + r * P;
  const float not_pos = expf(lse_neg - lse);
  for (int64_t j = threadIdx.x; j < P; j += kBlock) {
    float g;
    if (j == i)
      g = decoupled ? -inv_tau : -not_pos * inv_tau;
    else
      g = expf(negative(j) - (decoupled ? lse_neg : lse)) * (w ? load(w, j) : 1.f) * inv_tau;
    store(d, j, g);
  }
}

// SRC: one block per row; the two log-sum-exps, then the value and Σ p·g by fixed trees, then the
// derivative (kernels/nce.h).
template <class T>
__global__ void src_rows_kernel(const T* __restrict__ Aq, const T* __restrict__ Ak, int64_t P, T* __restrict__ jsd,
                                T* __restrict__ dAq) {
  __shared__ float buf[kBlock];
  const int64_t r = blockIdx.x;
  const T* q = Aq + r * P;
  const T* k = Ak + r * P;
  float mq = -INFINITY, mk = -INFINITY;
  for (int64_t j = threadIdx.x; j < P; j += kBlock) {
    mq = fmaxf(mq, load(q, j));
    mk = fmaxf(mk, load(k, j));
  }
  mq = block_reduce<true>(mq, buf);
  mk = block_reduce<true>(mk, buf);
  float sq = 0.f, sk = 0.f;
  for (int64_t j = threadIdx.x; j < P; j += kBlock) {
    sq += expf(load(q, j) - mq);
    sk += expf(load(k, j) - mk);
  }
  const float lq = mq + logf(block_reduce<false>(sq, buf));
  const float lk = mk + logf(block_reduce<false>(sk, buf));
  const float ln2 = 0.69314718f;
  auto terms = [&](int64_t j, float& p, float& g, float& v) {
    const float a = load(q, j) - lq, b = load(k, j) - lk;
    const float hi = fmaxf(a, b);
    const float lm = hi + logf(expf(a - hi) + expf(b - hi)) - ln2;
    p = expf(a);
    g = 0.5f * (a - lm);
    v = 0.5f * (p * (a - lm) + expf(b) * (b - lm));
  };
  float value = 0.f, pg = 0.f;
  for (int64_t j = threadIdx.x; j < P; j += kBlock) {
    float p, g, v;
    terms(j, p, g, v);
    value += v;
    pg += p * g;
  }
  value = block_reduce<false>(value, buf);
  pg = block_reduce<false>(pg, buf);
  if (threadIdx.x == 0) store(jsd, r, value);
  if (!dAq) return;
  T* d = dAq + r * P;
  for (int64_t j = threadIdx.x; j < P; j += kBlock) {
    float p, g, v;
    terms(j, p, g, v);
    store(d, j, p * (g - pg));
  }
}

template <class T>
void launch_src(const void* Aq, const void* Ak, int64_t rows, int64_t P, void* jsd, void* dAq, Stream s) {
  if (rows == 0) return;
  src_rows_kernel<T><<<unsigned(rows), kBlock, 0, s>>>(static_cast<const T*>(Aq), static_cast<const T*>(Ak), P,
                                                       static_cast<T*>(jsd), static_cast<T*>(dAq));
  SAKUGA_LAUNCH_CHECK();
}

template <class T>
void launch(const void* S, const void* W, int64_t rows, int64_t P, double tau, bool decoupled, void* loss, void* dS,
            Stream s) {
  if (rows == 0) return;
  nce_rows_kernel<T><<<unsigned(rows), kBlock, 0, s>>>(static_cast<const T*>(S), static_cast<const T*>(W), P,
                                                       float(1.0 / tau), decoupled, static_cast<T*>(loss),
                                                       static_cast<T*>(dS));
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace

void nce_rows_forward(DType dtype, const void* S, const void* W, int64_t B, int64_t P, double tau, bool decoupled,
                      void* loss, void* dS, Stream s) {
  SAKUGA_CHECK(B * P < (int64_t(1) << 31), "nce_rows (CUDA): ", B * P, " rows is more than one launch holds");
  if (dtype == DType::f32)
    launch<float>(S, W, B * P, P, tau, decoupled, loss, dS, s);
  else if (dtype == DType::bf16)
    launch<__nv_bfloat16>(S, W, B * P, P, tau, decoupled, loss, dS, s);
  else
    SAKUGA_FAIL("nce_rows (CUDA): expected f32 or bf16, got ", dtype_name(dtype));
}

void src_rows_forward(DType dtype, const void* Aq, const void* Ak, int64_t B, int64_t P, void* jsd, void* dAq,
                      Stream s) {
  SAKUGA_CHECK(B * P < (int64_t(1) << 31), "src_rows (CUDA): ", B * P, " rows is more than one launch holds");
  if (dtype == DType::f32)
    launch_src<float>(Aq, Ak, B * P, P, jsd, dAq, s);
  else if (dtype == DType::bf16)
    launch_src<__nv_bfloat16>(Aq, Ak, B * P, P, jsd, dAq, s);
  else
    SAKUGA_FAIL("src_rows (CUDA): expected f32 or bf16, got ", dtype_name(dtype));
}

}  // namespace sakuga::kernels::cuda
