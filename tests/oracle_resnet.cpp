// Oracle: torchvision resnet18 / resnet50 against sakuga's ResNet (reference values from
// tests/oracle/test_resnet.py). Weights come through tools/convert_torchvision.py and
// resnet::load_torchvision_weights. Checks the state_dict names (torchvision's, in order), the
// eval-mode stage outputs f1..f4, and in train mode the gradient of every parameter for
// L = Σ f4·R and every BN buffer after that training forward. resnet50's train check runs in
// f64 (its f32 gradients are ill-conditioned, PyTorch's own included: see test_resnet.py).
#include <string>
#include <vector>

#include "nets/resnet/resnet.h"
#include "tensor/autograd.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tests/oracle_common.h"

using namespace sakuga;

namespace {

// Converts every float parameter and buffer to f64 in place (same handles), for the f64 check.
void to_f64(nn::Module& net) {
  NoGradGuard ng;
  nn::NamedTensors all = net.named_parameters();
  for (auto& nt : net.named_buffers()) all.push_back(nt);
  for (auto& [name, t] : all) {
    if (t.dtype() != DType::f32) continue;
    Tensor d = t.detach().to(DType::f64).contiguous();
    TensorImpl& impl = t.impl();
    impl.storage = d.impl().storage;
    impl.offset = d.impl().offset;
    impl.shape = d.impl().shape;
    impl.strides = d.impl().strides;
    impl.dtype = DType::f64;
  }
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_resnet") {
  auto f = test::oracle_file();
  if (!f) return;
  auto nets = test::oracle_meta(*f, "nets");
  REQUIRE(nets.size() > 0);
  for (const auto& jn : nets) {
    const std::string arch = jn.get<std::string>();
    auto m = test::oracle_meta(*f, arch);
    INFO(arch);
    auto get = [&](const std::string& k) { return test::oracle_tensor(*f, arch + "." + k); };

    resnet::ResNet net({m.at("depth").get<int>(), 3});
    std::vector<std::string> names;
    for (auto& [k, t] : net.ordered_state_dict()) names.push_back(k);
    CHECK(names == m.at("names").get<std::vector<std::string>>());
    resnet::load_torchvision_weights(net, m.at("weights").get<std::string>());

    // eval: stage outputs
    net.eval();
    {
      NoGradGuard ng;
      auto fs = net.features(get("x_eval"));
      for (int i = 0; i < 4; ++i) test::check_close(fs[i], get("f" + std::to_string(i + 1)), 1e-4, arch + " eval f" + std::to_string(i + 1));
    }

    // train: gradients of every parameter, updated buffers
    net.train();
    const bool f64 = m.at("train_f64").get<bool>();
    MESSAGE(arch, ": PyTorch's own f32 train-gradient error ", m.at("torch_f32_grad_err").get<double>(),
            f64 ? " (checked in f64)" : " (checked in f32)");
    if (f64) to_f64(net);
    const DType dt = f64 ? DType::f64 : DType::f32;
    Tensor f4 = net.forward(get("x_train").to(dt));
    ops::sum(f4 * get("r").to(dt)).backward();
    for (auto& [k, p] : net.named_parameters()) {
      REQUIRE_MESSAGE(p.grad().defined(), arch, " no gradient for ", k);
      test::check_close(p.grad().to(DType::f32), get("grad." + k), 1e-4, arch + " grad " + k);
    }
    for (auto& [k, b] : net.named_buffers()) {
      Tensor want = get("buf." + k);
      if (dtype_is_float(b.dtype()))
        test::check_close(b.to(DType::f32), want, 1e-4, arch + " buffer " + k);
      else
        CHECK_MESSAGE(b.to_vector_i32() == want.to_vector_i32(), arch, " buffer ", k);
    }
  }
}
}  // TEST_SUITE
