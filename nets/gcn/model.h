#pragma once
// The GCN network of gcn.md: ImageNet normalisation of the RGB channels, a torchvision ResNet
// backbone under `backbone.`, and the GCN head with its modules at the top level (`gcn1.l1`,
// `br9.conv2`, ...), so that a PyTorch model with these names loads our weights and agrees.
#include <memory>

#include "nets/gcn/head.h"
#include "nets/resnet/resnet.h"

namespace sakuga::gcn {

// Defaults: the douga demo's network (nets/gcn/config.h binds these to the model.* keys);
// configs/*-thesis.json set the thesis ones (ResNet-101 k 25 cel, ResNet-50 k 49 douga).
struct GcnConfig {
  int backbone = 18;    // 18 | 34 | 50 | 101
  int64_t classes = 10; // 1 (cel) or 10 (douga)
  int k = 7;            // GCN kernel size (odd): thesis 25 (cel), 49 (douga)
  int in_channels = 3;  // 3, or 4 with a cel mask as the 4th channel (left as is)
  double dropout = 0.0; // on each backbone feature, training mode only
};

class GcnNet : public GcnHead {
 public:
  explicit GcnNet(const GcnConfig& cfg);
  std::string type_name() const override { return "GcnNet"; }
  // (N, in_channels, H, W) in [0, 1], H, W ≥ 64 (any parity) → (N, classes, H, W) logits.
  Tensor forward(const Tensor& x) override;
  Tensor operator()(const Tensor& x) { return forward(x); }

  GcnConfig config;
  std::shared_ptr<resnet::ResNet> backbone;
  Tensor imagenet_mean, imagenet_std;  // (1, 3, 1, 1) non-persistent buffers
};

}  // namespace sakuga::gcn
