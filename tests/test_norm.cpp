// Normalisation and dropout: exact values on small hand-made inputs, running statistics,
// gradient identities, dropout statistics, and argument errors.
#include <doctest/doctest.h>

#include <cmath>

#include "kernels/device.h"
#include "kernels/random.h"
#include "tensor/autograd.h"
#include "tensor/ops/norm.h"

using namespace sakuga;

namespace {

// x (N, C, S) as nested vectors → reference batch-norm values by the textbook formula.
struct ChannelStats {
  double mean = 0, var_biased = 0, var_unbiased = 0;
};
ChannelStats channel_stats(const std::vector<double>& x, int64_t N, int64_t C, int64_t S, int64_t c) {
  ChannelStats st;
  double M = double(N * S);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) st.mean += x[size_t((n * C + c) * S + s)];
  st.mean /= M;
  double sq = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) sq += std::pow(x[size_t((n * C + c) * S + s)] - st.mean, 2);
  st.var_biased = sq / M;
  st.var_unbiased = sq / (M - 1);
  return st;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("batch_norm train: output and running statistics follow the formula") {
  // x (4, 2): channel 0 = 1, 2, 3, 6 (mean 3, Σd² 14); channel 1 = −1, 0, 0, 5 (mean 1, Σd² 22).
  std::vector<float> xv{1, -1, 2, 0, 3, 0, 6, 5};
  Tensor x = Tensor::from_vector(xv, {4, 2});
  Tensor w = Tensor::from_vector({2.0f, 0.5f}, {2}), b = Tensor::from_vector({0.1f, -0.3f}, {2});
  Tensor rm = Tensor::from_vector({0.5f, -0.5f}, {2}), rv = Tensor::from_vector({2.0f, 1.0f}, {2});
  const double mom = 0.2, eps = 1e-5;
  Tensor y = ops::batch_norm(x, w, b, rm, rv, true, mom, eps);
  // running ← (1 − m)·running + m·batch, with the unbiased variance.
  std::vector<float> rm1 = rm.to_vector(), rv1 = rv.to_vector();
  CHECK(rm1[0] == doctest::Approx(0.8 * 0.5 + 0.2 * 3.0).epsilon(1e-6));
  CHECK(rm1[1] == doctest::Approx(0.8 * -0.5 + 0.2 * 1.0).epsilon(1e-6));
  CHECK(rv1[0] == doctest::Approx(0.8 * 2.0 + 0.2 * 14.0 / 3.0).epsilon(1e-6));
  CHECK(rv1[1] == doctest::Approx(0.8 * 1.0 + 0.2 * 22.0 / 3.0).epsilon(1e-6));
  // y uses the biased variance.
  const double mean[2] = {3.0, 1.0}, var[2] = {14.0 / 4, 22.0 / 4}, wv[2] = {2.0, 0.5}, bv[2] = {0.1, -0.3};
  std::vector<float> yv = y.to_vector();
  for (int i = 0; i < 8; ++i) {
    int c = i % 2;
    double want = (xv[size_t(i)] - mean[c]) / std::sqrt(var[c] + eps) * wv[c] + bv[c];
    CHECK(yv[size_t(i)] == doctest::Approx(want).epsilon(1e-6));
  }
}

TEST_CASE("batch_norm train (N, C, H, W) in f64 with f32 running buffers") {
  const int64_t N = 3, C = 2, H = 2, W = 3, S = H * W;
  std::vector<double> xv(size_t(N * C * S));
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = std::sin(0.7 * double(i)) * 3 + double(i % 5);
  Tensor x = Tensor::from_bytes(xv.data(), {N, C, H, W}, DType::f64);
  Tensor rm = Tensor::zeros({C}), rv = Tensor::ones({C});  // f32: updated through a copy
  Tensor y = ops::batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5);
  std::vector<double> yv = y.to_vector_f64();
  for (int64_t c = 0; c < C; ++c) {
    ChannelStats st = channel_stats(xv, N, C, S, c);
    CHECK(rm.to_vector()[size_t(c)] == doctest::Approx(0.1 * st.mean).epsilon(1e-6));
    CHECK(rv.to_vector()[size_t(c)] == doctest::Approx(0.9 + 0.1 * st.var_unbiased).epsilon(1e-6));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        size_t i = size_t((n * C + c) * S + s);
        CHECK(yv[i] == doctest::Approx((xv[i] - st.mean) / std::sqrt(st.var_biased + 1e-5)).epsilon(1e-12));
      }
  }
}

