// C++ side of tests/oracle/test_gadn_losses.py: every GADN loss term (losses/gadn.h) against
// PyTorch, value and gradients.
#include "losses/gadn.h"
#include "nets/gadn/networks.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/gadn.h"
#include "tensor/ops/reduce.h"
#include "tests/oracle_common.h"

using namespace sakuga;
using sakuga::test::check_close;
using sakuga::test::oracle_cases;
using sakuga::test::oracle_meta;
using sakuga::test::oracle_tensor;

namespace {

Tensor leaf(const Tensor& t) {
  Tensor l = t.clone().detach();
  l.set_requires_grad(true);
  return l;
}

constexpr double kTol = 1e-4;

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_gadn_losses") {
  auto f = sakuga::test::oracle_file();
  if (!f) return;
  auto T = [&](const std::string& k) { return oracle_tensor(*f, k); };
  for (const auto& [name, m] : oracle_cases(*f)) {
    CAPTURE(name);
    const std::string kind = m.at("kind");
    if (kind == "rec") {
      Tensor g = leaf(T(name + ".g")), x = leaf(T(name + ".x"));
      Tensor loss = losses::reconstruction_loss(g, x, m.at("weighted") ? T(name + ".w") : Tensor());
      (loss * 1.7).backward();
      check_close(loss, T(name + ".loss"), kTol, name + " loss");
      check_close(g.grad(), T(name + ".grad.g"), kTol, name + " grad g");
      check_close(x.grad(), T(name + ".grad.x"), kTol, name + " grad x");
    } else if (kind == "kl") {
      Tensor mu = leaf(T(name + ".mu")), sigma = leaf(T(name + ".sigma"));
      const Tensor w = m.at("weighted") ? T("keep") : Tensor();
      ops::GaussianSampleKl r = ops::gaussian_sample_kl(mu, sigma, T(name + ".eps"), w);
      (ops::sum(r.z * T(name + ".r")) + r.kl * 2.5).backward();
      check_close(r.z, T(name + ".z"), kTol, name + " z");
      check_close(r.kl, T(name + ".kl"), kTol, name + " kl");
      check_close(mu.grad(), T(name + ".grad.mu"), kTol, name + " grad mu");
      check_close(sigma.grad(), T(name + ".grad.sigma"), kTol, name + " grad sigma");
      check_close(losses::kl_divergence(mu, sigma, w), T(name + ".kl"), kTol, name + " kl_divergence");
    } else if (kind == "style") {
      gadn::NetConfig cfg;
      cfg.labels = m.at("labels");
      cfg.zs = m.at("zs");
      gadn::StyleBank s(cfg);
      s.mean.copy_(T("style.mean"));
      s.pstd.copy_(T("style.pstd"));
      gadn::GaussianCode c = s.code(T("style.labels"));
      Tensor kl = losses::kl_divergence(c.mean, c.sigma);
      kl.backward();
      check_close(kl, T("style.kl"), kTol, "KL_S");
      check_close(s.mean.grad(), T("style.grad.mean"), kTol, "KL_S grad mean");
      check_close(s.pstd.grad(), T("style.grad.pstd"), kTol, "KL_S grad pstd");
    } else if (kind == "gan") {
      Tensor real = leaf(T("gan.real")), fake = leaf(T("gan.fake"));
      Tensor d = losses::lsgan_discriminator_loss(real, fake);
      d.backward();
      check_close(d, T("gan.d_loss"), kTol, "LSGAN D");
      check_close(real.grad(), T("gan.d_grad.real"), kTol, "LSGAN D grad real");
      check_close(fake.grad(), T("gan.d_grad.fake"), kTol, "LSGAN D grad fake");
      Tensor fake2 = leaf(T("gan.fake"));
      Tensor g = losses::lsgan_generator_loss(fake2);
      g.backward();
      check_close(g, T("gan.g_loss"), kTol, "LSGAN G");
      check_close(fake2.grad(), T("gan.g_grad.fake"), kTol, "LSGAN G grad");
    } else if (kind == "cont") {
      Tensor fake = leaf(T("cont.fake")), real = leaf(T("cont.real"));
      Tensor l = losses::content_consistency_loss(fake, real);
      l.backward();
      check_close(l, T("cont.loss"), kTol, "content");
      check_close(fake.grad(), T("cont.grad.fake"), kTol, "content grad fake");
      check_close(real.grad(), T("cont.grad.real"), kTol, "content grad real");
    } else {
      Tensor logits = leaf(T("cls.logits"));
      const Tensor labels = T("cls.labels"), lp = ops::log_softmax(logits, 1);
      Tensor loss;
      if (kind == "nll") loss = losses::classifier_nll(lp, labels);
      if (kind == "adv_uncapped") loss = losses::c1_adversarial_loss(lp, labels, Tensor(), false);
      if (kind == "adv_capped") loss = losses::c1_adversarial_loss(lp, labels, T("cls.freq"), true);
      if (kind == "nlu") loss = losses::negative_log_unlikelihood(lp, labels);
      REQUIRE_MESSAGE(loss.defined(), kind);
      loss.backward();
      check_close(loss, T(name + ".loss"), kTol, name + " loss");
      check_close(logits.grad(), T(name + ".grad"), kTol, name + " grad");
    }
  }
  const nlohmann::json nested = oracle_meta(*f, "nested");
  const int64_t z = nested.at("z");
  CHECK(losses::nested_dropout_p(z) == doctest::Approx(nested.at("p").get<double>()));
  check_close(losses::nested_dropout_keep_probs(z, losses::nested_dropout_p(z)), T("keep"), 1e-6, "keep probs");
}
}  // TEST_SUITE
