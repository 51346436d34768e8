// Oracle: losses, softmax family and reductions against PyTorch (reference values from
// tests/oracle/test_loss.py).
#include "losses/gan.h"
#include "tensor/ops/loss.h"
#include "tensor/ops/reduce.h"
#include "tests/oracle_common.h"

using namespace sakuga;

namespace {

ops::Reduction reduction_of(const nlohmann::json& m) {
  const std::string r = m.at("reduction");
  if (r == "none") return ops::Reduction::none;
  if (r == "mean") return ops::Reduction::mean;
  if (r == "sum") return ops::Reduction::sum;
  SAKUGA_FAIL("oracle_loss: unknown reduction '", r, "'");
}

Tensor run_case(const nlohmann::json& m, const Tensor& x, const Tensor& target, const Tensor& weight,
                const Tensor& pos_weight) {
  const std::string op = m.at("op");
  if (op == "softmax") return ops::softmax(x, m.at("dim"));
  if (op == "log_softmax") return ops::log_softmax(x, m.at("dim"));
  if (op == "logsumexp") return ops::logsumexp(x, m.at("dim"), m.at("keepdim"));
  if (op == "sum") return ops::sum(x, m.at("dims").get<std::vector<int64_t>>(), m.at("keepdim"));
  if (op == "mean") return ops::mean(x, m.at("dims").get<std::vector<int64_t>>(), m.at("keepdim"));
  if (op == "max") return ops::max(x, m.at("dim"), m.at("keepdim"));
  if (op == "min") return ops::min(x, m.at("dim"), m.at("keepdim"));
  if (op == "cross_entropy")
    return ops::cross_entropy(x, target, weight, m.at("ignore_index"), reduction_of(m));
  if (op == "nll_loss")
    return ops::nll_loss(ops::log_softmax(x, 1), target, weight, m.at("ignore_index"), reduction_of(m));
  if (op == "nll_raw") return ops::nll_loss(x, target, weight, m.at("ignore_index"), reduction_of(m));
  if (op == "bce_with_logits") return ops::bce_with_logits(x, target, reduction_of(m), pos_weight);
  if (op == "mse_loss") return ops::mse_loss(x, target, reduction_of(m));
  if (op == "l1_loss") return ops::l1_loss(x, target, reduction_of(m));
  if (op == "gan_d") return losses::gan_d_loss(losses::parse_gan_loss(m.at("kind")), x, target);
  if (op == "gan_g") return losses::gan_g_loss(losses::parse_gan_loss(m.at("kind")), x);
  SAKUGA_FAIL("oracle_loss: unknown op '", op, "'");
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_loss") {
  auto f = test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    const std::string what = name + " " + m.dump();
    INFO(what);
    Tensor x = test::oracle_tensor(*f, name + ".x").clone().detach();
    x.set_requires_grad(true);
    Tensor target = f->tensors.count(name + ".target") ? test::oracle_tensor(*f, name + ".target").clone().detach()
                                                       : Tensor();
    const bool target_grad = m.at("target_grad").get<bool>();
    if (target_grad) target.set_requires_grad(true);
    Tensor weight = m.at("weight").get<bool>() ? test::oracle_tensor(*f, name + ".weight") : Tensor();
    Tensor pos_weight = m.at("pos_weight").get<bool>() ? test::oracle_tensor(*f, name + ".pos_weight") : Tensor();

    Tensor y = run_case(m, x, target, weight, pos_weight);
    test::check_close(y, test::oracle_tensor(*f, name + ".y"), 1e-4, what + " output");
    y.backward(test::oracle_tensor(*f, name + ".r"));  // gradients of L = sum(y * r)
    REQUIRE(x.grad().defined());
    test::check_close(x.grad(), test::oracle_tensor(*f, name + ".gx"), 1e-4, what + " input grad");
    if (target_grad) {
      REQUIRE(target.grad().defined());
      test::check_close(target.grad(), test::oracle_tensor(*f, name + ".gt"), 1e-4, what + " target grad");
    }
  }
}
}  // TEST_SUITE
