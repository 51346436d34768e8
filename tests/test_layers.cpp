// Modules: naming, state_dict load errors, train/eval, freezing, devices, save/load, init.
#include "tests/test_util.h"
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "kernels/device.h"
#include "layers/activation.h"
#include "layers/conv.h"
#include "layers/dropout.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/norm.h"
#include "layers/sequential.h"
#include "optim/sgd.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tensor/random.h"
#include "tensor/safetensors.h"

using namespace sakuga;
using sakuga::test::error_of;
using namespace sakuga::nn;

namespace {

// A torchvision-like basic block: conv1, bn1, conv2, bn2.
struct Block : Module {
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  explicit Block(int64_t c) {
    conv1 = register_module("conv1", std::make_shared<Conv2d>(Conv2dOptions(c, c, 3).padding(1).with_bias(false)));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(c));
    conv2 = register_module("conv2", std::make_shared<Conv2d>(Conv2dOptions(c, c, 3).padding(1).with_bias(false)));
    bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(c));
  }
  std::string type_name() const override { return "Block"; }
  Tensor forward(const Tensor& x) override {
    Tensor y = ops::relu((*bn1)((*conv1)(x)));
    return ops::relu((*bn2)((*conv2)(y)) + x);
  }
};

struct Net : Module {
  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Sequential> layer1;
  std::shared_ptr<Linear> fc;
  Net() {
    conv1 = register_module("conv1", std::make_shared<Conv2d>(3, 4, 3, 1, 1, false));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(4));
    layer1 = register_module("layer1", std::make_shared<Sequential>());
    layer1->push_back(std::make_shared<Block>(4));
    layer1->push_back(std::make_shared<Block>(4));
    fc = register_module("fc", std::make_shared<Linear>(4, 2));
  }
  std::string type_name() const override { return "Net"; }
  Tensor forward(const Tensor& x) override {
    Tensor y = ops::relu((*bn1)((*conv1)(x)));
    y = (*layer1)(y);
    return (*fc)(ops::mean(y, {2, 3}));
  }
};

