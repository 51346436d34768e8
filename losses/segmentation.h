#pragma once
// The segmentation losses of the GCN tasks (gcn.md "Losses"), chosen by the config keys
// loss.kind / loss.gamma / loss.alpha / loss.class_weights.
//   cel   (1 logit):   "bce" | "focal"            target (N, 1, H, W) f32 in {0, 1}
//   douga (C logits):  "ce" | "wce" | "focal"     target (N, H, W) i32 in [0, C)
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::losses {

struct SegLossConfig {
  std::string kind = "focal";
  double gamma = 2.0;
  double alpha = -1.0;                // binary focal only; < 0 = off
  std::vector<double> class_weights;  // wce (required there) and focal (optional); size C
};

// Checks kind against the task ("cel": classes == 1, "douga": classes > 1), gamma ≥ 0,
// alpha in [0, 1] or < 0 meaning off, class_weights empty or of size C with values ≥ 0.
// Throws sakuga::Error naming the config key.
void validate(const SegLossConfig& cfg, int64_t classes);

// Scalar loss, mean over pixels (wce: Σ w_y ℓ / Σ w_y like PyTorch).
Tensor segmentation_loss(const SegLossConfig& cfg, const Tensor& logits, const Tensor& target);

// 1 / frequency of each class, normalised so the weights of the classes present average 1;
// absent classes (count 0) get weight 0. counts.size() = C.
std::vector<double> inverse_frequency_weights(const std::vector<int64_t>& counts);


}  // namespace sakuga::losses
