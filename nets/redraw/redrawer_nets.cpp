// The redrawer's networks (nets/redraw/redrawer_nets.h has the layouts).
#include "nets/redraw/redrawer_nets.h"

#include <cmath>

#include "layers/activation.h"
#include "layers/conv.h"
#include "layers/init.h"
#include "layers/norm.h"
#include "tensor/ops.h"

namespace sakuga::redraw {

namespace {

// [Conv k s p, IN, activation]; IN left out when `norm` is false.
std::shared_ptr<nn::Sequential> block(int64_t in, int64_t out, int k, int stride, int pad, double slope,
                                      bool norm = true) {
  auto s = std::make_shared<nn::Sequential>();
  s->push_back(std::make_shared<nn::Conv2d>(in, out, k, stride, pad, true));
  if (norm) s->push_back(std::make_shared<nn::InstanceNorm2d>(out));
  if (slope > 0)
    s->push_back(std::make_shared<nn::LeakyReLU>(slope));
  else
    s->push_back(std::make_shared<nn::ReLU>());
  return s;
}

int64_t width(int64_t c, int64_t i) { return c * std::min<int64_t>(int64_t(1) << i, 8); }

// pix2pix's init: conv weights N(0, 0.02), biases 0.
void normal_init(nn::Module& net) {
  for (auto& [name, mod] : net.named_modules())
    if (auto* c = dynamic_cast<nn::Conv2d*>(mod)) {
      nn::init::normal_(c->weight, 0.0, 0.02);
      if (c->bias.defined()) c->bias.zero_();
    }
}

}  // namespace

RedrawGenerator::RedrawGenerator(const RedrawerNetSettings& s) : settings(s) {
  SAKUGA_CHECK(s.channels >= 1 && s.levels >= 1 && s.levels <= 7, "redrawer: channels >= 1 and levels 1 … 7, got ",
               s.channels, " and ", s.levels);
  const int64_t c = s.channels, L = s.levels;
  inc = register_module("inc", block(7, c, 3, 1, 1, 0.2));
  for (int64_t i = 1; i <= L; ++i)
    down.push_back(register_module("down" + std::to_string(i), block(width(c, i - 1), width(c, i), 4, 2, 1, 0.2)));
  guide = register_module("guide", std::make_shared<nn::Sequential>());
  guide->push_back(block(3, c, 3, 1, 1, 0.2));
  for (int64_t i = 1; i <= L; ++i) guide->push_back(block(width(c, i - 1), width(c, i), 4, 2, 1, 0.2));
  fuse = register_module("fuse", block(2 * width(c, L), width(c, L), 1, 1, 0, 0));
  for (int64_t i = 1; i <= L; ++i)
    up.push_back(register_module("up" + std::to_string(i), block(width(c, i) + width(c, i - 1), width(c, i - 1), 3, 1, 1, 0)));
  out = register_module("out", std::make_shared<nn::Sequential>());
  out->push_back(std::make_shared<nn::Conv2d>(c, 3, 1, 1, 0, true));
  out->push_back(std::make_shared<nn::Sigmoid>());
  normal_init(*this);
}

Tensor RedrawGenerator::forward(const Tensor& x) {
  const int64_t L = settings.levels;
  SAKUGA_CHECK(x.dim() == 4 && x.size(1) == 10, "redrawer G: expected (B, 10, S, S) = [l(1-m), l, m, h], got ",
               shape_str(x.shape()));
  const int64_t S = x.size(2);
  SAKUGA_CHECK(x.size(3) == S && S % (int64_t(1) << L) == 0, "redrawer G: crops must be square with a side that is a "
               "multiple of 2^levels = ", int64_t(1) << L, ", got ", S, "x", x.size(3));
  std::vector<Tensor> skips{(*inc)(ops::slice(x, 1, 0, 7))};
  for (int64_t i = 0; i < L; ++i) skips.push_back((*down[size_t(i)])(skips.back()));
  Tensor y = (*fuse)(ops::concat({skips.back(), (*guide)(ops::slice(x, 1, 7, 10))}, 1));
  for (int64_t i = L; i >= 1; --i) {
    const Tensor& skip = skips[size_t(i - 1)];
    y = ops::resize_nearest(y, skip.size(2), skip.size(3));
    y = (*up[size_t(i - 1)])(ops::concat({y, skip}, 1));
  }
  return (*out)(y);
}

Tensor RedrawGenerator::redraw(const Tensor& l, const Tensor& h, const Tensor& m) {
  SAKUGA_CHECK(l.dim() == 4 && l.size(1) == 3 && h.shape() == l.shape(), "redrawer G: l and h must be (B, 3, S, S) "
               "of one shape, got ", shape_str(l.shape()), " and ", shape_str(h.shape()));
  SAKUGA_CHECK(m.dim() == 4 && m.size(0) == l.size(0) && m.size(1) == 1 && m.size(2) == l.size(2) &&
                   m.size(3) == l.size(3),
               "redrawer G: the mask must be (B, 1, S, S) like l, got ", shape_str(m.shape()));
  const Tensor hole = l * (ops::neg(m) + 1.0);
  return forward(ops::concat({hole, l, m, h}, 1));
}

PatchClassifier::PatchClassifier(int64_t in_channels, int64_t classes_, int64_t d, int64_t layers) : classes(classes_) {
  SAKUGA_CHECK(classes >= 2 && d >= 1 && layers >= 1, "redrawer D: classes >= 2, channels >= 1 and layers >= 1, got ",
               classes, ", ", d, ", ", layers);
  model = register_module("model", std::make_shared<nn::Sequential>());
  model->push_back(block(in_channels, d, 4, 2, 1, 0.2, false));
  for (int64_t n = 1; n < layers; ++n) model->push_back(block(width(d, n - 1), width(d, n), 4, 2, 1, 0.2));
  model->push_back(block(width(d, layers - 1), width(d, layers), 4, 1, 1, 0.2));
  model->push_back(std::make_shared<nn::Conv2d>(width(d, layers), classes, 4, 1, 1, true));
  normal_init(*this);
}

Tensor PatchClassifier::forward(const Tensor& x) { return (*model)(x); }

Tensor gaussian_lowpass(const Tensor& x, double sigma) {
  SAKUGA_CHECK(x.dim() == 4, "gaussian_lowpass: expected (B, C, H, W), got ", shape_str(x.shape()));
  SAKUGA_CHECK(sigma > 0, "gaussian_lowpass: sigma must be > 0, got ", sigma);
  const int r = int(std::ceil(3 * sigma));
  const int64_t C = x.size(1);
  SAKUGA_CHECK(x.size(2) > r && x.size(3) > r, "gaussian_lowpass: an image of ", x.size(2), "x", x.size(3),
               " is too small for sigma ", sigma, " (radius ", r, ")");
  std::vector<float> k(size_t(2 * r + 1));
  double sum = 0;
  for (int i = -r; i <= r; ++i) sum += std::exp(-0.5 * i * i / (sigma * sigma));
  std::vector<float> row;
  for (int c = 0; c < C; ++c)
    for (int i = -r; i <= r; ++i) row.push_back(float(std::exp(-0.5 * i * i / (sigma * sigma)) / sum));
  const Tensor kw = Tensor::from_vector(row, {C, 1, 1, 2 * r + 1}).to(x.dtype()).to(x.device());
  const Tensor kh = ops::reshape(kw, {C, 1, 2 * r + 1, 1});
  ops::Conv2dParams p;
  p.groups = int(C);
  Tensor y = ops::conv2d(ops::pad(x, {r, r, 0, 0}, ops::PadMode::reflect), kw, Tensor(), p);
  return ops::conv2d(ops::pad(y, {0, 0, r, r}, ops::PadMode::reflect), kh, Tensor(), p);
}

}  // namespace sakuga::redraw
