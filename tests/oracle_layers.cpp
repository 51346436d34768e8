// C++ side of tests/oracle/test_layers.py: torch nn.Sequential state_dicts loaded by name into
// the sakuga equivalents; outputs, gradients and running statistics in train and eval.
#include <cmath>

#include "layers/activation.h"
#include "layers/conv.h"
#include "layers/norm.h"
#include "layers/sequential.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tests/oracle_common.h"

using namespace sakuga;
using namespace sakuga::nn;
using sakuga::test::check_close;
using sakuga::test::oracle_meta;
using sakuga::test::oracle_tensor;

namespace {

std::shared_ptr<Sequential> build(int ci) {
  auto s = std::make_shared<Sequential>();
  switch (ci) {
    case 0:
      s->push_back(std::make_shared<Conv2d>(3, 8, 3, 1, 1));
      s->push_back(std::make_shared<BatchNorm2d>(8));
      s->push_back(std::make_shared<ReLU>());
      s->push_back(std::make_shared<Conv2d>(8, 4, 3, 2, 1));
      break;
    case 1:
      s->push_back(std::make_shared<ConvTranspose2d>(3, 4, 4, 2, 1));
      s->push_back(std::make_shared<InstanceNorm2d>(4, 1e-5, true));
      s->push_back(std::make_shared<LeakyReLU>(0.2));
      s->push_back(std::make_shared<Conv2d>(
          Conv2dOptions(4, 2, 3).padding(1).mode(PaddingMode::reflect).with_bias(false)));
      s->push_back(std::make_shared<Tanh>());
      break;
    case 2:
      s->push_back(std::make_shared<Conv2d>(Conv2dOptions(2, 6, 1, 5).padding(0, 2).with_bias(false)));
      s->push_back(std::make_shared<BatchNorm2d>(6, 1e-5, 0.3, false));
      s->push_back(std::make_shared<PReLU>(6));
      s->push_back(std::make_shared<Conv2d>(Conv2dOptions(6, 3, 5, 1).padding(2, 0)));
      s->push_back(std::make_shared<Sigmoid>());
      break;
    default: SAKUGA_FAIL("oracle_layers: no model for case ", ci);
  }
  return s;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_vector_f64()) m = std::max(m, std::fabs(v));
  return m;
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_layers") {
  auto f = sakuga::test::oracle_file();
  if (!f) return;
  const int cases = oracle_meta(*f, "cases");
  for (int ci = 0; ci < cases; ++ci) {
    const std::string c = "c" + std::to_string(ci);
    CAPTURE(c);
    auto model = build(ci);
    // The torch state_dict, by name (strict: every key must match, num_batches_tracked included).
    StateDict sd;
    const std::string pre = c + ".sd.";
    for (const auto& [k, t] : f->tensors)
      if (k.compare(0, pre.size(), pre) == 0) sd[k.substr(pre.size())] = t;
    model->load_state_dict(sd);
    Tensor x0 = oracle_tensor(*f, c + ".x");
    for (const std::string mode : {"train", "eval"}) {
      CAPTURE(mode);
      model->train(mode == "train");
      model->zero_grad();
      Tensor x = x0.clone().detach();
      x.set_requires_grad(true);
      Tensor out = (*model)(x);
      Tensor r = oracle_tensor(*f, c + "." + mode + ".r");
      ops::sum(out * r).backward();
      const std::string p = c + "." + mode + ".";
      check_close(out, oracle_tensor(*f, p + "out"), 1e-4, p + "out");
      check_close(x.grad(), oracle_tensor(*f, p + "gx"), 1e-4, p + "grad x");
      for (const auto& [name, param] : model->named_parameters()) {
        REQUIRE(param.grad().defined());
        Tensor want = oracle_tensor(*f, p + "grad." + name);
        if (max_abs(want) < 1e-5) {
          // The bias of a conv followed by batch/instance statistics: the normalisation removes
          // it, so its gradient is 0 up to rounding (torch's ~1e-8 noise is not a reference).
          INFO(p, "grad ", name, ": max |got| ", max_abs(param.grad()), ", max |want| ", max_abs(want));
          CHECK(max_abs(param.grad()) < 1e-5);
          continue;
        }
        check_close(param.grad(), want, 1e-4, p + "grad " + name);
      }
      for (const auto& [name, buf] : model->named_buffers()) {
        if (buf.dtype() == DType::i32) {
          CHECK(buf.item() == oracle_tensor(*f, p + "buf." + name).item());
        } else {
          check_close(buf, oracle_tensor(*f, p + "buf." + name), 1e-5, p + "buffer " + name);
        }
      }
    }
  }
}
}  // TEST_SUITE
