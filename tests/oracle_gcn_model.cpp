// C++ side of tests/oracle/test_gcn_model.py: sakuga's GcnNet with PyTorch's weights gives the
// same logits (eval) and the same parameter gradients (train).
#include "nets/gcn/model.h"
#include "tensor/ops.h"
#include "tests/oracle_common.h"

using namespace sakuga;
using sakuga::test::check_close;
using sakuga::test::oracle_tensor;

TEST_SUITE("oracle") {
  TEST_CASE("oracle_gcn_model") {
    auto f = test::oracle_file();
    if (!f) return;
    for (const auto& [name, m] : test::oracle_cases(*f)) {
      INFO(name);
      gcn::GcnConfig cfg;
      cfg.backbone = m["depth"];
      cfg.classes = m["classes"];
      cfg.k = m["k"];
      cfg.in_channels = m["in_channels"];
      gcn::GcnNet net(cfg);
      const std::string prefix = name + ".sd.";
      nn::StateDict sd;
      for (const auto& [key, t] : f->tensors)
        if (key.rfind(prefix, 0) == 0) sd[key.substr(prefix.size())] = t;
      net.load_state_dict(sd);  // strict: every name must match PyTorch's
      const bool train = m["mode"] == "train";
      net.train(train);
      Tensor out = net(oracle_tensor(*f, name + ".x"));
      check_close(out, oracle_tensor(*f, name + ".out"), 1e-4, name + " logits");
      if (!train) continue;
      ops::sum(out * oracle_tensor(*f, name + ".r")).backward();
      for (const auto& [pname, p] : net.named_parameters()) {
        REQUIRE_MESSAGE(p.grad().defined(), pname);
        check_close(p.grad(), oracle_tensor(*f, name + ".grad." + pname), 1e-4, name + " grad " + pname);
      }
    }
  }
}
