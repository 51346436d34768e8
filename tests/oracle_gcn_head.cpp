// C++ side of tests/oracle/test_gcn_head.py: the PyTorch GCN head's state_dict loaded by name
// into sakuga's GcnHead; logits, every parameter gradient and every feature gradient compared.
#include <array>

#include "nets/gcn/head.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tests/oracle_common.h"

using namespace sakuga;
using sakuga::test::check_close;
using sakuga::test::oracle_meta;
using sakuga::test::oracle_tensor;

TEST_SUITE("oracle") {
TEST_CASE("oracle_gcn_head") {
  auto f = sakuga::test::oracle_file();
  if (!f) return;
  const nlohmann::json cases = oracle_meta(*f, "cases");
  const nlohmann::json chj = oracle_meta(*f, "channels");
  const std::array<int64_t, 4> ch = {chj[0].get<int64_t>(), chj[1].get<int64_t>(), chj[2].get<int64_t>(),
                                     chj[3].get<int64_t>()};
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const std::string c = "c" + std::to_string(ci);
    const int64_t C = cases[ci][1], H = cases[ci][3], W = cases[ci][4];
    const int k = cases[ci][2];
    CAPTURE(c);
    CAPTURE(C);
    CAPTURE(k);
    gcn::GcnHead head(ch, C, k, 0.0);
    nn::StateDict sd;
    const std::string pre = c + ".sd.";
    for (const auto& [key, t] : f->tensors)
      if (key.compare(0, pre.size(), pre) == 0) sd[key.substr(pre.size())] = t;
    REQUIRE(sd.size() == 68);
    head.load_state_dict(sd);  // strict: every name must match
    head.train();
    std::array<Tensor, 4> feats;
    for (int i = 0; i < 4; ++i) {
      feats[i] = oracle_tensor(*f, c + ".f" + std::to_string(i + 1)).clone().detach();
      feats[i].set_requires_grad(true);
    }
    Tensor out = head(feats, H, W);
    ops::sum(out * oracle_tensor(*f, c + ".r")).backward();
    check_close(out, oracle_tensor(*f, c + ".out"), 1e-4, c + " out");
    for (int i = 0; i < 4; ++i) {
      const std::string fi = "f" + std::to_string(i + 1);
      REQUIRE(feats[i].grad().defined());
      check_close(feats[i].grad(), oracle_tensor(*f, c + ".grad." + fi), 1e-4, c + " grad " + fi);
    }
    int n = 0;
    for (const auto& [name, p] : head.named_parameters()) {
      REQUIRE(p.grad().defined());
      check_close(p.grad(), oracle_tensor(*f, c + ".grad." + name), 1e-4, c + " grad " + name);
      ++n;
    }
    CHECK(n == 68);
  }
}
}  // TEST_SUITE