TEST_CASE("batch_norm eval uses the running statistics and leaves them alone") {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 1, 2});
  Tensor rm = Tensor::from_vector({1.0f, -2.0f}, {2}), rv = Tensor::from_vector({4.0f, 0.25f}, {2});
  Tensor w = Tensor::from_vector({3.0f, -1.0f}, {2}), b = Tensor::from_vector({0.5f, 2.0f}, {2});
  Tensor y = ops::batch_norm(x, w, b, rm, rv, false, 0.1, 1e-5);
  std::vector<float> xv = x.to_vector(), yv = y.to_vector();
  const double m[2] = {1, -2}, v[2] = {4, 0.25}, wv[2] = {3, -1}, bv[2] = {0.5, 2};
  for (int i = 0; i < 8; ++i) {
    int c = (i / 2) % 2;
    CHECK(yv[size_t(i)] == doctest::Approx((xv[size_t(i)] - m[c]) / std::sqrt(v[c] + 1e-5) * wv[c] + bv[c]));
  }
  CHECK(rm.to_vector() == std::vector<float>{1.0f, -2.0f});
  CHECK(rv.to_vector() == std::vector<float>{4.0f, 0.25f});
  // Gradient in eval mode: dx = w·invstd·dy, dw = Σ dy·x̂, db = Σ dy.
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  ops::batch_norm(x, w, b, rm, rv, false).backward(Tensor::ones({2, 2, 1, 2}));
  std::vector<float> gx = x.grad().to_vector(), gw = w.grad().to_vector(), gb = b.grad().to_vector();
  for (int i = 0; i < 8; ++i) {
    int c = (i / 2) % 2;
    CHECK(gx[size_t(i)] == doctest::Approx(wv[c] / std::sqrt(v[c] + 1e-5)));
  }
  CHECK(gb == std::vector<float>{4.0f, 4.0f});
  double sw0 = 0;
  for (int i : {0, 1, 4, 5}) sw0 += (xv[size_t(i)] - m[0]) / std::sqrt(v[0] + 1e-5);
  CHECK(gw[0] == doctest::Approx(sw0));
}

TEST_CASE("batch_norm train backward: the closed form's identities") {
  // Without affine, Σ dx = 0 and Σ dx·x̂ = 0 per channel, for any dy (the second exactly
  // when eps = 0, since Σ x̂² = M·var/(var + eps); a tiny eps keeps it at rounding level).
  Generator g(5);
  Tensor x = randn({4, 3, 3, 5}, g, DType::f64);
  Tensor dy = randn({4, 3, 3, 5}, g, DType::f64);
  x.set_requires_grad(true);
  Tensor y = ops::batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-13);
  y.backward(dy);
  std::vector<double> dx = x.grad().to_vector_f64(), yv = y.to_vector_f64();
  for (int64_t c = 0; c < 3; ++c) {
    double s = 0, sx = 0;
    for (int64_t n = 0; n < 4; ++n)
      for (int64_t k = 0; k < 15; ++k) {
        size_t i = size_t((n * 3 + c) * 15 + k);
        s += dx[i];
        sx += dx[i] * yv[i];
      }
    CHECK(std::fabs(s) < 1e-11);
    CHECK(std::fabs(sx) < 1e-10);
  }
}

TEST_CASE("instance_norm: per sample and channel, affine per channel") {
  // (2, 2, 2, 2): each (n, c) plane gets its own statistics.
  std::vector<float> xv{1, 2, 3, 4, 0, 0, 1, 7, -1, -1, -1, 3, 10, 20, 30, 40};
  Tensor x = Tensor::from_vector(xv, {2, 2, 2, 2});
  Tensor w = Tensor::from_vector({2.0f, 0.5f}, {2}), b = Tensor::from_vector({1.0f, -1.0f}, {2});
  std::vector<float> ya = ops::instance_norm(x, w, b).to_vector();
  std::vector<float> yn = ops::instance_norm(x, Tensor(), Tensor(), 1e-3).to_vector();
  for (int plane = 0; plane < 4; ++plane) {
    double m = 0, v = 0;
    for (int k = 0; k < 4; ++k) m += xv[size_t(plane * 4 + k)] / 4.0;
    for (int k = 0; k < 4; ++k) v += std::pow(xv[size_t(plane * 4 + k)] - m, 2) / 4.0;
    int c = plane % 2;
    for (int k = 0; k < 4; ++k) {
      size_t i = size_t(plane * 4 + k);
      double xh = (xv[i] - m) / std::sqrt(v + 1e-5);
      CHECK(ya[i] == doctest::Approx(xh * (c ? 0.5 : 2.0) + (c ? -1.0 : 1.0)));
      CHECK(yn[i] == doctest::Approx((xv[i] - m) / std::sqrt(v + 1e-3)));
    }
  }
}

