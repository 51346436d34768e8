// C++ side of tests/oracle/test_gadn_nets.py: the GADN networks filled with the same hashed
// weights as the PyTorch twin; outputs, input gradients and every parameter gradient compared.
#include <functional>

#include "layers/init.h"
#include "nets/gadn/networks.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tests/oracle_common.h"

using namespace sakuga;
using sakuga::test::check_close;
using sakuga::test::oracle_cases;
using sakuga::test::oracle_tensor;

namespace {

uint32_t fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

uint32_t mix32(uint32_t x) {
  x = ((x >> 16) ^ x) * 0x45D9F3Bu;
  x = ((x >> 16) ^ x) * 0x45D9F3Bu;
  return (x >> 16) ^ x;
}

// The twin's hash_fill: values in [−0.5, 0.5) from (name, index), biases × 0.2, then each conv /
// linear weight rescaled to unit-norm filters (×2 for transposed convs) by the init function.
void hash_fill(nn::Module& net) {
  for (auto& [mname, mod] : net.named_modules()) {
    for (auto& [pname, p] : mod->named_parameters(false)) {
      const std::string full = mname.empty() ? pname : mname + "." + pname;
      const uint32_t seed = fnv1a(full);
      std::vector<float> v(size_t(p.numel()));
      for (size_t j = 0; j < v.size(); ++j) {
        const double x = double(mix32(uint32_t(j) + seed)) / 4294967296.0 - 0.5;
        v[j] = float(pname == "bias" ? 0.2 * x : x);
      }
      p.copy_(Tensor::from_vector(v, p.shape()));
      if (pname != "weight") continue;
      if (dynamic_cast<nn::ConvTranspose2d*>(mod))
        nn::init::unit_norm_filters_(p, 1, 2.0);
      else
        nn::init::unit_norm_filters_(p, 0);
    }
  }
}

gadn::NetConfig config_of(const nlohmann::json& m) {
  gadn::NetConfig c;
  c.size = m.at("size");
  c.channels = m.at("channels").get<std::vector<int64_t>>();
  c.fc = m.at("fc");
  c.z = m.at("z");
  c.zs = m.at("zs");
  c.labels = m.at("labels");
  c.alpha = m.at("alpha");
  return c;
}

// Runs fn (inputs → outputs), Σ out_i·R_i backward, and compares with `prefix` of the file.
void check_net(const io::SafetensorsFile& f, const std::string& prefix, nn::Module& net, std::vector<Tensor> inputs,
               bool grads, const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn) {
  CAPTURE(prefix);
  hash_fill(net);
  for (Tensor& x : inputs) {
    x = x.clone().detach();
    if (grads && dtype_is_float(x.dtype())) x.set_requires_grad(true);
  }
  const std::vector<Tensor> outs = fn(inputs);
  Tensor total;
  for (size_t i = 0; i < outs.size(); ++i) {
    const std::string k = prefix + ".out" + std::to_string(i);
    check_close(outs[i], oracle_tensor(f, k), 1e-4, k);
    Tensor term = ops::sum(outs[i] * oracle_tensor(f, prefix + ".r" + std::to_string(i)));
    total = total.defined() ? total + term : term;
  }
  if (!grads) return;
  total.backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    const std::string k = prefix + ".grad.in" + std::to_string(i);
    REQUIRE(inputs[i].grad().defined());
    check_close(inputs[i].grad(), oracle_tensor(f, k), 1e-4, k);
  }
  int n = 0;
  for (const auto& [name, p] : net.named_parameters()) {
    const std::string k = prefix + ".grad." + name;
    REQUIRE_MESSAGE(p.grad().defined(), k);
    check_close(p.grad(), oracle_tensor(f, k), 1e-4, k);
    ++n;
  }
  // Every parameter of the twin was compared (the names are the same set).
  int expected = 0;
  const std::string pre = prefix + ".grad.";
  for (const auto& [key, t] : f.tensors)
    if (key.compare(0, pre.size(), pre) == 0 && key.compare(pre.size(), 2, "in") != 0) ++expected;
  CHECK(n == expected);
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_gadn_nets") {
  auto f = sakuga::test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : oracle_cases(*f)) {
    CAPTURE(name);
    const gadn::NetConfig cfg = config_of(m);
    const bool grads = m.at("grads");
    const Tensor x = oracle_tensor(*f, name + ".x"), code = oracle_tensor(*f, name + ".code");
    const Tensor labels = oracle_tensor(*f, name + ".labels");
    {
      gadn::Encoder e(cfg);
      check_net(*f, name + ".E", e, {x}, grads, [&](const std::vector<Tensor>& in) {
        gadn::GaussianCode c = e.encode(in[0]);
        return std::vector<Tensor>{c.mean, c.sigma};
      });
    }
    {
      gadn::Discriminator d(cfg);
      check_net(*f, name + ".D", d, {x}, grads, [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{d(in[0])};
      });
    }
    {
      gadn::Classifier c(cfg);
      check_net(*f, name + ".C", c, {x}, grads, [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{c(in[0])};
      });
    }
    {
      gadn::ImageGenerator g(cfg);
      check_net(*f, name + ".G", g, {code}, grads, [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{g(in[0])};
      });
    }
    {
      gadn::StyleBank s(cfg);
      check_net(*f, name + ".S", s, {labels}, grads, [&](const std::vector<Tensor>& in) {
        gadn::GaussianCode c = s.code(in[0]);
        return std::vector<Tensor>{c.mean, c.sigma};
      });
    }
  }
}
}  // TEST_SUITE
