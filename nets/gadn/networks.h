#pragma once
// The GADN networks (gadn.md "Networks"; Xiang & Li 2019, Table 1): encoder E, generator G,
// discriminator D, classifiers C1/C2 and the style bank S, in PyTorch state_dict naming.
//
// Residue blocks have ONE convolution on the residual branch, ReLU on the branch, no
// normalisation; kernel = 3 × stride:
//   DownBlock(cin→cout)  conv 6×6 s2 p2 → ReLU;  shortcut: avgpool 2×2, then `shortcut` 1×1
//                        conv when cin ≠ cout;  out = shortcut + branch       (H → H/2)
//   SameBlock(c)         out = x + ReLU(conv 3×3 s1 p1)
//   UpBlock(cin→cout)    convT 6×6 s2 p2 → ReLU (no ReLU for G's last block);  shortcut:
//                        `shortcut` 1×1 conv when cin ≠ cout, then nearest 2× upsample (H → 2H)
// Body (E, D, C): per level DownBlock then SameBlock ("levels.<l>.0", "levels.<l>.1"); then
// flatten → `fc` Linear → ReLU.
//
// Parameter names (each conv / linear has `.weight` and `.bias`):
//   E:  body.levels.<l>.{0,1}.conv, body.levels.<l>.0.shortcut, body.fc, mu, sigma
//   D:  body.…, head (→ 1)          C:  body.…, head (→ #labels)
//   G:  fc1, fc2, levels.<l>.0.conv (Same), levels.<l>.1.conv / .shortcut (Up)
//   S:  mean (labels, Zs), pstd (labels, Zs)
// G's level l mirrors the body's level L−1−l.
//
// Shapes, for NetConfig channels c_1..c_L (level l outputs c_l at R/2^l px; R = 4·2^L):
//   body   (B, A, R, R) → … → (B, c_L, 4, 4) → (B, c_L·16) → (B, fc)    A = 3, or 4 with alpha
//   E      → mu (B, Z), sigma = softplus(·) (B, Z)
//   D      → (B)            C → log-softmax (B, labels)
//   G      (B, Z + Zs) → fc1 → ReLU → (B, fc) → fc2 → ReLU → (B, c_L·16) → (B, c_L, 4, 4) →
//          per level Same(c_l), Up(c_l → c_{l−1}) … Up(c_1 → 3) → tanh → (B, 3, R, R)
//
// Init: PyTorch's defaults (the layers' Kaiming-uniform weights and uniform biases), then every
// conv / linear output filter rescaled to unit norm (×2 for the transposed convs), eps 1e-8;
// each layer is rescaled once, when it is created (layers/init.h unit_norm_filters_).
#include <memory>
#include <string>
#include <vector>

#include "layers/conv.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "tensor/random.h"

namespace sakuga::gadn {

// The sizes of every network of one model. Errors name the config keys (model.*, data.size).
struct NetConfig {
  int64_t size = 32;                            // R: E/D/C input and G output side; 4·2^levels
  std::vector<int64_t> channels{64, 128, 256};  // per level, from the first Down (R/2 px) to 4 px
  int64_t fc = 512;                             // body Linear width (and G's first Linear)
  int64_t z = 64;                               // content code Z
  int64_t zs = 16;                              // style code Zs
  int64_t labels = 16;                          // number of style labels (C1/C2 classes, S rows)
  bool alpha = false;                           // E/D/C see a 4th (alpha) channel; G still draws RGB

