// Scenimefy's networks (networks.h): CUT's generator, discriminator and patch heads.
#include "nets/scenimefy/networks.h"

#include "layers/activation.h"
#include "layers/conv.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/norm.h"
#include "tensor/ops.h"

namespace sakuga::scenimefy {

namespace {

// a ⊗ a / Σ, repeated over `channels` as (channels, 1, k, k), times `scale`.
Tensor blur_filter(const std::vector<float>& a, int64_t channels, double scale) {
  const int64_t k = int64_t(a.size());
  double total = 0;
  for (float x : a)
    for (float y : a) total += double(x) * double(y);
  std::vector<float> f;
  for (int64_t c = 0; c < channels; ++c)
    for (float x : a)
      for (float y : a) f.push_back(float(double(x) * double(y) / total * scale));
  return Tensor::from_vector(f, {channels, 1, k, k});
}

std::shared_ptr<nn::Conv2d> conv(int64_t in, int64_t out, int k, int pad) {
  return std::make_shared<nn::Conv2d>(in, out, k, 1, pad, true);
}

void xavier_all(nn::Module& net, double gain) {
  for (auto& [name, mod] : net.named_modules()) {
    if (auto* c = dynamic_cast<nn::Conv2d*>(mod)) {
      nn::init::xavier_normal_(c->weight, gain);
      if (c->bias.defined()) c->bias.zero_();
    } else if (auto* l = dynamic_cast<nn::Linear*>(mod)) {
      nn::init::xavier_normal_(l->weight, gain);
      if (l->bias.defined()) l->bias.zero_();
    }
  }
}

}  // namespace

Tensor Pad2d::forward(const Tensor& x) { return ops::pad(x, {pad_, pad_, pad_, pad_}, mode_); }

BlurDown::BlurDown(int64_t channels) { filt = register_buffer("filt", blur_filter({1, 2, 1}, channels, 1.0)); }

Tensor BlurDown::forward(const Tensor& x) {
  ops::Conv2dParams p;
  p.stride_h = p.stride_w = 2;
  p.groups = int(x.size(1));
  return ops::conv2d(ops::pad(x, {1, 1, 1, 1}, ops::PadMode::reflect), filt.to(x.dtype()), Tensor(), p);
}

BlurUp::BlurUp(int64_t channels) { filt = register_buffer("filt", blur_filter({1, 3, 3, 1}, channels, 4.0)); }

Tensor BlurUp::forward(const Tensor& x) {
  ops::ConvTranspose2dParams p;
  p.stride_h = p.stride_w = 2;
  p.pad_h = p.pad_w = 2;
  p.groups = int(x.size(1));
  Tensor y = ops::conv_transpose2d(ops::pad(x, {1, 1, 1, 1}, ops::PadMode::replicate), filt.to(x.dtype()), Tensor(), p);
  // (2H + 2) × (2W + 2) → 2H × 2W: CUT crops one row/column at the start, then one at the end.
  y = ops::slice(y, 2, 1, y.size(2) - 1);
  return ops::slice(y, 3, 1, y.size(3) - 1);
}

ResnetBlock::ResnetBlock(int64_t dim) {
  conv_block = register_module("conv_block", std::make_shared<nn::Sequential>());
  conv_block->push_back(std::make_shared<Pad2d>(1, ops::PadMode::reflect));
  conv_block->push_back(conv(dim, dim, 3, 0));
  conv_block->push_back(std::make_shared<nn::InstanceNorm2d>(dim));
  conv_block->push_back(std::make_shared<nn::ReLU>());
  conv_block->push_back(std::make_shared<Pad2d>(1, ops::PadMode::reflect));
  conv_block->push_back(conv(dim, dim, 3, 0));
  conv_block->push_back(std::make_shared<nn::InstanceNorm2d>(dim));
}

Tensor ResnetBlock::forward(const Tensor& x) { return x + (*conv_block)(x); }

ResnetGenerator::ResnetGenerator(const GeneratorConfig& cfg) : config(cfg) {
  SAKUGA_CHECK(cfg.ngf > 0 && cfg.blocks >= 0 && cfg.in_channels > 0 && cfg.out_channels > 0,
               "ResnetGenerator: expected positive widths and blocks >= 0");
  model = register_module("model", std::make_shared<nn::Sequential>());
  auto add = [&](std::shared_ptr<nn::Module> m, int64_t channels) {
    model->push_back(std::move(m));
    channels_after_.push_back(channels);
  };
  const int64_t g = cfg.ngf;
  add(std::make_shared<Pad2d>(3, ops::PadMode::reflect), cfg.in_channels);  // 0
  add(conv(cfg.in_channels, g, 7, 0), g);                                   // 1
  add(std::make_shared<nn::InstanceNorm2d>(g), g);
  add(std::make_shared<nn::ReLU>(), g);
  for (int64_t mult : {1, 2}) {  // 4–7 and 8–11
    const int64_t c = g * mult * 2;
    add(conv(g * mult, c, 3, 1), c);
    add(std::make_shared<nn::InstanceNorm2d>(c), c);
    add(std::make_shared<nn::ReLU>(), c);
    add(std::make_shared<BlurDown>(c), c);
  }
  for (int64_t b = 0; b < cfg.blocks; ++b) add(std::make_shared<ResnetBlock>(g * 4), g * 4);  // 12…
  for (int64_t mult : {4, 2}) {
    const int64_t c = g * mult / 2;
    add(std::make_shared<BlurUp>(g * mult), g * mult);
    add(conv(g * mult, c, 3, 1), c);
    add(std::make_shared<nn::InstanceNorm2d>(c), c);
    add(std::make_shared<nn::ReLU>(), c);
  }
  add(std::make_shared<Pad2d>(3, ops::PadMode::reflect), g);
  add(conv(g, cfg.out_channels, 7, 0), cfg.out_channels);
  add(std::make_shared<nn::Tanh>(), cfg.out_channels);
  init_xavier();
}

Tensor ResnetGenerator::forward(const Tensor& x) {
  SAKUGA_CHECK(x.dim() == 4 && x.size(1) == config.in_channels, "ResnetGenerator: expected (B, ",
               config.in_channels, ", H, W), got ", shape_str(x.shape()));
  SAKUGA_CHECK(x.size(2) % 4 == 0 && x.size(3) % 4 == 0, "ResnetGenerator: H and W must be multiples of 4, got ",
               x.size(2), "x", x.size(3));
  return (*model)(x);
}

Tensor ResnetGenerator::forward_with_taps(const Tensor& x, const std::vector<int64_t>& taps, std::vector<Tensor>& feats) {
  SAKUGA_CHECK(x.dim() == 4 && x.size(1) == config.in_channels && x.size(2) % 4 == 0 && x.size(3) % 4 == 0,
               "ResnetGenerator: expected (B, ", config.in_channels, ", H, W) with H, W multiples of 4, got ",
               shape_str(x.shape()));
  feats.clear();
  Tensor h = x;
  size_t next = 0;
  for (size_t l = 0; l < model->size(); ++l) {
    h = (*model)[l](h);
    if (next < taps.size() && int64_t(l) == taps[next]) {
      feats.push_back(h);
      ++next;
    }
  }
  SAKUGA_CHECK(next == taps.size(), "ResnetGenerator::forward_with_taps: taps must be increasing layer indices below ",
               model->size());
  return h;
}

std::vector<Tensor> ResnetGenerator::encode(const Tensor& x, const std::vector<int64_t>& taps) const {
  SAKUGA_CHECK(!taps.empty(), "ResnetGenerator::encode: no taps");
  for (size_t i = 0; i < taps.size(); ++i)
    SAKUGA_CHECK(taps[i] >= 0 && taps[i] < int64_t(model->size()) && (i == 0 || taps[i] > taps[i - 1]),
                 "ResnetGenerator::encode: taps must be increasing layer indices below ", model->size());
  std::vector<Tensor> feats;
  Tensor h = x;
  size_t next = 0;
  for (int64_t l = 0; l <= taps.back(); ++l) {
    h = (*model)[size_t(l)](h);
    if (l == taps[next]) {
      feats.push_back(h);
      ++next;
    }
  }
  return feats;
}

std::vector<int64_t> ResnetGenerator::tap_channels(const std::vector<int64_t>& taps) const {
  std::vector<int64_t> c;
  for (int64_t t : taps) c.push_back(channels_after_.at(size_t(t)));
  return c;
}

void ResnetGenerator::init_xavier(double gain) { xavier_all(*this, gain); }

PatchDiscriminator::PatchDiscriminator(int64_t in_channels, int64_t ndf, int64_t layers) {
  model = register_module("model", std::make_shared<nn::Sequential>());
  model->push_back(conv(in_channels, ndf, 4, 1));
  model->push_back(std::make_shared<nn::LeakyReLU>(0.2));
  model->push_back(std::make_shared<BlurDown>(ndf));
  int64_t mult = 1;
  for (int64_t n = 1; n <= layers; ++n) {
    const int64_t prev = mult;
    mult = std::min<int64_t>(int64_t(1) << n, 8);
    model->push_back(conv(ndf * prev, ndf * mult, 4, 1));
    model->push_back(std::make_shared<nn::InstanceNorm2d>(ndf * mult));
    model->push_back(std::make_shared<nn::LeakyReLU>(0.2));
    if (n < layers) model->push_back(std::make_shared<BlurDown>(ndf * mult));
  }
  model->push_back(conv(ndf * mult, 1, 4, 1));
  init_xavier();
}

Tensor PatchDiscriminator::forward(const Tensor& x) { return (*model)(x); }
void PatchDiscriminator::init_xavier(double gain) { xavier_all(*this, gain); }

PatchSampleF::PatchSampleF(const std::vector<int64_t>& tap_channels, int64_t nc) {
  for (size_t l = 0; l < tap_channels.size(); ++l) {
    auto mlp = register_module("mlp_" + std::to_string(l), std::make_shared<nn::Sequential>());
    mlp->push_back(std::make_shared<nn::Linear>(tap_channels[l], nc));
    mlp->push_back(std::make_shared<nn::ReLU>());
    mlp->push_back(std::make_shared<nn::Linear>(nc, nc));
    mlps.push_back(mlp);
  }
  init_xavier();
}

Tensor PatchSampleF::forward(const Tensor&) { SAKUGA_FAIL("PatchSampleF: call sample(feats, positions)"); }

std::vector<Tensor> PatchSampleF::sample(const std::vector<Tensor>& feats, const std::vector<Tensor>& positions) const {
  SAKUGA_CHECK(feats.size() == mlps.size() && positions.size() == mlps.size(), "PatchSampleF: expected ",
               mlps.size(), " taps and position lists, got ", feats.size(), " and ", positions.size());
  std::vector<Tensor> out;
  for (size_t l = 0; l < feats.size(); ++l) {
    const Tensor& f = feats[l];  // (B, C, H, W)
    const int64_t B = f.size(0), C = f.size(1);
    Tensor rows = ops::permute(ops::flatten(f, 2), {0, 2, 1});       // (B, HW, C)
    Tensor picked = ops::index_select(rows, 1, positions[l]);       // (B, P, C)
    Tensor x = ops::reshape(picked, {B * positions[l].numel(), C});  // image-major rows
    out.push_back(l2_normalize_rows((*mlps[l])(x)));
  }
  return out;
}

void PatchSampleF::init_xavier(double gain) { xavier_all(*this, gain); }

Tensor l2_normalize_rows(const Tensor& x) {
  // The squared norm is clamped at 1e-30 before the root: the same value as CUT's formula for
  // every row that is not exactly zero, and a finite gradient for one that is (an MLP row whose
  // hidden units are all dead at zero-initialised biases; there √'s derivative is infinite and
  // CUT's backward gives 0·∞ = NaN).
  Tensor norm = ops::sqrt(ops::clamp(ops::sum(ops::square(x), {1}, true), 1e-30, 1e30));
  return x / ops::add(norm, 1e-7);
}

}  // namespace sakuga::scenimefy
