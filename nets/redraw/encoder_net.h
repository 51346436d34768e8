#pragma once
// The style-aware encoder E(x, p) = A(p)·c(x) + b(p), L2-normalised (redraw.md "Style-aware
// clustering"; the affine map's form and the production encoder's layers are ours):
//
//   content     c(x): torchvision-named ResNet-18 (nets/resnet) on the face crop (ImageNet
//               normalisation of x ∈ [0, 1]), global average pool of f4 (512), Linear 512 → 128
//   production  a small conv net over each style reference r (2r − 1): four 3×3 stride-2 convs
//               (w, 2w, 4w, 4w channels, ReLU), global average pool → g(r) (4w); the mean of g
//               over the references of one production → Linear 4w → 2·128 = (a, b) with
//               A = 1 + tanh(a): a diagonal scale in (0, 2). Bounded, never flips or kills the
//               sign of a content dimension, and — the head is zero-initialised — E starts as
//               the identity map of c (A = 1, b = 0). exp(a) would be unbounded above and lets
//               one production blow up single dimensions; tanh keeps the map well conditioned.
//
// Checkpoint names (pinned prefix `encoder.`): encoder.content.backbone.* (torchvision names,
// e.g. encoder.content.backbone.layer1.0.conv1.weight), encoder.content.fc.*,
// encoder.production.convs.{0,2,4,6}.*, encoder.production.head.*.
#include <cstdint>
#include <memory>

#include "layers/linear.h"
#include "layers/module.h"
#include "layers/sequential.h"
#include "nets/resnet/resnet.h"

namespace sakuga::redraw {

struct EncoderNetConfig {
  int64_t embedding = 128;       // the width of c, A, b and E
  int64_t production_width = 32; // w of the production encoder's first conv
};

class ContentEncoder : public nn::Module {
 public:
  explicit ContentEncoder(int64_t embedding);
  std::string type_name() const override { return "ContentEncoder"; }
  // x (N, 3, S, S) in [0, 1] → c(x) (N, embedding), not normalised.
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<resnet::ResNet> backbone;
  std::shared_ptr<nn::Linear> fc;
};

class ProductionEncoder : public nn::Module {
 public:
  ProductionEncoder(int64_t width, int64_t embedding);
  std::string type_name() const override { return "ProductionEncoder"; }
  // g(r) of style references r (M, 3, S, S) in [0, 1] → (M, 4w).
  Tensor features(const Tensor& refs);
  // The mean of g over dim 1 of (N, R, 4w) → (A, b), each (N, embedding).
  std::pair<Tensor, Tensor> affine(const Tensor& features);
  int64_t feature_width() const { return 4 * width_; }

  std::shared_ptr<nn::Sequential> convs;
  std::shared_ptr<nn::Linear> head;

 private:
  int64_t width_, embedding_;
};

class StyleEncoder : public nn::Module {
 public:
  explicit StyleEncoder(const EncoderNetConfig& cfg);
  std::string type_name() const override { return "StyleEncoder"; }
  // E(x, p): x (N, 3, S, S), refs (N, R, 3, S', S') — R references of each crop's production →
  // (N, embedding) unit rows.
  Tensor embed(const Tensor& x, const Tensor& refs);
  // The same from c(x) (N, E) and the references' features (N, R, 4w).
  Tensor embed_from(const Tensor& c, const Tensor& ref_features);
  // The baseline: normalised c(x) alone (the affine map ablated).
  Tensor baseline(const Tensor& x);

  EncoderNetConfig config;
  std::shared_ptr<ContentEncoder> content;
  std::shared_ptr<ProductionEncoder> production;
};

}  // namespace sakuga::redraw