std::vector<std::string> names(const NamedTensors& v) {
  std::vector<std::string> out;
  for (auto& nt : v) out.push_back(nt.first);
  return out;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  Tensor ha = a.contiguous().cpu(), hb = b.contiguous().cpu();
  return std::memcmp(ha.raw(), hb.raw(), ha.nbytes()) == 0;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("layers") {

TEST_CASE("parameter and buffer names of a nested module follow PyTorch") {
  Net net;
  std::vector<std::string> p = names(net.named_parameters());
  std::vector<std::string> want = {
      "conv1.weight",          "bn1.weight",           "bn1.bias",
      "layer1.0.conv1.weight", "layer1.0.bn1.weight",  "layer1.0.bn1.bias",
      "layer1.0.conv2.weight", "layer1.0.bn2.weight",  "layer1.0.bn2.bias",
      "layer1.1.conv1.weight", "layer1.1.bn1.weight",  "layer1.1.bn1.bias",
      "layer1.1.conv2.weight", "layer1.1.bn2.weight",  "layer1.1.bn2.bias",
      "fc.weight",             "fc.bias"};
  CHECK(p == want);
  std::vector<std::string> b = names(net.named_buffers());
  CHECK(b.size() == 15);
  CHECK(b[0] == "bn1.running_mean");
  CHECK(b[1] == "bn1.running_var");
  CHECK(b[2] == "bn1.num_batches_tracked");
  CHECK(b[3] == "layer1.0.bn1.running_mean");
  // state_dict order: per module its parameters, then its buffers, then its children.
  std::vector<std::string> sd = names(net.ordered_state_dict());
  CHECK(sd.size() == 32);
  CHECK(sd[0] == "conv1.weight");
  CHECK(sd[1] == "bn1.weight");
  CHECK(sd[3] == "bn1.running_mean");
  CHECK(sd[5] == "bn1.num_batches_tracked");
  CHECK(sd.back() == "fc.bias");
  auto map = net.state_dict();
  CHECK(map.size() == 32);
  CHECK(map.at("bn1.num_batches_tracked").dtype() == DType::i32);
  CHECK(map.at("bn1.num_batches_tracked").dim() == 0);
  CHECK(map.at("layer1.1.conv2.weight").shape() == Shape{4, 4, 3, 3});

  auto mods = net.named_modules();
  CHECK(mods.size() == 15);  // net, conv1, bn1, layer1, 2 × (block + 4), fc
  CHECK(mods[0].first == "");
  CHECK(mods[3].first == "layer1");
  CHECK(mods[4].first == "layer1.0");
  CHECK(mods[5].first == "layer1.0.conv1");
  CHECK(&net.submodule("layer1.1.bn2") == net.layer1->at(1)->named_modules()[4].second);
  CHECK(contains(error_of([&] { net.submodule("layer1.7"); }), "'7' is not among: 0, 1"));
  CHECK(net.num_parameters() == 108 + 8 + 2 * (144 + 8 + 144 + 8) + 10);

  // Weight tying: a tensor reachable under two names is one parameter.
  struct Tied : Module {
    Tensor w;
    Tied() {
      w = register_parameter("a", Tensor::zeros({2}));
      register_parameter("b", w);
    }
  } tied;
  CHECK(tied.named_parameters().size() == 1);
  CHECK(tied.state_dict().size() == 2);

  struct Bad : Module {
    Bad() { register_parameter("x", Tensor::zeros({1})); }
  } bad;
  CHECK(contains(error_of([&] { bad.register_parameter("x", Tensor::zeros({1})); }), "already a parameter"));
  CHECK(contains(error_of([&] { bad.register_buffer("a.b", Tensor::zeros({1})); }), "must not contain '.'"));
}

TEST_CASE("Sequential names its children 0, 1, ... and chains them") {
  Sequential seq{std::make_shared<Linear>(3, 5), std::make_shared<ReLU>(), std::make_shared<Linear>(5, 2)};
  CHECK(names(seq.named_parameters()) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(seq.size() == 3);
  CHECK(seq[1].type_name() == "ReLU");
  CHECK_THROWS_AS(seq.at(3), Error);
  Tensor y = seq(Tensor::ones({4, 3}));
  CHECK(y.shape() == Shape{4, 2});
  seq.push_back("head", std::make_shared<Tanh>());
  CHECK(seq.named_children().back().first == "head");
  std::string s = seq.summary();
  CHECK(contains(s, "(0): Linear(in_features=3, out_features=5, bias=true)  # 20 params"));
  CHECK(contains(s, "total: 32 parameters (32 trainable)"));
  CHECK(contains(error_of([&] { Module m; m(Tensor::ones({1})); }), "no single-input forward"));
}

TEST_CASE("load_state_dict lists every missing, unexpected and mis-shaped tensor") {
  Net a, b;
  auto sd = a.state_dict();
  sd.erase("layer1.0.bn1.running_var");
  sd.erase("fc.bias");
  sd["layer1.0.conv1.weight"] = Tensor::zeros({4, 4, 1, 1});
  sd["fc.weight"] = Tensor::zeros({3, 4});
  sd["layer2.0.conv1.weight"] = Tensor::zeros({1});
  sd["head.bias"] = Tensor::zeros({1});
  Tensor before = b.conv1->weight.detach().clone();
  std::string m = error_of([&] { b.load_state_dict(sd); });
  INFO(m);
  CHECK(contains(m, "missing (2): layer1.0.bn1.running_var, fc.bias"));
  CHECK(contains(m, "unexpected (2): head.bias, layer2.0.conv1.weight"));
  CHECK(contains(m, "mis-shaped (2): layer1.0.conv1.weight (checkpoint (4, 4, 1, 1), module (4, 4, 3, 3)), "
                    "fc.weight (checkpoint (3, 4), module (2, 4))"));
  // Nothing was copied.
  CHECK(bit_equal(b.conv1->weight, before));

  // Non-strict: missing/unexpected reported, mis-shaped still an error.
  CHECK(contains(error_of([&] { b.load_state_dict(sd, false); }), "mis-shaped (2)"));
  sd["layer1.0.conv1.weight"] = a.layer1->at(0)->state_dict().at("conv1.weight");
  sd["fc.weight"] = a.fc->weight;
  Module::LoadResult r = b.load_state_dict(sd, false);
  CHECK(r.missing == std::vector<std::string>{"layer1.0.bn1.running_var", "fc.bias"});
  CHECK(r.unexpected.size() == 2);
  CHECK(bit_equal(b.conv1->weight, a.conv1->weight));

  // num_batches_tracked is optional (older PyTorch checkpoints lack it); keys under a skipped
  // prefix (optimizer state) are ignored.
  auto full = a.state_dict();
  full.erase("bn1.num_batches_tracked");
  full["optim.step"] = Tensor::zeros({});
  CHECK_NOTHROW(b.load_state_dict(full, true, "optim."));
  CHECK(contains(error_of([&] { b.load_state_dict(full, true); }), "unexpected (1): optim.step"));
}

TEST_CASE("load_state_dict copies in place: handles stay valid, dtype converted") {
  Linear a(3, 2), b(3, 2);
  Tensor w = b.weight;  // a handle taken before loading
  auto sd = a.state_dict();
  sd["weight"] = sd["weight"].to(DType::f64);
  b.load_state_dict(sd);
  CHECK(w.same(b.weight));
  CHECK(w.dtype() == DType::f32);
  CHECK(bit_equal(w, a.weight));
  CHECK(b.weight.requires_grad());
}

TEST_CASE("train/eval switch BatchNorm statistics and Dropout") {
  manual_seed(3);
  BatchNorm2d bn(3);
  Tensor x = randn({4, 3, 5, 5}, default_generator(), DType::f32, Device::cpu(), 2.0, 3.0);
  CHECK(bn.is_training());
  Tensor y_train = bn(x);
  // Batch statistics: each channel of the output has mean ≈ 0, var ≈ 1.
  std::vector<float> m = ops::mean(y_train.detach(), {0, 2, 3}).to_vector();
  for (float v : m) CHECK(std::fabs(v) < 1e-5);
  // Running mean moved 10% of the way from 0 to the batch mean.
  std::vector<float> bm = ops::mean(x, {0, 2, 3}).to_vector(), rmean = bn.running_mean.to_vector();
  for (size_t c = 0; c < 3; ++c) CHECK(rmean[c] == doctest::Approx(0.1 * bm[c]).epsilon(1e-5));
  CHECK(bn.batches_tracked() == 1);
  CHECK(bn.num_batches_tracked.item() == 1);
  Tensor rm = bn.running_mean.detach().clone();

  bn.eval();
  CHECK_FALSE(bn.is_training());
  Tensor y_eval = bn(x);
  CHECK(bit_equal(bn.running_mean, rm));  // not updated in eval
  CHECK(bn.num_batches_tracked.item() == 1);
  // Eval uses the running statistics: y = (x − rm)/sqrt(rv + eps).
  std::vector<float> xv = x.to_vector(), ye = y_eval.to_vector(), rmv = rm.to_vector(),
                     rvv = bn.running_var.to_vector();
  for (size_t i = 0; i < 25; i += 7) CHECK(ye[i] == doctest::Approx((xv[i] - rmv[0]) / std::sqrt(rvv[0] + 1e-5)));

  // Sequential eval() reaches nested modules; Dropout drops only in training.
  Sequential seq{std::make_shared<Dropout>(0.5), std::make_shared<ReLU>()};
  Tensor ones = Tensor::ones({1000});
  std::vector<float> d = seq(ones).to_vector();
  int zeros = 0;
  for (float v : d) {
    CHECK((v == 0.f || v == 2.f));
    zeros += v == 0.f;
  }
  CHECK(zeros > 400);
  CHECK(zeros < 600);
  seq.eval();
  CHECK_FALSE(seq[0].is_training());
  CHECK(seq(ones).to_vector() == ones.to_vector());
  seq.train();
  CHECK(seq[0].is_training());

  // Loading a state_dict refreshes the host mirror of num_batches_tracked.
  BatchNorm2d bn2(3);
  auto sd = bn.state_dict();
  sd["num_batches_tracked"] = Tensor::full({}, 41, DType::i32);
  bn2.load_state_dict(sd);
  CHECK(bn2.batches_tracked() == 41);
  bn2(x);
  CHECK(bn2.num_batches_tracked.item() == 42);
  CHECK(contains(error_of([&] { bn2(Tensor::ones({2, 4, 3, 3})); }), "expected 3 channels"));
}

TEST_CASE("set_requires_grad(false) stops gradient accumulation (GAN freezing)") {
  manual_seed(1);
  Sequential g{std::make_shared<Linear>(3, 4), std::make_shared<Tanh>()};
  Sequential d{std::make_shared<Linear>(4, 1)};
  Tensor z = Tensor::ones({2, 3});

  // Generator step: D frozen, gradient flows through D into G only.
  d.set_requires_grad(false);
  ops::sum(d(g(z))).backward();
  for (auto& [n, p] : g.named_parameters()) CHECK(p.grad().defined());
  for (auto& [n, p] : d.named_parameters()) {
    CHECK_FALSE(p.requires_grad());
    CHECK_FALSE(p.grad().defined());
  }
  CHECK(d.num_parameters(true) == 0);

  // Discriminator step: G frozen (and its output detached anyway), D trainable.
  g.zero_grad();
  g.set_requires_grad(false);
  d.set_requires_grad(true);
  ops::sum(d(g(z))).backward();
  for (auto& [n, p] : g.named_parameters()) CHECK_FALSE(p.grad().defined());
  for (auto& [n, p] : d.named_parameters()) CHECK(p.grad().defined());

  // Accumulation across two backward passes while trainable.
  Tensor g1 = d.named_parameters()[0].second.grad().detach().clone();
  ops::sum(d(g(z))).backward();
  std::vector<float> a = g1.to_vector(), b = d.named_parameters()[0].second.grad().to_vector();
  for (size_t i = 0; i < a.size(); ++i) CHECK(b[i] == doctest::Approx(2 * a[i]));
  d.zero_grad();
  CHECK_FALSE(d.named_parameters()[0].second.grad().defined());
}

TEST_CASE("a module and its optimizer: one SGD step on a frozen/unfrozen pair") {
  manual_seed(2);
  Linear a(2, 2), b(2, 1);
  optim::SgdOptions o;
  o.lr = 0.1;
  optim::SGD opt_a(a.named_parameters(), o);
  optim::SGD opt_b(b.named_parameters(), o);
  Tensor wb = b.weight.detach().clone(), wa = a.weight.detach().clone();
  b.set_requires_grad(false);
  ops::sum(b(a(Tensor::ones({3, 2})))).backward();
  opt_a.step();
  opt_b.step();  // nothing to do: no gradients
  CHECK(bit_equal(b.weight, wb));
  CHECK_FALSE(bit_equal(a.weight, wa));
}

TEST_CASE("to(Device) keeps handles; save/load through safetensors with metadata") {
  Net net;
  Tensor w = net.fc->weight;
  net.to(Device::cpu());  // no-op on the same device
  CHECK(w.same(net.fc->weight));
  CHECK(net.device() == Device::cpu());
  if (device::cuda_device_count() > 0) {
    net.to(Device::cuda(0));
    CHECK(w.is_cuda());  // the same handle moved
    CHECK(net.bn1->num_batches_tracked.is_cuda());
    net.to(Device::cpu());
    CHECK(w.device() == Device::cpu());
  }

  std::string path = "/tmp/sakuga_test_layers_net.safetensors";
  net.bn1->running_mean.fill_(0.5);
  net.save(path, {{"config", "{\"net\": \"test\"}"}});
  Net other;
  io::SafetensorsFile f = other.load(path);
  std::remove(path.c_str());
  CHECK(f.metadata.at("config") == "{\"net\": \"test\"}");
  auto sa = net.state_dict(), sb = other.state_dict();
  for (auto& [k, t] : sa) {
    CAPTURE(k);
    CHECK(bit_equal(t, sb.at(k)));
  }
  CHECK(contains(error_of([&] { other.load("/tmp/sakuga_no_such_file.safetensors"); }), "sakuga_no_such_file"));
}

TEST_CASE("default initialisation follows PyTorch; the same seed gives the same weights") {
  manual_seed(7);
  Conv2d c(8, 16, 3);
  double bound = 1.0 / std::sqrt(8.0 * 9.0);
  float wmax = 0, bmax = 0;
  for (float v : c.weight.to_vector()) wmax = std::max(wmax, std::fabs(v));
  for (float v : c.bias.to_vector()) bmax = std::max(bmax, std::fabs(v));
  CHECK(wmax <= bound);
  CHECK(wmax > 0.9 * bound);
  CHECK(bmax <= bound);
  manual_seed(7);
  Conv2d c2(8, 16, 3);
  CHECK(bit_equal(c.weight, c2.weight));
  CHECK(bit_equal(c.bias, c2.bias));

  // ConvTranspose2d: weight (in, out/groups, kh, kw), fan_in = out/groups·kh·kw.
  ConvTranspose2d t(Conv2dOptions(4, 6, 4).stride(2).padding(1).with_groups(2));
  CHECK(t.weight.shape() == Shape{4, 3, 4, 4});
  CHECK(init::fan_in_and_out(t.weight).first == 48);
  float tmax = 0;
  for (float v : t.weight.to_vector()) tmax = std::max(tmax, std::fabs(v));
  CHECK(tmax <= 1.0 / std::sqrt(48.0));
  Tensor y = t(Tensor::ones({1, 4, 5, 5}));
  CHECK(y.shape() == Shape{1, 6, 10, 10});

  Linear l(100, 10, false);
  CHECK_FALSE(l.bias.defined());
  CHECK(names(l.named_parameters()) == std::vector<std::string>{"weight"});
  BatchNorm2d bn(5);
  CHECK(bn.weight.to_vector() == std::vector<float>(5, 1.f));
  CHECK(bn.bias.to_vector() == std::vector<float>(5, 0.f));
  CHECK(bn.running_var.to_vector() == std::vector<float>(5, 1.f));
  InstanceNorm2d in(5);
  CHECK(in.named_parameters().empty());
  CHECK(InstanceNorm2d(5, 1e-5, true).named_parameters().size() == 2);
  PReLU pr(3);
  CHECK(pr.weight.to_vector() == std::vector<float>(3, 0.25f));
}

TEST_CASE("initialisers: gains, fans and statistics") {
  CHECK(init::calculate_gain("relu") == doctest::Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain("leaky_relu", std::sqrt(5.0)) == doctest::Approx(std::sqrt(1.0 / 3.0)));
  CHECK(init::calculate_gain("tanh") == doctest::Approx(5.0 / 3.0));
  CHECK_THROWS_AS(init::calculate_gain("gelu"), Error);
  Tensor w = Tensor::empty({64, 32, 3, 3});
  CHECK(init::fan_in_and_out(w) == std::pair<int64_t, int64_t>{288, 576});
  CHECK_THROWS_AS(init::fan_in_and_out(Tensor::empty({5})), Error);

  auto stddev = [](const Tensor& t) {
    std::vector<double> v = t.to_vector_f64();
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= double(v.size());
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / double(v.size()));
  };
  manual_seed(11);
  init::kaiming_normal_(w, 0.0, init::FanMode::fan_out, "relu");  // ResNet's init
  CHECK(stddev(w) == doctest::Approx(std::sqrt(2.0 / 576.0)).epsilon(0.03));
  init::kaiming_uniform_(w, 0.0, init::FanMode::fan_in, "relu");
  CHECK(stddev(w) == doctest::Approx(std::sqrt(2.0 / 288.0)).epsilon(0.03));
  init::xavier_normal_(w, 0.02);
  CHECK(stddev(w) == doctest::Approx(0.02 * std::sqrt(2.0 / 864.0)).epsilon(0.03));
  init::xavier_uniform_(w);
  CHECK(stddev(w) == doctest::Approx(std::sqrt(2.0 / 864.0)).epsilon(0.03));
  init::zeros_(w);
  CHECK(stddev(w) == 0.0);
  init::ones_(w);
  CHECK(w.to_vector()[17] == 1.f);
}

TEST_CASE("Conv2d padding modes and rectangular kernels") {
  // A 1×3 kernel of ones with reflect padding on a row [1, 2, 3]: [2+1+2, 1+2+3, 2+3+2].
  Conv2d c(Conv2dOptions(1, 1, 1, 3).padding(0, 1).with_bias(false).mode(PaddingMode::reflect));
  CHECK(c.weight.shape() == Shape{1, 1, 1, 3});
  c.weight.detach().fill_(1.0);
  Tensor x = Tensor::from_vector({1, 2, 3}, {1, 1, 1, 3});
  CHECK(c(x).to_vector() == std::vector<float>{5, 6, 7});
  Conv2d z(Conv2dOptions(1, 1, 1, 3).padding(0, 1).with_bias(false));
  z.weight.detach().fill_(1.0);
  CHECK(z(x).to_vector() == std::vector<float>{3, 6, 5});
  Conv2d r(Conv2dOptions(1, 1, 1, 3).padding(0, 1).with_bias(false).mode(PaddingMode::replicate));
  r.weight.detach().fill_(1.0);
  CHECK(r(x).to_vector() == std::vector<float>{4, 6, 8});
  CHECK(contains(c.extra_repr(), "kernel_size=(1, 3)"));
  CHECK(contains(c.extra_repr(), "padding_mode=reflect"));
  CHECK(contains(error_of([] { Conv2d(Conv2dOptions(3, 4, 3).with_groups(2)); }), "groups 2 must divide"));
}

}  // TEST_SUITE
