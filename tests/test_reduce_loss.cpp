// Unit tests of the reduce and loss families: exact values on small hand-made inputs, edge
// cases (ties, NaN, ±inf, ignored items) and the error messages on bad input.
#include "tests/test_util.h"
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "tensor/autograd.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/loss.h"
#include "tensor/ops/reduce.h"
#include "tensor/ops/view.h"

using namespace sakuga;
using sakuga::test::error_of;
using ops::Reduction;

namespace {

Tensor f32(std::vector<float> v, Shape s) { return Tensor::from_vector(v, s); }
Tensor i32(std::vector<int32_t> v, Shape s) { return Tensor::from_vector_i32(v, s); }

void check_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-6) {
  std::vector<double> got = t.to_vector_f64();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], " want ", want[i]);
    if (std::isnan(want[i]))
      CHECK(std::isnan(got[i]));
    else if (std::isinf(want[i]))
      CHECK(got[i] == want[i]);
    else
      CHECK(std::fabs(got[i] - want[i]) <= tol * std::max(1.0, std::fabs(want[i])));
  }
}

// The message of the sakuga::Error that f throws ("" when it does not throw).
void check_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  std::string msg = error_of(f);
  INFO("message: ", msg);
  REQUIRE(!msg.empty());
  for (const std::string& p : parts) CHECK(msg.find(p) != std::string::npos);
}

const double kLn2 = std::log(2.0), kLn3 = std::log(3.0);
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("sum and mean: exact values, dims, keepdim") {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor all = ops::sum(x);
  CHECK(all.shape() == Shape{});
  check_values(all, {21});
  check_values(ops::sum(x, {0}), {5, 7, 9});
  Tensor k = ops::sum(x, {1}, true);
  CHECK(k.shape() == Shape{2, 1});
  check_values(k, {6, 15});
  check_values(ops::sum(x, {-1}), {6, 15});
  check_values(ops::mean(x, {1}), {2, 5});
  check_values(ops::mean(x), {3.5});
  check_values(ops::mean(x, {0, 1}, true), {3.5});
  CHECK(ops::mean(x, {0, 1}, true).shape() == Shape{1, 1});

  // Non-adjacent dims of a 4-D tensor (two passes) against a hand loop.
  std::vector<float> v(2 * 3 * 4 * 5);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i % 7) - 2.5f;
  Tensor y = f32(v, {2, 3, 4, 5});
  Tensor s = ops::sum(y, {0, 2});
  CHECK(s.shape() == Shape{3, 5});
  std::vector<double> want(15, 0.0);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c)
        for (int d = 0; d < 5; ++d) want[size_t(b * 5 + d)] += v[size_t(((a * 3 + b) * 4 + c) * 5 + d)];
  check_values(s, want);
  Tensor m = ops::mean(y, {0, 2, 3}, true);
  CHECK(m.shape() == Shape{1, 3, 1, 1});

  // 0-dim input, size-0 reduction (sum 0, mean NaN as in PyTorch).
  check_values(ops::sum(Tensor::scalar(4.0)), {4});
  check_values(ops::sum(Tensor::zeros({0, 3}), {0}), {0, 0, 0});
  check_values(ops::mean(Tensor::zeros({0, 3}), {0}), {kNaN, kNaN, kNaN});
}

TEST_CASE("sum and mean: gradients") {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  x.set_requires_grad(true);
  ops::sum(ops::mean(x, {1}) * f32({1, 10}, {2})).backward();
  check_values(x.grad(), {1.0 / 3, 1.0 / 3, 1.0 / 3, 10.0 / 3, 10.0 / 3, 10.0 / 3});
}

TEST_CASE("max, min, argmax: first extremum, gradient to it, NaN") {
  Tensor x = f32({1, 3, 3, 5, 2, 5}, {2, 3});
  x.set_requires_grad(true);
  Tensor m = ops::max(x, 1);
  check_values(m, {3, 5});
  check_values(ops::argmax(x, 1), {1, 0});
  CHECK(ops::argmax(x, 1).dtype() == DType::i32);
  CHECK(ops::argmax(x, -1, true).shape() == Shape{2, 1});
  ops::sum(m).backward();
  check_values(x.grad(), {0, 1, 0, 1, 0, 0});

  Tensor z = f32({4, 1, 1, 0, 2, 0}, {2, 3});
  z.set_requires_grad(true);
  Tensor mn = ops::min(z, 0, true);
  CHECK(mn.shape() == Shape{1, 3});
  check_values(mn, {0, 1, 0});
  ops::sum(mn).backward();
  check_values(z.grad(), {0, 1, 0, 1, 0, 1});

  Tensor n = f32({1, NAN, 3, NAN}, {4});
  check_values(ops::max(n, 0), {kNaN});
  check_values(ops::min(n, 0), {kNaN});
  check_values(ops::argmax(n, 0), {1});
  check_values(ops::max(f32({-INFINITY, -INFINITY}, {2}), 0), {-kInf});
  check_values(ops::argmax(f32({-INFINITY, -INFINITY}, {2}), 0), {0});
}

