#pragma once
// Contrastive losses of patch features (scenimefy.md "Losses"): PatchNCE / StylePatchNCE and
// HDCE. The similarities of one tap come from one batched GEMM, S = q·kᵀ (B, P, P); the fused row
// kernel (kernels/nce.h) then does the diagonal mask, the temperature, the log-sum-exp, the CE
// value and its derivative in one pass, and the backward scales that saved derivative.
#include "tensor/tensor.h"

namespace sakuga::ops {

// Mean over the B·P rows of the CE of [S_ii, N_i·]/τ (kernels/nce.h). S (B, P, P) float;
// weights (B, P, P) or undefined (PatchNCE) — never differentiated; decoupled: HDCE's gradient
// (the value stays the CE).
Tensor nce_rows_loss(const Tensor& S, const Tensor& weights, double tau, bool decoupled);

// PatchNCE: q, k (B, P, C) patch features (each row L2-normalised by the caller; the same P
// positions in both); negatives from the same image only. Gradients reach q and k (pass
// k.detach() as CUT does).
Tensor patch_nce_loss(const Tensor& q, const Tensor& k, double tau = 0.07);

// HDCE: PatchNCE's logits with each negative S_ij weighted by W_ij (from hdce_weights) before the
// diagonal is masked; the reported value is their CE, the gradient the decoupled one.
Tensor hdce_loss(const Tensor& q, const Tensor& k, const Tensor& weights, double tau = 0.07);

// SRC (spatial-relation consistency): per image the Jensen–Shannon divergence between the row
// softmaxes of q·qᵀ and k·kᵀ (B, P, P; no temperature), summed over the P×P entries, mean over
// the images (kernels/nce.h). q, k (B, P, C); k gets no gradient (the source side).
Tensor src_loss(const Tensor& q, const Tensor& k);
// The same from the relation matrices themselves (Aq recorded, Ak a constant).
Tensor src_rows_loss(const Tensor& Aq, const Tensor& Ak);

// HDCE's weights from the source features k (B, P, C): Ã = k·kᵀ with the diagonal set to −10,
// W = rowsoftmax(Ã/γ) / its row max. Not recorded (the weights are constants of the loss).
Tensor hdce_weights(const Tensor& k, double gamma);

}  // namespace sakuga::ops
