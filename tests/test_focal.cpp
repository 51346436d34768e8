// Unit tests of the focal losses and the segmentation loss selection: exact values on tiny
// inputs (reference numbers from PyTorch / torchvision in f64), γ = 0 against BCE / CE, the
// saturated limits without NaN, error messages, losses::validate / segmentation_loss,
// inverse_frequency_weights and the GAN losses.
#include "tests/test_util.h"
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/device.h"
#include "kernels/focal.h"
#include "losses/segmentation.h"
#include "tensor/autograd.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/focal.h"
#include "tensor/ops/loss.h"
#include "tensor/ops/reduce.h"
#include "tensor/random.h"

using namespace sakuga;
using ops::Reduction;

namespace {

Tensor f64(std::vector<double> v, Shape s) { return Tensor::from_bytes(v.data(), s, DType::f64); }
Tensor i32(std::vector<int32_t> v, Shape s) { return Tensor::from_vector_i32(v, s); }

void check_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-9) {
  std::vector<double> got = t.to_vector_f64();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], " want ", want[i]);
    CHECK(std::fabs(got[i] - want[i]) <= tol * std::max(1.0, std::fabs(want[i])));
  }
}

void check_same(const Tensor& a, const Tensor& b, double tol) {
  std::vector<double> x = a.to_vector_f64(), y = b.to_vector_f64();
  REQUIRE(x.size() == y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    INFO("element ", i, ": ", x[i], " vs ", y[i]);
    CHECK(std::fabs(x[i] - y[i]) <= tol * std::max(1.0, std::fabs(y[i])));
  }
}

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector_f64())
    if (!std::isfinite(v)) return false;
  return true;
}