TEST_CASE("softmax, log_softmax, logsumexp: exact values and stability") {
  Tensor x = f32({0.f, float(kLn2), float(kLn3)}, {1, 3});
  check_values(ops::softmax(x, 1), {1.0 / 6, 2.0 / 6, 3.0 / 6});
  check_values(ops::log_softmax(x, -1), {std::log(1.0 / 6), std::log(2.0 / 6), std::log(3.0 / 6)});
  check_values(ops::logsumexp(x, 1), {std::log(6.0)});
  CHECK(ops::logsumexp(x, 1, true).shape() == Shape{1, 1});

  // Along dim 0 of a (2, 2): columns.
  Tensor c = f32({0, 1, 0, 1}, {2, 2});
  check_values(ops::softmax(c, 0), {0.5, 0.5, 0.5, 0.5});

  // Huge logits do not overflow; −inf entries get probability 0; an all −inf row has lse −inf.
  check_values(ops::softmax(f32({1000, 1000}, {2}), 0), {0.5, 0.5});
  check_values(ops::logsumexp(f32({1000, 1000}, {2}), 0), {1000 + kLn2});
  check_values(ops::softmax(f32({-INFINITY, 0}, {2}), 0), {0, 1});
  check_values(ops::logsumexp(f32({-INFINITY, -INFINITY}, {2}), 0), {-kInf});
  check_values(ops::logsumexp(f32({INFINITY, 1}, {2}), 0), {kInf});

  // Gradient of softmax: Σ_j ∂(y_k)/∂x_j = 0, so d Σ y / dx = 0.
  Tensor g = f32({0.3f, -1.f, 2.f}, {3});
  g.set_requires_grad(true);
  ops::sum(ops::softmax(g, 0)).backward();
  check_values(g.grad(), {0, 0, 0}, 1e-6);
  // d logsumexp / dx = softmax.
  Tensor h = f32({0.f, float(kLn2), float(kLn3)}, {3});
  h.set_requires_grad(true);
  ops::logsumexp(h, 0).backward();
  check_values(h.grad(), {1.0 / 6, 2.0 / 6, 3.0 / 6});
}

