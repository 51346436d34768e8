#include "nets/gcn/discriminator.h"

#include <map>
#include <mutex>
#include <string>

#include "data/gcn/douga.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"

namespace sakuga::gcn {

Discriminator::Discriminator(int in_channels, int depth) {
  backbone = register_module("backbone", std::make_shared<resnet::ResNet>(resnet::ResNetConfig{depth, in_channels}));
  fc = register_module("fc", std::make_shared<nn::Linear>(backbone->channels(3), 1));
}

Tensor Discriminator::forward(const Tensor& x) {
  Tensor f4 = backbone->forward(x);           // (N, C4, h, w)
  return (*fc)(ops::mean(f4, {2, 3}));        // (N, C4) → (N, 1)
}

DougaEncoding parse_douga_encoding(const std::string& s) {
  if (s == "color") return DougaEncoding::color;
  if (s == "onehot") return DougaEncoding::onehot;
  if (s == "softmax") return DougaEncoding::softmax;
  if (s == "argmax") return DougaEncoding::argmax;
  SAKUGA_FAIL("config loss.adversarial.encoding: expected color, onehot, softmax or argmax, got '", s, "'");
}

int encoding_channels(DougaEncoding e) { return e == DougaEncoding::color ? 3 : data::kDougaClasses; }

namespace {

// The palette as a 1×1 convolution weight (3, 10, 1, 1): class probabilities → RGB. A
// constant, so it is built and uploaded once per device, not in every adversarial step.
Tensor palette_weight(Device dev) {
  static std::mutex mu;
  static auto* cache = new std::map<std::string, Tensor>();  // by device; never destroyed (see runtime.cu)
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache->find(dev.str());
  if (it != cache->end()) return it->second;
  std::vector<float> w(3 * data::kDougaClasses);
  for (int c = 0; c < data::kDougaClasses; ++c) {
    const data::Rgb rgb = data::douga_colors(c)[0];
    w[size_t(0 * data::kDougaClasses + c)] = float(rgb.r) / 255.f;
    w[size_t(1 * data::kDougaClasses + c)] = float(rgb.g) / 255.f;
    w[size_t(2 * data::kDougaClasses + c)] = float(rgb.b) / 255.f;
  }
  Tensor t = Tensor::from_vector(w, {3, data::kDougaClasses, 1, 1}).to(dev);
  cache->emplace(dev.str(), t);
  return t;
}

// (N, H, W) i32 → (N, 10, H, W) f32 one-hot.
Tensor one_hot_nchw(const Tensor& labels) {
  return ops::permute(ops::one_hot(labels, data::kDougaClasses), {0, 3, 1, 2}).contiguous();
}

}  // namespace

Tensor encode_generated(DougaEncoding e, const Tensor& logits) {
  switch (e) {
    case DougaEncoding::onehot: return logits;
    case DougaEncoding::softmax: return ops::softmax(logits, 1);
    case DougaEncoding::color:
      return ops::conv2d(ops::softmax(logits, 1), palette_weight(logits.device()), Tensor(), ops::Conv2dParams{});
    case DougaEncoding::argmax: {
      Tensor soft = ops::softmax(logits, 1);
      Tensor hard;
      {
        NoGradGuard ng;
        hard = one_hot_nchw(ops::argmax(logits, 1));
      }
      return soft + (hard - soft.detach());  // forward: hard; gradient: the softmax's
    }
  }
  SAKUGA_FAIL("encode_generated: unknown encoding");
}

Tensor encode_real(DougaEncoding e, const Tensor& target) {
  NoGradGuard ng;
  Tensor oh = one_hot_nchw(target);
  if (e == DougaEncoding::color) return ops::conv2d(oh, palette_weight(target.device()), Tensor(), ops::Conv2dParams{});
  return oh;
}

}  // namespace sakuga::gcn
