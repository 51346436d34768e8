#include "nets/gcn/model.h"

#include "tensor/ops.h"

namespace sakuga::gcn {

namespace {

std::array<int64_t, 4> backbone_channels(int depth) {
  const int64_t m = depth >= 50 ? 4 : 1;  // bottleneck blocks expand ×4
  return {64 * m, 128 * m, 256 * m, 512 * m};
}

}  // namespace

GcnNet::GcnNet(const GcnConfig& cfg)
    : GcnHead(backbone_channels(cfg.backbone), cfg.classes, cfg.k, cfg.dropout), config(cfg) {
  SAKUGA_CHECK(cfg.in_channels == 3 || cfg.in_channels == 4, "model.in_channels: expected 3 or 4, got ",
               cfg.in_channels);
  backbone = register_module("backbone", std::make_shared<resnet::ResNet>(resnet::ResNetConfig{cfg.backbone, cfg.in_channels}));
  // Not part of the state_dict; moved with the module by to().
  imagenet_mean = register_buffer("imagenet_mean", Tensor::from_vector({0.485f, 0.456f, 0.406f}, {1, 3, 1, 1}), /*persistent=*/false);
  imagenet_std = register_buffer("imagenet_std", Tensor::from_vector({0.229f, 0.224f, 0.225f}, {1, 3, 1, 1}), /*persistent=*/false);
}

Tensor GcnNet::forward(const Tensor& x) {
  SAKUGA_CHECK(x.dim() == 4 && x.size(1) == config.in_channels, "GcnNet: expected input (N, ", config.in_channels,
               ", H, W), got ", shape_str(x.shape()));
  const int64_t H = x.size(2), W = x.size(3);
  SAKUGA_CHECK(H >= 64 && W >= 64, "GcnNet: frames must be at least 64×64, got ", H, "×", W);
  // Normalise RGB; a 4th channel (cel mask in {0, 1}) passes through unchanged.
  Tensor rgb = (ops::slice(x, 1, 0, 3) - imagenet_mean) / imagenet_std;
  Tensor input = config.in_channels == 3 ? rgb : ops::concat({rgb, ops::slice(x, 1, 3, 4)}, 1);
  return GcnHead::forward(backbone->features(input), H, W);
}

}  // namespace sakuga::gcn
