// Oracle: conv2d and conv_transpose2d against PyTorch (reference values from
// tests/oracle/test_conv.py): outputs and the gradients of x, weight and bias.
#include "tensor/ops/conv.h"
#include "tests/oracle_common.h"

using namespace sakuga;

namespace {

Tensor run_case(const nlohmann::json& m, const Tensor& x, const Tensor& w, const Tensor& b) {
  const std::string op = m.at("op");
  if (op == "conv2d") {
    ops::Conv2dParams p;
    p.stride_h = m["stride"][0];
    p.stride_w = m["stride"][1];
    p.pad_h = m["padding"][0];
    p.pad_w = m["padding"][1];
    p.dilation_h = m["dilation"][0];
    p.dilation_w = m["dilation"][1];
    p.groups = m["groups"];
    return ops::conv2d(x, w, b, p);
  }
  if (op == "conv_transpose2d") {
    ops::ConvTranspose2dParams p;
    p.stride_h = m["stride"][0];
    p.stride_w = m["stride"][1];
    p.pad_h = m["padding"][0];
    p.pad_w = m["padding"][1];
    p.output_pad_h = m["output_padding"][0];
    p.output_pad_w = m["output_padding"][1];
    p.dilation_h = m["dilation"][0];
    p.dilation_w = m["dilation"][1];
    p.groups = m["groups"];
    return ops::conv_transpose2d(x, w, b, p);
  }
  SAKUGA_FAIL("oracle_conv: unknown op '", op, "'");
}

Tensor leaf(const io::SafetensorsFile& f, const std::string& name) {
  Tensor t = test::oracle_tensor(f, name).clone().detach();
  t.set_requires_grad(true);
  return t;
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_conv") {
  auto f = test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    const std::string what = name + " " + m.dump();
    INFO(what);
    Tensor x = leaf(*f, name + ".x"), w = leaf(*f, name + ".weight");
    Tensor b = m["bias"].get<bool>() ? leaf(*f, name + ".bias") : Tensor();
    Tensor y = run_case(m, x, w, b);
    test::check_close(y, test::oracle_tensor(*f, name + ".y"), 1e-4, what + " output");
    y.backward(test::oracle_tensor(*f, name + ".r"));  // gradients of L = sum(y * r)
    REQUIRE(x.grad().defined());
    REQUIRE(w.grad().defined());
    test::check_close(x.grad(), test::oracle_tensor(*f, name + ".gx"), 1e-4, what + " input grad");
    test::check_close(w.grad(), test::oracle_tensor(*f, name + ".gweight"), 1e-4, what + " weight grad");
    if (b.defined()) {
      REQUIRE(b.grad().defined());
      test::check_close(b.grad(), test::oracle_tensor(*f, name + ".gbias"), 1e-4, what + " bias grad");
    }
  }
}
}  // TEST_SUITE
