// The GADN networks (nets/gadn/networks.h) beyond the PyTorch oracle: default configs and their
// errors, shapes and parameter names, the unit-norm init, D initialised from C2's body, and the
// style bank's training / evaluation codes.
#include <algorithm>
#include <cmath>
#include <set>

#include "layers/init.h"
#include "nets/gadn/networks.h"
#include "tensor/autograd.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tests/test_util.h"

using namespace sakuga;
using gadn::NetConfig;

namespace {

NetConfig narrow_config() {
  NetConfig c;
  c.size = 32;
  c.channels = {8, 16, 16};
  c.fc = 24;
  c.z = 6;
  c.zs = 4;
  c.labels = 5;
  return c;
}

std::set<std::string> keys(const nn::Module& m) {
  std::set<std::string> k;
  for (const auto& [name, t] : m.state_dict()) k.insert(name);
  return k;
}

// Per-filter Euclidean norms of a weight whose filters lie along out_dim.
std::vector<double> filter_norms(const Tensor& w, int64_t out_dim) {
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < w.dim(); ++d)
    if (d != out_dim) dims.push_back(d);
  NoGradGuard ng;
  return ops::sqrt(ops::sum(ops::square(w), dims)).to_vector_f64();
}

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("gadn networks: default configs follow the spec") {
  const NetConfig s = gadn::default_net_config(28, 16);
  CHECK(s.size == 32);
  CHECK(s.channels == std::vector<int64_t>{64, 128, 256});
  CHECK(s.fc == 512);
  CHECK(s.z == 64);
  CHECK(s.zs == 16);
  CHECK(gadn::default_net_config(32, 10).zs == 10);     // min(max(min(2, 256), 16), 10)
  CHECK(gadn::default_net_config(32, 200).zs == 50);    // 200 / 4
  CHECK(gadn::default_net_config(32, 4000).zs == 256);  // capped
  const NetConfig p = gadn::default_net_config(256, 1139);
  CHECK(p.channels == std::vector<int64_t>{32, 64, 128, 256, 512, 1024});  // paper Table 1
  CHECK(p.fc == 2048);
  CHECK(p.z == 256);
  CHECK(p.zs == 256);
  CHECK(gadn::default_net_config(64, 16).channels == std::vector<int64_t>{128, 256, 512, 1024});
  CHECK(gadn::default_net_config(128, 16).channels == std::vector<int64_t>{64, 128, 256, 512, 1024});
  CHECK(gadn::default_net_config(128, 16).z == 128);
  for (int64_t size : {28, 32, 64, 128, 256}) CHECK_NOTHROW(gadn::default_net_config(size, 16).validate());
  CHECK_ERROR(gadn::default_net_config(48, 16), "no default network for data.size 48");
  CHECK_ERROR(gadn::default_net_config(32, 0), "number of style labels");

  NetConfig bad = narrow_config();
  bad.size = 64;
  CHECK_ERROR(bad.validate(), "config data.size: 64 px does not fit 3 levels");
  bad = narrow_config();
  bad.channels.clear();
  CHECK_ERROR(bad.validate(), "config model.channels");
  bad = narrow_config();
  bad.channels[1] = 0;
  CHECK_ERROR(bad.validate(), "config model.channels: level 1 has 0 channels");
  bad = narrow_config();
  bad.fc = 0;
  CHECK_ERROR(gadn::Encoder(bad), "config model.fc");
  bad = narrow_config();
  bad.zs = -1;
  CHECK_ERROR(gadn::ImageGenerator(bad), "config model.zs");
}