Tensor leaf(const Tensor& t) {
  Tensor x = t.detach();
  x.set_requires_grad(true);
  return x;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("binary_focal_loss: values and gradient (torchvision reference)") {
  Tensor z = leaf(f64({0, 2, -1, 3}, {4}));
  Tensor t = f64({1, 0, 0.3, 1}, {4});
  Tensor l = ops::binary_focal_loss(z, t, 2.0, 0.25, Reduction::none);
  check_values(l, {0.04332169878499658, 1.2375586345660565, 0.061124525572357494, 2.732083112424916e-05});
  ops::sum(l).backward();
  check_values(z.grad(), {-0.07457169878499659, 0.8075352978363615, 0.02049317090450861, -7.871796162206966e-05});
  // mean / sum reductions of the same items, and their gradients.
  Tensor z2 = leaf(z);
  Tensor m = ops::binary_focal_loss(z2, t, 2.0, 0.25, Reduction::mean);
  CHECK(m.dim() == 0);
  check_values(m, {(0.04332169878499658 + 1.2375586345660565 + 0.061124525572357494 + 2.732083112424916e-05) / 4});
  m.backward();
  check_values(z2.grad(), {-0.07457169878499659 / 4, 0.8075352978363615 / 4, 0.02049317090450861 / 4,
                           -7.871796162206966e-05 / 4});
}

TEST_CASE("softmax_focal_loss: values, gradient, ignore_index") {
  // logits (2, 3), targets (2), class weights; reference −w_y (1 − p_y)² log p_y in PyTorch f64.
  Tensor x = leaf(f64({1, 2, 0.5, 0, -1, 3}, {2, 3}));
  Tensor w = f64({0.5, 1, 2}, {3});
  Tensor l = ops::softmax_focal_loss(x, i32({2, 0}, {2}), 2.0, w, -100, Reduction::none);
  check_values(l, {2.904043138288864, 1.3933637416643612});
  ops::sum(l).backward();
  check_values(x.grad(), {0.5608986641829464, 1.5246806464554559, -2.085579310638402, -0.5631862089413366,
                          0.010129585401773245, 0.5530566235395634});
  // Second item ignored: mean over the one counted item (not divided by Σ w), zero gradient row.
  Tensor x2 = leaf(x);
  Tensor m = ops::softmax_focal_loss(x2, i32({2, 7}, {2}), 2.0, w, 7, Reduction::mean);
  check_values(m, {2.904043138288864});
  m.backward();
  check_values(x2.grad(), {0.5608986641829464, 1.5246806464554559, -2.085579310638402, 0, 0, 0});
  // sum: Σ items
  check_values(ops::softmax_focal_loss(x, i32({2, 0}, {2}), 2.0, w, -100, Reduction::sum),
               {2.904043138288864 + 1.3933637416643612});
  // all items ignored: per-item zeros
  check_values(ops::softmax_focal_loss(x, i32({-100, -100}, {2}), 2.0, Tensor(), -100, Reduction::none), {0, 0});
}

TEST_CASE("focal losses with gamma = 0 equal BCE / CE") {
  Generator gen(7);
  {
    Tensor z = leaf(randn({3, 1, 4, 5}, gen, DType::f64, Device::cpu(), 0.0, 3.0));
    Tensor t = rand_uniform({3, 1, 4, 5}, 0.0, 1.0, gen, DType::f64);
    Tensor z2 = leaf(z);
    Tensor a = ops::binary_focal_loss(z, t, 0.0, -1.0, Reduction::mean);
    Tensor b = ops::bce_with_logits(z2, t, Reduction::mean);
    check_same(a, b, 1e-12);
    a.backward();
    b.backward();
    check_same(z.grad(), z2.grad(), 1e-12);
  }
  {
    Tensor x = leaf(randn({2, 5, 3, 4}, gen, DType::f64, Device::cpu(), 0.0, 2.0));
    Tensor x2 = leaf(x);
    std::vector<int32_t> y(24);
    for (size_t k = 0; k < y.size(); ++k) y[k] = k % 7 == 3 ? 255 : int32_t((k * 3) % 5);
    Tensor tgt = i32(y, {2, 3, 4});
    // Unweighted mean: both divide by the number of counted items.
    Tensor a = ops::softmax_focal_loss(x, tgt, 0.0, Tensor(), 255, Reduction::mean);
    Tensor b = ops::cross_entropy(x2, tgt, Tensor(), 255, Reduction::mean);
    check_same(a, b, 1e-12);
    a.backward();
    b.backward();
    check_same(x.grad(), x2.grad(), 1e-12);
    // Weighted: per-item losses agree (the means differ by design: count vs Σ w).
    Tensor w = f64({0.5, 1, 2, 0.1, 3}, {5});
    check_same(ops::softmax_focal_loss(x, tgt, 0.0, w, 255, Reduction::none),
               ops::cross_entropy(x, tgt, w, 255, Reduction::none), 1e-12);
  }
}

TEST_CASE("focal losses: saturated predictions give finite loss and gradient") {
  for (DType dt : {DType::f32, DType::f64}) {
    for (double gamma : {0.0, 0.5, 1.0, 2.0, 2.5}) {
      INFO("dtype ", dtype_name(dt), " gamma ", gamma);
      Tensor z = leaf(Tensor::from_vector({100, -100, 100, -100, 0, 40}, {6}, dt));
      Tensor t = Tensor::from_vector({1, 0, 0, 1, 1, 1}, {6}, dt);
      Tensor l = ops::binary_focal_loss(z, t, gamma, 0.25, Reduction::sum);
      l.backward();
      CHECK(all_finite(l));
      CHECK(all_finite(z.grad()));
      // p_t → 1: loss and gradient → 0 (exactly representable limits)
      std::vector<double> g = z.grad().to_vector_f64();
      CHECK(std::fabs(g[0]) < 1e-20);
      CHECK(std::fabs(g[1]) < 1e-20);

      Tensor x = leaf(Tensor::from_vector({200, 0, -200, 0, 0, 0, -300, 300, 0}, {3, 3}, dt));
      Tensor sl = ops::softmax_focal_loss(x, i32({0, 1, 0}, {3}), gamma, Tensor(), -100, Reduction::none);
      ops::sum(sl).backward();
      CHECK(all_finite(sl));
      CHECK(all_finite(x.grad()));
      std::vector<double> v = sl.to_vector_f64();
      CHECK(v[0] == doctest::Approx(0.0));  // p_y = 1
      CHECK(v[2] == doctest::Approx(600.0));  // p_y → 0: (1 − p_y)^γ = 1, −log p_y = 600
    }
  }
}

TEST_CASE("focal losses: errors name the op and the argument") {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK_ERROR(ops::softmax_focal_loss(x, i32({0, 1, 2}, {3})), "softmax_focal_loss: target shape (3,)");
  CHECK_ERROR(ops::softmax_focal_loss(x, i32({0, 3}, {2})), "softmax_focal_loss: target value 3 at flat index 1");
  CHECK_ERROR(ops::softmax_focal_loss(x, i32({0, -1}, {2})), "out of range [0, 3)");
  CHECK_ERROR(ops::softmax_focal_loss(x, f64({0, 1}, {2})), "'target' must be an i32");
  CHECK_ERROR(ops::softmax_focal_loss(x, i32({0, 1}, {2}), 2.0, f64({1, 1}, {2})), "'weight' must have shape (3)");
  CHECK_ERROR(ops::softmax_focal_loss(x, i32({0, 1}, {2}), -1.0), "'gamma'");
  CHECK_ERROR(ops::softmax_focal_loss(f64({1, 2}, {2}), i32({0}, {})), "'logits' must have shape (N, C)");
  CHECK_ERROR(ops::binary_focal_loss(x, f64({0, 1}, {2})), "binary_focal_loss: target shape (2,)");
  CHECK_ERROR(ops::binary_focal_loss(x, x, 2.0, 1.5), "'alpha'");
  CHECK_ERROR(ops::binary_focal_loss(x, x.to(DType::f32)), "binary_focal_loss");
  Tensor tg = leaf(x);
  CHECK_ERROR(ops::binary_focal_loss(x, tg), "'target' is not implemented");
  // The kernel itself also refuses bad labels.
  std::vector<double> loss(1);
  int32_t y = 5;
  CHECK_ERROR(kernels::cpu::softmax_focal_forward<double>(x.data<double>(), &y, nullptr, 1, 3, 1, 2.0, -100,
                                                          loss.data(), nullptr, nullptr),
              "target value 5");
}

TEST_CASE("focal losses: no saved derivative without requires_grad; f32 matches f64") {
  Generator gen(3);
  Tensor x = randn({2, 4, 3, 3}, gen, DType::f64);
  std::vector<int32_t> y(18);
  for (size_t k = 0; k < y.size(); ++k) y[k] = int32_t(k % 4);
  Tensor t = i32(y, {2, 3, 3});
  Tensor a = ops::softmax_focal_loss(x, t, 2.0);
  CHECK_FALSE(a.requires_grad());
  Tensor b = ops::softmax_focal_loss(x.to(DType::f32), t, 2.0);
  CHECK(b.dtype() == DType::f32);
  check_same(b, a, 1e-5);
}

// The bf16 CUDA path against f32 on the CPU from the same bf16-rounded inputs (and upstream
// gradient), so only the bf16 storage of the outputs / saved derivative separates them.
// Skipped without a GPU. (f32 CUDA parity is in the op harness.)
TEST_CASE("focal losses: bf16 on CUDA") {
  if (device::cuda_device_count() == 0) return;
  Generator gen(21);
  auto rounded = [](const Tensor& t) { return t.to(DType::bf16).to(DType::f32); };
  auto rel = [](const Tensor& got, const Tensor& want) {
    std::vector<double> a = got.to_vector_f64(), b = want.to_vector_f64();
    REQUIRE(a.size() == b.size());
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      num = std::max(num, std::fabs(a[i] - b[i]));
      den = std::max(den, std::fabs(b[i]));
    }
    return num / std::max(den, 1e-12);
  };
  for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum}) {
    for (int64_t C : {3, 10, 40}) {
      INFO("softmax C = ", C, " reduction ", int(r));
      Tensor x = rounded(randn({2, C, 9, 13}, gen, DType::f32, Device::cpu(), 0.0, 2.0));
      std::vector<int32_t> y(2 * 9 * 13);
      for (size_t k = 0; k < y.size(); ++k) y[k] = k % 11 == 5 ? 255 : int32_t((k * 7) % size_t(C));
      Tensor t = i32(y, {2, 9, 13});
      Tensor w = rounded(rand_uniform({C}, 0.3, 2.0, gen));
      Tensor xc = leaf(x), xg = leaf(x.to(DType::bf16).to(Device::cuda()));
      Tensor lc = ops::softmax_focal_loss(xc, t, 2.0, w, 255, r);
      Tensor lg = ops::softmax_focal_loss(xg, t.to(Device::cuda()), 2.0, w.to(DType::bf16).to(Device::cuda()), 255, r);
      CHECK(lg.dtype() == DType::bf16);
      Tensor up = rounded(randn(lc.shape(), gen));
      lc.backward(up);
      lg.backward(up.to(DType::bf16).to(Device::cuda()));
      CHECK(rel(lg.cpu(), lc) <= 1e-2);
      CHECK(rel(xg.grad().cpu(), xc.grad()) <= 1e-2);
    }
    INFO("binary reduction ", int(r));
    Tensor z = rounded(randn({3, 1, 17, 11}, gen, DType::f32, Device::cpu(), 0.0, 2.0));
    Tensor tt = rounded(rand_uniform({3, 1, 17, 11}, 0.0, 1.0, gen));
    Tensor zc = leaf(z), zg = leaf(z.to(DType::bf16).to(Device::cuda()));
    Tensor lc = ops::binary_focal_loss(zc, tt, 2.0, 0.25, r);
    Tensor lg = ops::binary_focal_loss(zg, tt.to(DType::bf16).to(Device::cuda()), 2.0, 0.25, r);
    Tensor up = rounded(randn(lc.shape(), gen));
    lc.backward(up);
    lg.backward(up.to(DType::bf16).to(Device::cuda()));
    CHECK(rel(lg.cpu(), lc) <= 1e-2);
    CHECK(rel(zg.grad().cpu(), zc.grad()) <= 1e-2);
  }
}

