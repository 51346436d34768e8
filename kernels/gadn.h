#pragma once
// GADN family (gadn.md "Losses"): two fused passes, each computing its loss AND everything its
// backward needs in one read of the inputs.
//
// Pixel L2 — the reconstruction loss L_rec. G, x (B, C, P) (P = H·W pixels), w (B, P):
//   n_bp = ‖G_b·p − x_b·p‖₂            (Euclidean norm over the C channels, not squared)
//   loss = (1/B) Σ_b Σ_p w_bp · n_bp    (w_bp = 1/P when no weights are given)
//   d_bcp = ∂loss/∂G_bcp = (w_bp / B) · (G − x)_bcp / n_bp, and 0 where n_bp = 0
//   ∂loss/∂x = −d
// At n = 0 the norm has no derivative; 0 is its subgradient of least norm (and what
// torch.linalg.vector_norm gives). The forward writes d, so the backward is one scaling by the
// upstream gradient (no second pass over G and x).
//
// Gaussian sample + KL — the reparameterised code and its KL divergence to N(0, I).
// μ, σ, ε (B, Z), w (Z):
//   z = μ + σ·ε                                             (z = μ when ε is absent)
//   kl = (1/B) Σ_b Σ_i w_i [(μ_bi² + σ_bi²)/2 − ln σ_bi − 1/2]   (w_i = 1 without weights)
//   backward, upstream g_z (B, Z) and g_kl (one value):
//   ∂/∂μ = g_z + g_kl·w_i·μ / B;   ∂/∂σ = g_z·ε + g_kl·w_i·(σ − 1/σ) / B
// σ must be > 0 (ln σ): σ ≤ 0 gives a NaN / infinite kl, not an error (no host check on CUDA).
//
// Sums are deterministic: CPU adds fixed chunks in double in a fixed order (independent of
// the thread count); CUDA adds fixed chunks per block with a fixed tree and the chunk sums in
// order in double (kernels/cuda/group_reduce.cuh). No atomics.
#include "kernels/common.h"

namespace sakuga::kernels {

namespace cpu {
// loss: one value. w may be null (1/P). d (B, C, P) may be null (no gradient wanted).
template <class T>
void pixel_l2_forward(const T* g, const T* x, const T* w, int64_t B, int64_t C, int64_t P, T* loss, T* d);
// z (B, Z) and kl (one value). eps and w may be null.
template <class T>
void gaussian_kl_forward(const T* mu, const T* sigma, const T* eps, const T* w, int64_t B, int64_t Z, T* z, T* kl);
// gz (B, Z) and gkl (one value) are the upstream gradients of z and kl; eps and w may be null;
// gmu / gsigma (B, Z) may be null (not needed).
template <class T>
void gaussian_kl_backward(const T* mu, const T* sigma, const T* eps, const T* w, int64_t B, int64_t Z, const T* gz,
                          const T* gkl, T* gmu, T* gsigma);
}  // namespace cpu

namespace cuda {
// Same contracts; dtype f32 or bf16 for every tensor (math in f32, sums in f32 per block and
// double across blocks). All pointers are device pointers (loss, kl and gkl too).
void pixel_l2_forward(DType dtype, const void* g, const void* x, const void* w, int64_t B, int64_t C, int64_t P,
                      void* loss, void* d, Stream s);
void gaussian_kl_forward(DType dtype, const void* mu, const void* sigma, const void* eps, const void* w, int64_t B,
                         int64_t Z, void* z, void* kl, Stream s);
void gaussian_kl_backward(DType dtype, const void* mu, const void* sigma, const void* eps, const void* w, int64_t B,
                          int64_t Z, const void* gz, const void* gkl, void* gmu, void* gsigma, Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
