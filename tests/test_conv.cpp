// Unit tests of the convolution ops: exact values on tiny hand-computed cases (forward and all
// gradients), the conv2d / conv_transpose2d adjoint identity, and error messages.
#include "tests/test_util.h"
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tensor/autograd.h"
#include "tensor/ops/conv.h"
#include "tensor/ops/view.h"

using namespace sakuga;

namespace {

using V = std::vector<float>;

Tensor T(V v, Shape s) { return Tensor::from_vector(v, s); }

V iota(int64_t n, float start = 1.f) {
  V v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = start + float(i);
  return v;
}

// Deterministic pseudo-random values in [-1, 1).
V noise(int64_t n, uint32_t seed) {
  V v(static_cast<size_t>(n));
  uint32_t s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float(s >> 8) / float(1 << 23) - 1.f;
  }
  return v;
}

ops::Conv2dParams conv_p(int stride, int pad, int dil = 1, int groups = 1) {
  ops::Conv2dParams p;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = pad;
  p.dilation_h = p.dilation_w = dil;
  p.groups = groups;
  return p;
}

void check_vec(const V& got, const V& want, double tol = 1e-5) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], ", want ", want[i]);
    CHECK(std::fabs(got[i] - want[i]) <= tol * (1 + std::fabs(want[i])));
  }
}

void check_vec64(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-12) {
  REQUIRE(got.size() == want.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    num = std::max(num, std::fabs(got[i] - want[i]));
    den = std::max(den, std::fabs(want[i]));
  }
  CHECK(num <= tol * (1 + den));
}

