// Oracle: focal losses and losses::segmentation_loss against PyTorch / torchvision (reference
// values from tests/oracle/test_focal.py).
#include "losses/segmentation.h"
#include "tensor/ops/focal.h"
#include "tests/oracle_common.h"

using namespace sakuga;

namespace {

ops::Reduction reduction_of(const nlohmann::json& m) {
  const std::string r = m.at("reduction");
  if (r == "none") return ops::Reduction::none;
  if (r == "mean") return ops::Reduction::mean;
  if (r == "sum") return ops::Reduction::sum;
  SAKUGA_FAIL("oracle_focal: unknown reduction '", r, "'");
}

Tensor run_case(const nlohmann::json& m, const Tensor& x, const Tensor& target, const Tensor& weight) {
  const std::string op = m.at("op");
  if (op == "binary_focal")
    return ops::binary_focal_loss(x, target, m.at("gamma"), m.at("alpha"), reduction_of(m));
  if (op == "softmax_focal")
    return ops::softmax_focal_loss(x, target, m.at("gamma"), weight, m.at("ignore_index"), reduction_of(m));
  if (op == "seg") {
    losses::SegLossConfig cfg;
    cfg.kind = m.at("kind");
    cfg.gamma = m.at("gamma");
    cfg.alpha = m.value("alpha", -1.0);
    if (weight.defined())
      for (float v : weight.to_vector()) cfg.class_weights.push_back(double(v));
    return losses::segmentation_loss(cfg, x, target);
  }
  SAKUGA_FAIL("oracle_focal: unknown op '", op, "'");
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_focal") {
  auto f = test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    const std::string what = name + " " + m.dump();
    INFO(what);
    Tensor x = test::oracle_tensor(*f, name + ".x").clone().detach();
    x.set_requires_grad(true);
    Tensor target = test::oracle_tensor(*f, name + ".target").clone().detach();
    Tensor weight = m.at("weight").get<bool>() ? test::oracle_tensor(*f, name + ".weight") : Tensor();
    Tensor y = run_case(m, x, target, weight);
    test::check_close(y, test::oracle_tensor(*f, name + ".y"), 1e-4, what + " output");
    y.backward(test::oracle_tensor(*f, name + ".r"));  // gradients of L = sum(y * r)
    REQUIRE(x.grad().defined());
    test::check_close(x.grad(), test::oracle_tensor(*f, name + ".gx"), 1e-4, what + " input grad");
  }
}
}  // TEST_SUITE
