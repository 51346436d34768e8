#pragma once
// Redraw's dual-discriminator ops (kernels/redraw.h has the formulas; nets/redraw/redrawer.cpp
// uses them).
#include "tensor/tensor.h"

namespace sakuga::ops {

// From G's output g and the input crop l (B, C, H, W), the region mask m and the boundary band
// (B, 1, H, W) (constants): the redrawn crop t = m·g + (1 − m)·l, D_q's input q = m·t and D_c's
// input c = max(1 − m, band)·t, in one pass. Differentiable in g and l.
struct RedrawDInputs {
  Tensor t, q, c;
};
RedrawDInputs redraw_d_inputs(const Tensor& g, const Tensor& l, const Tensor& m, const Tensor& band);

// The mean patch cross-entropies of both discriminators in one pass: logits (B, K, H, W) each
// (their own K, H, W; the same B), one i32 label per image (B,). Returns (loss_q, loss_c), shape
// (2,). Differentiable in both logits.
Tensor patch_ce_pair(const Tensor& logits_q, const Tensor& labels_q, const Tensor& logits_c, const Tensor& labels_c);

}  // namespace sakuga::ops
