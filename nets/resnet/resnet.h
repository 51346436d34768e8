#pragma once
// torchvision ResNet v1.5 backbones (resnet18/34/50/101) as sakuga modules, with exactly
// torchvision's parameter and buffer names (`conv1.weight`, `bn1.running_mean`,
// `layer1.0.conv1.weight`, `layer2.0.downsample.0.weight`, `layer2.0.downsample.1.running_var`,
// ...), so a torchvision checkpoint converted by tools/convert_torchvision.py loads by name.
// A backbone: no avgpool / fc.
//
//   conv1 (7×7 s2 p3, no bias) → bn1 → ReLU → maxpool 3×3 s2 p1 → layer1 (f1, stride 4)
//   → layer2 (f2, stride 8) → layer3 (f3, stride 16) → layer4 (f4, stride 32)
//
// BasicBlock (18: [2,2,2,2], 34: [3,4,6,3]) or Bottleneck (50: [3,4,6,3], 101: [3,4,23,3],
// expansion 4, stride on the 3×3 conv2 = v1.5). BatchNorm eps 1e-5, momentum 0.1. Any input
// H, W (odd sizes too); spatial sizes follow PyTorch's floor arithmetic. The input is used as
// given (ImageNet normalisation is the caller's job).
#include <array>
#include <memory>
#include <string>

#include "layers/conv.h"
#include "layers/module.h"
#include "layers/norm.h"
#include "layers/sequential.h"

namespace sakuga::resnet {

struct ResNetConfig {
  int depth = 50;        // 18, 34, 50 or 101
  int in_channels = 3;   // 3, or 4 (RGB + cel mask)
};

// torchvision.models.resnet.BasicBlock: conv3×3(s) BN ReLU conv3×3 BN (+ identity/downsample) ReLU.
class BasicBlock : public nn::Module {
 public:
  static constexpr int64_t expansion = 1;
  BasicBlock(int64_t inplanes, int64_t planes, int stride, bool downsample);
  std::string type_name() const override { return "BasicBlock"; }
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::Sequential> downsample;  // "0": conv1×1(s), "1": BN; null when identity
};

// torchvision.models.resnet.Bottleneck (v1.5): conv1×1 BN ReLU conv3×3(s) BN ReLU conv1×1 BN
// (+ identity/downsample) ReLU; width = planes, output planes·4.
class Bottleneck : public nn::Module {
 public:
  static constexpr int64_t expansion = 4;
  Bottleneck(int64_t inplanes, int64_t planes, int stride, bool downsample);
  std::string type_name() const override { return "Bottleneck"; }
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<nn::Conv2d> conv1, conv2, conv3;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2, bn3;
  std::shared_ptr<nn::Sequential> downsample;
};

class ResNet : public nn::Module {
 public:
  explicit ResNet(const ResNetConfig& cfg);
  std::string type_name() const override { return "ResNet"; }
  std::string extra_repr() const override;

  // Stage outputs f1..f4 (strides 4, 8, 16, 32; channels(0..3)).
  std::array<Tensor, 4> features(const Tensor& x);
  // f4.
  Tensor forward(const Tensor& x) override;
  // Output channels of stage i (0..3): 64/128/256/512, ×4 for bottleneck depths.
  int64_t channels(int i) const;
  bool bottleneck() const { return bottleneck_; }
  // Kaiming-normal (fan_out, relu) convs, BN weight 1 / bias 0, running stats reset
  // (torchvision's init; done by the constructor).
  void reset_parameters();

  ResNetConfig config;
  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::BatchNorm2d> bn1;
  std::array<std::shared_ptr<nn::Sequential>, 4> layers;  // "layer1" .. "layer4"

 private:
  bool bottleneck_ = false;
};

// Loads a torchvision ResNet state_dict saved as safetensors (tools/convert_torchvision.py):
// by name, `fc.*` ignored, num_batches_tracked optional. For in_channels = 4 the checkpoint's
// 3-channel conv1.weight is copied into input channels 0..2 and channel 3 is zeroed. Errors
// (naming the file) list every missing, unexpected and mis-shaped tensor.
void load_torchvision_weights(ResNet& net, const std::string& safetensors_path);

}  // namespace sakuga::resnet
