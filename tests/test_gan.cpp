// GAN helpers: the adversarial losses (losses/gan.h; PyTorch comparison in tests/oracle/test_loss.py),
// the freeze guard and the "second forward on detached inputs" contract (nets/harness/gan.h).
#include <doctest/doctest.h>

#include <cmath>

#include "layers/linear.h"
#include "losses/gan.h"
#include "nets/harness/gan.h"
#include "tensor/ops.h"
#include "tests/test_util.h"

using namespace sakuga;

namespace {

Tensor f64(std::vector<double> v, Shape s) { return Tensor::from_bytes(v.data(), s, DType::f64); }
Tensor leaf(Tensor t) {
  t.set_requires_grad(true);
  return t;
}
void check_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-12) {
  std::vector<double> got = t.to_vector_f64();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol));
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("gan losses: non-saturating values and gradients") {
  Tensor real = leaf(f64({0, 2}, {2})), fake = leaf(f64({-1, 1}, {2}));
  Tensor d = losses::gan_d_loss(real, fake);
  check_values(d, {1.2232992833196816});
  d.backward();
  // d/dr softplus(−r)/2 = −σ(−r)/2;  d/df softplus(f)/2 = σ(f)/2
  check_values(real.grad(), {-0.25, -0.5 / (1 + std::exp(2.0))});
  check_values(fake.grad(), {0.5 / (1 + std::exp(1.0)), 0.5 / (1 + std::exp(-1.0))});
  check_values(losses::gan_g_loss(fake), {0.8132616875182228});
}

TEST_CASE("gan losses: LSGAN and hinge by hand") {
  using losses::GanLoss;
  Tensor real = f64({0.5, 2}, {2}), fake = f64({-1, 0.25, 3}, {3});
  // ½·(mean((r−1)²) + mean(f²)) = ½·((0.25 + 1)/2 + (1 + 0.0625 + 9)/3)
  check_values(losses::gan_d_loss(GanLoss::lsgan, real, fake), {0.5 * (1.25 / 2 + 10.0625 / 3)});
  check_values(losses::gan_g_loss(GanLoss::lsgan, fake), {(4 + 0.5625 + 4) / 3.0});
  // mean(relu(1 − r)) + mean(relu(1 + f)) = (0.5 + 0)/2 + (0 + 1.25 + 4)/3
  check_values(losses::gan_d_loss(GanLoss::hinge, real, fake), {0.25 + 5.25 / 3});
  check_values(losses::gan_g_loss(GanLoss::hinge, fake), {-(2.25) / 3});
  CHECK(losses::parse_gan_loss("vanilla") == GanLoss::nonsaturating);
  CHECK_ERROR(losses::parse_gan_loss("wgan", "loss.gan"), "loss.gan");
}

TEST_CASE("FreezeGuard: restores each parameter's own flag, also on an exception") {
  nn::Linear a(3, 2), b(2, 1);
  a.bias.set_requires_grad(false);  // frozen before: must stay frozen
  try {
    harness::FreezeGuard g({&a, &b});
    CHECK_FALSE(a.weight.requires_grad());
    CHECK_FALSE(b.weight.requires_grad());
    throw Error("leave the scope early");
  } catch (const Error&) {
  }
  CHECK(a.weight.requires_grad());
  CHECK_FALSE(a.bias.requires_grad());
  CHECK(b.weight.requires_grad());
  CHECK(b.bias.requires_grad());
}

TEST_CASE("adversarial pair: a second backward over a freed graph is an error; a second forward works") {
  manual_seed(3);
  nn::Linear g(2, 2), d(2, 1);
  Tensor z = randn({4, 2});
  Tensor fake = g(z);
  Tensor d_fake = d(fake);
  Tensor d_loss = losses::gan_d_loss(d(randn({4, 2})), d_fake);
  d_loss.backward();
  // Reusing D(fake)'s graph for the generator loss walks nodes already freed.
  CHECK_ERROR(losses::gan_g_loss(d_fake).backward(), "a second time");
  // The contract: a second forward through the frozen D on the generation.
  g.zero_grad();
  d.zero_grad();
  {
    harness::FreezeGuard freeze(d);
    losses::gan_g_loss(d(g(z))).backward();
  }
  CHECK(g.weight.grad().defined());
  CHECK_FALSE(d.weight.grad().defined());  // nothing accumulated into the frozen critic
}

}  // TEST_SUITE
