// The GADN loss terms (losses/gadn.h) beyond the PyTorch oracle: the sample's noise stream,
// nested dropout (prefix masks, keep frequencies p^i, weights), the adversarial cap, errors.
#include <cmath>

#include "losses/gadn.h"
#include "tensor/autograd.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tests/test_util.h"

using namespace sakuga;

namespace {

Tensor leaf(const Tensor& t) {
  Tensor l = t.detach().clone();
  l.set_requires_grad(true);
  return l;
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("gadn losses: sample_code draws its noise from the generator") {
  Generator g0(1), g1(7), g2(7);
  const Tensor mu = randn({3, 5}, g0), sigma = rand_uniform({3, 5}, 0.5, 1.5, g0);
  losses::CodeSample s = losses::sample_code(mu, sigma, g1);
  const Tensor eps = randn({3, 5}, g2);
  CHECK(g1.offset == g2.offset);  // the same counters were used
  const std::vector<float> want = ops::add(mu, ops::mul(sigma, eps)).to_vector(), got = s.z.to_vector();
  for (size_t i = 0; i < want.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]));
  CHECK(s.kl.item() == doctest::Approx(losses::kl_divergence(mu, sigma).item()));
  // A code at the prior has KL 0.
  CHECK(losses::kl_divergence(Tensor::zeros({2, 4}), Tensor::ones({2, 4})).item() == doctest::Approx(0.0));
}

TEST_CASE("gadn losses: nested dropout keeps a geometric prefix") {
  CHECK(losses::nested_dropout_p(64) == doctest::Approx(1 - 2.0 / 64));
  CHECK(losses::nested_dropout_p(2) == 0.0);
  CHECK(losses::nested_dropout_p(1) == 0.0);
  const std::vector<float> k0 = losses::nested_dropout_keep_probs(4, 0.0).to_vector();
  CHECK(k0 == std::vector<float>{1.f, 0.f, 0.f, 0.f});
  const int64_t B = 20000, Z = 16;
  const double p = losses::nested_dropout_p(Z);
  const std::vector<float> keep = losses::nested_dropout_keep_probs(Z, p).to_vector();
  for (int64_t i = 0; i < Z; ++i) CHECK(keep[size_t(i)] == doctest::Approx(std::pow(p, double(i))));

  Generator gen(3), again(3);
  const Tensor mask = losses::nested_dropout_mask(B, Z, p, gen);
  CHECK(mask.shape() == Shape{B, Z});
  CHECK(mask.to_vector() == losses::nested_dropout_mask(B, Z, p, again).to_vector());  // reproducible
  const std::vector<float> m = mask.to_vector();
  std::vector<double> kept(size_t(Z), 0.0);
  int64_t first_dropped = 0, not_prefix = 0;
  for (int64_t b = 0; b < B; ++b) {
    first_dropped += m[size_t(b * Z)] != 1.f;  // the first dimension is always kept
    for (int64_t i = 1; i < Z; ++i) not_prefix += m[size_t(b * Z + i)] > m[size_t(b * Z + i - 1)];
    for (int64_t i = 0; i < Z; ++i) kept[size_t(i)] += m[size_t(b * Z + i)];
  }
  CHECK(first_dropped == 0);
  CHECK(not_prefix == 0);
  // P(dim i kept) = p^i; binomial standard error ≤ 0.0036 at B = 20000.
  for (int64_t i = 0; i < Z; ++i) CHECK(kept[size_t(i)] / double(B) == doctest::Approx(keep[size_t(i)]).epsilon(0.02));

  CHECK_ERROR(losses::nested_dropout_keep_probs(0, 0.5), "at least one dimension");
  CHECK_ERROR(losses::nested_dropout_keep_probs(4, 1.5), "p must be in [0, 1]");
  CHECK_ERROR(losses::nested_dropout_mask(0, 4, 0.5, gen), "batch must be >= 1");
}

TEST_CASE("gadn losses: the C1 adversarial cap binds at chance") {
  // Sample 0 gives its label 0.25 (< chance 1/3: capped, no gradient), sample 1 gives 0.5.
  Tensor lp = leaf(ops::log(Tensor::from_vector({0.5f, 0.25f, 0.25f, 0.25f, 0.5f, 0.25f}, {2, 3})));
  const Tensor labels = Tensor::from_vector_i32({1, 1}, {2});
  const Tensor freq = Tensor::full({3}, 1.0 / 3);
  Tensor capped = losses::c1_adversarial_loss(lp, labels, freq, true);
  CHECK(capped.item() == doctest::Approx(-(std::log(1.0 / 3) + std::log(0.5)) / 2));
  capped.backward();
  CHECK(lp.grad().to_vector() == std::vector<float>{0.f, 0.f, 0.f, 0.f, -0.5f, 0.f});
  Tensor lp2 = leaf(lp);
  Tensor free = losses::c1_adversarial_loss(lp2, labels, Tensor(), false);
  CHECK(free.item() == doctest::Approx(-(std::log(0.25) + std::log(0.5)) / 2));
  CHECK(losses::classifier_nll(lp2, labels).item() == doctest::Approx(free.item()));
  // NLU is large when the classifier believes the conditioned label.
  CHECK(losses::negative_log_unlikelihood(lp2, labels).item() ==
        doctest::Approx(-(std::log(0.75 + 1e-6) + std::log(0.5 + 1e-6)) / 2).epsilon(1e-5));

  CHECK_ERROR(losses::c1_adversarial_loss(lp, labels, Tensor::ones({2}), true), "class_freq must have shape (3,)");
  CHECK_ERROR(losses::classifier_nll(lp, Tensor::zeros({2})), "labels must be an i32 tensor of shape (2,)");
  CHECK_ERROR(losses::classifier_nll(Tensor::zeros({2, 3, 1}), labels), "must have shape (B, labels)");
  CHECK_ERROR(losses::content_consistency_loss(Tensor::zeros({2, 3}), Tensor::zeros({2, 4})),
              "codes must both have shape (B, Z)");
}

TEST_CASE("gadn losses: LSGAN and content consistency values") {
  const Tensor real = Tensor::from_vector({1.f, 3.f}, {2}), fake = Tensor::from_vector({-1.f, 0.f, 2.f}, {3});
  CHECK(losses::lsgan_discriminator_loss(real, fake).item() == doctest::Approx((0 + 4) / 2.0 + (0 + 1 + 9) / 3.0));
  CHECK(losses::lsgan_generator_loss(fake).item() == doctest::Approx((1 + 0 + 4) / 3.0));
  const Tensor a = Tensor::from_vector({1.f, 2.f, 0.f, 0.f}, {2, 2}), b = Tensor::zeros({2, 2});
  CHECK(losses::content_consistency_loss(a, b).item() == doctest::Approx(5.0 / 2));  // Σ over Z, mean over B
}
}  // TEST_SUITE
