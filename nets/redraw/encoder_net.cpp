#include "nets/redraw/encoder_net.h"

#include "kernels/common.h"
#include "layers/activation.h"
#include "layers/conv.h"
#include "layers/init.h"
#include "losses/triplet.h"
#include "tensor/ops.h"

namespace sakuga::redraw {

ContentEncoder::ContentEncoder(int64_t embedding) {
  backbone = register_module("backbone", std::make_shared<resnet::ResNet>(resnet::ResNetConfig{18, 3}));
  fc = register_module("fc", std::make_shared<nn::Linear>(backbone->channels(3), embedding));
}

Tensor ContentEncoder::forward(const Tensor& x) {
  SAKUGA_CHECK(x.dim() == 4 && x.size(1) == 3, "ContentEncoder: expected crops (N, 3, S, S), got ",
               shape_str(x.shape()));
  static const std::vector<float> mean{0.485f, 0.456f, 0.406f}, inv_std{1 / 0.229f, 1 / 0.224f, 1 / 0.225f};
  Tensor m = Tensor::from_vector(mean, {1, 3, 1, 1}, x.dtype(), x.device());
  Tensor s = Tensor::from_vector(inv_std, {1, 3, 1, 1}, x.dtype(), x.device());
  Tensor f4 = (*backbone)((x - m) * s);         // (N, 512, S/32, S/32)
  return (*fc)(ops::mean(f4, {2, 3}, false));   // (N, embedding)
}

ProductionEncoder::ProductionEncoder(int64_t width, int64_t embedding) : width_(width), embedding_(embedding) {
  SAKUGA_CHECK(width >= 1 && embedding >= 1, "ProductionEncoder: width and embedding must be positive");
  convs = register_module("convs", std::make_shared<nn::Sequential>());
  const int64_t ch[5] = {3, width, 2 * width, 4 * width, 4 * width};
  for (int i = 0; i < 4; ++i) {
    convs->push_back(std::make_shared<nn::Conv2d>(ch[i], ch[i + 1], 3, 2, 1));
    convs->push_back(std::make_shared<nn::ReLU>());
  }
  head = register_module("head", std::make_shared<nn::Linear>(4 * width, 2 * embedding));
  nn::init::zeros_(head->weight);  // E starts as the identity map of c: A = 1, b = 0
  nn::init::zeros_(head->bias);
}

Tensor ProductionEncoder::features(const Tensor& refs) {
  SAKUGA_CHECK(refs.dim() == 4 && refs.size(1) == 3, "ProductionEncoder: expected references (M, 3, S, S), got ",
               shape_str(refs.shape()));
  return ops::mean((*convs)(refs * 2.0 - 1.0), {2, 3}, false);  // (M, 4w)
}

std::pair<Tensor, Tensor> ProductionEncoder::affine(const Tensor& feat) {
  SAKUGA_CHECK(feat.dim() == 3 && feat.size(2) == 4 * width_, "ProductionEncoder: expected features (N, R, ",
               4 * width_, "), got ", shape_str(feat.shape()));
  Tensor ab = (*head)(ops::mean(feat, {1}, false));  // (N, 2E)
  Tensor a = ops::slice(ab, 1, 0, embedding_), b = ops::slice(ab, 1, embedding_, 2 * embedding_);
  return {ops::tanh(a) + 1.0, b};
}

StyleEncoder::StyleEncoder(const EncoderNetConfig& cfg) : config(cfg) {
  content = register_module("content", std::make_shared<ContentEncoder>(cfg.embedding));
  production = register_module("production", std::make_shared<ProductionEncoder>(cfg.production_width, cfg.embedding));
}

Tensor StyleEncoder::embed_from(const Tensor& c, const Tensor& ref_features) {
  auto [A, b] = production->affine(ref_features);
  return losses::l2_normalize(A * c + b);
}

Tensor StyleEncoder::embed(const Tensor& x, const Tensor& refs) {
  SAKUGA_CHECK(refs.dim() == 5 && refs.size(0) == x.size(0) && refs.size(2) == 3,
               "StyleEncoder: expected references (N, R, 3, S, S) for ", x.size(0), " crops, got ",
               shape_str(refs.shape()));
  const int64_t n = refs.size(0), r = refs.size(1);
  Tensor flat = ops::reshape(refs, {n * r, 3, refs.size(3), refs.size(4)});
  Tensor g = ops::reshape(production->features(flat), {n, r, production->feature_width()});
  return embed_from((*content)(x), g);
}

Tensor StyleEncoder::baseline(const Tensor& x) { return losses::l2_normalize((*content)(x)); }

}  // namespace sakuga::redraw
