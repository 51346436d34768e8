// Unit tests of the pooling and resampling family: exact values on small hand-made inputs
// (checked against PyTorch 1.13), gradients by hand, the index/window helpers that the CUDA
// gather kernels use (against brute force), and error messages.
#include "tests/test_util.h"
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "kernels/pool.h"
#include "kernels/resize.h"
#include "tensor/autograd.h"
#include "tensor/ops/pool.h"

using namespace sakuga;

namespace {

using V = std::vector<float>;

Tensor T(V v, Shape s) { return Tensor::from_vector(v, s); }

// dL/dx for L = Σ f(x)·w (w = ones when empty).
V grad_of(const std::function<Tensor(const Tensor&)>& f, const Tensor& x0, V w = {}) {
  Tensor x = x0.clone().detach();
  x.set_requires_grad(true);
  Tensor y = f(x);
  if (w.empty()) w.assign(size_t(y.numel()), 1.f);
  y.backward(Tensor::from_vector(w, y.shape()));
  return x.grad().to_vector();
}

void check_near(const V& got, const V& want, double tol = 1e-6) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], " want ", want[i]);
    CHECK(std::fabs(double(got[i]) - double(want[i])) <= tol * std::max(1.0, std::fabs(double(want[i]))));
  }
}

ops::Pool2dParams P(int k, int s, int p, bool ceil_mode = false, bool include_pad = true) {
  ops::Pool2dParams r;
  r.kernel_h = r.kernel_w = k;
  r.stride_h = r.stride_w = s;
  r.pad_h = r.pad_w = p;
  r.ceil_mode = ceil_mode;
  r.count_include_pad = include_pad;
  return r;
}

V arange(int64_t n, float start = 0) {
  V v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = start + float(i);
  return v;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("max_pool2d: values, padding is -inf, first maximum gets the gradient") {
  Tensor x = T(arange(16), {1, 1, 4, 4});
  Tensor y = ops::max_pool2d(x, P(2, 2, 0));
  CHECK(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y.to_vector() == V{5, 7, 13, 15});
  // All-negative input with padding: the padded border must not win (would give 0).
  Tensor neg = T({-1, -2, -3, -4, -5, -6, -7, -8, -9}, {1, 1, 3, 3});
  CHECK(ops::max_pool2d(neg, P(3, 2, 1)).to_vector() == V{-1, -2, -4, -5});
  // Ties: the first maximal element in window scan order receives the gradient, and a maximum
  // shared by overlapping windows accumulates their gradients.
  ops::Pool2dParams p = P(2, 1, 0);
  Tensor t = T({1, 5, 5, 5, 2, 0, 0, 0, 5}, {1, 1, 3, 3});
  CHECK(ops::max_pool2d(t, p).to_vector() == V{5, 5, 5, 5});
  CHECK(grad_of([&](const Tensor& v) { return ops::max_pool2d(v, p); }, t) == V{0, 2, 0, 1, 0, 0, 0, 0, 1});
  CHECK(grad_of([&](const Tensor& v) { return ops::max_pool2d(v, p); }, t, {1, 10, 100, 1000}) ==
        V{0, 11, 0, 100, 0, 0, 0, 0, 1000});
}

TEST_CASE("max_pool2d: output sizes of the ResNet stem and ceil mode") {
  // 3×3 s2 p1: 112 → 56, odd 9 → 5, 11 → 6.
  CHECK(ops::max_pool2d(Tensor::zeros({1, 1, 112, 112}), P(3, 2, 1)).shape() == Shape{1, 1, 56, 56});
  CHECK(ops::max_pool2d(Tensor::zeros({2, 3, 9, 11}), P(3, 2, 1)).shape() == Shape{2, 3, 5, 6});
  // 2×2 s2 on 7: floor 3, ceil 4; ceil mode never starts a window in the right padding.
  CHECK(ops::max_pool2d(Tensor::zeros({1, 1, 7, 7}), P(2, 2, 0)).shape() == Shape{1, 1, 3, 3});
  CHECK(ops::max_pool2d(Tensor::zeros({1, 1, 7, 7}), P(2, 2, 0, true)).shape() == Shape{1, 1, 4, 4});
  CHECK(ops::max_pool2d(Tensor::zeros({1, 1, 6, 6}), P(2, 2, 0, true)).shape() == Shape{1, 1, 3, 3});
  CHECK(ops::max_pool2d(Tensor::zeros({1, 1, 10, 10}), P(3, 2, 1, true)).shape() == Shape{1, 1, 6, 6});
  CHECK(kernels::pool_out_size(5, 3, 2, 1, true) == 3);  // (5+2-3)/2 = 2 → 3; a 4th would start in the padding
  Tensor x = T(arange(49), {1, 1, 7, 7});
  CHECK(ops::max_pool2d(x, P(2, 2, 0, true)).to_vector() ==
        V{8, 10, 12, 13, 22, 24, 26, 27, 36, 38, 40, 41, 43, 45, 47, 48});
}

TEST_CASE("max_pool2d: a NaN in the window wins, as in PyTorch") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor y = ops::max_pool2d(T({1, nan, 3, 4}, {1, 1, 2, 2}), P(2, 2, 0));
  CHECK(std::isnan(y.to_vector()[0]));
}

