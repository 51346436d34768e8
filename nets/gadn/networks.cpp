#include "nets/gadn/networks.h"

#include <algorithm>
#include <cmath>

#include "layers/init.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/gadn.h"
#include "tensor/ops/pool.h"
#include "tensor/ops/reduce.h"
#include "tensor/ops/shape.h"
#include "tensor/ops/view.h"

namespace sakuga::gadn {

namespace {

// ln(e − 1): softplus of it is 1 (the style bank's initial σ).
const double kInitPstd = std::log(std::exp(1.0) - 1.0);

// Layers with PyTorch's default init, then unit-norm output filters (gadn.md "Init").
std::shared_ptr<nn::Conv2d> unit_conv(int64_t cin, int64_t cout, int kernel, int stride, int padding) {
  auto c = std::make_shared<nn::Conv2d>(cin, cout, kernel, stride, padding);
  nn::init::unit_norm_filters_(c->weight, 0);
  return c;
}
// The transposed conv's filters (dim 1 of (Cin, Cout, kh, kw)) get norm √(stride²) = 2.
std::shared_ptr<nn::ConvTranspose2d> unit_conv_transpose(int64_t cin, int64_t cout) {
  auto c = std::make_shared<nn::ConvTranspose2d>(cin, cout, 6, 2, 2);
  nn::init::unit_norm_filters_(c->weight, 1, 2.0);
  return c;
}
std::shared_ptr<nn::Linear> unit_linear(int64_t in, int64_t out) {
  auto l = std::make_shared<nn::Linear>(in, out);
  nn::init::unit_norm_filters_(l->weight, 0);
  return l;
}

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

}  // namespace

// --- config ---------------------------------------------------------------------------------

void NetConfig::validate() const {
  SAKUGA_CHECK(!channels.empty(), "config model.channels: expected at least one level, got an empty list");
  for (size_t l = 0; l < channels.size(); ++l)
    SAKUGA_CHECK(channels[l] > 0, "config model.channels: level ", l, " has ", channels[l], " channels (expected > 0)");
  SAKUGA_CHECK(levels() < 30, "config model.channels: ", levels(), " levels is too many");
  const int64_t expect = int64_t(4) << levels();
  SAKUGA_CHECK(size == expect, "config data.size: ", size, " px does not fit ", levels(),
               " levels of model.channels (each level halves the side down to 4 px: expected size ", expect, ")");
  SAKUGA_CHECK(fc > 0, "config model.fc: expected > 0, got ", fc);
  SAKUGA_CHECK(z > 0, "config model.z: expected > 0, got ", z);
  SAKUGA_CHECK(zs > 0, "config model.zs: expected > 0, got ", zs);
  SAKUGA_CHECK(labels > 0, "gadn: the number of style labels must be > 0, got ", labels);
}

int64_t default_style_size(int64_t labels) {
  SAKUGA_CHECK(labels > 0, "gadn: the number of style labels must be > 0, got ", labels);
  return std::min(std::max<int64_t>(std::min<int64_t>(labels / 4, 256), 16), labels);
}

NetConfig default_net_config(int64_t size, int64_t labels) {
  NetConfig c;
  c.labels = labels;
  c.zs = default_style_size(labels);
  if (size == 28 || size == 32) {
    c.size = 32;
    c.channels = {64, 128, 256};
    c.fc = 512;
    c.z = 64;
  } else if (size == 64 || size == 128 || size == 256) {
    c.size = size;
    c.channels.clear();
    for (int64_t r = size / 2; r >= 4; r /= 2) c.channels.push_back(4096 / r);  // 32 channels at 128 px …
    c.fc = 2048;
    c.z = size == 256 ? 256 : 128;
    if (size == 256) c.zs = 256;
  } else {
    SAKUGA_FAIL("gadn: no default network for data.size ", size,
                " (defaults exist for 32 (28 padded), 64, 128 and 256 px; set model.channels, model.fc and model.z)");
  }
  SAKUGA_CHECK(is_power_of_two(c.size / 4), "gadn: internal: size ", c.size);
  return c;
}

// --- blocks ---------------------------------------------------------------------------------

DownBlock::DownBlock(int64_t cin, int64_t cout) {
  conv = register_module("conv", unit_conv(cin, cout, 6, 2, 2));
  if (cin != cout) shortcut = register_module("shortcut", unit_conv(cin, cout, 1, 1, 0));
}

Tensor DownBlock::forward(const Tensor& x) {
  Tensor s = ops::avg_pool2d(x, ops::Pool2dParams{});  // 2×2, stride 2
  if (shortcut) s = (*shortcut)(s);
  return s + ops::relu((*conv)(x));
}

SameBlock::SameBlock(int64_t c) { conv = register_module("conv", unit_conv(c, c, 3, 1, 1)); }

Tensor SameBlock::forward(const Tensor& x) { return x + ops::relu((*conv)(x)); }

UpBlock::UpBlock(int64_t cin, int64_t cout, bool with_relu) : relu(with_relu) {
  conv = register_module("conv", unit_conv_transpose(cin, cout));
  if (cin != cout) shortcut = register_module("shortcut", unit_conv(cin, cout, 1, 1, 0));
}

Tensor UpBlock::forward(const Tensor& x) {
  Tensor s = shortcut ? (*shortcut)(x) : x;
  s = ops::resize_nearest(s, 2 * x.size(2), 2 * x.size(3));
  Tensor branch = (*conv)(x);
  return s + (relu ? ops::relu(branch) : branch);
}

// --- networks -------------------------------------------------------------------------------

Body::Body(const NetConfig& cfg) {
  cfg.validate();
  levels = register_module("levels", std::make_shared<nn::Sequential>());
  int64_t cin = cfg.image_channels();
  for (int64_t c : cfg.channels) {
    auto level = std::make_shared<nn::Sequential>();
    level->push_back(std::make_shared<DownBlock>(cin, c));
    level->push_back(std::make_shared<SameBlock>(c));
    levels->push_back(level);
    cin = c;
  }
  fc = register_module("fc", unit_linear(cin * 16, cfg.fc));
}

Tensor Body::forward(const Tensor& x) {
  return ops::relu((*fc)(ops::flatten((*levels)(x), 1)));  // (B, c_L, 4, 4) → (B, c_L·16) → (B, fc)
}

Encoder::Encoder(const NetConfig& cfg) {
  body = register_module("body", std::make_shared<Body>(cfg));
  mu = register_module("mu", unit_linear(cfg.fc, cfg.z));
  sigma = register_module("sigma", unit_linear(cfg.fc, cfg.z));
}

GaussianCode Encoder::encode(const Tensor& x) {
  Tensor h = (*body)(x);
  return {(*mu)(h), ops::softplus((*sigma)(h))};
}

Discriminator::Discriminator(const NetConfig& cfg) {
  body = register_module("body", std::make_shared<Body>(cfg));
  head = register_module("head", unit_linear(cfg.fc, 1));
}

Tensor Discriminator::forward(const Tensor& x) { return ops::squeeze((*head)((*body)(x)), 1); }

Classifier::Classifier(const NetConfig& cfg) {
  body = register_module("body", std::make_shared<Body>(cfg));
  head = register_module("head", unit_linear(cfg.fc, cfg.labels));
}

Tensor Classifier::forward(const Tensor& x) { return ops::log_softmax((*head)((*body)(x)), 1); }

ImageGenerator::ImageGenerator(const NetConfig& cfg) {
  cfg.validate();
  top_channels = cfg.channels.back();
  fc1 = register_module("fc1", unit_linear(cfg.z + cfg.zs, cfg.fc));
  fc2 = register_module("fc2", unit_linear(cfg.fc, top_channels * 16));
  levels = register_module("levels", std::make_shared<nn::Sequential>());
  for (int64_t l = cfg.levels() - 1; l >= 0; --l) {
    const int64_t c = cfg.channels[size_t(l)];
    const int64_t next = l > 0 ? cfg.channels[size_t(l - 1)] : 3;
    auto level = std::make_shared<nn::Sequential>();
    level->push_back(std::make_shared<SameBlock>(c));
    level->push_back(std::make_shared<UpBlock>(c, next, /*relu=*/l > 0));  // the last Up draws the image: no ReLU
    levels->push_back(level);
  }
}

Tensor ImageGenerator::forward(const Tensor& code) {
  Tensor h = ops::relu((*fc2)(ops::relu((*fc1)(code))));    // (B, c_L·16)
  h = ops::reshape(h, {code.size(0), top_channels, 4, 4});  // (B, c_L, 4, 4)
  return ops::tanh((*levels)(h));                           // (B, 3, R, R)
}

Tensor ImageGenerator::generate(const Tensor& content, const Tensor& style) {
  return forward(ops::concat({content, style}, 1));
}

StyleBank::StyleBank(const NetConfig& cfg) {
  cfg.validate();
  mean = register_parameter("mean", Tensor::zeros({cfg.labels, cfg.zs}));
  pstd = register_parameter("pstd", Tensor::full({cfg.labels, cfg.zs}, kInitPstd));
}

GaussianCode StyleBank::code(const Tensor& labels) const {
  SAKUGA_CHECK(labels.defined() && labels.dim() == 1, "StyleBank: labels must be a 1-D i32 tensor, got ",
               labels.defined() ? shape_str(labels.shape()) : "undefined");
  return {ops::index_select(mean, 0, labels), ops::softplus(ops::index_select(pstd, 0, labels))};
}

Tensor StyleBank::sample(const Tensor& labels, sakuga::Generator& gen) const {
  GaussianCode c = code(labels);
  if (!training_) return c.mean;
  Tensor eps = randn(c.mean.shape(), gen, c.mean.dtype(), c.mean.device());
  return ops::gaussian_sample_kl(c.mean, c.sigma, eps).z;
}

}  // namespace sakuga::gadn
