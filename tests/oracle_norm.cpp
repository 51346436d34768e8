// Oracle: batch norm (train and eval, with the running buffers) and instance norm against
// PyTorch (reference values from tests/oracle/test_norm.py): outputs, the gradients of x,
// weight and bias, and the updated running statistics.
#include <map>
#include <string>

#include "tensor/ops/norm.h"
#include "tests/oracle_common.h"

using namespace sakuga;

TEST_SUITE("oracle") {
TEST_CASE("oracle_norm") {
  auto f = test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    const std::string what = name + " " + m.dump();
    INFO(what);
    auto get = [&](const std::string& k) { return test::oracle_tensor(*f, name + "." + k); };
    const bool affine = m.at("affine").get<bool>();
    std::map<std::string, Tensor> in;
    in["x"] = get("x").clone().detach();
    if (affine) {
      in["weight"] = get("weight").clone().detach();
      in["bias"] = get("bias").clone().detach();
    }
    for (auto& [k, t] : in) t.set_requires_grad(true);
    Tensor w = affine ? in["weight"] : Tensor(), b = affine ? in["bias"] : Tensor();
    const std::string op = m.at("op").get<std::string>();
    const double eps = m.at("eps").get<double>();
    Tensor y;
    if (op == "batch_norm") {
      Tensor rm = get("rm").clone().detach(), rv = get("rv").clone().detach();
      y = ops::batch_norm(in["x"], w, b, rm, rv, m.at("training").get<bool>(), m.at("momentum").get<double>(), eps);
      test::check_close(rm, get("rm1"), 1e-4, what + " running_mean");
      test::check_close(rv, get("rv1"), 1e-4, what + " running_var");
    } else {
      REQUIRE(op == "instance_norm");
      y = ops::instance_norm(in["x"], w, b, eps);
    }
    test::check_close(y, get("y"), 1e-4, what + " output");
    y.backward(get("r"));  // gradients of L = sum(y * r)
    for (const auto& [k, t] : in) {
      REQUIRE_MESSAGE(t.grad().defined(), what, " no gradient for ", k);
      test::check_close(t.grad(), get("g" + k), 1e-4, what + " grad " + k);
    }
  }
}
}  // TEST_SUITE
