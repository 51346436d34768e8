#include "nets/gcn/head.h"

#include <string>

#include "tensor/ops/elementwise.h"
#include "tensor/ops/pool.h"

namespace sakuga::gcn {

namespace {

Tensor up(const Tensor& x, int64_t h, int64_t w) {
  // Bilinear resize to the same size with align_corners = false is the identity (PyTorch computes
  // the same values); skipping it saves a copy.
  if (x.size(2) == h && x.size(3) == w) return x;
  return ops::resize_bilinear(x, h, w, /*align_corners=*/false);
}

}  // namespace

// --- GlobalConv ------------------------------------------------------------------------------

GlobalConv::GlobalConv(int64_t in, int64_t out, int k_) : in_channels(in), out_channels(out), k(k_) {
  SAKUGA_CHECK(in > 0 && out > 0, "GlobalConv: channels must be positive, got in=", in, ", out=", out);
  SAKUGA_CHECK(k > 0 && k % 2 == 1, "GlobalConv: kernel size k must be odd and positive, got ", k);
  const int p = k / 2;
  l1 = register_module("l1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in, out, k, 1).padding(p, 0)));
  l2 = register_module("l2", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(out, out, 1, k).padding(0, p)));
  r1 = register_module("r1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in, out, 1, k).padding(0, p)));
  r2 = register_module("r2", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(out, out, k, 1).padding(p, 0)));
}

std::string GlobalConv::extra_repr() const {
  return std::to_string(in_channels) + ", " + std::to_string(out_channels) + ", k=" + std::to_string(k);
}

Tensor GlobalConv::forward(const Tensor& x) {
  SAKUGA_CHECK(x.dim() == 4 && x.size(1) == in_channels, "GlobalConv: expected input (N, ", in_channels,
               ", H, W), got ", shape_str(x.shape()));
  return (*l2)((*l1)(x)) + (*r2)((*r1)(x));
}

// --- BoundaryRefine --------------------------------------------------------------------------

BoundaryRefine::BoundaryRefine(int64_t c) : channels(c) {
  SAKUGA_CHECK(c > 0, "BoundaryRefine: channels must be positive, got ", c);
  conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(c, c, 3, 1, 1));
  conv2 = register_module("conv2", std::make_shared<nn::Conv2d>(c, c, 3, 1, 1));
}

std::string BoundaryRefine::extra_repr() const { return std::to_string(channels); }

Tensor BoundaryRefine::forward(const Tensor& x) {
  SAKUGA_CHECK(x.dim() == 4 && x.size(1) == channels, "BoundaryRefine: expected input (N, ", channels,
               ", H, W), got ", shape_str(x.shape()));
  return x + (*conv2)(ops::relu((*conv1)(x)));
}

// --- GcnHead ---------------------------------------------------------------------------------

GcnHead::GcnHead(const std::array<int64_t, 4>& ch, int64_t c, int k_, double p)
    : channels(ch), classes(c), k(k_), dropout(p) {
  SAKUGA_CHECK(c > 0, "GcnHead: number of output channels must be positive, got ", c);
  SAKUGA_CHECK(k > 0 && k % 2 == 1, "GcnHead: GCN kernel size k must be odd and positive, got ", k);
  SAKUGA_CHECK(p >= 0 && p < 1, "GcnHead: dropout must be in [0, 1), got ", p);
  for (int i = 0; i < 4; ++i) {
    SAKUGA_CHECK(ch[i] > 0, "GcnHead: feature channels must be positive, got ", ch[i], " for f", i + 1);
    gcn[i] = register_module("gcn" + std::to_string(i + 1), std::make_shared<GlobalConv>(ch[i], c, k));
  }
  for (int j = 0; j < 9; ++j)
    br[j] = register_module("br" + std::to_string(j + 1), std::make_shared<BoundaryRefine>(c));
  drop = register_module("drop", std::make_shared<nn::Dropout>(p));
}

std::string GcnHead::extra_repr() const {
  std::string s = "channels=(";
  for (int i = 0; i < 4; ++i) s += (i ? ", " : "") + std::to_string(channels[i]);
  return s + "), classes=" + std::to_string(classes) + ", k=" + std::to_string(k) +
         ", dropout=" + std::to_string(dropout);
}

Tensor GcnHead::forward(const std::array<Tensor, 4>& f, int64_t H, int64_t W) {
  SAKUGA_CHECK(H > 0 && W > 0, "GcnHead: output size must be positive, got ", H, "x", W);
  for (int i = 0; i < 4; ++i) {
    SAKUGA_CHECK(f[i].defined(), "GcnHead: feature f", i + 1, " is undefined");
    SAKUGA_CHECK(f[i].dim() == 4, "GcnHead: feature f", i + 1, " must be (N, C, H, W), got ",
                 shape_str(f[i].shape()));
    SAKUGA_CHECK(f[i].size(1) == channels[i], "GcnHead: feature f", i + 1, " has ", f[i].size(1),
                 " channels, expected ", channels[i], " (shape ", shape_str(f[i].shape()), ")");
    SAKUGA_CHECK(f[i].size(0) == f[0].size(0), "GcnHead: feature f", i + 1, " has batch ", f[i].size(0),
                 ", f1 has ", f[0].size(0));
  }
  auto branch = [&](int i) { return (*br[3 - i])((*gcn[i])((*drop)(f[i]))); };
  Tensor g4 = branch(3), g3 = branch(2), g2 = branch(1), g1 = branch(0);
  Tensor s3 = (*br[4])(up(g4, g3.size(2), g3.size(3)) + g3);
  Tensor s2 = (*br[5])(up(s3, g2.size(2), g2.size(3)) + g2);
  Tensor s1 = (*br[6])(up(s2, g1.size(2), g1.size(3)) + g1);
  Tensor s0 = (*br[7])(up(s1, (H + 1) / 2, (W + 1) / 2));
  return (*br[8])(up(s0, H, W));
}

}  // namespace sakuga::gcn