  int64_t levels() const { return int64_t(channels.size()); }
  int64_t image_channels() const { return alpha ? 4 : 3; }
  // Throws naming the key when a size is not positive or size ≠ 4·2^levels.
  void validate() const;
};

// Zs for n labels when the image is not 256 px (the code's rule): min(max(min(n/4, 256), 16), n).
int64_t default_style_size(int64_t labels);
// The spec's defaults for R px and n labels:
//   256:     channels 32,64,128,256,512,1024 (paper Table 1), fc 2048, Z 256, Zs 256
//   28, 32:  channels 64,128,256, fc 512, Z 64, Zs = default_style_size(n); size 32 (28-px
//            images are padded to 32)
//   64:      channels 128,256,512,1024, fc 2048, Z 128;  128: 64,128,256,512,1024, fc 2048, Z 128
//            (widths 4096/r at r px, the Table 1 rule; Z as the code's defaults), Zs as above
// Any other size throws (set model.channels, model.fc, model.z).
NetConfig default_net_config(int64_t size, int64_t labels);

// A (mean, σ) pair of codes, each (B, Z).
struct GaussianCode {
  Tensor mean, sigma;
};

class DownBlock : public nn::Module {
 public:
  DownBlock(int64_t cin, int64_t cout);
  std::string type_name() const override { return "DownBlock"; }
  Tensor forward(const Tensor& x) override;    // (B, cin, H, W) → (B, cout, H/2, W/2)
  std::shared_ptr<nn::Conv2d> conv, shortcut;  // shortcut null when cin == cout
};

class SameBlock : public nn::Module {
 public:
  explicit SameBlock(int64_t c);
  std::string type_name() const override { return "SameBlock"; }
  Tensor forward(const Tensor& x) override;  // (B, c, H, W) → same
  std::shared_ptr<nn::Conv2d> conv;
};

class UpBlock : public nn::Module {
 public:
  UpBlock(int64_t cin, int64_t cout, bool relu = true);
  std::string type_name() const override { return "UpBlock"; }
  Tensor forward(const Tensor& x) override;  // (B, cin, H, W) → (B, cout, 2H, 2W)
  std::shared_ptr<nn::ConvTranspose2d> conv;
  std::shared_ptr<nn::Conv2d> shortcut;  // null when cin == cout
  bool relu;
};

// The part E, D, C1 and C2 share. D is initialised from C2's: d.body->load_state_dict(
// c2.body->state_dict()).
class Body : public nn::Module {
 public:
  explicit Body(const NetConfig& cfg);
  std::string type_name() const override { return "Body"; }
  Tensor forward(const Tensor& x) override;  // (B, A, R, R) → (B, fc)
  std::shared_ptr<nn::Sequential> levels;
  std::shared_ptr<nn::Linear> fc;
};

class Encoder : public nn::Module {
 public:
  explicit Encoder(const NetConfig& cfg);
  std::string type_name() const override { return "Encoder"; }
  GaussianCode encode(const Tensor& x);  // (B, A, R, R) → mean, sigma (B, Z)
  std::shared_ptr<Body> body;
  std::shared_ptr<nn::Linear> mu, sigma;  // sigma is softplus of this layer
};

class Discriminator : public nn::Module {
 public:
  explicit Discriminator(const NetConfig& cfg);
  std::string type_name() const override { return "Discriminator"; }
  Tensor forward(const Tensor& x) override;  // (B, A, R, R) → (B) scores
  std::shared_ptr<Body> body;
  std::shared_ptr<nn::Linear> head;
};

class Classifier : public nn::Module {
 public:
  explicit Classifier(const NetConfig& cfg);
  std::string type_name() const override { return "Classifier"; }
  Tensor forward(const Tensor& x) override;  // (B, A, R, R) → (B, labels) log-probabilities
  std::shared_ptr<Body> body;
  std::shared_ptr<nn::Linear> head;
};

// G (named so that it does not hide sakuga::Generator, the random stream).
class ImageGenerator : public nn::Module {
 public:
  explicit ImageGenerator(const NetConfig& cfg);
  std::string type_name() const override { return "ImageGenerator"; }
  // code = [content ‖ style] (B, Z + Zs) → (B, 3, R, R) in [−1, 1].
  Tensor forward(const Tensor& code) override;
  // content (B, Z), style (B, Zs).
  Tensor generate(const Tensor& content, const Tensor& style);
  std::shared_ptr<nn::Linear> fc1, fc2;
  std::shared_ptr<nn::Sequential> levels;
  int64_t top_channels = 0;
};

// S: one Gaussian style code per label: mean m_a (init 0) and σ_a = softplus(p_a) (init
// p = ln(e − 1), σ = 1).
class StyleBank : public nn::Module {
 public:
  explicit StyleBank(const NetConfig& cfg);
  std::string type_name() const override { return "StyleBank"; }
  // labels (B) i32 → the rows m_a, σ_a (B, Zs).
  GaussianCode code(const Tensor& labels) const;
  // Training: m_a + σ_a·ε with ε ~ N(0, I) from gen; evaluation: m_a (gen untouched).
  Tensor sample(const Tensor& labels, sakuga::Generator& gen) const;
  Tensor mean, pstd;  // (labels, Zs)
};

}  // namespace sakuga::gadn
