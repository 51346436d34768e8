// Oracle: PatchNCE, HDCE, HDCE's weights and SRC against PyTorch written out from CUT's PatchNCELoss
// and Hneg_SRC's HDCE and SRC_Loss (reference values from tests/oracle/test_nce.py).
#include "tensor/ops/nce.h"
#include "tensor/ops/view.h"
#include "tests/oracle_common.h"

using namespace sakuga;

TEST_SUITE("oracle") {
TEST_CASE("oracle_nce") {
  auto f = test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    const std::string what = name + " " + m.dump();
    INFO(what);
    Tensor q = test::oracle_tensor(*f, name + ".q").clone().detach();
    Tensor k = test::oracle_tensor(*f, name + ".k").clone().detach();
    q.set_requires_grad(true);
    k.set_requires_grad(true);
    const std::string op = m.at("op");
    const double tau = m.at("tau");
    Tensor y;
    if (op == "src") {
      y = ops::src_loss(q, k);
      test::check_close(ops::reshape(y, {1}), test::oracle_tensor(*f, name + ".y"), 1e-4, what + " value");
      y.backward();
      test::check_close(q.grad(), test::oracle_tensor(*f, name + ".gq"), 1e-4, what + " d/dq");
      CHECK_FALSE(k.grad().defined());  // the source side gets no gradient
      continue;
    }
    if (op == "patch_nce") {
      y = ops::patch_nce_loss(q, k, tau);
    } else {
      const Tensor w = ops::hdce_weights(k.detach(), m.at("gamma").get<double>());
      test::check_close(w, test::oracle_tensor(*f, name + ".w"), 1e-4, what + " weights");
      y = ops::hdce_loss(q, k, w, tau);
    }
    test::check_close(ops::reshape(y, {1}), test::oracle_tensor(*f, name + ".y"), 1e-4, what + " value");
    y.backward();
    test::check_close(q.grad(), test::oracle_tensor(*f, name + ".gq"), 1e-4, what + " d/dq");
    test::check_close(k.grad(), test::oracle_tensor(*f, name + ".gk"), 1e-4, what + " d/dk");
  }
}
}  // TEST_SUITE