TEST_CASE("losses::validate") {
  losses::SegLossConfig c;
  c.kind = "focal";
  CHECK_NOTHROW(losses::validate(c, 1));
  CHECK_NOTHROW(losses::validate(c, 10));
  c.kind = "dice";
  CHECK_ERROR(losses::validate(c, 10), "loss.kind");
  CHECK_ERROR(losses::validate(c, 1), "loss.kind");
  c.kind = "ce";
  CHECK_ERROR(losses::validate(c, 1), "loss.kind");  // ce is a douga loss
  c.kind = "bce";
  CHECK_ERROR(losses::validate(c, 10), "loss.kind");  // bce is a cel loss
  c.kind = "wce";
  CHECK_ERROR(losses::validate(c, 10), "loss.class_weights");  // required for wce
  c.class_weights = {1, 2, 3};
  CHECK_ERROR(losses::validate(c, 10), "loss.class_weights must have one weight per class (10), got 3");
  c.class_weights = {1, 1, -1};
  CHECK_ERROR(losses::validate(c, 3), "loss.class_weights[2]");
  c.class_weights = {1, 2, 3};
  CHECK_NOTHROW(losses::validate(c, 3));
  c.kind = "focal";
  c.gamma = -1;
  CHECK_ERROR(losses::validate(c, 3), "loss.gamma");
  c.gamma = 2;
  c.alpha = 1.5;
  CHECK_ERROR(losses::validate(c, 3), "loss.alpha");
  c.alpha = 0.25;
  CHECK_NOTHROW(losses::validate(c, 3));
}