TEST_CASE("cross_entropy: exact values, weights, ignore_index, reductions") {
  // Item 0: logits (0, 0), class 0 → ln 2. Item 1: (0, ln 3), class 1 → ln(4/3).
  Tensor x = f32({0.f, 0.f, 0.f, float(kLn3)}, {2, 2});
  Tensor t = i32({0, 1}, {2});
  const double l0 = kLn2, l1 = std::log(4.0 / 3.0);
  check_values(ops::cross_entropy(x, t), {(l0 + l1) / 2});
  check_values(ops::cross_entropy(x, t, Tensor(), -100, Reduction::sum), {l0 + l1});
  Tensor none = ops::cross_entropy(x, t, Tensor(), -100, Reduction::none);
  CHECK(none.shape() == Shape{2});
  check_values(none, {l0, l1});

  // Class weights (1, 3): none is weighted per item, mean divides by Σ w_y.
  Tensor w = f32({1, 3}, {2});
  check_values(ops::cross_entropy(x, t, w, -100, Reduction::none), {l0, 3 * l1});
  check_values(ops::cross_entropy(x, t, w, -100, Reduction::sum), {l0 + 3 * l1});
  check_values(ops::cross_entropy(x, t, w), {(l0 + 3 * l1) / 4});

  // ignore_index: the ignored item counts neither in the sum nor in the mean's denominator.
  Tensor ti = i32({0, 7}, {2});
  check_values(ops::cross_entropy(x, ti, w, 7), {l0});
  check_values(ops::cross_entropy(x, ti, w, 7, Reduction::none), {l0, 0});
  // Every item ignored: mean is 0/0 = NaN (as PyTorch), sum is 0.
  check_values(ops::cross_entropy(x, i32({-100, -100}, {2})), {kNaN});
  check_values(ops::cross_entropy(x, i32({-100, -100}, {2}), Tensor(), -100, Reduction::sum), {0});

  // Gradient: (softmax − onehot) · w_y / Σ w, zero for ignored items.
  Tensor xg = f32({0.f, 0.f, 0.f, float(kLn3)}, {2, 2});
  xg.set_requires_grad(true);
  ops::cross_entropy(xg, ti, w, 7).backward();
  check_values(xg.grad(), {-0.5, 0.5, 0, 0});
  Tensor xg2 = f32({0.f, 0.f, 0.f, float(kLn3)}, {2, 2});
  xg2.set_requires_grad(true);
  ops::cross_entropy(xg2, t, w).backward();
  check_values(xg2.grad(), {-0.5 / 4, 0.5 / 4, 3 * 0.25 / 4, 3 * -0.25 / 4});

  // (N, C, H, W): class dim 1; matches the (N·H·W, C) layout after a permute.
  std::vector<float> v(2 * 3 * 2 * 2);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(float(i));
  Tensor x4 = f32(v, {2, 3, 2, 2});
  Tensor t4 = i32({0, 1, 2, 1, 2, 2, 0, 255}, {2, 2, 2});
  Tensor a = ops::cross_entropy(x4, t4, Tensor(), 255, Reduction::none);
  CHECK(a.shape() == Shape{2, 2, 2});
  Tensor flat = ops::reshape(ops::permute(x4, {0, 2, 3, 1}), {8, 3});
  Tensor b = ops::cross_entropy(flat, ops::reshape(t4, {8}), Tensor(), 255, Reduction::none);
  std::vector<double> bv = b.to_vector_f64();
  check_values(a, bv);
  CHECK(bv[7] == 0.0);

  // Non-contiguous logits and target (views) give the items of their contiguous copies.
  Tensor xt = ops::permute(x4, {0, 1, 3, 2}), tt = ops::permute(t4, {0, 2, 1});
  CHECK(!tt.is_contiguous());
  check_values(ops::cross_entropy(xt, tt, Tensor(), 255, Reduction::none),
               ops::cross_entropy(xt.contiguous(), tt.contiguous(), Tensor(), 255, Reduction::none).to_vector_f64());

  // cross_entropy == nll_loss(log_softmax(x)).
  Tensor w3 = f32({0.5, 1, 2}, {3});
  check_values(ops::cross_entropy(x4, t4, w3, 255), ops::nll_loss(ops::log_softmax(x4, 1), t4, w3, 255).to_vector_f64(),
               1e-6);

  // Unbatched (C) logits, 0-dim target.
  check_values(ops::cross_entropy(f32({0, 0}, {2}), i32({1}, {})), {kLn2});
}

TEST_CASE("nll_loss: exact values") {
  Tensor x = f32({-1, -2, -3, -0.5f, -0.25f, -4}, {2, 3});
  check_values(ops::nll_loss(x, i32({2, 0}, {2})), {(3 + 0.5) / 2});
  check_values(ops::nll_loss(x, i32({2, 0}, {2}), f32({2, 1, 4}, {3}), -100, Reduction::none), {12, 1});
  check_values(ops::nll_loss(x, i32({2, 0}, {2}), f32({2, 1, 4}, {3})), {13.0 / 6});
  check_values(ops::nll_loss(x, i32({1, -1}, {2}), Tensor(), -1), {2});
  Tensor xg = x.detach();
  xg.set_requires_grad(true);
  ops::nll_loss(xg, i32({2, 0}, {2}), f32({2, 1, 4}, {3}), -100, Reduction::sum).backward();
  check_values(xg.grad(), {0, 0, -4, -2, 0, 0});
}

