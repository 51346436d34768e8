#pragma once
// Contrastive row losses on patch similarity matrices (scenimefy.md "Losses"), fused: PatchNCE /
// StylePatchNCE and HDCE. For image b and row i of S (B, P, P) — S = q·kᵀ of P patch features of
// one tap — the logits are [S_ii, N_i0 … N_i(P−1)] / τ with N_ij = W_ij·S_ij (W = 1 for PatchNCE)
// and N_ii = −10 (the masked diagonal: CUT's masked_fill, after the weighting). One pass per row
// gives the row's loss and its derivative with respect to the row of S:
//
//   loss_i = logsumexp(logits) − S_ii/τ                (the CE with target 0: the reported value)
//   PatchNCE (decoupled = false), p = softmax(logits) over the P + 1 entries:
//     dS_ii = (p_pos − 1)/τ,  dS_ij = p_j·W_ij/τ (j ≠ i)
//   (computed as loss = softplus(lse_neg − S_ii/τ) and p_pos − 1 = −e^(lse_neg − lse), lse_neg the
//   negatives' log-sum-exp: no cancellation when the positive dominates)
//   HDCE (decoupled = true): the gradient of logsumexp_j((N_ij − S_ii)/τ), the positive left out
//     of the denominator (the reference's exp(v − v.detach()) trick), r = softmax_j(N_ij/τ) over
//     the P negatives (the masked diagonal among them):
//     dS_ii = −1/τ,  dS_ij = r_j·W_ij/τ (j ≠ i)
//
// W gets no gradient (it comes from detached features). Math in f32 (f64 on the CPU for f64).
//
// SRC (the spatial-relation consistency of Hneg_SRC), per row i of image b of the relation
// matrices A_q = Q·Qᵀ and A_k = K·Kᵀ (B, P, P; no temperature): p = softmax(A_q row), r =
// softmax(A_k row), m = (p + r)/2, the row's Jensen–Shannon divergence
//   jsd_i = ½ Σ_j [p_j log(p_j/m_j) + r_j log(r_j/m_j)]
// and its derivative with respect to the A_q row (A_k is detached): with g_j = ½ log(p_j/m_j)
// (∂jsd/∂p_j, the other terms cancel), dA_j = p_j (g_j − Σ_l p_l g_l). The reference takes the
// softmax along dim 1; A_q and A_k are symmetric, so rows give the same sum and, through the GEMM
// A = Q·Qᵀ (whose backward adds dA and dAᵀ), the same gradient of Q. Logs come from log-softmax
// values (no log 0 when a probability underflows).
#include "kernels/common.h"

namespace sakuga::kernels {

constexpr double kNceMaskedDiagonal = -10.0;

namespace cpu {
// S (B, P, P); W (B, P, P) or null (all ones); loss (B·P); dS (B, P, P) or null.
template <class T>
void nce_rows_forward(const T* S, const T* W, int64_t B, int64_t P, double tau, bool decoupled, T* loss, T* dS);
// Aq, Ak (B, P, P); jsd (B·P); dAq (B, P, P) or null.
template <class T>
void src_rows_forward(const T* Aq, const T* Ak, int64_t B, int64_t P, T* jsd, T* dAq);
}  // namespace cpu

namespace cuda {
// dtype f32 or bf16 (S, W, loss, dS alike; f32 math). One block per row, a fixed reduction tree:
// deterministic.
void nce_rows_forward(DType dtype, const void* S, const void* W, int64_t B, int64_t P, double tau, bool decoupled,
                      void* loss, void* dS, Stream s);
void src_rows_forward(DType dtype, const void* Aq, const void* Ak, int64_t B, int64_t P, void* jsd, void* dAq,
                      Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