TEST_CASE("avg_pool2d: count_include_pad and PyTorch's ceil-mode divisor") {
  Tensor x = T(arange(25, 1), {1, 1, 5, 5});
  check_near(ops::avg_pool2d(x, P(3, 2, 1, false, true)).to_vector(),
             {16.f / 9, 33.f / 9, 28.f / 9, 69.f / 9, 13, 87.f / 9, 76.f / 9, 123.f / 9, 88.f / 9});
  check_near(ops::avg_pool2d(x, P(3, 2, 1, false, false)).to_vector(), {4, 5.5, 7, 11.5, 13, 14.5, 19, 20.5, 22});
  // ceil mode: the last window is clipped to the padded input before counting, so on 5×5 with
  // 2×2 s2 the corner window divides by 1 (not 4) even with count_include_pad.
  check_near(ops::avg_pool2d(Tensor::ones({1, 1, 5, 5}), P(2, 2, 0, true, true)).to_vector(), V(9, 1.f));
  // 6×6, 3×3 s2 p1 ceil: last window rows [5, 8) clipped to [5, 7) → divisor 2 per axis.
  V want = {4.f / 9, 6.f / 9, 6.f / 9, 2.f / 6, 6.f / 9, 1, 1, 3.f / 6,
            6.f / 9, 1, 1, 3.f / 6, 2.f / 6, 3.f / 6, 3.f / 6, 1.f / 4};
  Tensor ones = Tensor::ones({1, 1, 6, 6});
  check_near(ops::avg_pool2d(ones, P(3, 2, 1, true, true)).to_vector(), want);
  check_near(ops::avg_pool2d(ones, P(3, 2, 1, true, false)).to_vector(), V(16, 1.f));
  // Its gradient (PyTorch: 1/9 … 25/36 in the corner).
  V g = grad_of([](const Tensor& v) { return ops::avg_pool2d(v, P(3, 2, 1, true, true)); }, ones);
  check_near({g[0], g[1], g[5], g[7], g[35]}, {1.f / 9, 2.f / 9, 5.f / 18, 4.f / 9, 25.f / 36});
}

TEST_CASE("adaptive_avg_pool2d: PyTorch windows floor(i·in/out) .. ceil((i+1)·in/out)") {
  Tensor x = T(arange(77), {1, 1, 7, 11});
  check_near(ops::adaptive_avg_pool2d(x, 3, 5).to_vector(), {12, 14, 16, 18, 20, 34, 36, 38, 40, 42, 56, 58, 60, 62, 64});
  check_near(ops::adaptive_avg_pool2d(x, 1, 1).to_vector(), {38});
  // Overlapping windows (7 → 3 rows: [0,3) [2,5) [4,7)): row 2 belongs to two windows.
  V g = grad_of([](const Tensor& v) { return ops::adaptive_avg_pool2d(v, 3, 1); }, Tensor::ones({1, 1, 7, 1}));
  check_near(g, {1.f / 3, 1.f / 3, 2.f / 3, 1.f / 3, 2.f / 3, 1.f / 3, 1.f / 3});
  // Upsampling (2 → 3): each output averages one or two inputs.
  check_near(ops::adaptive_avg_pool2d(T({2, 4}, {1, 1, 1, 2}), 1, 3).to_vector(), {2, 3, 4});
}

