#pragma once
// Focal losses (fused forward + gradient; kernels/focal.h has the formulas).
#include "tensor/ops/loss.h"

namespace sakuga::ops {

// logits and target same shape, target float in [0, 1]. alpha < 0: no α weighting.
// Matches torchvision.ops.sigmoid_focal_loss(logits, target, alpha, gamma, reduction).
Tensor binary_focal_loss(const Tensor& logits, const Tensor& target, double gamma = 2.0, double alpha = -1.0,
                         Reduction r = Reduction::mean);
// logits (N, C) or (N, C, d1, ...); target i32 (N) or (N, d1, ...); weight (C) optional.
// mean = Σ loss / number of non-ignored items (NOT divided by Σ w_y: gcn.md "mean over pixels");
// none = per-item loss of target's shape (0 at ignored items).
Tensor softmax_focal_loss(const Tensor& logits, const Tensor& target, double gamma = 2.0,
                          const Tensor& weight = Tensor(), int64_t ignore_index = -100,
                          Reduction r = Reduction::mean);

}  // namespace sakuga::ops