double dot(const Tensor& a, const Tensor& b) {
  auto va = a.to_vector_f64(), vb = b.to_vector_f64();
  REQUIRE(va.size() == vb.size());
  double s = 0;
  for (size_t i = 0; i < va.size(); ++i) s += va[i] * vb[i];
  return s;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("conv2d: 2x2 kernel on a 3x3 image, forward and all gradients by hand") {
  // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,2],[3,4]], bias 0.5
  Tensor x = T(iota(9), {1, 1, 3, 3}), w = T({1, 2, 3, 4}, {1, 1, 2, 2}), b = T({0.5f}, {1});
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  Tensor y = ops::conv2d(x, w, b, conv_p(1, 0));
  CHECK(y.shape() == Shape{1, 1, 2, 2});
  check_vec(y.to_vector(), {37.5f, 47.5f, 67.5f, 77.5f});
  // L = Σ y·[1, 2, 3, 4]
  y.backward(T({1, 2, 3, 4}, {1, 1, 2, 2}));
  // gx[i,j] = Σ_{oh,ow} g[oh,ow]·w[i−oh, j−ow]
  check_vec(x.grad().to_vector(), {1, 4, 4, 6, 20, 16, 9, 24, 16});
  // gw[ki,kj] = Σ g[oh,ow]·x[oh+ki, ow+kj]
  check_vec(w.grad().to_vector(), {1 * 1 + 2 * 2 + 3 * 4 + 4 * 5, 1 * 2 + 2 * 3 + 3 * 5 + 4 * 6,
                                   1 * 4 + 2 * 5 + 3 * 7 + 4 * 8, 1 * 5 + 2 * 6 + 3 * 8 + 4 * 9});
  check_vec(b.grad().to_vector(), {10});
}

TEST_CASE("conv2d: stride 2, padding 1, all-ones kernel sums 2x2 corners") {
  Tensor x = T(iota(9), {1, 1, 3, 3}), w = Tensor::ones({1, 1, 3, 3});
  Tensor y = ops::conv2d(x, w, Tensor(), conv_p(2, 1));
  CHECK(y.shape() == Shape{1, 1, 2, 2});
  check_vec(y.to_vector(), {12, 16, 24, 28});
}

TEST_CASE("conv2d: dilation 2 picks every other pixel") {
  Tensor x = T(iota(25), {1, 1, 5, 5});
  Tensor w = T({1, 0, 0, 0, 0, 0, 0, 0, 1}, {1, 1, 3, 3});  // top-left + bottom-right taps
  Tensor y = ops::conv2d(x, w, Tensor(), conv_p(1, 0, 2));
  CHECK(y.shape() == Shape{1, 1, 1, 1});
  check_vec(y.to_vector(), {1 + 25});
}

TEST_CASE("conv2d: groups keep channels apart; depthwise with a channel multiplier") {
  Tensor x = T({2, 3}, {1, 2, 1, 1});
  Tensor w = T({10, 100}, {2, 1, 1, 1});
  check_vec(ops::conv2d(x, w, Tensor(), conv_p(1, 0, 1, 2)).to_vector(), {20, 300});
  // multiplier 2: out channels 0,1 read input 0; 2,3 read input 1
  Tensor w2 = T({1, 2, 3, 4}, {4, 1, 1, 1});
  check_vec(ops::conv2d(x, w2, T({0, 0, 0, 1}, {4}), conv_p(1, 0, 1, 2)).to_vector(), {2, 4, 9, 13});
  // groups 2 with 2 channels per group: out0 = x0 + x1 (weights 1,1), out1 = x2 − x3
  Tensor x4 = T({1, 2, 3, 4}, {1, 4, 1, 1});
  Tensor wg = T({1, 1, 1, -1}, {2, 2, 1, 1});
  check_vec(ops::conv2d(x4, wg, Tensor(), conv_p(1, 0, 1, 2)).to_vector(), {3, -1});
}

TEST_CASE("conv2d: 1xk and kx1 kernels along one axis") {
  Tensor x = T(iota(5), {1, 1, 1, 5});
  ops::Conv2dParams p;
  p.pad_w = 1;
  Tensor y = ops::conv2d(x, T({1, 1, 1}, {1, 1, 1, 3}), Tensor(), p);  // moving 3-sum, zero padded
  CHECK(y.shape() == Shape{1, 1, 1, 5});
  check_vec(y.to_vector(), {3, 6, 9, 12, 9});
  Tensor xt = T(iota(5), {1, 1, 5, 1});
  ops::Conv2dParams q;
  q.pad_h = 1;
  Tensor yt = ops::conv2d(xt, T({1, 1, 1}, {1, 1, 3, 1}), Tensor(), q);
  CHECK(yt.shape() == Shape{1, 1, 5, 1});
  check_vec(yt.to_vector(), {3, 6, 9, 12, 9});
}

TEST_CASE("conv_transpose2d: stride 2 stamps the kernel; gradients by hand") {
  // each input value a paints a·[[1,2],[3,4]] into its own 2x2 block
  Tensor x = T({1, 2, 3, 4}, {1, 1, 2, 2}), w = T({1, 2, 3, 4}, {1, 1, 2, 2}), b = T({1}, {1});
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  ops::ConvTranspose2dParams p;
  p.stride_h = p.stride_w = 2;
  Tensor y = ops::conv_transpose2d(x, w, b, p);
  CHECK(y.shape() == Shape{1, 1, 4, 4});
  check_vec(y.to_vector(), {2, 3, 3, 5, 4, 5, 7, 9, 4, 7, 5, 9, 10, 13, 13, 17});
  // L = Σ y·g with g = 1..16
  Tensor g = T(iota(16), {1, 1, 4, 4});
  y.backward(g);
  // gx[a] = Σ over its block of g·w; gw[k] = Σ_a x[a]·g[block(a) position k]; gb = Σ g
  check_vec(x.grad().to_vector(), {1 * 1 + 2 * 2 + 3 * 5 + 4 * 6, 1 * 3 + 2 * 4 + 3 * 7 + 4 * 8,
                                   1 * 9 + 2 * 10 + 3 * 13 + 4 * 14, 1 * 11 + 2 * 12 + 3 * 15 + 4 * 16});
  check_vec(w.grad().to_vector(), {1 * 1 + 2 * 3 + 3 * 9 + 4 * 11, 1 * 2 + 2 * 4 + 3 * 10 + 4 * 12,
                                   1 * 5 + 2 * 7 + 3 * 13 + 4 * 15, 1 * 6 + 2 * 8 + 3 * 14 + 4 * 16});
  check_vec(b.grad().to_vector(), {136});
}

TEST_CASE("conv_transpose2d: output size with padding and output_padding") {
  ops::ConvTranspose2dParams p;
  p.stride_h = p.stride_w = 2;
  p.pad_h = p.pad_w = 1;
  p.output_pad_h = 1;
  Tensor y = ops::conv_transpose2d(Tensor::ones({2, 3, 4, 5}), Tensor::ones({3, 2, 3, 3}), Tensor(), p);
  // (H−1)·s − 2p + (k−1) + op + 1
  CHECK(y.shape() == Shape{2, 2, 8, 9});
}

TEST_CASE("conv2d and conv_transpose2d are adjoint: <conv(x), y> = <x, convT(y)>") {
  struct P {
    int stride, pad, dil, groups, kh, kw;
  };
  for (P c : {P{1, 1, 1, 1, 3, 3}, P{2, 1, 1, 1, 3, 3}, P{2, 0, 2, 2, 3, 2}, P{3, 2, 1, 3, 5, 4}, P{1, 0, 1, 1, 1, 1}}) {
    CAPTURE(c.stride);
    CAPTURE(c.groups);
    const int64_t cin = 6, cout = 3 * c.groups, h = 11, w = 9;
    Tensor x = Tensor::from_vector(noise(2 * cin * h * w, 1), {2, cin, h, w}, DType::f64);
    Tensor wt = Tensor::from_vector(noise(cout * (cin / c.groups) * c.kh * c.kw, 2),
                                    {cout, cin / c.groups, c.kh, c.kw}, DType::f64);
    ops::Conv2dParams p = conv_p(c.stride, c.pad, c.dil, c.groups);
    Tensor y = ops::conv2d(x, wt, Tensor(), p);
    Tensor r = Tensor::from_vector(noise(y.numel(), 3), y.shape(), DType::f64);
    ops::ConvTranspose2dParams tp;
    tp.stride_h = tp.stride_w = c.stride;
    tp.pad_h = tp.pad_w = c.pad;
    tp.dilation_h = tp.dilation_w = c.dil;
    tp.groups = c.groups;
    // output_padding recovers the exact input size when the stride skipped trailing rows
    const int64_t h_back = (y.size(2) - 1) * c.stride - 2 * c.pad + c.dil * (c.kh - 1) + 1;
    const int64_t w_back = (y.size(3) - 1) * c.stride - 2 * c.pad + c.dil * (c.kw - 1) + 1;
    tp.output_pad_h = int(h - h_back);
    tp.output_pad_w = int(w - w_back);
    Tensor xt = ops::conv_transpose2d(r, wt, Tensor(), tp);
    REQUIRE(xt.shape() == x.shape());
    double a = dot(y, r), b = dot(x, xt);
    CHECK(std::fabs(a - b) <= 1e-10 * (1 + std::fabs(a)));
  }
}

TEST_CASE("conv2d: an input large enough for several im2col tiles matches a direct loop") {
  // K = 8·5·5 = 200 rows, 148 × 200 output positions: > 4M col elements, so the CPU path splits
  // the output rows into tiles; stride 2 and dilation 2 along h put kernel windows across the
  // tile boundary.
  const int64_t N = 1, C = 8, H = 300, W = 200, CO = 4, KH = 5, KW = 5;
  ops::Conv2dParams p;
  p.stride_h = 2;
  p.pad_h = p.pad_w = 2;
  p.dilation_h = 2;
  Tensor x = Tensor::from_vector(noise(N * C * H * W, 11), {N, C, H, W}, DType::f64);
  Tensor w = Tensor::from_vector(noise(CO * C * KH * KW, 12), {CO, C, KH, KW}, DType::f64);
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  Tensor y = ops::conv2d(x, w, Tensor(), p);
  const int64_t HO = y.size(2), WO = y.size(3);
  REQUIRE(HO == 148);
  REQUIRE(WO == 200);
  Tensor r = Tensor::from_vector(noise(y.numel(), 13), y.shape(), DType::f64);
  y.backward(r);
  // Direct loops: y, dL/dx and dL/dw of L = Σ y·r.
  auto xv = x.to_vector_f64(), wv = w.to_vector_f64(), rv = r.to_vector_f64();
  std::vector<double> yr(size_t(N * CO * HO * WO), 0.0), gx(xv.size(), 0.0), gw(wv.size(), 0.0);
  for (int64_t co = 0; co < CO; ++co)
    for (int64_t oh = 0; oh < HO; ++oh)
      for (int64_t ow = 0; ow < WO; ++ow) {
        const size_t yi = size_t((co * HO + oh) * WO + ow);
        double acc = 0;
        for (int64_t c = 0; c < C; ++c)
          for (int64_t ki = 0; ki < KH; ++ki) {
            const int64_t ih = oh * 2 - 2 + ki * 2;
            if (ih < 0 || ih >= H) continue;
            for (int64_t kj = 0; kj < KW; ++kj) {
              const int64_t iw = ow - 2 + kj;
              if (iw < 0 || iw >= W) continue;
              const size_t xi = size_t((c * H + ih) * W + iw), wi = size_t(((co * C + c) * KH + ki) * KW + kj);
              acc += wv[wi] * xv[xi];
              gx[xi] += wv[wi] * rv[yi];
              gw[wi] += xv[xi] * rv[yi];
            }
          }
        yr[yi] = acc;
      }
  auto max_rel = [](const std::vector<double>& a, const std::vector<double>& b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      num = std::max(num, std::fabs(a[i] - b[i]));
      den = std::max(den, std::fabs(b[i]));
    }
    return num / den;
  };
  CHECK(max_rel(y.to_vector_f64(), yr) < 1e-12);
  CHECK(max_rel(x.grad().to_vector_f64(), gx) < 1e-12);
  CHECK(max_rel(w.grad().to_vector_f64(), gw) < 1e-12);
}

