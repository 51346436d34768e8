#pragma once
// The GADN loss terms (gadn.md "Losses"; Xiang & Li 2019 §4.2). Each function returns the
// UNWEIGHTED term, with the sign of the party that minimises it; the family multiplies by its
// λ. B is the batch size, a the labels (B) i32, log C(·) (B, labels) log-softmax outputs.
//
//   reconstruction_loss     L_rec = (1/B) Σ_b (1/HW) Σ_p ‖G_p − x_p‖₂   (norm over RGB, not squared;
//                           gradient 0 where G_p = x_p); an optional per-pixel weight (B, H, W)
//                           replaces 1/HW (the code's alpha weighting: α / Σ α per image)
//   sample_code             z = μ + σ·ε, ε ~ N(0, I) from a Generator, and
//                           KL = (1/B) Σ_b Σ_i w_i [(μ² + σ²)/2 − ln σ − 1/2]  (KL_E from E's μ, σ;
//                           KL_S from the style rows m_a, σ_a of the batch's labels), w_i = 1 or
//                           the nested-dropout keep probabilities p^i
//   kl_divergence           the KL alone (no sample)
//   classifier_nll          −(1/B) Σ_b log C(x)[a_b]       (C1 on x'.detach(), C2 on real x)
//   c1_adversarial_loss     L_C1, C1's NLL of the original label on x', capped at chance:
//                           capped:   −(1/B) Σ_b max(log C1(x')[a_b], log freq_{a_b})
//                           uncapped: −(1/B) Σ_b log C1(x')[a_b]
//                           (the code's cla_adv_loss). E, G, S MAXIMISE it: their objective has
//                           −λ_C1·L_C1, so once x' is at chance for C1 the term has no gradient.
//   negative_log_unlikelihood  NLU = −(1/B) Σ_b log(1 − exp(log C2(x̃)[a'_b]) + 1e−6)
//   lsgan_discriminator_loss   (1/B) Σ (D(x) − 1)² + (1/B') Σ (D(x̃) + 1)²
//   lsgan_generator_loss       (1/B) Σ D(x̃)²                        (× λ_D by the family)
//   content_consistency_loss   (1/B) Σ_b ‖μ(x̃)_b − μ(x)_b‖²  — the squared norm summed over the
//                           Z dimensions and averaged over the batch, as the code (its
//                           `.pow(2).sum(1).mean()`; the code also normalises each dimension
//                           by the code statistics and weights it: not done here, the spec's
//                           plain ‖·‖²). Differentiable in both; detach μ(x) where it is a target.
//
// Nested dropout (paper §6.1.4, the code's default): with p = 1 − 2/Z, dimension i (0-based)
// is kept with probability p^i: per sample u ~ U(0, 1) and mask_i = [p^i ≥ u], so the first
// dimension is always kept, the kept dimensions are a prefix, and the number kept k has
// P(k > i) = p^i (geometric). The mask multiplies the code fed to G; the KL weights are p^i.
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace sakuga::losses {

// generated, target (B, C, H, W); pixel_weight (B, H, W) optional. A fused op (ops::pixel_l2_loss).
Tensor reconstruction_loss(const Tensor& generated, const Tensor& target, const Tensor& pixel_weight = Tensor());

struct CodeSample {
  Tensor z;   // (B, Z)
  Tensor kl;  // 0-dim
};
// mean, sigma (B, Z); ε drawn from gen on mean's device (B·Z counters); dim_weight (Z) optional.
// One fused op (ops::gaussian_sample_kl): a loss using z and kl runs one backward pass.
CodeSample sample_code(const Tensor& mean, const Tensor& sigma, Generator& gen, const Tensor& dim_weight = Tensor());
Tensor kl_divergence(const Tensor& mean, const Tensor& sigma, const Tensor& dim_weight = Tensor());

// p = max(0, 1 − 2/Z) (Z ≥ 1).
double nested_dropout_p(int64_t z);
// (Z) f32 on `device`: p^i for i = 0 … Z−1 (p^0 = 1, also for p = 0).
Tensor nested_dropout_keep_probs(int64_t z, double p, Device device = Device::cpu());
// (B, Z) f32 0/1 on `device`: row b keeps dims i with p^i ≥ u_b, u_b ~ U(0, 1) from gen
// (B counters, drawn on the CPU, so every device sees the same mask).
Tensor nested_dropout_mask(int64_t batch, int64_t z, double p, Generator& gen, Device device = Device::cpu());

Tensor classifier_nll(const Tensor& log_probs, const Tensor& labels);
// class_freq (labels) the label frequencies (Σ = 1), used when capped.
Tensor c1_adversarial_loss(const Tensor& log_probs, const Tensor& labels, const Tensor& class_freq, bool capped = true);
Tensor negative_log_unlikelihood(const Tensor& log_probs, const Tensor& labels);
// d_real (B), d_fake (B') scores.
Tensor lsgan_discriminator_loss(const Tensor& d_real, const Tensor& d_fake);
Tensor lsgan_generator_loss(const Tensor& d_fake);
// mu_fake, mu_real (B, Z).
Tensor content_consistency_loss(const Tensor& mu_fake, const Tensor& mu_real);

}  // namespace sakuga::losses
