#pragma once
// Adversarial losses on discriminator outputs (logits or scores, any shape — patch
// discriminators give maps), each the mean over all elements:
//
//   non-saturating (Goodfellow et al. 2014)  D: softplus(−real) + softplus(fake)
//                                            G: softplus(−fake)
//   LSGAN (Mao et al. 2017, as CUT/CycleGAN)  D: ½·[(real − 1)² + fake²]
//                                            G: (fake − 1)²
//   hinge (Lim & Ye 2017, SAGAN)             D: relu(1 − real) + relu(1 + fake)
//                                            G: −fake
// Each D loss averages its real and fake terms separately before adding them, so real and fake
// batches may differ in size.
#include <string>

#include "tensor/tensor.h"

namespace sakuga::losses {

enum class GanLoss { nonsaturating, lsgan, hinge };
// "nonsaturating" (also "vanilla"), "lsgan", "hinge"; errors name `key`.
GanLoss parse_gan_loss(const std::string& s, const std::string& key = "gan loss");

Tensor gan_d_loss(GanLoss kind, const Tensor& real, const Tensor& fake);
Tensor gan_g_loss(GanLoss kind, const Tensor& fake);

// The non-saturating pair (kept short for the gcn adversarial term).
inline Tensor gan_d_loss(const Tensor& real, const Tensor& fake) {
  return gan_d_loss(GanLoss::nonsaturating, real, fake);
}
inline Tensor gan_g_loss(const Tensor& fake) { return gan_g_loss(GanLoss::nonsaturating, fake); }

}  // namespace sakuga::losses
