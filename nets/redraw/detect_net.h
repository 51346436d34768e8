#pragma once
// The redraw detector (redraw.md "Pipeline" 1, docs/redraw.md "Detector"): a CenterNet-style
// single-stage detector of faces and eyes on a torchvision ResNet backbone, output stride 4.
//
//   x (N, 3, H, W) in [0, 1] → ImageNet normalisation → ResNet f1..f4 (strides 4, 8, 16, 32)
//   neck (ours): lateral 1×1 convs on f1..f4 to `neck` channels, top-down nearest ×2 upsample +
//                add (f4 → f3 → f2 → f1), then 3×3 conv + BN + ReLU          → (N, neck, H/4, W/4)
//   heads (CenterNet's): 3×3 conv (neck → head) + ReLU + 1×1 conv, one per output
//     heat   (N, 2, H/4, W/4)  logits of the face (0) and eye (1) centre heat maps; the last
//                              bias starts at −2.19 (sigmoid ≈ 0.1, CenterNet's focal-loss prior)
//     size   (N, 2, H/4, W/4)  log of the box width and height in stride-4 cells (ours, see
//                              detect_loss.h), at the centre cell
//     offset (N, 2, H/4, W/4)  the centre's sub-cell offset in cells, at the centre cell
//
// Checkpoint names: everything under "detector." (backbone.conv1.weight, lat1.weight, smooth.weight,
// heat.0.weight, …), so a torchvision ResNet checkpoint maps onto detector.backbone.*.
#include <memory>
#include <string>

#include "layers/conv.h"
#include "layers/module.h"
#include "layers/norm.h"
#include "layers/sequential.h"
#include "nets/resnet/resnet.h"

namespace sakuga::redraw {

constexpr int64_t kDetectStride = 4;
constexpr int64_t kDetectClasses = 2;  // face, eye (data::redraw::BoxKind order)

struct DetectorConfig {
  int depth = 18;         // ResNet depth: 18 (the spec's) or 34
  int64_t neck = 64;      // neck channels
  int64_t head = 64;      // hidden channels of each head
  double heat_bias = -2.19;
};

struct DetectorOutput {
  Tensor heat, size, offset;  // each (N, 2, H/4, W/4); heat are logits
};

class Detector : public nn::Module {
 public:
  explicit Detector(const DetectorConfig& cfg);
  std::string type_name() const override { return "Detector"; }
  std::string extra_repr() const override;
  // (N, 3, H, W) in [0, 1], H and W multiples of 32.
  DetectorOutput run(const Tensor& x);
  // heat, size and offset concatenated along dim 1: (N, 6, H/4, W/4).
  Tensor forward(const Tensor& x) override;

  DetectorConfig config;
  std::shared_ptr<resnet::ResNet> backbone;
  std::shared_ptr<nn::Conv2d> lat1, lat2, lat3, lat4, smooth;
  std::shared_ptr<nn::BatchNorm2d> smooth_bn;
  std::shared_ptr<nn::Sequential> heat, size, offset;  // "0": 3×3 conv, "1": ReLU, "2": 1×1 conv
  Tensor imagenet_mean, imagenet_std;  // (1, 3, 1, 1) non-persistent buffers
};

}  // namespace sakuga::redraw
