#pragma once
// A small CNN for Fashion-MNIST (28×28 gray, 10 classes): the framework's end-to-end check.
//   conv3×3(1→c1) BN ReLU maxpool2 → conv3×3(c1→c2) BN ReLU maxpool2   (N, c2, 7, 7)
//   → flatten → linear(c2·49 → hidden) ReLU dropout → linear(hidden → 10)
#include <memory>

#include "layers/conv.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/module.h"
#include "layers/norm.h"

namespace sakuga::fmnist {

struct ModelConfig {
  int64_t c1 = 32, c2 = 64, hidden = 128;
  double dropout = 0.25;
};

class FashionNet : public nn::Module {
 public:
  explicit FashionNet(const ModelConfig& cfg);
  std::string type_name() const override { return "FashionNet"; }
  Tensor forward(const Tensor& x) override;  // (N, 1, 28, 28) in [0, 1] → (N, 10) logits

  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::Linear> fc1, fc2;
  std::shared_ptr<nn::Dropout> drop;
};

}  // namespace sakuga::fmnist
