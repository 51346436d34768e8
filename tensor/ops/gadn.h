#pragma once
// GADN fused losses (formulas in kernels/gadn.h; gadn.md "Losses").
#include "tensor/tensor.h"

namespace sakuga::ops {

// The reconstruction loss L_rec: (1/B) Σ_b Σ_p w_bp ‖generated_b·p − target_b·p‖₂, the norm
// over dim 1 (the channels), not squared. generated and target (B, C, d1, ...) (images:
// (B, C, H, W)); weight of shape (B, d1, ...) is optional (default 1/(d1·…), i.e. the mean
// over pixels) and never differentiated. Returns a 0-dim tensor. The gradient at a pixel where
// generated == target is 0. Differentiable in generated and target.
Tensor pixel_l2_loss(const Tensor& generated, const Tensor& target, const Tensor& weight = Tensor());

// The reparameterised sample and its KL divergence to N(0, I), from one pass:
//   z = mu + sigma·eps  (B, Z)        (z = mu when eps is undefined: the evaluation code)
//   kl = (1/B) Σ_b Σ_i w_i [(mu² + sigma²)/2 − ln sigma − 1/2]   (0-dim)
// mu, sigma, eps (B, Z); weight (Z) optional (1 per dimension; nested dropout's keep
// probabilities). sigma must be > 0. Differentiable in mu and sigma; z and kl are views of one
// recorded output, so a loss using both runs one fused backward pass. That node is freed by
// its first backward: put every term using z or kl into one loss (a second backward through
// either is the tape's "a second time" error). eps and weight are constants (an error if they
// require grad).
struct GaussianSampleKl {
  Tensor z;   // (B, Z)
  Tensor kl;  // 0-dim
};
GaussianSampleKl gaussian_sample_kl(const Tensor& mu, const Tensor& sigma, const Tensor& eps = Tensor(),
                                    const Tensor& weight = Tensor());

}  // namespace sakuga::ops