TEST_CASE("conv2d / conv_transpose2d: a batch of small maps equals each image alone") {
  // Maps of fewer than 256 output pixels go through one GEMM per several images on the CPU
  // (kernels/cpu/conv.cpp images_per_gemm); one image alone takes the per-image path. The
  // outputs and the data gradients must agree, the filter gradient with the sum over images.
  // Cases: 3x3, the 6x6 stride-2 Down conv, dilation with groups, 1x1 (pointwise), and 7
  // images of 8x8 (64 pixels: batches of 4 and 3).
  struct P {
    int64_t n, cin, cout, h, w, kh, kw;
    int stride, pad, dil, groups;
  };
  for (P c : {P{5, 6, 4, 6, 5, 3, 3, 1, 1, 1, 1}, P{4, 3, 8, 8, 8, 6, 6, 2, 2, 1, 1}, P{3, 6, 9, 7, 9, 3, 2, 1, 2, 2, 3},
              P{6, 8, 5, 4, 4, 1, 1, 1, 0, 1, 1}, P{7, 16, 12, 8, 8, 1, 1, 1, 0, 1, 1}}) {
    CAPTURE(c.n);
    CAPTURE(c.kh);
    CAPTURE(c.cout);
    for (bool transposed : {false, true}) {
      CAPTURE(transposed);
      // conv2d: x (n, cin, h, w), w (cout, cin/g, kh, kw); conv_transpose2d: x (n, cout, h, w),
      // w (cout, cin/g, kh, kw) maps cout → cin channels.
      const int64_t x_c = transposed ? c.cout : c.cin;
      Tensor x = Tensor::from_vector(noise(c.n * x_c * c.h * c.w, 21), {c.n, x_c, c.h, c.w}, DType::f64);
      Tensor wt = Tensor::from_vector(noise(c.cout * (c.cin / c.groups) * c.kh * c.kw, 22),
                                      {c.cout, c.cin / c.groups, c.kh, c.kw}, DType::f64);
      auto conv = [&](const Tensor& xi, const Tensor& wi) {
        if (!transposed) return ops::conv2d(xi, wi, Tensor(), conv_p(c.stride, c.pad, c.dil, c.groups));
        ops::ConvTranspose2dParams tp;
        tp.stride_h = tp.stride_w = c.stride;
        tp.pad_h = tp.pad_w = c.pad;
        tp.dilation_h = tp.dilation_w = c.dil;
        tp.groups = c.groups;
        return ops::conv_transpose2d(xi, wi, Tensor(), tp);
      };
      Tensor xb = x.detach().set_requires_grad(true), wb = wt.detach().set_requires_grad(true);
      Tensor yb = conv(xb, wb);
      Tensor gyb = Tensor::from_vector(noise(yb.numel(), 31), yb.shape(), DType::f64);
      yb.backward(gyb);
      std::vector<double> gw_sum(size_t(wt.numel()), 0.0);
      for (int64_t i = 0; i < c.n; ++i) {
        Tensor xi = ops::slice(x, 0, i, i + 1).contiguous().set_requires_grad(true);
        Tensor wi = wt.detach().set_requires_grad(true);
        Tensor yi = conv(xi, wi);
        yi.backward(ops::slice(gyb, 0, i, i + 1).contiguous());
        INFO("image ", i);
        check_vec64(yi.to_vector_f64(), ops::slice(yb, 0, i, i + 1).contiguous().to_vector_f64());
        check_vec64(xi.grad().to_vector_f64(), ops::slice(xb.grad(), 0, i, i + 1).contiguous().to_vector_f64());
        auto g = wi.grad().to_vector_f64();
        for (size_t k = 0; k < g.size(); ++k) gw_sum[k] += g[k];
      }
      check_vec64(wb.grad().to_vector_f64(), gw_sum);
    }
  }
}

