// The GADN fused ops (tensor/ops/gadn.h) beyond the harness: exact values, the kink of the norm,
// argument errors, sums independent of the thread count, and on a GPU (skipped without one):
// large shapes against the CPU, run-to-run bit equality, and the bf16 path on pre-rounded inputs.
#include "tests/test_util.h"

#include <cmath>
#include <vector>

#include "kernels/device.h"
#include "tensor/autograd.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/gadn.h"
#include "tensor/ops/reduce.h"
#include "tensor/random.h"

using namespace sakuga;

namespace {

Tensor leaf(const Tensor& t) {
  Tensor l = t.detach().clone();
  l.set_requires_grad(true);
  return l;
}

double max_rel(const Tensor& got, const Tensor& want) {
  std::vector<double> a = got.to_vector_f64(), b = want.to_vector_f64();
  REQUIRE(a.size() == b.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::fabs(a[i] - b[i]));
    den = std::max(den, std::fabs(b[i]));
  }
  return num / std::max(den, 1e-12);
}

bool bit_equal(const Tensor& a, const Tensor& b) { return a.to_vector_f64() == b.to_vector_f64(); }

Tensor rounded(const Tensor& t) { return t.to(DType::bf16).to(DType::f32); }

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("pixel_l2_loss: values, the gradient at a zero norm, weights") {
  // B = 1, C = 2, P = 2: pixel 0 differs by (3, 4) (norm 5), pixel 1 not at all.
  Tensor g = leaf(Tensor::from_vector({3.f, 1.f, 4.f, -2.f}, {1, 2, 1, 2}));
  Tensor x = leaf(Tensor::from_vector({0.f, 1.f, 0.f, -2.f}, {1, 2, 1, 2}));
  Tensor loss = ops::pixel_l2_loss(g, x);
  CHECK(loss.dim() == 0);
  CHECK(loss.item() == doctest::Approx(2.5));  // (5 + 0) / 2 pixels
  loss.backward();
  // ∂/∂G = (1/P)(G − x)/‖·‖ at pixel 0, 0 at pixel 1; ∂/∂x = −∂/∂G.
  const std::vector<float> gg = g.grad().to_vector(), gx = x.grad().to_vector();
  CHECK(gg[0] == doctest::Approx(0.3));
  CHECK(gg[2] == doctest::Approx(0.4));
  CHECK(gg[1] == 0.f);
  CHECK(gg[3] == 0.f);
  for (size_t i = 0; i < 4; ++i) CHECK(gx[i] == -gg[i]);
  // Weights replace 1/P, per pixel; the batch is averaged.
  Tensor g2 = Tensor::from_vector({3.f, 0.f, 4.f, 0.f, 1.f, 0.f, 0.f, 0.f}, {2, 2, 1, 2});
  Tensor w = Tensor::from_vector({2.f, 7.f, 0.5f, 1.f}, {2, 1, 2});
  CHECK(ops::pixel_l2_loss(g2, Tensor::zeros({2, 2, 1, 2}), w).item() == doctest::Approx((2 * 5 + 0.5 * 1) / 2.0));
  // No gradient requested: nothing recorded.
  {
    NoGradGuard ng;
    CHECK(!ops::pixel_l2_loss(g, x).requires_grad());
  }
}

TEST_CASE("pixel_l2_loss: argument errors name what is wrong") {
  Tensor a = Tensor::zeros({2, 3, 4, 4});
  CHECK_ERROR(ops::pixel_l2_loss(a, Tensor::zeros({2, 3, 4, 5})), "does not match generated shape");
  CHECK_ERROR(ops::pixel_l2_loss(Tensor::zeros({6}), Tensor::zeros({6})), "must have shape (B, C, H, W)");
  CHECK_ERROR(ops::pixel_l2_loss(a, a, Tensor::zeros({2, 3, 4, 4})), "'weight' must have shape (2, 4, 4)");
  CHECK_ERROR(ops::pixel_l2_loss(a, a, leaf(Tensor::zeros({2, 4, 4}))), "gradient with respect to 'weight'");
  CHECK_ERROR(ops::pixel_l2_loss(a, Tensor::zeros({2, 3, 4, 4}, DType::f64)), "dtype mismatch");
  CHECK_ERROR(ops::pixel_l2_loss(a.to(DType::bf16), a.to(DType::bf16)), "CPU supports f32 and f64");
  CHECK_ERROR(ops::pixel_l2_loss(Tensor::zeros({0, 3, 4, 4}), Tensor::zeros({0, 3, 4, 4})), "empty input");
}

