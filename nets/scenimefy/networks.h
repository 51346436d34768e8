#pragma once
// Scenimefy's networks (scenimefy.md "Networks"): CUT's ResnetGenerator with its layer indices and
// parameter names (so a CUT / Scenimefy state_dict loads by name), the anti-aliased PatchGAN
// discriminator (3 or 6 input channels: D and the paired D_p) and PatchSampleF, the per-tap MLP
// heads of the contrastive losses. Any batch, any H and W that are multiples of 4.
#include <cstdint>
#include <memory>
#include <vector>

#include "layers/module.h"
#include "layers/sequential.h"
#include "tensor/ops/shape.h"

namespace sakuga::scenimefy {

// ReflectionPad2d / ReplicationPad2d as a layer of its own (CUT's index 0 is one, and a tap).
class Pad2d : public nn::Module {
 public:
  Pad2d(int64_t pad, ops::PadMode mode) : pad_(pad), mode_(mode) {}
  std::string type_name() const override { return "Pad2d"; }
  Tensor forward(const Tensor& x) override;

 private:
  int64_t pad_;
  ops::PadMode mode_;
};

// Anti-aliased stride-2 downsampling: reflect-pad 1, depthwise ([1,2,1]⊗[1,2,1])/16, stride 2.
// The filter is the fixed buffer "filt" (C, 1, 3, 3), as CUT's Downsample.
class BlurDown : public nn::Module {
 public:
  explicit BlurDown(int64_t channels);
  std::string type_name() const override { return "BlurDown"; }
  Tensor forward(const Tensor& x) override;
  Tensor filt;
};

// Anti-aliased ×2 upsampling: replicate-pad 1, depthwise stride-2 transposed conv with
// ([1,3,3,1]⊗[1,3,3,1])/64·4, padding 2, one row/column cropped at each end → exactly 2H × 2W.
// Buffer "filt" (C, 1, 4, 4), as CUT's Upsample.
class BlurUp : public nn::Module {
 public:
  explicit BlurUp(int64_t channels);
  std::string type_name() const override { return "BlurUp"; }
  Tensor forward(const Tensor& x) override;
  Tensor filt;
};

// x + [ReflPad1, Conv3, IN, ReLU, ReflPad1, Conv3, IN](x); parameters conv_block.1.*, conv_block.5.*.
class ResnetBlock : public nn::Module {
 public:
  explicit ResnetBlock(int64_t dim);
  std::string type_name() const override { return "ResnetBlock"; }
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Sequential> conv_block;
};

struct GeneratorConfig {
  int64_t in_channels = 3, out_channels = 3;
  int64_t ngf = 64;
  int64_t blocks = 9;
};

// CUT's ResnetGenerator (ngf 64, 9 blocks, IN without affine, anti-aliased), as `model.<index>`:
//   0 ReflPad3  1 Conv7 3→ngf  2 IN  3 ReLU  4 Conv3 →2ngf  5 IN  6 ReLU  7 BlurDown
//   8 Conv3 →4ngf  9 IN  10 ReLU  11 BlurDown  12…(12+blocks−1) ResnetBlock(4ngf)
//   then BlurUp, Conv3 →2ngf, IN, ReLU, BlurUp, Conv3 →ngf, IN, ReLU, ReflPad3, Conv7 →3, Tanh.
class ResnetGenerator : public nn::Module {
 public:
  explicit ResnetGenerator(const GeneratorConfig& cfg);
  std::string type_name() const override { return "ResnetGenerator"; }
  Tensor forward(const Tensor& x) override;  // (B, 3, H, W), H and W multiples of 4 → (B, 3, H, W)
  // The outputs of the layers `taps` (increasing indices; CUT's default 0, 4, 8, 12, 16), running
  // the encoder only as far as the last one.
  std::vector<Tensor> encode(const Tensor& x, const std::vector<int64_t>& taps) const;
  // forward(x), also handing out the taps' outputs on the way (the source images' features come
  // from the translation pass itself: one encoder pass per image).
  Tensor forward_with_taps(const Tensor& x, const std::vector<int64_t>& taps, std::vector<Tensor>& feats);
  // Channels of each tap's output (for PatchSampleF).
  std::vector<int64_t> tap_channels(const std::vector<int64_t>& taps) const;
  // Xavier-normal weights (gain 0.02), zero biases (CUT's init_type xavier).
  void init_xavier(double gain = 0.02);

  GeneratorConfig config;
  std::shared_ptr<nn::Sequential> model;

 private:
  std::vector<int64_t> channels_after_;  // output channels of each layer
};

// CUT's anti-aliased NLayerDiscriminator (ndf 64, 3 layers, IN) as `model.<index>`:
//   0 Conv4 →ndf  1 LReLU  2 BlurDown  3 Conv4 →2ndf  4 IN  5 LReLU  6 BlurDown  7 Conv4 →4ndf  8 IN
//   9 LReLU  10 BlurDown  11 Conv4 →8ndf  12 IN  13 LReLU  14 Conv4 →1 (all stride 1, padding 1).
class PatchDiscriminator : public nn::Module {
 public:
  explicit PatchDiscriminator(int64_t in_channels, int64_t ndf = 64, int64_t layers = 3);
  std::string type_name() const override { return "PatchDiscriminator"; }
  Tensor forward(const Tensor& x) override;
  void init_xavier(double gain = 0.02);
  std::shared_ptr<nn::Sequential> model;
};

// PatchSampleF: per tap l an MLP mlp_<l> = Linear(C_l, nc) → ReLU → Linear(nc, nc) (built eagerly
// from the tap widths), applied to the features at the given positions (the same for every image
// of the batch), then L2-normalised: x / (‖x‖ + 1e−7). Rows image-major: (B·P, nc).
class PatchSampleF : public nn::Module {
 public:
  PatchSampleF(const std::vector<int64_t>& tap_channels, int64_t nc = 256);
  std::string type_name() const override { return "PatchSampleF"; }
  Tensor forward(const Tensor& x) override;  // not used: see sample()
  // feats[l] (B, C_l, H_l, W_l); positions[l] (P_l) i32 flat indices h·W_l + w.
  std::vector<Tensor> sample(const std::vector<Tensor>& feats, const std::vector<Tensor>& positions) const;
  void init_xavier(double gain = 0.02);
  std::vector<std::shared_ptr<nn::Sequential>> mlps;
};

// Each row / (‖row‖₂ + 1e−7), x (N, C); an all-zero row stays zero with a finite gradient.
Tensor l2_normalize_rows(const Tensor& x);

}  // namespace sakuga::scenimefy
