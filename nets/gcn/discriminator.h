#pragma once
// The optional adversarial douga term (thesis §5.5.2, gcn.md "Losses"): a ResNet-34 that sees a
// douga and says whether it is real (ground truth) or generated, and the four encodings the
// thesis tries for presenting a douga to it.
#include <memory>
#include <string>

#include "layers/linear.h"
#include "nets/resnet/resnet.h"

namespace sakuga::gcn {

// ResNet (torchvision layout, `backbone.`) → global average pool → `fc` (→ 1 logit).
class Discriminator : public nn::Module {
 public:
  Discriminator(int in_channels, int depth = 34);
  std::string type_name() const override { return "Discriminator"; }
  Tensor forward(const Tensor& x) override;  // (N, in_channels, H, W) → (N, 1) logits

  std::shared_ptr<resnet::ResNet> backbone;
  std::shared_ptr<nn::Linear> fc;
};

// How a douga is shown to the discriminator (config loss.adversarial.encoding):
//   color     3 channels: real = palette colour of the class; fake = Σ_c softmax_c · colour_c
//   onehot    10 channels: real = one-hot; fake = the raw logits ("ten-channel image")
//   softmax   10 channels: real = one-hot; fake = softmax of the logits (categorical logits)
//   argmax    10 channels: real = one-hot; fake = one-hot(argmax) with the softmax's gradient
//             (straight-through)
enum class DougaEncoding { color, onehot, softmax, argmax };
DougaEncoding parse_douga_encoding(const std::string& s);  // errors name loss.adversarial.encoding
int encoding_channels(DougaEncoding e);
// logits (N, 10, H, W) → the fake encoding (differentiable).
Tensor encode_generated(DougaEncoding e, const Tensor& logits);
// target (N, H, W) i32 → the real encoding, on target's device.
Tensor encode_real(DougaEncoding e, const Tensor& target);

}  // namespace sakuga::gcn
