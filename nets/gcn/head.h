#pragma once
// The Global Convolutional Network head (Peng et al., CVPR 2017) as pinned by
// shared/specs/gcn.md ("Network", Head): GlobalConv blocks on the four backbone stages,
// BoundaryRefine blocks, bilinear upsampling (align_corners = false) back to the input size.
// Parameter names match the PyTorch reference: `gcn1.l1.weight` … `br9.conv2.bias`.
#include <array>
#include <memory>

#include "layers/conv.h"
#include "layers/dropout.h"
#include "layers/module.h"
#include "tensor/random.h"

namespace sakuga::gcn {

// out = l2(l1(x)) + r2(r1(x)) with l1: k×1, l2: 1×k, r1: 1×k, r2: k×1 convolutions (bias, "same"
// padding k/2 on the long axis). No normalisation, no activation.
class GlobalConv : public nn::Module {
 public:
  GlobalConv(int64_t in_channels, int64_t out_channels, int k);
  std::string type_name() const override { return "GlobalConv"; }
  std::string extra_repr() const override;
  Tensor forward(const Tensor& x) override;  // (N, in, H, W) → (N, out, H, W)

  int64_t in_channels, out_channels;
  int k;
  std::shared_ptr<nn::Conv2d> l1, l2, r1, r2;
};

// out = x + conv2(relu(conv1(x))), both 3×3, pad 1, C→C, with bias.
class BoundaryRefine : public nn::Module {
 public:
  explicit BoundaryRefine(int64_t channels);
  std::string type_name() const override { return "BoundaryRefine"; }
  std::string extra_repr() const override;
  Tensor forward(const Tensor& x) override;  // (N, C, H, W) → (N, C, H, W)

  int64_t channels;
  std::shared_ptr<nn::Conv2d> conv1, conv2;
};

// The decoder on the backbone features f1..f4 (strides 4, 8, 16, 32):
//   g4 = br1(gcn4(drop(f4))); g3 = br2(gcn3(drop(f3))); g2 = br3(gcn2(drop(f2))); g1 = br4(gcn1(drop(f1)))
//   s3 = br5(up(g4, size(g3)) + g3); s2 = br6(up(s3, size(g2)) + g2); s1 = br7(up(s2, size(g1)) + g1)
//   s0 = br8(up(s1, (ceil(H/2), ceil(W/2)))); out = br9(up(s0, (H, W)))
// up = bilinear resize, align_corners = false; drop = inverted dropout with probability p in
// training mode only (the `drop` child has no parameters, so nothing in the state_dict).
class GcnHead : public nn::Module {
 public:
  // channels = feature channels of f1..f4 (resnet50/101: 256, 512, 1024, 2048); classes = C;
  // k = GCN kernel size (odd); dropout = p in [0, 1).
  GcnHead(const std::array<int64_t, 4>& channels, int64_t classes, int k, double dropout = 0.0);
  std::string type_name() const override { return "GcnHead"; }
  std::string extra_repr() const override;
  using nn::Module::forward;  // the single-input forward throws: the head takes four features
  // f[i] = f_{i+1}: (N, channels[i], h_i, w_i); returns (N, classes, H, W) logits.
  Tensor forward(const std::array<Tensor, 4>& f, int64_t H, int64_t W);
  Tensor operator()(const std::array<Tensor, 4>& f, int64_t H, int64_t W) { return forward(f, H, W); }
  // Dropout masks come from `gen` (default: the global generator); it must outlive the head.
  void set_generator(Generator* gen) { drop->set_generator(gen); }

  std::array<int64_t, 4> channels;
  int64_t classes;
  int k;
  double dropout;
  std::array<std::shared_ptr<GlobalConv>, 4> gcn;     // gcn1..gcn4
  std::array<std::shared_ptr<BoundaryRefine>, 9> br;  // br1..br9
  std::shared_ptr<nn::Dropout> drop;
};

}  // namespace sakuga::gcn