TEST_CASE("bce_with_logits, mse_loss, l1_loss: exact values") {
  check_values(ops::bce_with_logits(f32({0}, {1}), f32({1}, {1})), {kLn2});
  check_values(ops::bce_with_logits(f32({0}, {1}), f32({1}, {1}), Reduction::mean, f32({3}, {1})), {3 * kLn2});
  // Stable for large |x|: no inf, no NaN.
  check_values(ops::bce_with_logits(f32({100, -100}, {2}), f32({0, 1}, {2}), Reduction::none), {100, 100});
  check_values(ops::bce_with_logits(f32({100, -100}, {2}), f32({1, 0}, {2}), Reduction::sum), {0}, 1e-6);
  // Soft target 0.25 at x = ln 3: ℓ = 0.75·ln3 + log(1 + e^{−ln3}) = 0.75·ln3 + ln(4/3).
  check_values(ops::bce_with_logits(f32({float(kLn3)}, {1}), f32({0.25f}, {1})),
               {0.75 * kLn3 + std::log(4.0 / 3.0)});
  // pos_weight along the last dim of a (2, 2).
  Tensor bl = ops::bce_with_logits(f32({0, 0, 0, 0}, {2, 2}), f32({1, 1, 0, 1}, {2, 2}), Reduction::none,
                                   f32({2, 5}, {2}));
  check_values(bl, {2 * kLn2, 5 * kLn2, kLn2, 5 * kLn2});
  // Gradient: σ(x) − t for pos_weight 1.
  Tensor xb = f32({0, float(kLn3)}, {2});
  xb.set_requires_grad(true);
  ops::bce_with_logits(xb, f32({1, 0}, {2}), Reduction::sum).backward();
  check_values(xb.grad(), {-0.5, 0.75});

  Tensor a = f32({1, 2}, {2}), b = f32({3, 5}, {2});
  check_values(ops::mse_loss(a, b), {6.5});
  check_values(ops::mse_loss(a, b, Reduction::sum), {13});
  check_values(ops::mse_loss(a, b, Reduction::none), {4, 9});
  check_values(ops::l1_loss(a, b), {2.5});
  check_values(ops::l1_loss(a, b, Reduction::sum), {5});
  check_values(ops::l1_loss(a, b, Reduction::none), {2, 3});
}

TEST_CASE("reduce and loss: error messages") {
  Tensor x = Tensor::zeros({2, 3});
  check_error([&] { ops::sum(x, {1, -1}); }, {"sum", "more than once"});
  check_error([&] { ops::mean(x, {2}); }, {"mean", "out of range"});
  check_error([&] { ops::max(x, 5); }, {"max", "out of range"});
  check_error([&] { ops::max(Tensor::zeros({2, 0}), 1); }, {"max", "size 0"});
  check_error([&] { ops::softmax(Tensor::zeros({2}, DType::i32), 0); }, {"softmax", "float"});

  // Labels out of range name the op, the value and the range.
  Tensor logits = Tensor::zeros({3, 5});
  check_error([&] { ops::cross_entropy(logits, i32({0, 5, 1}, {3})); }, {"cross_entropy", "target value 5", "[0, 5)"});
  check_error([&] { ops::cross_entropy(logits, i32({0, -3, 1}, {3})); }, {"cross_entropy", "-3", "out of range"});
  check_error([&] { ops::nll_loss(logits, i32({9, 0, 1}, {3})); }, {"nll_loss", "target value 9", "out of range"});
  // ignore_index is not out of range, any other negative value is.
  CHECK(error_of([&] { ops::cross_entropy(logits, i32({0, -7, 1}, {3}), Tensor(), -7); }).empty());
  check_error([&] { ops::cross_entropy(logits, i32({0, -100, 1}, {3}), Tensor(), 255); }, {"-100", "ignore_index 255"});

  // Wrong target shape / dtype, wrong weight shape.
  check_error([&] { ops::cross_entropy(Tensor::zeros({2, 3, 4}), i32({0, 1, 2, 0, 1, 2}, {2, 3})); },
              {"cross_entropy", "target shape (2, 3)", "expected target shape (2, 4)"});
  check_error([&] { ops::cross_entropy(logits, Tensor::zeros({3})); }, {"cross_entropy", "i32"});
  check_error([&] { ops::nll_loss(logits, i32({0, 1}, {2})); }, {"nll_loss", "target shape"});
  check_error([&] { ops::cross_entropy(logits, i32({0, 1, 2}, {3}), Tensor::ones({4})); },
              {"cross_entropy", "weight", "(5)"});
  check_error([&] { ops::bce_with_logits(x, Tensor::zeros({3, 2})); }, {"bce_with_logits", "target shape"});
  check_error([&] { ops::bce_with_logits(x, Tensor::zeros({2, 3}), Reduction::mean, Tensor::ones({2})); },
              {"bce_with_logits", "broadcast"});
  check_error([&] { ops::mse_loss(x, Tensor::zeros({3})); }, {"mse_loss", "target shape"});
  check_error([&] { ops::l1_loss(x, Tensor::zeros({2, 3, 1})); }, {"l1_loss", "target shape"});
}

}  // TEST_SUITE