TEST_CASE("norm: argument errors name the op and the argument") {
  Tensor x = Tensor::zeros({2, 3, 4, 4});
  Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
  CHECK_THROWS_WITH_AS(ops::batch_norm(x, Tensor::ones({4}), Tensor(), rm, rv, true),
                       doctest::Contains("batch_norm: weight must have shape (3)"), Error);
  CHECK_THROWS_WITH_AS(ops::batch_norm(Tensor::zeros({2, 3, 4}), Tensor(), Tensor(), rm, rv, true),
                       doctest::Contains("batch_norm: x must be (N, C) or (N, C, H, W)"), Error);
  CHECK_THROWS_WITH_AS(ops::batch_norm(Tensor::zeros({1, 3}), Tensor(), Tensor(), rm, rv, true),
                       doctest::Contains("more than 1 value per channel"), Error);
  CHECK_THROWS_WITH_AS(ops::batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false),
                       doctest::Contains("evaluation mode needs running_mean"), Error);
  CHECK_THROWS_WITH_AS(ops::batch_norm(x, Tensor(), Tensor(), rm, Tensor(), true),
                       doctest::Contains("both running_mean and running_var"), Error);
  CHECK_THROWS_WITH_AS(ops::batch_norm(x.to(DType::bf16), Tensor(), Tensor(), rm, rv, true),
                       doctest::Contains("f32 or f64"), Error);
  CHECK_THROWS_WITH_AS(ops::instance_norm(Tensor::zeros({2, 3}), Tensor(), Tensor()),
                       doctest::Contains("instance_norm: x must be"), Error);
  CHECK_THROWS_WITH_AS(ops::instance_norm(x, Tensor(), Tensor::ones({2})),
                       doctest::Contains("instance_norm: bias must have shape (3)"), Error);
  CHECK_THROWS_WITH_AS(ops::instance_norm(Tensor::zeros({2, 3, 1, 1}), Tensor(), Tensor()),
                       doctest::Contains("more than 1 spatial element"), Error);
  CHECK_THROWS_WITH_AS(ops::dropout(x, 1.5, true), doctest::Contains("dropout: p must be in [0, 1]"), Error);
}

TEST_CASE("dropout keeps about 1 − p and scales the kept by 1/(1 − p)") {
  const double p = 0.3;
  const int64_t n = 100000;
  Tensor x = Tensor::ones({n});
  x.set_requires_grad(true);
  Generator g(17);
  g.reserve(11);
  Tensor y = ops::dropout(x, p, true, g);
  CHECK(g.offset == uint64_t(11 + n));
  std::vector<float> yv = y.to_vector();
  const float scale = float(1.0 / (1.0 - p));
  int64_t kept = 0;
  bool only_two_values = true;
  for (float v : yv) {
    if (v != 0.0f) ++kept;
    only_two_values &= (v == 0.0f || v == scale);
  }
  CHECK(only_two_values);
  CHECK(double(kept) / double(n) == doctest::Approx(1 - p).epsilon(0.015));
  // The mask is the Philox one at the draw's counters.
  std::vector<uint8_t> keep(static_cast<size_t>(n));
  kernels::cpu::dropout_mask(keep.data(), n, p, 17, 11);
  bool same = true;
  for (int64_t i = 0; i < n; ++i) same &= (keep[size_t(i)] != 0) == (yv[size_t(i)] != 0.0f);
  CHECK(same);
  // The gradient goes through the same mask and scale: with x = 1, dL/dx = y for L = Σ y.
  y.backward(Tensor::ones({n}));
  CHECK(x.grad().to_vector() == yv);
  // Same seed and offset, same mask.
  Generator h(17);
  h.reserve(11);
  CHECK(ops::dropout(x.detach(), p, true, h).to_vector() == yv);
}

TEST_CASE("dropout: identity when not training or p = 0, zeros when p = 1") {
  Generator g(3);
  Tensor x = randn({5, 6}, g);
  uint64_t off = g.offset;
  CHECK(ops::dropout(x, 0.5, false, g).same(x));
  CHECK(ops::dropout(x, 0.0, true, g).same(x));
  CHECK(g.offset == off);
  for (float v : ops::dropout(x, 1.0, true, g).to_vector()) CHECK(v == 0.0f);
  CHECK(g.offset == off + 30);
}

TEST_CASE("norm and dropout: CUDA equals the CPU (running statistics and masks)") {
  if (device::cuda_device_count() == 0) {
    MESSAGE("skipped: no GPU answered");
    return;
  }
  Generator g(8);
  Tensor x = randn({4, 3, 9, 70}, g, DType::f32, Device::cpu(), 1.0, 2.0);
  Tensor w = rand_uniform({3}, 0.5, 1.5, g), b = randn({3}, g);
  Tensor rm = randn({3}, g), rv = rand_uniform({3}, 0.5, 2.0, g);
  Tensor rm_g = rm.to(Device::cuda()), rv_g = rv.to(Device::cuda());
  Tensor y = ops::batch_norm(x, w, b, rm, rv, true, 0.1, 1e-5);
  Tensor y_g = ops::batch_norm(x.to(Device::cuda()), w.to(Device::cuda()), b.to(Device::cuda()), rm_g, rv_g, true,
                               0.1, 1e-5);
  auto close = [](const Tensor& a, const Tensor& ref, double tol) {
    std::vector<double> u = a.to_vector_f64(), v = ref.to_vector_f64();
    double num = 0, den = 0;
    for (size_t i = 0; i < u.size(); ++i) {
      num = std::max(num, std::fabs(u[i] - v[i]));
      den = std::max(den, std::fabs(v[i]));
    }
    return num / std::max(den, 1e-12) <= tol;
  };
  CHECK(close(y_g, y, 1e-5));
  CHECK(close(rm_g, rm, 1e-5));
  CHECK(close(rv_g, rv, 1e-5));
  Generator a(21), c(21);
  Tensor d = ops::dropout(x, 0.4, true, a);
  Tensor d_g = ops::dropout(x.to(Device::cuda()), 0.4, true, c);
  CHECK(d_g.to_vector() == d.to_vector());
}

}  // TEST_SUITE
