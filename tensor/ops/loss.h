#pragma once
// Loss ops with PyTorch's semantics (torch.nn.functional of the same name).
#include "tensor/tensor.h"

namespace sakuga::ops {

enum class Reduction { none, mean, sum };

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::mean);
// Numerically stable BCE on logits; target is float in [0, 1] (same shape). pos_weight
// (optional) broadcasts like PyTorch's (one value per class along the last dim, or any
// shape that broadcasts to the input).
Tensor bce_with_logits(const Tensor& logits, const Tensor& target, Reduction r = Reduction::mean,
                       const Tensor& pos_weight = Tensor());
// logits (N, C) or (N, C, d1, ...); target i32 (N) or (N, d1, ...) with values in [0, C) or
// ignore_index; weight (C) optional. Mean reduction = Σ w_y·ℓ / Σ w_y over non-ignored items.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, Reduction r = Reduction::mean);
// Same contract as cross_entropy, on log-probabilities.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight = Tensor(),
                int64_t ignore_index = -100, Reduction r = Reduction::mean);

}  // namespace sakuga::ops