TEST_CASE("gaussian_sample_kl: values, one backward for z and kl, errors") {
  Tensor mu = leaf(Tensor::from_vector({0.f, 1.f, -2.f, 0.5f}, {2, 2}));
  Tensor sigma = leaf(Tensor::from_vector({1.f, 2.f, 0.5f, 1.f}, {2, 2}));
  Tensor eps = Tensor::from_vector({1.f, -1.f, 2.f, 0.f}, {2, 2});
  Tensor w = Tensor::from_vector({1.f, 0.25f}, {2});
  ops::GaussianSampleKl r = ops::gaussian_sample_kl(mu, sigma, eps, w);
  CHECK(r.z.shape() == Shape{2, 2});
  CHECK(r.kl.dim() == 0);
  CHECK(r.z.to_vector() == std::vector<float>{1.f, -1.f, -1.f, 0.5f});
  auto term = [](double m, double s) { return (m * m + s * s) / 2 - std::log(s) - 0.5; };
  const double kl = (term(0, 1) + 0.25 * term(1, 2) + term(-2, 0.5) + 0.25 * term(0.5, 1)) / 2;
  CHECK(r.kl.item() == doctest::Approx(kl));
  // L = Σ z + 3·kl: ∂/∂μ = 1 + 3 w μ / B, ∂/∂σ = ε + 3 w (σ − 1/σ) / B.
  (ops::sum(r.z) + r.kl * 3.0).backward();
  const std::vector<float> m = {0.f, 1.f, -2.f, 0.5f}, s = {1.f, 2.f, 0.5f, 1.f}, e = {1.f, -1.f, 2.f, 0.f},
                           wv = {1.f, 0.25f, 1.f, 0.25f};
  const std::vector<float> gm = mu.grad().to_vector(), gs = sigma.grad().to_vector();
  for (size_t i = 0; i < 4; ++i) {
    CHECK(gm[i] == doctest::Approx(1 + 1.5 * wv[i] * m[i]));
    CHECK(gs[i] == doctest::Approx(e[i] + 1.5 * wv[i] * (s[i] - 1 / s[i])));
  }
  // Without eps z is mu, and its gradient reaches mu only.
  Tensor mu2 = leaf(mu), sigma2 = leaf(sigma);
  ops::GaussianSampleKl r2 = ops::gaussian_sample_kl(mu2, sigma2);
  CHECK(r2.z.to_vector() == mu.to_vector());
  ops::sum(r2.z).backward();
  CHECK(mu2.grad().to_vector() == std::vector<float>(4, 1.f));
  CHECK(sigma2.grad().to_vector() == std::vector<float>(4, 0.f));

  CHECK_ERROR(ops::gaussian_sample_kl(Tensor::zeros({2, 2, 1}), sigma), "'mu' must have shape (B, Z)");
  CHECK_ERROR(ops::gaussian_sample_kl(mu, Tensor::ones({2, 3})), "sigma shape (2, 3) does not match");
  CHECK_ERROR(ops::gaussian_sample_kl(mu, sigma, Tensor::zeros({4})), "eps shape (4,) does not match");
  CHECK_ERROR(ops::gaussian_sample_kl(mu, sigma, leaf(eps)), "gradient with respect to 'eps'");
  CHECK_ERROR(ops::gaussian_sample_kl(mu, sigma, eps, Tensor::ones({3})), "'weight' must have shape (2,) (one weight per code dimension), got (3,)");
}