TEST_CASE("gadn networks: shapes and PyTorch parameter names") {
  NetConfig cfg = narrow_config();
  Generator gen(3);
  const Tensor x = rand_uniform({2, 3, 32, 32}, -1, 1, gen);
  gadn::Encoder e(cfg);
  gadn::GaussianCode c = e.encode(x);
  CHECK(c.mean.shape() == Shape{2, 6});
  CHECK(c.sigma.shape() == Shape{2, 6});
  for (double v : c.sigma.to_vector_f64()) CHECK(v > 0);
  gadn::Discriminator d(cfg);
  CHECK(d(x).shape() == Shape{2});
  gadn::Classifier cl(cfg);
  const Tensor lp = cl(x);
  CHECK(lp.shape() == Shape{2, 5});
  CHECK(ops::sum(ops::exp(lp), {1}).to_vector_f64()[0] == doctest::Approx(1.0));
  gadn::ImageGenerator g(cfg);
  const Tensor img = g.generate(randn({2, 6}, gen), randn({2, 4}, gen));
  CHECK(img.shape() == Shape{2, 3, 32, 32});
  double img_max = 0;
  for (double v : img.to_vector_f64()) img_max = std::max(img_max, std::fabs(v));
  CHECK(img_max <= 1.0);

  const std::set<std::string> ek = keys(e);
  for (const char* k : {"body.levels.0.0.conv.weight", "body.levels.0.0.shortcut.bias", "body.levels.0.1.conv.weight",
                        "body.levels.2.1.conv.bias", "body.fc.weight", "mu.weight", "sigma.bias"})
    CHECK_MESSAGE(ek.count(k) == 1, k);
  // Level 2 goes 16 → 16: its Down block has no shortcut conv.
  CHECK(ek.count("body.levels.2.0.shortcut.weight") == 0);
  CHECK(ek.size() == 3 * 2 * 2 + 2 * 2 + 2 + 2 + 2);  // convs, 2 shortcut convs, fc, mu, sigma
  const std::set<std::string> gk = keys(g);
  for (const char* k : {"fc1.weight", "fc2.bias", "levels.0.0.conv.weight", "levels.0.1.conv.weight",
                        "levels.1.1.shortcut.weight", "levels.2.1.conv.bias", "levels.2.1.shortcut.weight"})
    CHECK_MESSAGE(gk.count(k) == 1, k);
  CHECK(gk.count("levels.0.1.shortcut.weight") == 0);  // G's first Up goes 16 → 16
  CHECK(g.state_dict().at("fc1.weight").shape() == Shape{24, 10});
  CHECK(g.state_dict().at("fc2.weight").shape() == Shape{16 * 16, 24});
  CHECK(g.state_dict().at("levels.2.1.conv.weight").shape() == Shape{8, 3, 6, 6});  // (Cin, Cout, k, k)
  CHECK(keys(d).count("head.weight") == 1);
  CHECK(cl.state_dict().at("head.weight").shape() == Shape{5, 24});

  NetConfig alpha = cfg;
  alpha.alpha = true;
  gadn::Encoder ea(alpha);
  CHECK(ea.state_dict().at("body.levels.0.0.conv.weight").shape() == Shape{8, 4, 6, 6});
  CHECK(ea.encode(rand_uniform({1, 4, 32, 32}, -1, 1, gen)).mean.shape() == Shape{1, 6});
  CHECK(gadn::ImageGenerator(alpha).generate(Tensor::zeros({1, 6}), Tensor::zeros({1, 4})).shape() ==
        Shape{1, 3, 32, 32});
}

