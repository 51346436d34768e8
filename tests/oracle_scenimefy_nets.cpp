// C++ side of tests/oracle/test_scenimefy_nets.py: CUT's generator, discriminators and patch heads
// loaded from PyTorch state_dicts by name (filters included); outputs, taps, patch features, the
// input gradient and every parameter gradient compared.
#include "nets/scenimefy/networks.h"
#include "tensor/ops.h"
#include "tests/oracle_common.h"

using namespace sakuga;
using sakuga::test::check_close;
using sakuga::test::oracle_tensor;

namespace {

// The file's tensors under `prefix.` as a state dict.
std::map<std::string, Tensor> state_of(const io::SafetensorsFile& f, const std::string& prefix) {
  std::map<std::string, Tensor> s;
  for (const auto& [k, v] : f.tensors)
    if (k.rfind(prefix + ".", 0) == 0) s[k.substr(prefix.size() + 1)] = v;
  return s;
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_scenimefy_nets") {
  auto f = test::oracle_file();
  if (!f) return;
  const nlohmann::json cfg = test::oracle_meta(*f, "config");
  scenimefy::GeneratorConfig gc;
  gc.ngf = cfg.at("ngf");
  scenimefy::ResnetGenerator G(gc);
  scenimefy::PatchDiscriminator D(3, cfg.at("ndf")), Dp(6, cfg.at("ndf"));
  const std::vector<int64_t> taps = cfg.at("taps").get<std::vector<int64_t>>();
  scenimefy::PatchSampleF F(G.tap_channels(taps), cfg.at("nc"));
  G.load_state_dict(state_of(*f, "G"));
  D.load_state_dict(state_of(*f, "D"));
  Dp.load_state_dict(state_of(*f, "Dp"));
  F.load_state_dict(state_of(*f, "F"));

  Tensor x = oracle_tensor(*f, "x").clone().detach();
  x.set_requires_grad(true);
  Tensor y = G(x);
  check_close(y, oracle_tensor(*f, "y"), 1e-4, "G(x)");
  std::vector<Tensor> feats = G.encode(x, taps);
  std::vector<Tensor> ids;
  for (size_t i = 0; i < taps.size(); ++i) {
    check_close(feats[i], oracle_tensor(*f, "tap" + std::to_string(i)), 1e-4, "tap " + std::to_string(taps[i]));
    ids.push_back(oracle_tensor(*f, "ids" + std::to_string(i)));
  }
  std::vector<Tensor> samples = F.sample(feats, ids);
  Tensor d = D(y), dp = Dp(ops::concat({x, y}, 1));
  check_close(d, oracle_tensor(*f, "d"), 1e-4, "D(G(x))");
  check_close(dp, oracle_tensor(*f, "dp"), 1e-4, "D_p(x, G(x))");
  Tensor total = ops::sum(y * oracle_tensor(*f, "r_y")) + ops::sum(d * oracle_tensor(*f, "r_d")) +
                 ops::sum(dp * oracle_tensor(*f, "r_dp"));
  for (size_t i = 0; i < taps.size(); ++i) {
    const std::string n = std::to_string(i);
    check_close(samples[i], oracle_tensor(*f, "feat" + n), 1e-4, "F tap " + n);
    total = total + ops::sum(feats[i] * oracle_tensor(*f, "r_tap" + n)) +
            ops::sum(samples[i] * oracle_tensor(*f, "r_feat" + n));
  }
  total.backward();
  check_close(x.grad(), oracle_tensor(*f, "gx"), 1e-4, "d/dx");
  int compared = 0;
  for (auto [prefix, net] : std::vector<std::pair<std::string, nn::Module*>>{{"G", &G}, {"D", &D}, {"Dp", &Dp}, {"F", &F}})
    for (const auto& [name, p] : net->named_parameters()) {
      REQUIRE_MESSAGE(p.grad().defined(), prefix, ".", name, " has no gradient");
      const Tensor want = oracle_tensor(*f, "grad." + prefix + "." + name);
      const double scale = ops::max(ops::abs(ops::flatten(want)), 0).item();
      if (scale < 1e-8) {
        // The bias of a conv followed by instance norm: its gradient is exactly zero (the norm
        // removes every per-channel constant); both sides hold rounding noise (f64: 1e-17).
        // Bounded by the same conv's weight gradient: f32 rounding, 1e-5 of it.
        const std::string w = name.substr(0, name.size() - 4) + "weight";
        const double ref = ops::max(ops::abs(ops::flatten(oracle_tensor(*f, "grad." + prefix + "." + w))), 0).item();
        const double got = ops::max(ops::abs(ops::flatten(p.grad())), 0).item();
        CHECK_MESSAGE(got <= 1e-5 * ref, prefix, ".", name, ": expected a zero gradient, got max |g| ", got,
                      " (the weight's gradient: ", ref, ")");
      } else {
        check_close(p.grad(), want, 1e-4, "grad " + prefix + "." + name);
      }
      ++compared;
    }
  CHECK(compared > 60);

  // tools/convert_cut.py's file of the same generator (a DataParallel .pth): loads by name.
  scenimefy::ResnetGenerator G2(gc);
  G2.load_state_dict(io::load_safetensors(cfg.at("converted").get<std::string>()).tensors);
  NoGradGuard ng;
  check_close(G2(oracle_tensor(*f, "x")), oracle_tensor(*f, "y"), 1e-4, "G(x) from the converted .pth");
}
}  // TEST_SUITE
