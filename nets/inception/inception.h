#pragma once
// torchvision's Inception-v3 (torchvision.models.inception.Inception3) up to its 2048-wide global
// average pool, with exactly torchvision's parameter and buffer names (`Conv2d_1a_3x3.conv.weight`,
// `Mixed_5b.branch5x5_1.bn.running_var`, …), so torchvision's weights converted with
// tools/convert_torchvision.py load by name — the pool features behind FID and KID
// (scenimefy.md "Metrics"). The classifier (fc) and AuxLogits are not built; their tensors in a
// converted file are skipped. Eval mode only matters for BatchNorm (eps 0.001).
//
//   Conv 3→32 3×3 s2 · Conv 32→32 3×3 · Conv 32→64 3×3 p1 · MaxPool 3 s2 · Conv 64→80 1×1
//   · Conv 80→192 3×3 · MaxPool 3 s2 · Mixed_5b/5c/5d (A) · 6a (B) · 6b–6e (C) · 7a (D)
//   · 7b/7c (E) · global mean → (N, 2048)
// Each Conv is BasicConv2d: conv (no bias) → BN → ReLU.
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

#include "layers/conv.h"
#include "layers/module.h"
#include "layers/norm.h"

namespace sakuga::inception {

// conv (no bias) → BatchNorm(eps 0.001) → ReLU, as torchvision's BasicConv2d ("conv", "bn").
class BasicConv2d : public nn::Module {
 public:
  BasicConv2d(int64_t in, int64_t out, int kh, int kw, int stride = 1, int pad_h = 0, int pad_w = 0);
  std::string type_name() const override { return "BasicConv2d"; }
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::BatchNorm2d> bn;
};

class InceptionV3 : public nn::Module {
 public:
  InceptionV3();
  std::string type_name() const override { return "InceptionV3"; }
  // x (N, 3, H, W) as the network expects it (torchvision's weights: RGB in [−1, 1], i.e. after
  // its transform_input) → the pool features (N, 2048). H, W ≥ 75.
  Tensor forward(const Tensor& x) override;
  // Images (3, H, W) in [0, 1] of any sizes → each bilinearly resized to 299² (align_corners
  // false), to [−1, 1], forward in batches of `batch` under NoGradGuard → (N, 2048) on the CPU.
  Tensor pool_features(const std::vector<Tensor>& images01, Device dev, int64_t batch = 16);
  // Random weights as torchvision's init (truncated normal σ 0.1, BN 1 / 0) from the default stream.
  void reset_parameters();
};

// The network with a converted torchvision file's weights (fc.* and AuxLogits.* skipped; a
// missing or mis-shaped tensor is an error naming the file and the tensors), in eval mode on dev.
std::shared_ptr<InceptionV3> load_inception(const std::string& file, Device dev);

}  // namespace sakuga::inception