TEST_CASE("gadn networks: init is PyTorch's, then unit-norm filters (x2 for transposed convs)") {
  NetConfig cfg = narrow_config();
  gadn::Encoder e(cfg);
  gadn::ImageGenerator g(cfg);
  gadn::Discriminator d(cfg);
  int convs = 0, transposed = 0, linears = 0;
  for (nn::Module* net : std::vector<nn::Module*>{&e, &g, &d}) {
    for (auto& [name, m] : net->named_modules()) {
      CAPTURE(name);
      Tensor w, b;
      double norm = 1.0;
      int64_t out_dim = 0;
      if (auto* c = dynamic_cast<nn::Conv2d*>(m)) {
        w = c->weight;
        b = c->bias;
        ++convs;
      } else if (auto* t = dynamic_cast<nn::ConvTranspose2d*>(m)) {
        w = t->weight;
        b = t->bias;
        norm = 2.0;
        out_dim = 1;
        ++transposed;
      } else if (auto* l = dynamic_cast<nn::Linear*>(m)) {
        w = l->weight;
        b = l->bias;
        ++linears;
      } else {
        continue;
      }
      double norm_err = 0, bias_max = 0;
      for (double n : filter_norms(w, out_dim)) norm_err = std::max(norm_err, std::fabs(n - norm));
      for (double v : b.to_vector_f64()) bias_max = std::max(bias_max, std::fabs(v));
      CHECK(norm_err <= 1e-5 * norm);
      // Biases keep PyTorch's U(±1/√fan_in) (fan_in = weight.size(1)·k·k, as torch).
      CHECK(bias_max <= 1.0 / std::sqrt(double(nn::init::fan_in_and_out(w).first)));
      CHECK(bias_max > 0);
    }
  }
  CHECK(convs > 0);
  CHECK(transposed == 3);
  CHECK(linears == 3 + 2 + 2);  // E: body.fc, mu, sigma; G: fc1, fc2; D: body.fc, head

  // The rescale itself: filters of any norm end at `scale` (eps 1e-8 is negligible here).
  Tensor w = Tensor::from_vector({3.f, 4.f, 0.f, 2.f}, {2, 2});
  nn::init::unit_norm_filters_(w, 0);
  CHECK(w.to_vector()[0] == doctest::Approx(0.6));
  CHECK(w.to_vector()[3] == doctest::Approx(1.0));
  nn::init::unit_norm_filters_(w, 1, 2.0);  // columns (0.6, 0), (0.8, 1)
  CHECK(w.to_vector()[0] == doctest::Approx(2.0));
  CHECK(w.to_vector()[1] == doctest::Approx(2 * 0.8 / std::sqrt(1.64)));
  CHECK_ERROR(nn::init::unit_norm_filters_(Tensor::ones({3}), 0), "at least 2 dims");
  CHECK_ERROR(nn::init::unit_norm_filters_(w, 2), "out_dim 2 out of range");
}

TEST_CASE("gadn networks: D starts from C2's body with a new head") {
  NetConfig cfg = narrow_config();
  gadn::Classifier c2(cfg);
  gadn::Discriminator d(cfg);
  const Tensor head_before = d.head->weight.clone();
  d.body->load_state_dict(c2.body->state_dict());  // strict: the bodies have the same names and shapes
  for (const auto& [name, t] : c2.body->state_dict())
    CHECK_MESSAGE(d.body->state_dict().at(name).to_vector() == t.to_vector(), name);
  CHECK(d.head->weight.to_vector() == head_before.to_vector());
  // Copies, not shared storage: training D leaves C2 alone.
  d.body->fc->weight.fill_(0.5);
  CHECK(c2.body->fc->weight.to_vector()[0] != 0.5f);
}

TEST_CASE("gadn networks: style bank codes in training and evaluation") {
  NetConfig cfg = narrow_config();
  gadn::StyleBank s(cfg);
  CHECK(s.mean.shape() == Shape{5, 4});
  for (double v : s.mean.to_vector_f64()) CHECK(v == 0.0);
  const Tensor labels = Tensor::from_vector_i32({4, 0, 4}, {3});
  gadn::GaussianCode c = s.code(labels);
  for (double v : c.sigma.to_vector_f64()) CHECK(v == doctest::Approx(1.0));  // softplus(ln(e − 1))
  Generator g0(9), g1(17), g2(17);
  s.mean.copy_(rand_uniform({5, 4}, -1, 1, g0));
  s.eval();
  CHECK(s.sample(labels, g1).to_vector() == s.code(labels).mean.to_vector());
  CHECK(g1.offset == 0);  // evaluation draws nothing
  s.train();
  const Tensor drawn = s.sample(labels, g1);
  const Tensor eps = randn({3, 4}, g2);
  gadn::GaussianCode cc = s.code(labels);
  const std::vector<float> want = ops::add(cc.mean, ops::mul(cc.sigma, eps)).to_vector();
  const std::vector<float> got = drawn.to_vector();
  for (size_t i = 0; i < want.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]));
  CHECK_ERROR(s.code(Tensor::from_vector_i32({0, 1}, {1, 2})), "labels must be a 1-D i32 tensor");
}
}  // TEST_SUITE
