// Oracle: the triplet loss (losses/triplet.h) on normalised rows against
// torch.nn.TripletMarginLoss (reference values from tests/oracle/test_triplet.py).
#include "losses/triplet.h"
#include "tensor/ops.h"
#include "tests/oracle_common.h"

using namespace sakuga;

TEST_SUITE("oracle") {
TEST_CASE("oracle_triplet") {
  auto f = test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    const std::string what = name + " " + m.dump();
    INFO(what);
    Tensor x = test::oracle_tensor(*f, name + ".x").clone().detach();
    x.set_requires_grad(true);
    const auto labels = m.at("labels").get<std::vector<int>>();
    Tensor y = losses::triplet_loss(losses::l2_normalize(x), labels, m.at("margin").get<double>(),
                                    losses::parse_triplet_mining(m.at("mining").get<std::string>(), "mining"));
    test::check_close(ops::reshape(y, {1}), test::oracle_tensor(*f, name + ".y"), 1e-4, what + " loss");
    y.backward();
    REQUIRE(x.grad().defined());
    test::check_close(x.grad(), test::oracle_tensor(*f, name + ".gx"), 1e-4, what + " input grad");
  }
}
}  // TEST_SUITE