TEST_CASE("losses::segmentation_loss picks the configured loss") {
  Generator gen(11);
  // douga: (N, C, H, W) logits, (N, H, W) i32 targets
  Tensor x = randn({2, 3, 4, 5}, gen, DType::f32);
  std::vector<int32_t> y(40);
  for (size_t k = 0; k < y.size(); ++k) y[k] = int32_t((k * 7) % 3);
  Tensor t = i32(y, {2, 4, 5});
  Tensor w = Tensor::from_vector({0.5f, 1.f, 2.f}, {3});
  losses::SegLossConfig c;
  c.kind = "ce";
  check_same(losses::segmentation_loss(c, x, t), ops::cross_entropy(x, t), 1e-6);
  c.kind = "wce";
  CHECK_ERROR(losses::segmentation_loss(c, x, t), "loss.class_weights");
  c.class_weights = {0.5, 1, 2};
  check_same(losses::segmentation_loss(c, x, t), ops::cross_entropy(x, t, w), 1e-6);
  c.kind = "focal";
  c.gamma = 2.5;
  check_same(losses::segmentation_loss(c, x, t), ops::softmax_focal_loss(x, t, 2.5, w), 1e-6);
  c.class_weights.clear();
  check_same(losses::segmentation_loss(c, x, t), ops::softmax_focal_loss(x, t, 2.5), 1e-6);
  c.class_weights = {1, 1};
  CHECK_ERROR(losses::segmentation_loss(c, x, t), "loss.class_weights");
  c.class_weights.clear();
  c.kind = "nope";
  CHECK_ERROR(losses::segmentation_loss(c, x, t), "loss.kind");

  // cel: (N, 1, H, W) logits, f32 {0, 1} targets
  Tensor z = randn({2, 1, 4, 5}, gen, DType::f32);
  std::vector<float> mv(40);
  for (size_t k = 0; k < mv.size(); ++k) mv[k] = (k * 5) % 3 == 0 ? 1.f : 0.f;
  Tensor mask = Tensor::from_vector(mv, {2, 1, 4, 5});
  losses::SegLossConfig b;
  b.kind = "bce";
  check_same(losses::segmentation_loss(b, z, mask), ops::bce_with_logits(z, mask), 1e-6);
  b.kind = "focal";
  b.alpha = 0.25;
  check_same(losses::segmentation_loss(b, z, mask), ops::binary_focal_loss(z, mask, 2.0, 0.25), 1e-6);
  b.kind = "wce";
  CHECK_ERROR(losses::segmentation_loss(b, z, mask), "loss.kind");
  // The loss is differentiable through to the logits.
  Tensor zl = leaf(z);
  b.kind = "focal";
  losses::segmentation_loss(b, zl, mask).backward();
  CHECK(zl.grad().defined());
}

TEST_CASE("losses::inverse_frequency_weights") {
  std::vector<double> w = losses::inverse_frequency_weights({10, 30, 0, 60});
  REQUIRE(w.size() == 4);
  CHECK(w[0] == doctest::Approx(2.0));
  CHECK(w[1] == doctest::Approx(2.0 / 3.0));
  CHECK(w[2] == 0.0);
  CHECK(w[3] == doctest::Approx(1.0 / 3.0));
  CHECK((w[0] + w[1] + w[3]) / 3 == doctest::Approx(1.0));
  std::vector<double> u = losses::inverse_frequency_weights({5, 5});
  CHECK(u[0] == doctest::Approx(1.0));
  CHECK(u[1] == doctest::Approx(1.0));
  CHECK_ERROR(losses::inverse_frequency_weights({0, 0}), "inverse_frequency_weights");
  CHECK_ERROR(losses::inverse_frequency_weights({1, -1}), "negative");
}

}  // TEST_SUITE