TEST_CASE("gadn ops: CPU sums do not depend on the thread count") {
  Generator gen(5);
  const Tensor g = randn({3, 3, 90, 70}, gen), x = randn({3, 3, 90, 70}, gen);  // 18 900 pixels: 5 chunks
  const Tensor mu = randn({4, 3000}, gen), sigma = rand_uniform({4, 3000}, 0.5, 2.0, gen), eps = randn({4, 3000}, gen);
  const int before = device::cpu_threads();
  device::set_cpu_threads(1);
  const Tensor l1 = ops::pixel_l2_loss(g, x), k1 = ops::gaussian_sample_kl(mu, sigma, eps).kl;
  device::set_cpu_threads(2);
  const Tensor l2 = ops::pixel_l2_loss(g, x), k2 = ops::gaussian_sample_kl(mu, sigma, eps).kl;
  device::set_cpu_threads(before);
  CHECK(bit_equal(l1, l2));
  CHECK(bit_equal(k1, k2));
}

TEST_CASE("gadn ops: CUDA at training sizes, run-to-run equality and bf16") {
  if (device::cuda_device_count() == 0) return;
  const Device gpu = Device::cuda();
  Generator gen(11);
  // The 256-px reconstruction of a batch of 8 (many chunks) and a 256-d code of batch 8.
  const Tensor g = rand_uniform({8, 3, 256, 256}, -1, 1, gen), x = rand_uniform({8, 3, 256, 256}, -1, 1, gen);
  const Tensor w = rand_uniform({8, 256, 256}, 0.0, 2.0 / 65536, gen);
  const Tensor mu = randn({8, 256}, gen), sigma = rand_uniform({8, 256}, 0.3, 2.0, gen), eps = randn({8, 256}, gen);
  const Tensor kw = rand_uniform({256}, 0.0, 1.0, gen);

  auto rec = [&](const Tensor& a, const Tensor& b, const Tensor& wt, Device d) {
    Tensor ga = leaf(a.to(d)), gb = leaf(b.to(d));
    Tensor l = ops::pixel_l2_loss(ga, gb, wt.to(d));
    l.backward(Tensor::full({}, 0.75, l.dtype(), d));
    return std::vector<Tensor>{l.cpu(), ga.grad().cpu(), gb.grad().cpu()};
  };
  auto code = [&](const Tensor& m, const Tensor& s, const Tensor& e, const Tensor& wt, const Tensor& up, Device d) {
    Tensor gm = leaf(m.to(d)), gs = leaf(s.to(d));
    ops::GaussianSampleKl r = ops::gaussian_sample_kl(gm, gs, e.to(d), wt.to(d));
    (ops::sum(r.z * up.to(d)) + r.kl * 0.5).backward();
    return std::vector<Tensor>{r.z.cpu(), r.kl.cpu(), gm.grad().cpu(), gs.grad().cpu()};
  };
  const Tensor up = randn({8, 256}, gen);
  {
    INFO("f32 against the CPU");
    auto c = rec(g, x, w, Device::cpu()), a = rec(g, x, w, gpu), b = rec(g, x, w, gpu);
    for (size_t i = 0; i < c.size(); ++i) {
      CHECK(max_rel(a[i], c[i]) <= 1e-5);
      CHECK(bit_equal(a[i], b[i]));
    }
    auto kc = code(mu, sigma, eps, kw, up, Device::cpu()), ka = code(mu, sigma, eps, kw, up, gpu),
         kb = code(mu, sigma, eps, kw, up, gpu);
    for (size_t i = 0; i < kc.size(); ++i) {
      CHECK(max_rel(ka[i], kc[i]) <= 1e-5);
      CHECK(bit_equal(ka[i], kb[i]));
    }
  }
  {
    INFO("bf16 against f32 on the same rounded inputs");
    auto c = rec(rounded(g), rounded(x), rounded(w), Device::cpu());
    auto a = rec(g.to(DType::bf16), x.to(DType::bf16), w.to(DType::bf16), gpu);
    CHECK(a[0].dtype() == DType::bf16);
    for (size_t i = 0; i < c.size(); ++i) CHECK(max_rel(a[i], c[i]) <= 1e-2);
    auto kc = code(rounded(mu), rounded(sigma), rounded(eps), rounded(kw), rounded(up), Device::cpu());
    auto ka = code(mu.to(DType::bf16), sigma.to(DType::bf16), eps.to(DType::bf16), kw.to(DType::bf16),
                   up.to(DType::bf16), gpu);
    for (size_t i = 0; i < kc.size(); ++i) CHECK(max_rel(ka[i], kc[i]) <= 1e-2);
  }
}
}  // TEST_SUITE
