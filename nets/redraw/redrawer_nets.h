#pragma once
// The redrawer's networks (redraw.md 3–5; docs/redraw.md "Redrawer"; ours where the paper is
// silent) and the Gaussian low-pass L_σ of the triple reconstruction loss.
//
// G(l, h, m): a U-Net over x = [l ⊙ (1 − m) ‖ l ‖ m] (7 channels) with a second encoder over the
// guide h fused at the bottleneck:
//   inc      Conv3 7→c, IN, LReLU 0.2                                    S
//   down.i   Conv4 s2 c_{i−1}→c_i, IN, LReLU 0.2   (c_i = c·min(2^i, 8))   S/2^i, i = 1 … L
//   guide    Conv3 3→c, IN, LReLU, then L × [Conv4 s2, IN, LReLU]         S/2^L
//   fuse     Conv1 2c_L→c_L, IN, ReLU                                      [down.L ‖ guide]
//   up.i     nearest ×2, [· ‖ skip_{i−1}], Conv3 c_i + c_{i−1}→c_{i−1}, IN, ReLU   i = L … 1
//   out      Conv1 c→3, sigmoid: g in (0, 1)
// IN: instance norm without affine parameters. The crop side S must be a multiple of 2^L.
//
// D_q, D_c: PatchGAN classifiers (pix2pix's NLayerDiscriminator with a K-way head):
//   Conv4 s2 in→d, LReLU 0.2; (layers − 1) × [Conv4 s2 →d·min(2^n, 8), IN, LReLU];
//   Conv4 s1 →d·min(2^layers, 8), IN, LReLU; Conv4 s1 →K (logits per patch; padding 1 each).
// Weights N(0, 0.02), biases 0 (pix2pix's init), drawn from the default generator.
#include <cstdint>
#include <memory>
#include <vector>

#include "layers/module.h"
#include "layers/sequential.h"

namespace sakuga::redraw {

struct RedrawerNetSettings {
  int64_t channels = 64;     // c: G's first level (redraw.md: 64)
  int64_t levels = 4;        // L: G's down / up levels (redraw.md: 4)
  int64_t d_channels = 64;   // d: the discriminators' first layer
  int64_t d_layers = 3;      // stride-2 layers of each discriminator
};

class RedrawGenerator : public nn::Module {
 public:
  explicit RedrawGenerator(const RedrawerNetSettings& s);
  std::string type_name() const override { return "RedrawGenerator"; }
  // x (B, 10, S, S) = [l ⊙ (1 − m) ‖ l ‖ m ‖ h]: the U-Net input and the guide in one tensor.
  Tensor forward(const Tensor& x) override;
  // l, h (B, 3, S, S), m (B, 1, S, S) → g (B, 3, S, S) in (0, 1).
  Tensor redraw(const Tensor& l, const Tensor& h, const Tensor& m);

  RedrawerNetSettings settings;
  std::shared_ptr<nn::Sequential> inc, guide, fuse, out;
  std::vector<std::shared_ptr<nn::Sequential>> down, up;  // down.1 … down.L; up.1 … up.L
};

class PatchClassifier : public nn::Module {
 public:
  PatchClassifier(int64_t in_channels, int64_t classes, int64_t channels, int64_t layers);
  std::string type_name() const override { return "PatchClassifier"; }
  Tensor forward(const Tensor& x) override;  // (B, in, H, W) → (B, classes, h, w)
  int64_t classes;
  std::shared_ptr<nn::Sequential> model;
};

// L_σ: a separable Gaussian low-pass per channel, radius ⌈3σ⌉, reflect padding; x (B, C, H, W)
// with H, W > radius. Differentiable (two depthwise convolutions).
Tensor gaussian_lowpass(const Tensor& x, double sigma);

}  // namespace sakuga::redraw
