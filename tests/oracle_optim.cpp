// C++ side of tests/oracle/test_optim.py: the same fixed gradients through sakuga's optimizers
// must give torch.optim's parameters after 5 steps.
#include <memory>

#include "optim/adam.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
#include "tests/oracle_common.h"

using namespace sakuga;
using namespace sakuga::optim;
using sakuga::test::check_close;
using sakuga::test::oracle_meta;
using sakuga::test::oracle_tensor;

namespace {

std::unique_ptr<Optimizer> make(const nlohmann::json& m, const NamedParams& ps) {
  std::string kind = m.at("kind");
  if (kind == "sgd") {
    SgdOptions o;
    o.lr = m.at("lr");
    o.momentum = m.value("momentum", 0.0);
    o.dampening = m.value("dampening", 0.0);
    o.weight_decay = m.value("weight_decay", 0.0);
    o.nesterov = m.value("nesterov", false);
    return std::make_unique<SGD>(ps, o);
  }
  if (kind == "adam" || kind == "adamw") {
    AdamOptions o = kind == "adamw" ? adamw_options() : AdamOptions{};
    o.lr = m.at("lr");
    o.beta1 = m.value("beta1", 0.9);
    o.beta2 = m.value("beta2", 0.999);
    o.eps = m.value("eps", 1e-8);
    o.weight_decay = m.value("weight_decay", o.weight_decay);
    o.amsgrad = m.value("amsgrad", false);
    if (kind == "adamw") return std::make_unique<AdamW>(ps, o);
    return std::make_unique<Adam>(ps, o);
  }
  if (kind == "rmsprop") {
    RmspropOptions o;
    o.lr = m.at("lr");
    o.alpha = m.value("alpha", 0.99);
    o.eps = m.value("eps", 1e-8);
    o.weight_decay = m.value("weight_decay", 0.0);
    o.momentum = m.value("momentum", 0.0);
    o.centered = m.value("centered", false);
    return std::make_unique<RMSprop>(ps, o);
  }
  SAKUGA_FAIL("oracle_optim: unknown optimizer kind '", kind, "'");
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_optim") {
  auto f = sakuga::test::oracle_file();
  if (!f) return;
  const int cases = oracle_meta(*f, "cases");
  const int steps = oracle_meta(*f, "steps");
  for (int ci = 0; ci < cases; ++ci) {
    const std::string c = "c" + std::to_string(ci);
    nlohmann::json m = oracle_meta(*f, c);
    CAPTURE(c);
    CAPTURE(m.dump());
    const int np = m.at("nparams");
    NamedParams ps;
    for (int i = 0; i < np; ++i)
      ps.emplace_back("p" + std::to_string(i), oracle_tensor(*f, c + ".p" + std::to_string(i)).clone());
    auto opt = make(m, ps);
    for (int k = 0; k < steps; ++k) {
      for (int i = 0; i < np; ++i)
        ps[size_t(i)].second.set_grad(
            oracle_tensor(*f, c + ".g" + std::to_string(k) + "." + std::to_string(i)).clone());
      opt->step();
    }
    for (int i = 0; i < np; ++i)
      check_close(ps[size_t(i)].second, oracle_tensor(*f, c + ".want" + std::to_string(i)), 1e-5,
                  c + " " + m.at("kind").get<std::string>() + " p" + std::to_string(i));
  }
}
}  // TEST_SUITE
