// Oracle: the GEMM family (linear, matmul, bmm) against PyTorch (reference values from
// tests/oracle/test_linear.py): outputs and the gradients of every input.
#include <map>
#include <string>

#include "tensor/ops/matmul.h"
#include "tensor/ops/view.h"
#include "tests/oracle_common.h"

using namespace sakuga;

namespace {

Tensor run_case(const std::string& op, const std::map<std::string, Tensor>& in) {
  if (op == "linear") return ops::linear(in.at("x"), in.at("weight"), in.count("bias") ? in.at("bias") : Tensor());
  if (op == "matmul") return ops::matmul(in.at("a"), in.at("b"));
  if (op == "bmm") return ops::bmm(in.at("a"), in.at("b"));
  if (op == "matmul_bt") return ops::matmul(in.at("a"), ops::transpose(in.at("b"), 0, 1));
  SAKUGA_FAIL("oracle_linear: unknown op '", op, "'");
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_linear") {
  auto f = test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    const std::string what = name + " " + m.dump();
    INFO(what);
    std::map<std::string, Tensor> in;
    for (const auto& k : m.at("inputs")) {
      Tensor t = test::oracle_tensor(*f, name + "." + k.get<std::string>()).clone().detach();
      t.set_requires_grad(true);
      in[k.get<std::string>()] = t;
    }
    Tensor y = run_case(m.at("op").get<std::string>(), in);
    test::check_close(y, test::oracle_tensor(*f, name + ".y"), 1e-4, what + " output");
    y.backward(test::oracle_tensor(*f, name + ".r"));  // gradients of L = sum(y * r)
    for (const auto& [k, t] : in) {
      REQUIRE_MESSAGE(t.grad().defined(), what, " no gradient for ", k);
      test::check_close(t.grad(), test::oracle_tensor(*f, name + ".g" + k), 1e-4, what + " grad " + k);
    }
  }
}
}  // TEST_SUITE