TEST_CASE("resize_bilinear: values for both align_corners (PyTorch)") {
  Tensor x = T({1, 2, 3, 4}, {1, 1, 2, 2});
  check_near(ops::resize_bilinear(x, 4, 4, false).to_vector(),
             {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
  check_near(ops::resize_bilinear(x, 3, 3, true).to_vector(), {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
  Tensor x5 = T(arange(25), {1, 1, 5, 5});
  check_near(ops::resize_bilinear(x5, 3, 3, false).to_vector(),
             {2, 11.f / 3, 16.f / 3, 31.f / 3, 12, 41.f / 3, 56.f / 3, 61.f / 3, 22});
  check_near(ops::resize_bilinear(x5, 3, 3, true).to_vector(), {0, 2, 4, 10, 12, 14, 20, 22, 24});
  // Output size 1: align_corners takes the corner, otherwise the centre.
  check_near(ops::resize_bilinear(x5, 1, 1, true).to_vector(), {0});
  check_near(ops::resize_bilinear(x5, 1, 1, false).to_vector(), {12});
  // Same size is the identity.
  CHECK(ops::resize_bilinear(x5, 5, 5, false).to_vector() == arange(25));
  CHECK(ops::resize_bilinear(x5, 5, 5, true).to_vector() == arange(25));
  // Gradient of 2×2 → 3×3 (PyTorch: 2.25 each).
  check_near(grad_of([](const Tensor& v) { return ops::resize_bilinear(v, 3, 3, false); }, x), {2.25, 2.25, 2.25, 2.25});
}

TEST_CASE("resize_nearest: src = floor(dst·in/out) (PyTorch)") {
  Tensor x = T(arange(5), {1, 1, 1, 5});
  CHECK(ops::resize_nearest(x, 1, 3).to_vector() == V{0, 1, 3});
  CHECK(ops::resize_nearest(x, 1, 8).to_vector() == V{0, 0, 1, 1, 2, 3, 3, 4});
  CHECK(ops::resize_nearest(T(arange(3), {1, 1, 1, 3}), 1, 7).to_vector() == V{0, 0, 0, 1, 1, 2, 2});
  CHECK(ops::resize_nearest(T(arange(3), {1, 1, 3, 1}), 2, 1).to_vector() == V{0, 1});
  // The gradient of an input sums the outputs that copied it.
  CHECK(grad_of([](const Tensor& v) { return ops::resize_nearest(v, 1, 8); }, x, {1, 2, 3, 4, 5, 6, 7, 8}) ==
        V{3, 7, 5, 13, 8});
}

TEST_CASE("pool/resize: f64 on CPU, batches and channels are independent planes") {
  Tensor x = T(arange(2 * 3 * 4 * 4), {2, 3, 4, 4}).to(DType::f64);
  Tensor y = ops::max_pool2d(x, P(2, 2, 0));
  CHECK(y.dtype() == DType::f64);
  std::vector<double> v = y.to_vector_f64();
  CHECK(v[0] == 5);
  CHECK(v[4 * 5 + 3] == 16 * 5 + 15);  // plane 5, last window
  Tensor r = ops::resize_bilinear(x, 2, 2, true);
  CHECK(r.to_vector_f64()[4 * 5 + 3] == 16 * 5 + 15);
}

TEST_CASE("pool/resize: errors name the op and the problem") {
  Tensor x = Tensor::zeros({1, 1, 4, 4});
  CHECK_ERROR(ops::max_pool2d(Tensor::zeros({4, 4}), P(2, 2, 0)), "max_pool2d: expected a 4-D (N, C, H, W) input");
  CHECK_ERROR(ops::max_pool2d(x, P(0, 2, 0)), "max_pool2d: kernel must be > 0");
  CHECK_ERROR(ops::avg_pool2d(x, P(2, 0, 0)), "avg_pool2d: stride must be > 0");
  CHECK_ERROR(ops::avg_pool2d(x, P(3, 1, -1)), "avg_pool2d: padding must be >= 0");
  CHECK_ERROR(ops::max_pool2d(x, P(2, 2, 2)), "max_pool2d: padding must be at most half the kernel size");
  CHECK_ERROR(ops::max_pool2d(Tensor::zeros({1, 1, 2, 5}), P(3, 1, 0)), "max_pool2d: input (1, 1, 2, 5) is too small");
  CHECK_ERROR(ops::avg_pool2d(Tensor::zeros({1, 1, 5, 0}), P(3, 1, 0)), "avg_pool2d: input (1, 1, 5, 0) has an empty plane");
  CHECK_ERROR(ops::max_pool2d(Tensor::zeros({1, 1, 4, 4}, DType::i32), P(2, 2, 0)), "max_pool2d");
  CHECK_ERROR(ops::adaptive_avg_pool2d(x, 0, 2), "adaptive_avg_pool2d: output size must be >= 1, got 0x2");
  CHECK_ERROR(ops::adaptive_avg_pool2d(Tensor::zeros({1, 4, 4}), 2, 2), "adaptive_avg_pool2d: expected a 4-D");
  CHECK_ERROR(ops::resize_bilinear(x, 3, -1, false), "resize_bilinear: output size must be >= 1, got 3x-1");
  CHECK_ERROR(ops::resize_nearest(x, 0, 0), "resize_nearest: output size must be >= 1");
  CHECK_ERROR(ops::resize_nearest(Tensor(), 2, 2), "resize_nearest");
  CHECK_ERROR(ops::resize_bilinear(x.to(DType::bf16), 2, 2, false), "resize_bilinear: CPU supports f32 and f64");
}

// The CUDA backward kernels gather, for each input index, the outputs whose windows/taps cover
// it, using these helpers. Check them against brute force over many geometries (on the CPU,
// so a wrong range cannot hide behind a missing GPU).
TEST_CASE("pool/resize: gather ranges of the backward kernels match brute force") {
  for (int64_t in = 1; in <= 13; ++in)
    for (int64_t k = 1; k <= 5; ++k)
      for (int64_t s = 1; s <= 4; ++s)
        for (int64_t p = 0; p <= k / 2; ++p)
          for (bool ceil_mode : {false, true}) {
            int64_t out = kernels::pool_out_size(in, k, s, p, ceil_mode);
            if (out < 1) continue;
            for (int64_t i = 0; i < in; ++i) {
              int64_t lo, hi;
              kernels::pool_cover(i, k, s, p, out, lo, hi);
              for (int64_t o = 0; o < out; ++o) {
                bool covers = o * s - p <= i && i < o * s - p + k;
                INFO("pool in ", in, " k ", k, " s ", s, " p ", p, " i ", i, " o ", o);
                CHECK(covers == (o >= lo && o <= hi));
              }
            }
          }
  for (int64_t in = 1; in <= 20; ++in)
    for (int64_t out = 1; out <= 20; ++out)
      for (int64_t i = 0; i < in; ++i) {
        int64_t lo, hi;
        kernels::adaptive_cover(i, in, out, lo, hi);
        for (int64_t o = 0; o < out; ++o) {
          bool covers = kernels::adaptive_start(o, in, out) <= i && i < kernels::adaptive_end(o, in, out);
          INFO("adaptive in ", in, " out ", out, " i ", i, " o ", o);
          CHECK(covers == (o >= lo && o < hi));
        }
      }
  std::vector<std::pair<int64_t, int64_t>> sizes;
  for (int64_t in = 1; in <= 24; ++in)
    for (int64_t out = 1; out <= 24; ++out) sizes.push_back({in, out});
  sizes.insert(sizes.end(), {{17, 135}, {23, 241}, {1080, 270}, {270, 1080}, {14, 20}, {33, 10}, {1000, 999}});
  for (auto [in, out] : sizes) {
    for (bool ac : {false, true}) {
      float scale = kernels::linear_scale<float>(in, out, ac);
      for (int64_t i = 0; i < in; ++i) {
        int64_t lo, hi;
        kernels::linear_cover<float>(i, scale, ac, in, out, lo, hi);
        for (int64_t o = 0; o < out; ++o) {
          auto t = kernels::linear_tap<float>(o, scale, ac, in);
          bool reads = t.i0 == i || t.i1 == i;
          if (reads != (o >= lo && o < hi)) {
            INFO("bilinear in ", in, " out ", out, " ac ", ac, " i ", i, " o ", o);
            CHECK(reads == (o >= lo && o < hi));
          }
        }
      }
    }
    float scale = kernels::nearest_scale(in, out);
    for (int64_t i = 0; i < in; ++i) {
      int64_t lo, hi;
      kernels::nearest_cover(i, scale, in, out, lo, hi);
      for (int64_t o = 0; o < out; ++o) {
        bool reads = kernels::nearest_src(o, scale, in) == i;
        if (reads != (o >= lo && o < hi)) {
          INFO("nearest in ", in, " out ", out, " i ", i, " o ", o);
          CHECK(reads == (o >= lo && o < hi));
        }
      }
    }
  }
}

}  // TEST_SUITE
