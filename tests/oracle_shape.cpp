// Oracle: pad (reflect / replicate / zeros), gather and index_select against PyTorch
// (reference values from tests/oracle/test_shape.py).
#include "tensor/ops/shape.h"
#include "tests/oracle_common.h"

using namespace sakuga;

namespace {

Tensor run_case(const nlohmann::json& m, const io::SafetensorsFile& f, const std::string& name, const Tensor& x) {
  const std::string op = m.at("op");
  if (op == "pad") {
    const std::string mode = m.at("mode");
    ops::PadMode pm = mode == "reflect"     ? ops::PadMode::reflect
                      : mode == "replicate" ? ops::PadMode::replicate
                                            : ops::PadMode::zeros;
    return ops::pad(x, m.at("pads").get<std::vector<int64_t>>(), pm, m.at("value").get<double>());
  }
  if (op == "gather") return ops::gather(x, m.at("dim").get<int64_t>(), test::oracle_tensor(f, name + ".index"));
  if (op == "index_select")
    return ops::index_select(x, m.at("dim").get<int64_t>(), test::oracle_tensor(f, name + ".index"));
  SAKUGA_FAIL("oracle_shape: unknown op '", op, "'");
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_shape") {
  auto f = test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    INFO(name, " ", m.dump());
    Tensor x = test::oracle_tensor(*f, name + ".x").clone().detach();
    x.set_requires_grad(true);
    Tensor y = run_case(m, *f, name, x);
    test::check_close(y, test::oracle_tensor(*f, name + ".y"), 1e-4, name + " " + m.dump() + " output");
    y.backward(test::oracle_tensor(*f, name + ".r"));  // dL/dx of L = sum(y * r)
    REQUIRE(x.grad().defined());
    test::check_close(x.grad(), test::oracle_tensor(*f, name + ".gx"), 1e-4, name + " " + m.dump() + " input grad");
  }
}
}  // TEST_SUITE
