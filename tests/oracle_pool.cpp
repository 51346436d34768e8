// Oracle: pooling and resampling against PyTorch (reference values from tests/oracle/test_pool.py).
#include "tensor/ops/pool.h"
#include "tests/oracle_common.h"

using namespace sakuga;

namespace {

Tensor run_case(const nlohmann::json& m, const Tensor& x) {
  const std::string op = m.at("op");
  if (op == "bilinear") return ops::resize_bilinear(x, m["size"][0], m["size"][1], m["align_corners"].get<bool>());
  if (op == "nearest") return ops::resize_nearest(x, m["size"][0], m["size"][1]);
  if (op == "adaptive") return ops::adaptive_avg_pool2d(x, m["size"][0], m["size"][1]);
  ops::Pool2dParams p;
  p.kernel_h = m["kernel"][0];
  p.kernel_w = m["kernel"][1];
  p.stride_h = m["stride"][0];
  p.stride_w = m["stride"][1];
  p.pad_h = m["padding"][0];
  p.pad_w = m["padding"][1];
  p.ceil_mode = m["ceil_mode"].get<bool>();
  if (op == "max") return ops::max_pool2d(x, p);
  if (op == "avg") {
    p.count_include_pad = m["count_include_pad"].get<bool>();
    return ops::avg_pool2d(x, p);
  }
  SAKUGA_FAIL("oracle_pool: unknown op '", op, "'");
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_pool") {
  auto f = test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    INFO(name, " ", m.dump());
    Tensor x = test::oracle_tensor(*f, name + ".x").clone().detach();
    x.set_requires_grad(true);
    Tensor y = run_case(m, x);
    test::check_close(y, test::oracle_tensor(*f, name + ".y"), 1e-4, name + " " + m.dump() + " output");
    y.backward(test::oracle_tensor(*f, name + ".r"));  // dL/dx of L = sum(y * r)
    REQUIRE(x.grad().defined());
    test::check_close(x.grad(), test::oracle_tensor(*f, name + ".gx"), 1e-4, name + " " + m.dump() + " input grad");
  }
}
}  // TEST_SUITE