TEST_CASE("conv2d: non-contiguous input and f64 agree with contiguous f32") {
  Tensor x = Tensor::from_vector(noise(2 * 3 * 5 * 4, 7), {2, 3, 4, 5});
  Tensor xp = ops::permute(x, {0, 1, 3, 2});  // (2, 3, 5, 4) view
  Tensor w = Tensor::from_vector(noise(4 * 3 * 3 * 3, 8), {4, 3, 3, 3});
  Tensor a = ops::conv2d(xp, w, Tensor(), conv_p(1, 1));
  Tensor b = ops::conv2d(xp.contiguous().to(DType::f64), w.to(DType::f64), Tensor(), conv_p(1, 1));
  check_vec(a.to_vector(), b.to_vector(), 1e-5);
}

TEST_CASE("conv2d / conv_transpose2d: errors name the op and the problem") {
  Tensor x = Tensor::ones({1, 3, 8, 8});
  CHECK_ERROR(ops::conv2d(x, Tensor::ones({4, 2, 3, 3}), Tensor(), {}), "conv2d: weight (4, 2, 3, 3) expects 2 input channels");
  CHECK_ERROR(ops::conv2d(x, Tensor::ones({4, 1, 3, 3}), Tensor(), conv_p(1, 0, 1, 2)),
              "input channels (x has 3, shape (1, 3, 8, 8)) are not divisible by groups (2)");
  CHECK_ERROR(ops::conv2d(Tensor::ones({1, 4, 8, 8}), Tensor::ones({3, 2, 3, 3}), Tensor(), conv_p(1, 0, 1, 2)),
              "output channels (weight has 3");
  CHECK_ERROR(ops::conv2d(x, Tensor::ones({4, 3, 3, 3}), Tensor::ones({5}), {}), "bias (5,) must have 4 elements");
  CHECK_ERROR(ops::conv2d(x, Tensor::ones({4, 3, 3, 3}), Tensor::ones({2, 2}), {}), "'bias' must have 1 dimensions");
  CHECK_ERROR(ops::conv2d(Tensor::ones({3, 8, 8}), Tensor::ones({4, 3, 3, 3}), Tensor(), {}),
              "conv2d: 'x' must have 4 dimensions");
  CHECK_ERROR(ops::conv2d(x, Tensor::ones({4, 3, 3}), Tensor(), {}), "conv2d: 'weight' must have 4 dimensions");
  CHECK_ERROR(ops::conv2d(x, Tensor::ones({4, 3, 3, 3}, DType::f64), Tensor(), {}), "conv2d: dtype mismatch");
  CHECK_ERROR(ops::conv2d(x, Tensor::ones({4, 3, 9, 9}), Tensor(), {}), "does not fit the padded input");
  CHECK_ERROR(ops::conv2d(x, Tensor::ones({4, 3, 3, 3}), Tensor(), conv_p(0, 0)), "conv2d: stride must be >= 1");
  CHECK_ERROR(ops::conv2d(x, Tensor::ones({4, 3, 3, 3}), Tensor(), conv_p(1, -1)), "conv2d: padding must be >= 0");
  CHECK_ERROR(ops::conv2d(x, Tensor::ones({4, 3, 3, 3}), Tensor(), conv_p(1, 0, 0)), "conv2d: dilation must be >= 1");
  CHECK_ERROR(ops::conv2d(x, Tensor::ones({4, 3, 3, 3}), Tensor(), conv_p(1, 0, 1, 0)), "conv2d: groups must be >= 1");
  CHECK_ERROR(ops::conv2d(Tensor(), Tensor::ones({4, 3, 3, 3}), Tensor(), {}), "conv2d: argument 'x' is undefined");

  CHECK_ERROR(ops::conv_transpose2d(x, Tensor::ones({4, 2, 3, 3}), Tensor(), {}),
              "conv_transpose2d: weight (4, 2, 3, 3) (layout (in, out/groups, kh, kw)) expects 4 input channels");
  ops::ConvTranspose2dParams tp;
  tp.groups = 2;
  CHECK_ERROR(ops::conv_transpose2d(x, Tensor::ones({3, 2, 3, 3}), Tensor(), tp), "not divisible by groups (2)");
  tp.groups = 1;
  CHECK_ERROR(ops::conv_transpose2d(x, Tensor::ones({3, 2, 3, 3}), Tensor::ones({3}), tp),
              "bias (3,) must have 2 elements");
  tp.stride_h = tp.stride_w = 2;
  tp.output_pad_h = 2;
  CHECK_ERROR(ops::conv_transpose2d(x, Tensor::ones({3, 2, 3, 3}), Tensor(), tp),
              "output_padding (2, 0) must be smaller than either stride or dilation");
  tp.output_pad_h = 0;
  tp.pad_h = tp.pad_w = 9;
  CHECK_ERROR(ops::conv_transpose2d(x, Tensor::ones({3, 2, 3, 3}), Tensor(), tp), "is not positive");
}

}  // TEST_SUITE
